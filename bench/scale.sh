#!/usr/bin/env bash
# The scale benchmark (issue 19): Keyward's /auth with 10,000,000 keys stored, in SQLite and in
# PostgreSQL, beside the same with 10,000 keys and nginx `return 200`.
#
# Seeds four stores with bench/keyward_seed_keys: a SQLite data folder with 10,000 keys and one
# with BENCH_SCALE_KEYS (10,000,000), and two databases of one throw-away PostgreSQL cluster
# (scripts/with-postgres, which this script re-executes itself under when KEYWARD_TEST_PG_URL is
# unset) with the same counts, loaded with `\copy` from the seeder's COPY output. Then, every
# server pinned to BENCH_SERVER_CPU (PostgreSQL's processes too, counted as the server's CPU) and
# wrk to BENCH_CLIENT_CPU, in interleaved rounds:
#   hit     /auth rotating over 1,000 keys (bench/auth.lua) on each of the four stores and nginx:
#           10M / 10k req/s per store (target >= 0.90)
#   miss    /auth with keys the server has not seen (bench/miss.lua), on the 10M stores, the
#           server restarted before each round, an OFFSET so that no key is sent twice (SQLite
#           targets: >= 25,000 req/s, p99 <= 5 ms at 64 connections)
#   start-up  exec to the first 200 of /readyz, BENCH_SCALE_STARTS times per store
#   memory  VmRSS and RssAnon (/proc/PID/status) and keyward_cache_entries (/metrics) before and
#           after a miss run on a server started with --cache-ttl 1h, and over a second run on
#           the same server (what grows with the cached keys alone, once SQLite's bounded page
#           cache is full)
# and prints a table with the targets marked met / MISSED (reported, not asserted), the seeding
# times and the disk used. See bench/README.md. Everything listens on 127.0.0.1; the servers are
# stopped, the databases dropped and the temporary folder removed when the script exits.
#
# Settings (environment):
#   BENCH_SCALE_KEYS=10000000   keys in the large stores (1000000: a quick look)
#   BENCH_SCALE_SMALL_KEYS=10000  keys in the small stores
#   BENCH_SCALE_PG=1            0: SQLite only
#   BENCH_SCALE_STARTS=5        timed starts per store
#   BENCH_SCALE_MISS_RATE=60000 the miss req/s the key budget is sized for: each large store
#                               sets (BENCH_ROUNDS + 2) * BENCH_SECONDS * this many keys apart for
#                               the miss runs; a faster server runs out ("keys wrapped")
#   BENCH_SECONDS=10 BENCH_ROUNDS=3 BENCH_CONNECTIONS=64 BENCH_WRK_THREADS=1 BENCH_WARMUP_SECONDS=2
#   BENCH_SERVER_CPU=0 BENCH_CLIENT_CPU=1 BENCH_HIT_KEYS=1000 BENCH_SCOPE=minerva:query
#   BENCH_KEYWARD_THREADS=0 BENCH_KEYWARD_ARGS="--log-level warn" BENCH_BUILD_DIR BENCH_SKIP_BUILD
#   as in bench/run.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

SCALE_KEYS=${BENCH_SCALE_KEYS:-10000000}
SMALL_KEYS=${BENCH_SCALE_SMALL_KEYS:-10000}
USE_PG=${BENCH_SCALE_PG:-1}
STARTS=${BENCH_SCALE_STARTS:-5}
MISS_RATE=${BENCH_SCALE_MISS_RATE:-60000}
HIT_KEYS=${BENCH_HIT_KEYS:-1000}
SCOPE=${BENCH_SCOPE:-minerva:query}
# The whole run's start, kept across the re-execution under scripts/with-postgres.
export BENCH_SCALE_STARTED=${BENCH_SCALE_STARTED:-$EPOCHSECONDS}

for v in SECS ROUNDS CONNS WRK_THREADS WARMUP SERVER_CPU CLIENT_CPU SCALE_KEYS SMALL_KEYS \
  STARTS MISS_RATE HIT_KEYS KW_THREADS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "scale.sh: $v must be a whole number, not '${!v}'" >&2; exit 2; }
done
((SECS > 0 && ROUNDS > 0 && CONNS >= WRK_THREADS && WRK_THREADS > 0 && STARTS > 0 &&
  MISS_RATE > 0 && SMALL_KEYS >= HIT_KEYS && HIT_KEYS > 0)) ||
  { echo "scale.sh: seconds, rounds, threads, starts and key counts must be positive" >&2; exit 2; }
((SCALE_KEYS >= SMALL_KEYS + 1000)) ||
  { echo "scale.sh: BENCH_SCALE_KEYS must exceed BENCH_SCALE_SMALL_KEYS by 1000 or more" >&2; exit 2; }
[[ $USE_PG =~ ^[01]$ ]] || { echo "scale.sh: BENCH_SCALE_PG is 0 or 1" >&2; exit 2; }
[[ $SCOPE =~ ^[a-z0-9:._-]{1,64}$ ]] || { echo "scale.sh: BENCH_SCOPE '$SCOPE' is no scope" >&2; exit 2; }

# --- tools, PostgreSQL and build ---------------------------------------------------------------

PACKAGES=(wrk nginx-light curl)
((USE_PG == 0)) || PACKAGES+=(postgresql)
"$ROOT/scripts/install-packages" "${PACKAGES[@]}"
for tool in wrk nginx curl taskset timeout shuf; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
CPUS=$(nproc --all)
((SERVER_CPU < CPUS && CLIENT_CPU < CPUS)) ||
  die "needs CPUs $SERVER_CPU and $CLIENT_CPU, this machine has $CPUS (set BENCH_*_CPU)"
((SERVER_CPU != CLIENT_CPU)) || log "scale.sh: warning: server and wrk share CPU $SERVER_CPU"

# A throw-away cluster: this script again, under scripts/with-postgres (which removes it after).
if ((USE_PG)) && [[ -z ${KEYWARD_TEST_PG_URL:-} ]]; then
  exec "$ROOT/scripts/with-postgres" "$ROOT/bench/scale.sh" "$@"
fi
((USE_PG == 0)) || command -v psql >/dev/null || die "psql is not installed"

bench_build keyward keyward_seed_keys
KEYWARD=$ROOT/$BUILD_DIR/src/keyward
SEED=$ROOT/$BUILD_DIR/bench/keyward_seed_keys
[[ -x $KEYWARD && -x $SEED ]] || die "no keyward or keyward_seed_keys in $BUILD_DIR"

bench_start_tmp keyward-scale
declare -A KEYS=() STORED=() MISS_KEYS=() MISS_OFFSET=() LABEL=()
RESULTS=$TMP/results.tsv  # wrk_run's lines (bench/lib.sh)
MEMORY=$TMP/memory.tsv    # store phase round VmRSS0 RssAnon0 entries0 VmRSS1 RssAnon1 entries1
STARTUP=$TMP/startup.tsv  # store ms
SEEDING=$TMP/seeding.tsv  # store what seconds
: >"$RESULTS"
: >"$MEMORY"
: >"$STARTUP"
: >"$SEEDING"

SERVERS=(sq-small sq-large)
((USE_PG == 0)) || SERVERS+=(pg-small pg-large)
LARGE=(sq-large)
((USE_PG == 0)) || LARGE+=(pg-large)
taken=" "
for name in "${SERVERS[@]}" nginx; do
  PORT[$name]=$(free_port)
  while [[ $taken == *" ${PORT[$name]} "* ]]; do PORT[$name]=$(free_port); done
  taken+="${PORT[$name]} "
done
for name in "${SERVERS[@]}"; do
  DATA[$name]=$TMP/data-$name
  KEYS[$name]=$TMP/keys-$name.txt
  mkdir -m 700 "${DATA[$name]}"
done
STORED[sq-small]=$SMALL_KEYS STORED[pg-small]=$SMALL_KEYS
STORED[sq-large]=$SCALE_KEYS STORED[pg-large]=$SCALE_KEYS
LABEL[sq-small]=SQLite LABEL[sq-large]=SQLite LABEL[pg-small]=PostgreSQL LABEL[pg-large]=PostgreSQL

# Two databases of the cluster, dropped again on exit (the servers are stopped by then).
PG_DBS=()
if ((USE_PG)); then
  PG_SERVER=${KEYWARD_TEST_PG_URL%/*}
  for name in pg-small pg-large; do
    db="keyward_scale_${name#pg-}_$$"
    psql -q -v ON_ERROR_STOP=1 "$KEYWARD_TEST_PG_URL" -c "CREATE DATABASE $db" ||
      die "cannot create the database $db"
    PG_DBS+=("$db")
    DB[$name]=$PG_SERVER/$db
  done
fi
bench_on_exit() {
  local db
  for db in "${PG_DBS[@]}"; do
    psql -q "$KEYWARD_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  done
}

# --- seeding -----------------------------------------------------------------------------------

# The columns of keyward_seed_keys --copy-out's rows (its kCopyColumns), as the PostgreSQL store
# names them (src/store/migrations/postgres/V001, V003).
COPY_COLUMNS="user_id, name, hash, sealed, masked, created_at, expires_at, last_used_at, scopes, full_access"

seed_pg() {  # seed_pg NAME COUNT KEYS_FILE: the rows through psql's \copy, then VACUUM
  local t0 t1 t2
  log "Seeding $2 keys with the scope $SCOPE into PostgreSQL (${DB[$1]##*/})"
  t0=$EPOCHREALTIME
  timeout --foreground 3600 "$SEED" --copy-out - --count "$2" --out "$3" --scope "$SCOPE" \
    2>>"$TMP/$1.log" |
    timeout --foreground 3600 psql -q -v ON_ERROR_STOP=1 "${DB[$1]}" \
      -c "\\copy api_keys ($COPY_COLUMNS) FROM pstdin" >>"$TMP/$1.log" 2>&1 ||
    { tail -n 5 "$TMP/$1.log" >&2; die "seeding $1 failed"; }
  t1=$EPOCHREALTIME
  # Statistics for the planner, hint bits set and the rows frozen now, so that neither the first
  # reads nor autovacuum write during the measurements.
  timeout --foreground 3600 psql -q -v ON_ERROR_STOP=1 "${DB[$1]}" \
    -c "VACUUM (FREEZE, ANALYZE) api_keys" >>"$TMP/$1.log" 2>&1 ||
    { tail -n 5 "$TMP/$1.log" >&2; die "VACUUM of $1 failed"; }
  t2=$EPOCHREALTIME
  tail -n 1 "$TMP/$1.log" >&2
  printf '%s\tcopy\t%s\n%s\tvacuum\t%s\n' "$1" "$(elapsed "$t0" "$t1")" "$1" \
    "$(elapsed "$t1" "$t2")" >>"$SEEDING"
}

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }  # elapsed T0 T1: seconds

SEED_STARTED=$EPOCHREALTIME
# A first start creates the store (migrations, the admin user, the master key); seeded stopped.
for name in "${SERVERS[@]}"; do
  start_keyward "$name"
  stop "$name"
  t0=$EPOCHREALTIME
  if [[ $name == sq-* ]]; then
    seed "$name" "${STORED[$name]}" "${KEYS[$name]}"
    printf '%s\tinsert\t%s\n' "$name" "$(elapsed "$t0" "$EPOCHREALTIME")" >>"$SEEDING"
  else
    seed_pg "$name" "${STORED[$name]}" "${KEYS[$name]}"
  fi
done
SEED_SECONDS=$(elapsed "$SEED_STARTED" "$EPOCHREALTIME")

# The keys the miss runs send: a random sample of the large stores' keys (not the hit keys, the
# first HIT_KEYS), so that their rows lie all over the table; each run starts where the one before
# stopped.
MISS_BUDGET=$(((ROUNDS + 2) * SECS * MISS_RATE))
((MISS_BUDGET <= SCALE_KEYS - HIT_KEYS)) || MISS_BUDGET=$((SCALE_KEYS - HIT_KEYS))
for name in "${LARGE[@]}"; do
  MISS_KEYS[$name]=$TMP/miss-$name.txt
  MISS_OFFSET[$name]=0
  tail -n +$((HIT_KEYS + 1)) "${KEYS[$name]}" |
    shuf -n "$MISS_BUDGET" --random-source=<(yes) >"${MISS_KEYS[$name]}"
done

# Disk, measured now that everything is written.
disk_line() {  # disk_line NAME: bytes of its store
  if [[ -n ${DB[$1]:-} ]]; then
    psql -qAt "${DB[$1]}" -c "SELECT pg_database_size(current_database())"
  else
    du -sb "${DATA[$1]}" | cut -f1
  fi
}
declare -A DISK=()
for name in "${SERVERS[@]}"; do DISK[$name]=$(disk_line "$name"); done
KEYS_BYTES=$(du -cb "${KEYS[@]}" "${MISS_KEYS[@]}" | tail -n 1 | cut -f1)

# PostgreSQL on the server's core too: the postmaster and its processes now, the backends it forks
# later inherit it. Its CPU time counts as the server's (EXTRA).
PG_NOTE=""
if ((USE_PG)); then
  PG_PID=""
  if [[ -r ${KEYWARD_TEST_PG_DATA:-}/postmaster.pid ]]; then
    PG_PID=$(head -n 1 "$KEYWARD_TEST_PG_DATA/postmaster.pid")
  fi
  if [[ $PG_PID =~ ^[0-9]+$ ]] && kill -0 "$PG_PID" 2>/dev/null; then
    for p in "$PG_PID" $(pgrep -P "$PG_PID" || true); do
      taskset -a -c -p "$SERVER_CPU" "$p" >/dev/null
    done
    EXTRA[pg-small]=$PG_PID EXTRA[pg-large]=$PG_PID
    PG_NOTE="PostgreSQL pinned there too, its CPU counted as the server's"
  else
    PG_NOTE="PostgreSQL not pinned (no KEYWARD_TEST_PG_DATA/postmaster.pid), its CPU counted as other"
    log "scale.sh: warning: $PG_NOTE"
  fi
fi

# --- servers -----------------------------------------------------------------------------------

url() { echo "http://127.0.0.1:${PORT[$1]}$2"; }  # url NAME PATH
for name in "${SERVERS[@]}"; do
  start_keyward "$name"
  check_auth "$(url "$name" /auth)" "${KEYS[$name]}"
done
start_nginx

log ""
log "Servers on CPU $SERVER_CPU (Keyward --threads $KW_THREADS (0: its default) $KW_ARGS; nginx 1 worker${PG_NOTE:+; $PG_NOTE});"
log "wrk -t$WRK_THREADS -c$CONNS -d${SECS}s on CPU $CLIENT_CPU; $ROUNDS rounds, interleaved."

# --- cache hits: nginx and every store, interleaved --------------------------------------------

log "Cache hits (rotating over $HIT_KEYS keys):"
warm_up "$(url nginx /)"
for name in "${SERVERS[@]}"; do
  warm_up "$(url "$name" /auth)" bench/auth.lua "${KEYS[$name]}" "$HIT_KEYS"
done
HIT_TARGETS=(nginx "${SERVERS[@]}")
# Each round starts one target later than the one before (see run.sh).
for ((r = 1; r <= ROUNDS; r++)); do
  for ((i = 0; i < ${#HIT_TARGETS[@]}; i++)); do
    name=${HIT_TARGETS[$(((r - 1 + i) % ${#HIT_TARGETS[@]}))]}
    if [[ $name == nginx ]]; then
      wrk_run nginx "$r" nginx "$(url nginx /)"
    else
      wrk_run "hit-$name" "$r" "$name" "$(url "$name" /auth)" bench/auth.lua "${KEYS[$name]}" \
        "$HIT_KEYS"
    fi
  done
done
stop sq-small
((USE_PG == 0)) || stop pg-small

# --- cache misses on the large stores, from a cold start ---------------------------------------

# memory NAME: "VmRSS RssAnon entries" (kB, kB, keyward_cache_entries) of the running server.
memory() {
  local rss entries
  rss=$(awk '$1 == "VmRSS:" {r = $2} $1 == "RssAnon:" {a = $2} END {print r + 0, a + 0}' \
    "/proc/${PID[$1]}/status")
  entries=$(curl -s --max-time 5 "$(url "$1" /metrics)" |
    awk '$1 == "keyward_cache_entries" {print $2 + 0; found = 1} END {if (!found) print -1}')
  echo "$rss $entries"
}

# miss_run SCENARIO ROUND NAME [PHASE]: one miss run on NAME from its next unused key; with
# PHASE, the server's memory before and 6 s after (one last-used flush later) go to MEMORY.
miss_run() {
  local scenario=$1 round=$2 name=$3 phase=${4:-} before after sent
  [[ -z $phase ]] || before=$(memory "$name")
  wrk_run "$scenario" "$round" "$name" "$(url "$name" /auth)" bench/miss.lua \
    "${MISS_KEYS[$name]}" "$WRK_THREADS" "${MISS_OFFSET[$name]}"
  if [[ -n $phase ]]; then
    sleep 6
    after=$(memory "$name")
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$phase" "$round" "${before// /$'\t'}" \
      "${after// /$'\t'}" >>"$MEMORY"
  fi
  sent=$(awk '/keys sent once each/ {print $2}' "$TMP/wrk-$scenario-$round.txt")
  if [[ $sent =~ ^[0-9]+$ ]]; then
    MISS_OFFSET[$name]=$((MISS_OFFSET[$name] + sent))
  else
    MISS_OFFSET[$name]=$MISS_BUDGET  # wrapped: nothing unused is left
  fi
  ((MISS_OFFSET[$name] < MISS_BUDGET - WRK_THREADS)) || MISS_OFFSET[$name]=$((MISS_BUDGET - WRK_THREADS))
}

log "Cache misses (each key once, the server restarted before each round):"
for ((r = 1; r <= ROUNDS; r++)); do
  # The store that goes first alternates.
  order=("${LARGE[@]}")
  ((r % 2 == 1 || ${#order[@]} == 1)) || order=("${LARGE[1]}" "${LARGE[0]}")
  for name in "${order[@]}"; do
    stop "$name"
    start_keyward "$name"
    wrk_run nginx $((ROUNDS + r)) nginx "$(url nginx /)"
    miss_run "miss-$name" "$r" "$name"
  done
done

# Memory per cached key: two miss runs on one server started with a cache ttl longer than the
# measurement (by default an entry is dropped 5 s after it was read, so the gauge would count only
# the last seconds' keys while the memory of the dropped ones stays with the allocator). The
# second run's growth leaves out what stops growing after the first (SQLite's page cache, bounded
# per connection; code and libraries first touched; the allocator's arenas).
log "Memory: two miss runs on one server started with --cache-ttl 1h (not in the miss rows):"
for name in "${LARGE[@]}"; do
  stop "$name"
  start_keyward "$name" --cache-ttl 1h
  miss_run "mem1-$name" 1 "$name" first
  miss_run "mem2-$name" 1 "$name" second
done

# --- start-up: exec to the first 200 of /readyz ------------------------------------------------

# ready_code PORT: the status of GET /readyz in READY_CODE (000 when nothing answers), through
# bash's /dev/tcp: no process started, so a poll every few milliseconds costs little.
ready_code() {
  READY_CODE=000
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 0
  printf 'GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3 || true
  local _proto code _rest
  if IFS=' ' read -r -t 5 _proto code _rest <&3; then READY_CODE=$code; fi
  exec 3<&-
}

# timed_start NAME: starts it; STARTUP_MS is the time from exec to the first 200 of /readyz. Not
# in $(…): PID must reach this shell.
timed_start() {
  local name=$1 t0 deadline
  t0=$EPOCHREALTIME
  deadline=$((EPOCHSECONDS + 120))
  launch_keyward "$name"
  while :; do
    ready_code "${PORT[$name]}"
    [[ $READY_CODE != 200 ]] || break
    kill -0 "${PID[$name]}" 2>/dev/null || { tail -n 20 "$TMP/$name.log" >&2; die "$name exited"; }
    ((EPOCHSECONDS < deadline)) || die "$name was not ready within 120 s"
    sleep 0.002
  done
  STARTUP_MS=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", (b - a) * 1000}')
}

log "Start-up, $STARTS times per store:"
for name in "${LARGE[@]}"; do stop "$name"; done
for ((s = 1; s <= STARTS; s++)); do
  for name in "${SERVERS[@]}"; do
    timed_start "$name"
    printf '%s\t%s\n' "$name" "$STARTUP_MS" >>"$STARTUP"
    log "  start $s  $name  $STARTUP_MS ms"
    stop "$name"
  done
done

# --- the tables --------------------------------------------------------------------------------

NGINX_RPS=$(median nginx 3)
NGINX_US=$(median nginx 10)
echo
echo "Keyward /auth at scale, $SMALL_KEYS vs $SCALE_KEYS keys stored: medians of $ROUNDS rounds of" \
  "${SECS} s (nginx: $((2 * ROUNDS)) rounds, interleaved with both phases)"
echo "servers on CPU $SERVER_CPU${PG_NOTE:+ ($PG_NOTE)}, wrk -t$WRK_THREADS -c$CONNS on CPU" \
  "$CLIENT_CPU; $CPUS CPUs, Linux $(uname -r)"
echo
result_header
result_row "nginx return 200" - nginx
for name in "${SERVERS[@]}"; do
  result_row "/auth hit, ${LABEL[$name]}" "${STORED[$name]}" "hit-$name"
done
for name in "${LARGE[@]}"; do
  result_row "/auth miss, ${LABEL[$name]}" "${STORED[$name]}" "miss-$name"
done
echo
echo "hit: $HIT_KEYS keys in rotation, served from the cache; miss: keys drawn at random from the"
echo "store, each sent once to a server restarted before the round, so each is looked up in the"
echo "store. other CPU: the largest share of the two CPUs' time, in any round, used by processes"
echo "other than the server${PG_NOTE:+ (and PostgreSQL)} and wrk: above a few percent the numbers are noisy."
noisy_warning

echo
echo "Targets (reported, not asserted):"
target() {  # target LABEL VALUE TARGET MET(1/0/-)
  local verdict=reported
  [[ $4 == - ]] || { ((${4})) && verdict=met || verdict=MISSED; }
  printf '  %-52s %10s  %-10s %s\n' "$1" "$2" "$3" "$verdict"
}
ge() { awk -v a="$1" -v b="$2" 'BEGIN {print (a >= b) ? 1 : 0}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
for store in sq pg; do
  [[ -n ${STORED[$store-large]:-} && ($store == sq || $USE_PG == 1) ]] || continue
  label=${LABEL[$store-large]}
  r=$(ratio "$(median "hit-$store-large" 3)" "$(median "hit-$store-small" 3)")
  target "/auth hit, $label: req/s $SCALE_KEYS vs $SMALL_KEYS keys" "$r" ">= 0.90" \
    "$(ge "$r" 0.90)"
  target "/auth hit, $label: p99 $SCALE_KEYS vs $SMALL_KEYS keys" \
    "$(ratio "$(median "hit-$store-large" 5)" "$(median "hit-$store-small" 5)")" "-" -
  rps=$(median "miss-$store-large" 3)
  p99=$(median "miss-$store-large" 5)
  if [[ $store == sq ]]; then
    target "/auth miss, $label, $SCALE_KEYS keys: req/s, one core" "$(printf '%.0f' "$rps")" \
      ">= 25000" "$(ge "$rps" 25000)"
    target "/auth miss, $label, $SCALE_KEYS keys: p99 at $CONNS connections" \
      "$(printf '%.3f ms' "$p99")" "<= 5 ms" "$(ge 5 "$p99")"
  else
    target "/auth miss, $label, $SCALE_KEYS keys: req/s, one core" "$(printf '%.0f' "$rps")" "-" -
    target "/auth miss, $label, $SCALE_KEYS keys: p99 at $CONNS connections" \
      "$(printf '%.3f ms' "$p99")" "-" -
  fi
done

echo
echo "Start-up: exec of keyward serve to the first 200 of /readyz (store open, schema current),"
echo "$STARTS starts per store, polled every ~2 ms; ms:"
printf '  %-11s %10s %9s %9s %9s\n' store "keys" min median max
for name in "${SERVERS[@]}"; do
  awk -F'\t' -v s="$name" '$1 == s {print $2}' "$STARTUP" | sort -g |
    awk -v l="${LABEL[$name]}" -v k="${STORED[$name]}" '{v[NR] = $1} END {
      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "  %-11s %10s %9.1f %9.1f %9.1f\n", l, k, v[1], m, v[NR] }'
done

echo
echo "Memory per cached key, on a server started with --cache-ttl 1h so that no entry ages out:"
echo "VmRSS and RssAnon (/proc/PID/status) and keyward_cache_entries (/metrics) before a miss run"
echo "of ${SECS} s and 6 s after it (one last-used flush later); bytes per new entry:"
printf '  %-11s %-34s %9s %9s %9s %8s %8s\n' store "from -> to" "+entries" "+VmRSS kB" \
  "+Anon kB" "B/entry" "anon B/e"
for name in "${LARGE[@]}"; do
  for phase in first second; do
    what="fresh server -> after one miss run"
    [[ $phase == first ]] || what="after one run -> after a second"
    awk -F'\t' -v s="$name" -v p="$phase" -v l="${LABEL[$name]}" -v w="$what" '
      $1 == s && $2 == p { e = $9 - $6; r = $7 - $4; a = $8 - $5; found = 1 }
      END {
        if (!found || e <= 0) { printf "  %-11s %-34s no new entries\n", l, w; exit }
        printf "  %-11s %-34s %9d %9d %9d %8.0f %8.0f\n", l, w, e, r, a, 1024 * r / e,
          1024 * a / e }' "$MEMORY"
  done
done
echo "The first line holds everything a cold server grows by while it verifies keys: the cache"
echo "entries, the allocator's arenas, the code and libraries first touched and, with SQLite, the"
echo "page cache of its connections (bounded: cache_size, 2 MB each by default). The second line"
echo "is what a server already warm grows by: the cache entries (principal, headers, usage and rate"
echo "meters) and their index, which is the cost of one more cached key. With PostgreSQL the pages"
echo "live in the database server, not in Keyward."

echo
echo "Seeding (keyward_seed_keys, the server stopped; PostgreSQL: keys generated and loaded through"
echo "psql's \\copy at once, then VACUUM (FREEZE, ANALYZE)); seconds:"
for name in "${SERVERS[@]}"; do
  awk -F'\t' -v s="$name" -v l="${LABEL[$name]}" -v k="${STORED[$name]}" '$1 == s {
      t[$2] = $3; tot += $3 } END {
      if ("insert" in t) printf "  %-11s %10s keys %9.1f s (SQLite insert, one transaction)\n", l, k, tot
      else printf "  %-11s %10s keys %9.1f s (copy %.1f s + vacuum %.1f s)\n", l, k, tot, t["copy"], t["vacuum"] }' \
    "$SEEDING"
done

echo
echo "Disk:"
for name in "${SERVERS[@]}"; do
  printf '  %-11s %10s keys %8.2f GB (%s)\n' "${LABEL[$name]}" "${STORED[$name]}" \
    "$(awk -v b="${DISK[$name]}" 'BEGIN {print b / 1e9}')" \
    "$([[ -n ${DB[$name]:-} ]] && echo "pg_database_size" || echo "the data folder")"
done
printf '  %-27s %8.2f GB (keys files and the miss runs'"'"' samples, in %s)\n' "keys files" \
  "$(awk -v b="$KEYS_BYTES" 'BEGIN {print b / 1e9}')" "${TMPDIR:-/tmp}"
echo
echo "scale.sh took $((EPOCHSECONDS - BENCH_SCALE_STARTED)) s (seeding $(printf '%.0f' "$SEED_SECONDS") s)."
