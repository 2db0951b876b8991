#!/usr/bin/env bash
# Benchmarks Keyward's forward-auth endpoint /auth against nginx `return 200` on the same machine.
#
# Builds a release binary, seeds two data folders (10,000 and 1,000,000 keys), starts Keyward on
# each and nginx, every server pinned to one core (BENCH_SERVER_CPU), and runs wrk pinned to
# another (BENCH_CLIENT_CPU) in interleaved rounds:
#   hit   /auth with a valid key, rotating over 1,000 keys: served from the cache
#   scope the same keys (all granted BENCH_SCOPE) at /auth?scope=BENCH_SCOPE: a hit that also
#         checks a required scope, as a gateway in front of a service asks
#   miss  /auth with every key sent once, on a freshly started server: served from the store
#   nocount  the hit run on a copy of the 10k folder served with --usage-counting=false: what
#         counting each key's uses (issue 16) costs, as the ratio hit / nocount
#   limited  the hit run on another copy whose keys are all rate-limited to 1e9 per 1s (never
#         refused): the token bucket's cost, against nginx
# and prints req/s, p50 and p99 (medians over the rounds) and the ratio to nginx; then runs
# bench/tokens.sh (access tokens), bench/scan.sh (`keyward scan` beside ripgrep) and
# bench/scale.sh (10,000,000 keys in SQLite and PostgreSQL; BENCH_SCALE=0 skips it). See
# bench/README.md. Everything listens on 127.0.0.1; everything started here is stopped, and the
# temporary folder removed, when the script exits.
#
# Settings (environment):
#   BENCH_SECONDS=10 BENCH_ROUNDS=3 BENCH_CONNECTIONS=64 BENCH_WRK_THREADS=1 BENCH_WARMUP_SECONDS=2
#   BENCH_SERVER_CPU=0 BENCH_CLIENT_CPU=1 BENCH_SMALL_KEYS=10000 BENCH_LARGE_KEYS=1000000
#   BENCH_HIT_KEYS=1000 BENCH_KEYWARD_THREADS=0   (0: the server's default, one per usable CPU)
#   BENCH_SCOPE=minerva:query               the scope every seeded key has and the scope run asks
#   BENCH_KEYWARD_ARGS="--log-level warn"   extra flags for `keyward serve`
#   BENCH_BUILD_DIR=build/…                 build there (Release) instead of the release preset
#   BENCH_SKIP_BUILD=1                      use the binaries already in the build folder
#   BENCH_SCALE=0                           skip bench/scale.sh (BENCH_SCALE_* set it up)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

SMALL_KEYS=${BENCH_SMALL_KEYS:-10000}
LARGE_KEYS=${BENCH_LARGE_KEYS:-1000000}
HIT_KEYS=${BENCH_HIT_KEYS:-1000}
SCOPE=${BENCH_SCOPE:-minerva:query}

for v in SECS ROUNDS CONNS WRK_THREADS WARMUP SERVER_CPU CLIENT_CPU SMALL_KEYS LARGE_KEYS \
  HIT_KEYS KW_THREADS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "run.sh: $v must be a whole number, not '${!v}'" >&2; exit 2; }
done
((SECS > 0 && ROUNDS > 0 && CONNS >= WRK_THREADS && WRK_THREADS > 0 && SMALL_KEYS > 0)) ||
  { echo "run.sh: seconds, rounds, threads and key counts must be positive" >&2; exit 2; }
((LARGE_KEYS >= SMALL_KEYS)) || { echo "run.sh: BENCH_LARGE_KEYS < BENCH_SMALL_KEYS" >&2; exit 2; }
[[ $SCOPE =~ ^[a-z0-9:._-]{1,64}$ ]] || { echo "run.sh: BENCH_SCOPE '$SCOPE' is no scope" >&2; exit 2; }

# --- tools and build ---------------------------------------------------------------------------

"$ROOT/scripts/install-packages" wrk nginx-light curl sqlite3 ripgrep jq
for tool in wrk nginx curl taskset timeout sqlite3; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
CPUS=$(nproc --all)
if ((SERVER_CPU >= CPUS || CLIENT_CPU >= CPUS)); then
  die "needs CPUs $SERVER_CPU and $CLIENT_CPU, this machine has $CPUS (set BENCH_*_CPU)"
fi
((SERVER_CPU != CLIENT_CPU)) || log "run.sh: warning: server and wrk share CPU $SERVER_CPU"

bench_build keyward keyward_seed_keys verify_benchmark token_benchmark keyward_scan_corpus
KEYWARD=$ROOT/$BUILD_DIR/src/keyward
SEED=$ROOT/$BUILD_DIR/bench/keyward_seed_keys
[[ -x $KEYWARD && -x $SEED ]] || die "no keyward or keyward_seed_keys in $BUILD_DIR"

# --- processes and clean-up --------------------------------------------------------------------

bench_start_tmp keyward-bench

# --- wrk runs and their numbers ----------------------------------------------------------------

RESULTS=$TMP/results.tsv  # scenario round req/s p50_ms p99_ms errors note
: >"$RESULTS"


# --- servers -----------------------------------------------------------------------------------

# Ports drawn at random may collide; draw each again until it differs from those before it.
taken=" "
for name in small large nginx nocount limited; do
  PORT[$name]=$(free_port)
  while [[ $taken == *" ${PORT[$name]} "* ]]; do PORT[$name]=$(free_port); done
  taken+="${PORT[$name]} "
done
DATA[small]=$TMP/data-small
DATA[large]=$TMP/data-large
KEYS_SMALL=$TMP/keys-small.txt
KEYS_LARGE=$TMP/keys-large.txt

# Each data folder is created by a first start (admin user, master key), then seeded stopped.
for name in small large; do
  mkdir -m 700 "${DATA[$name]}"
  start_keyward "$name"
  stop "$name"
done
seed small "$SMALL_KEYS" "$KEYS_SMALL"
seed large "$LARGE_KEYS" "$KEYS_LARGE"
# Two copies of the 10k folder (the same keys and master key): one served without usage
# counting, one whose keys all get a rate limit so high it never refuses (1e9 per 1s).
DATA[nocount]=$TMP/data-nocount
DATA[limited]=$TMP/data-limited
cp -a "${DATA[small]}" "${DATA[nocount]}"
cp -a "${DATA[small]}" "${DATA[limited]}"
sqlite3 "${DATA[limited]}/keyward.db" \
  "UPDATE api_keys SET rate_limit_requests = 1000000000, rate_limit_per = 1" ||
  die "could not set the rate limit of the copied keys (is the store at V006?)"
LIMITED=$(sqlite3 "${DATA[limited]}/keyward.db" \
  "SELECT count(*) FROM api_keys WHERE rate_limit_requests = 1000000000 AND rate_limit_per = 1")
((LIMITED >= SMALL_KEYS)) || die "only $LIMITED keys of the limited copy have the rate limit"
start_keyward small
start_keyward large
start_keyward nocount --usage-counting=false
start_keyward limited
start_nginx

URL_NGINX="http://127.0.0.1:${PORT[nginx]}/"
URL_SMALL="http://127.0.0.1:${PORT[small]}/auth"
URL_LARGE="http://127.0.0.1:${PORT[large]}/auth"
URL_SCOPE="$URL_SMALL?scope=$SCOPE"
URL_NOCOUNT="http://127.0.0.1:${PORT[nocount]}/auth"
URL_LIMITED="http://127.0.0.1:${PORT[limited]}/auth"

check_auth "$URL_SMALL" "$KEYS_SMALL"
check_auth "$URL_LARGE" "$KEYS_LARGE"
check_auth "$URL_SCOPE" "$KEYS_SMALL"
check_auth "$URL_NOCOUNT" "$KEYS_SMALL"
check_auth "$URL_LIMITED" "$KEYS_SMALL"

# The scope run must be checking the scope: the seeded keys pass with theirs, carry it in
# X-Keyward-Scopes, and are refused a scope they lack.
check_scope() {  # check_scope KEYS_FILE
  local key headers code
  key=$(head -n 1 "$1")
  headers=$(curl -s -o /dev/null -D - --max-time 5 -H "Authorization: Bearer $key" "$URL_SCOPE" |
    tr -d '\r')
  grep -qixF "X-Keyward-Scopes: $SCOPE" <<<"$headers" ||
    die "$URL_SCOPE: no X-Keyward-Scopes: $SCOPE header (are the keys seeded with it?)"
  headers=$(curl -s -o /dev/null -D - --max-time 5 -H "Authorization: Bearer $key" \
    "$URL_SMALL?scope=bench.not-granted")
  code=$(head -n 1 <<<"$headers" | awk '{print $2}')
  [[ $code == 403 ]] || die "a scope the key lacks answered ${code:-nothing}, not 403"
  grep -qi '^X-Keyward-Reason: scope' <<<"$headers" || die "no X-Keyward-Reason: scope on the 403"
}
check_scope "$KEYS_SMALL"

# The comparisons must compare what they say: the counting server counts uses
# (keyward_key_uses_total), the nocount server should count none, and a key of the limited copy
# is let through.
uses() {  # uses URL: the allowed uses /metrics of that server reports
  curl -s --max-time 5 "${1%/auth}/metrics" |
    awk '/^keyward_key_uses_total\{outcome="allowed"\}/ {print $2 + 0; found = 1}
         END {if (!found) print -1}'
}
[[ $(uses "$URL_SMALL") -gt 0 ]] || die "$URL_SMALL counts no uses (keyward_key_uses_total)"
[[ $(uses "$URL_NOCOUNT") -le 0 ]] ||
  log "run.sh: warning: $URL_NOCOUNT reports uses with --usage-counting=false"
check_limited() {  # a key of the limited copy, under its limit, gets 200
  local key code
  key=$(head -n 1 "$KEYS_SMALL")
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $key" \
    "$URL_LIMITED")
  [[ $code == 200 ]] || die "$URL_LIMITED: a key under its limit answered $code, not 200"
}
check_limited

log ""
log "Servers on CPU $SERVER_CPU (Keyward --threads $KW_THREADS (0: its default) $KW_ARGS; nginx 1 worker);"
log "wrk -t$WRK_THREADS -c$CONNS -d${SECS}s on CPU $CLIENT_CPU; $ROUNDS rounds, interleaved."

# --- cache hits: nginx, 10k and 1M stored keys, interleaved ------------------------------------

log "Cache hits (rotating over $HIT_KEYS keys):"
warm_up "$URL_NGINX"
warm_up "$URL_SMALL" bench/auth.lua "$KEYS_SMALL" "$HIT_KEYS"
warm_up "$URL_LARGE" bench/auth.lua "$KEYS_LARGE" "$HIT_KEYS"
warm_up "$URL_SCOPE" bench/auth.lua "$KEYS_SMALL" "$HIT_KEYS"
warm_up "$URL_NOCOUNT" bench/auth.lua "$KEYS_SMALL" "$HIT_KEYS"
warm_up "$URL_LIMITED" bench/auth.lua "$KEYS_SMALL" "$HIT_KEYS"
# Each round starts one scenario later than the one before, so that no scenario always runs in
# the same place (right after nginx, say): on a shared machine the place alone moved a
# scenario's figure by several percent.
hit_scenario() {  # hit_scenario INDEX ROUND
  case $1 in
    0) wrk_run nginx "$2" nginx "$URL_NGINX" ;;
    1) wrk_run hit-small "$2" small "$URL_SMALL" bench/auth.lua "$KEYS_SMALL" "$HIT_KEYS" ;;
    2) wrk_run hit-nocount "$2" nocount "$URL_NOCOUNT" bench/auth.lua "$KEYS_SMALL" "$HIT_KEYS" ;;
    3) wrk_run hit-limited "$2" limited "$URL_LIMITED" bench/auth.lua "$KEYS_SMALL" "$HIT_KEYS" ;;
    4) wrk_run hit-scope "$2" small "$URL_SCOPE" bench/auth.lua "$KEYS_SMALL" "$HIT_KEYS" ;;
    5) wrk_run hit-large "$2" large "$URL_LARGE" bench/auth.lua "$KEYS_LARGE" "$HIT_KEYS" ;;
  esac
}
for ((r = 1; r <= ROUNDS; r++)); do
  for ((i = 0; i < 6; i++)); do hit_scenario $(((r - 1 + i) % 6)) "$r"; done
done

# --- cache misses: every key once, from a cold start, 1M stored keys ---------------------------

# The 10k folder holds too few keys for a run of any length, so misses run on the large one; each
# round restarts the server so its cache starts empty, and sends the keys from the first on. The
# restart comes first: stopping writes the last-used times still pending, which would otherwise
# compete with the nginx run for the CPU and the disk.
stop small
stop nocount
stop limited
log "Cache misses (each key once, server restarted before each round):"
for ((r = ROUNDS + 1; r <= 2 * ROUNDS; r++)); do
  stop large
  start_keyward large
  wrk_run nginx "$r" nginx "$URL_NGINX"
  wrk_run miss-large "$r" large "$URL_LARGE" bench/miss.lua "$KEYS_LARGE" "$WRK_THREADS" 0
done

# --- the table ---------------------------------------------------------------------------------

NGINX_RPS=$(median nginx 3)
NGINX_US=$(median nginx 10)

echo
echo "Keyward /auth vs nginx 'return 200': medians of $ROUNDS rounds of ${SECS} s each" \
  "(nginx: $((2 * ROUNDS)) rounds, interleaved with both phases)"
echo "servers on CPU $SERVER_CPU, wrk -t$WRK_THREADS -c$CONNS on CPU $CLIENT_CPU;" \
  "$CPUS CPUs, Linux $(uname -r)"
echo
result_header
result_row "nginx return 200" - nginx
result_row "/auth hit" "$SMALL_KEYS" hit-small
result_row "/auth hit, no counting" "$SMALL_KEYS" hit-nocount
result_row "/auth hit, rate-limited" "$SMALL_KEYS" hit-limited
result_row "/auth hit, scope req." "$SMALL_KEYS" hit-scope
result_row "/auth hit" "$LARGE_KEYS" hit-large
result_row "/auth miss" "$LARGE_KEYS" miss-large
echo
echo "hit: $HIT_KEYS keys in rotation, served from the cache; scope req.: the same keys and server"
echo "at /auth?scope=$SCOPE, which every key has; miss: each key sent once to a freshly"
echo "started server, so looked up in the store. no counting: the hit run on a copy of the 10k"
echo "folder served with --usage-counting=false; rate-limited: on a copy whose keys are all"
echo "limited to 1e9 per 1s (never refused). req/s /nginx: the ratio of req/s; CPU /nginx:"
echo "the server's CPU time per request over nginx's (lower is better; 1.25 = 25% more CPU)."
echo "server CPU below ~95% means wrk, not the server, set the pace: then compare CPU per request."
echo "other CPU: the largest share of the two CPUs' time, in any round, used by processes other"
echo "than the server and wrk. Above a few percent something else competed for the CPUs: rerun on"
echo "a quiet machine before trusting the numbers."
noisy_warning
echo
echo "Targets (reported, not asserted):"
awk -v s="$(median hit-small 3)" -v l="$(median hit-large 3)" -v n="$NGINX_RPS" \
  -v q="$(median hit-scope 3)" -v o="$(median hit-nocount 3)" -v m="$(median hit-limited 3)" \
  -v p="$(median hit-small 5)" -v c="$CONNS" -v sk="$SMALL_KEYS" -v lk="$LARGE_KEYS" 'BEGIN {
    f = "  %-44s %8s  %-9s %s\n"
    printf f, sprintf("/auth hit, %d keys: req/s vs nginx", sk), sprintf("%.2f", s / n),
      ">= 0.80", (s / n >= 0.80 ? "met" : "MISSED")
    printf f, sprintf("/auth hit, %d keys: p99 at %d connections", sk, c),
      sprintf("%.3f ms", p), "<= 1 ms", (p <= 1.0 ? "met" : "MISSED")
    printf f, sprintf("/auth hit: req/s with %d vs %d keys", lk, sk), sprintf("%.2f", l / s),
      ">= 0.90", (l / s >= 0.90 ? "met" : "MISSED")
    printf f, "/auth hit, scope required: req/s vs nginx", sprintf("%.2f", q / n), ">= 0.80",
      (q / n >= 0.80 ? "met" : "MISSED")
    printf f, "/auth hit, scope required: vs plain hit", sprintf("%.2f", q / s), "-", "reported"
    printf f, "/auth hit: usage counting on vs off", sprintf("%.2f", s / o), ">= 0.95",
      (s / o >= 0.95 ? "met" : "MISSED")
    printf f, "/auth hit, rate-limited key: req/s vs nginx", sprintf("%.2f", m / n), ">= 0.80",
      (m / n >= 0.80 ? "met" : "MISSED")
  }'

echo
echo "In-process verification (Google Benchmark, bench/verify_benchmark.cc, pinned to CPU $SERVER_CPU):"
taskset -c "$SERVER_CPU" "$ROOT/$BUILD_DIR/bench/verify_benchmark" --benchmark_min_time=1 \
  2>/dev/null | grep -E '^(Benchmark|-|BM_)'

# Access tokens (bench/tokens.sh): signing vs `openssl speed` on the server's core, then the token
# endpoint and /auth with a JWT on a server of its own. The servers above are stopped first.
for name in "${!PID[@]}"; do stop "$name"; done
echo
BENCH_SKIP_BUILD=1 BENCH_BUILD_DIR=$BUILD_DIR "$ROOT/bench/tokens.sh"

# The scanner (bench/scan.sh): `keyward scan` beside ripgrep over a 50 MB corpus with planted keys,
# both on the server's core; no server runs.
echo
BENCH_SKIP_BUILD=1 BENCH_BUILD_DIR=$BUILD_DIR "$ROOT/bench/scan.sh"

# Scale (bench/scale.sh, issue 19): /auth with 10,000,000 keys in SQLite and in PostgreSQL beside
# 10,000; seeds its own stores (minutes, gigabytes: see bench/README.md). BENCH_SCALE=0 skips it.
if [[ ${BENCH_SCALE:-1} != 0 ]]; then
  echo
  BENCH_SKIP_BUILD=1 BENCH_BUILD_DIR=$BUILD_DIR "$ROOT/bench/scale.sh"
fi
