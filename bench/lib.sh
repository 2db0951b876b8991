# shellcheck shell=bash disable=SC2034  # the settings below are used by the sourcing scripts
# Shell shared by the scripts of bench/ (run.sh, tokens.sh, scan.sh, scale.sh); sourced, not run,
# after `set -euo pipefail`. It sets the settings they take (SECS, ROUNDS, CONNS, WRK_THREADS,
# WARMUP, SERVER_CPU, CLIENT_CPU, BUILD_DIR, KW_THREADS, KW_ARGS) and HZ; its functions also use
# TMP, ADMIN_PASSWORD (bench_start_tmp sets them), PID, PORT, DATA, DB and EXTRA (NAME -> pid /
# port / data folder / PostgreSQL URL / more pids counted as the server's), RESULTS (the
# tab-separated numbers), KEYWARD, SEED and SCOPE of the sourcing script.
# Messages go to standard error, prefixed with the script's name.

BENCH_SCRIPT=$(basename "$0")

# The settings both scripts take (see their headers); each script checks them.
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNECTIONS:-64}
WRK_THREADS=${BENCH_WRK_THREADS:-1}
WARMUP=${BENCH_WARMUP_SECONDS:-2}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
BUILD_DIR=${BENCH_BUILD_DIR:-build/release}
KW_THREADS=${BENCH_KEYWARD_THREADS:-0}
KW_ARGS=${BENCH_KEYWARD_ARGS:---log-level warn}
HZ=$(getconf CLK_TCK)

log() { printf '%s\n' "$*" >&2; }
die() { log "$BENCH_SCRIPT: $*"; exit 1; }

# bench_build TARGET...: builds the targets in Release, in BENCH_BUILD_DIR when set, else with
# the release preset; nothing when BENCH_SKIP_BUILD is set.
bench_build() {
  [[ -z ${BENCH_SKIP_BUILD:-} ]] || return 0
  if [[ -n ${BENCH_BUILD_DIR:-} ]]; then
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD_DIR" --target "$@"
  else
    cmake --preset release >/dev/null
    cmake --build --preset release --target "$@"
  fi
}

# --- processes and clean-up --------------------------------------------------------------------

# bench_start_tmp PREFIX: a new temporary folder in TMP, and the traps that stop every server in
# PID and remove the folder when the script exits; a password for the admin user Keyward creates.
bench_start_tmp() {
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  declare -gA PID=() PORT=() DATA=() DB=() EXTRA=()
  ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

stop() {  # stop NAME: SIGTERM, then SIGKILL after 10 s
  local name=$1 pid=${PID[$1]:-}
  [[ -n $pid ]] || return 0
  unset "PID[$name]"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  log "$BENCH_SCRIPT: $name did not stop within 10 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# On exit: stops the servers, runs the sourcing script's bench_on_exit if it has one (after the
# servers, before the folder goes), removes the folder.
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for name in "${!PID[@]}"; do stop "$name"; done
  if declare -F bench_on_exit >/dev/null; then bench_on_exit || true; fi
  rm -rf "$TMP"
  exit "$status"
}

free_port() {  # a TCP port nothing on 127.0.0.1 listens on (good enough for a benchmark)
  local port
  for _ in $(seq 200); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  die "no free port found"
}

wait_http() {  # wait_http NAME URL: until the server answers, for at most 30 s
  local name=$1 url=$2
  for _ in $(seq 300); do
    kill -0 "${PID[$name]}" 2>/dev/null || { tail -n 20 "$TMP/$name.log" >&2; die "$name exited"; }
    curl -s -o /dev/null --max-time 1 "$url" && return 0
    sleep 0.1
  done
  tail -n 20 "$TMP/$name.log" >&2
  die "$name did not answer at $url within 30 s"
}

start_nginx() {  # nginx `return 200` on PORT[nginx], pinned to SERVER_CPU, one worker
  mkdir -p "$TMP/nginx"
  cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  # nginx closes a keep-alive connection after 1,000 requests by default; Keyward does not.
  keepalive_requests 1000000000;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  server {
    listen 127.0.0.1:${PORT[nginx]};
    location / { return 200; }
  }
}
EOF
  # shellcheck disable=SC2094  # nginx's error log and its stderr go to the same file
  taskset -c "$SERVER_CPU" "$(command -v nginx)" -e "$TMP/nginx.log" -p "$TMP/nginx" \
    -c "$TMP/nginx/nginx.conf" >>"$TMP/nginx.log" 2>&1 &
  PID[nginx]=$!
  wait_http nginx "http://127.0.0.1:${PORT[nginx]}/"
}

# --- Keyward servers ---------------------------------------------------------------------------

# start_keyward NAME [FLAG...]: `keyward serve` on PORT[NAME], pinned to SERVER_CPU, with the data
# folder DATA[NAME]; with DB[NAME] (postgresql://…) the store is that database and the master key
# DATA[NAME]/master.key. Returns once /readyz answers (the store is open with its schema).
start_keyward() {
  launch_keyward "$@"
  wait_http "$1" "http://127.0.0.1:${PORT[$1]}/readyz"
}

launch_keyward() {  # launch_keyward NAME [FLAG...]: start_keyward without waiting
  local name=$1
  shift
  local store=(--data-dir "${DATA[$name]}")
  [[ -z ${DB[$name]:-} ]] ||
    store+=(--db "${DB[$name]}" --master-key-file "${DATA[$name]}/master.key")
  # shellcheck disable=SC2086  # KW_ARGS is a list of flags
  KEYWARD_ADMIN_PASSWORD=$ADMIN_PASSWORD taskset -c "$SERVER_CPU" "$KEYWARD" serve \
    --listen "127.0.0.1:${PORT[$name]}" "${store[@]}" --threads "$KW_THREADS" \
    $KW_ARGS "$@" >>"$TMP/$name.log" 2>&1 &
  PID[$name]=$!
}

# seed NAME COUNT KEYS_FILE: COUNT keys into the SQLite store of DATA[NAME], the server stopped;
# every key granted SCOPE.
seed() {
  log "Seeding $2 keys with the scope $SCOPE into ${DATA[$1]}"
  timeout --foreground 3600 "$SEED" --data-dir "${DATA[$1]}" --count "$2" --out "$3" \
    --scope "$SCOPE" 2>>"$TMP/$1.log" ||
    { tail -n 5 "$TMP/$1.log" >&2; die "seeding $1 failed"; }
  tail -n 1 "$TMP/$1.log" >&2
}

# /auth must exist and tell a valid key from a missing one, or the numbers mean nothing: 401
# without a key, 200 with X-Keyward-User: admin for the first and the last key of KEYS_FILE.
check_auth() {  # check_auth URL KEYS_FILE
  local url=$1 keys=$2 code headers key
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url")
  [[ $code == 401 ]] || die "$url without a key answered $code, not 401 (is /auth built yet?)"
  for key in "$(head -n 1 "$keys")" "$(tail -n 1 "$keys")"; do
    headers=$(curl -s -o /dev/null -D - --max-time 5 -H "Authorization: Bearer $key" "$url")
    code=$(head -n 1 <<<"$headers" | awk '{print $2}')
    [[ $code == 200 ]] || die "$url with a seeded key answered ${code:-nothing}, not 200"
    grep -qi '^X-Keyward-User: admin' <<<"$headers" || die "$url: no X-Keyward-User: admin header"
  done
}

# --- wrk runs and their numbers ----------------------------------------------------------------

to_ms() {  # wrk's "123.45us" / "1.20ms" / "2.00s" / "1.00m" -> milliseconds
  awk -v t="$1" 'BEGIN {
    n = t + 0; u = t; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    else if (u != "ms") n = -1
    printf "%.3f", n }'
}

# Clock ticks used by a server: the processes (all their threads) and their children (nginx's
# worker, PostgreSQL's backends).
server_ticks() {  # server_ticks PID...
  local pid p sum=0 t
  for pid in "$@"; do
    for p in "$pid" $(pgrep -P "$pid" || true); do
      t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
      sum=$((sum + t))
    done
  done
  echo "$sum"
}

# wrk_measure OUT SCENARIO URL [SCRIPT ARGS...]: one bounded wrk run with latencies (SECS, on
# CLIENT_CPU), its output in OUT. Call it in the script's shell, not in $(…), between the
# samples of what it measures.
wrk_measure() {
  local out=$1 scenario=$2 url=$3
  shift 3
  local script=() args=()
  if (($# > 0)); then script=(-s "$1"); shift; fi
  if (($# > 0)); then args=(-- "$@"); fi
  timeout --foreground $((SECS + 60)) taskset -c "$CLIENT_CPU" wrk -t"$WRK_THREADS" -c"$CONNS" \
    -d"${SECS}s" --latency "${script[@]}" "$url" "${args[@]}" >"$out" 2>&1 ||
    { cat "$out" >&2; die "wrk failed for $scenario"; }
}

# wrk_read OUT: the numbers of wrk's output OUT in WRK_RPS, WRK_REQUESTS, WRK_P50 and WRK_P99
# (ms) and WRK_ERRORS (non-2xx answers and socket errors).
wrk_read() {
  local out=$1 non2xx sockerr
  WRK_RPS=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  WRK_REQUESTS=$(awk '$2 == "requests" && $3 == "in" {print $1}' "$out")
  WRK_P50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  WRK_P99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
  sockerr=$(awk '/Socket errors:/ {gsub(/,/, ""); print $4 + $6 + $8 + $10}' "$out")
  [[ -n $WRK_RPS && -n $WRK_P50 && -n $WRK_P99 && -n $WRK_REQUESTS ]] ||
    { cat "$out" >&2; die "cannot read wrk's output"; }
  WRK_ERRORS=$((${non2xx:-0} + ${sockerr:-0}))
}

warm_up() {  # warm_up URL [SCRIPT ARGS...]: a short unrecorded run
  local url=$1
  shift
  local script=() args=()
  if (($# > 0)); then script=(-s "$1"); shift; fi
  if (($# > 0)); then args=(-- "$@"); fi
  timeout --foreground $((WARMUP + 60)) taskset -c "$CLIENT_CPU" wrk -t"$WRK_THREADS" -c"$CONNS" \
    -d"${WARMUP}s" "${script[@]}" "$url" "${args[@]}" >/dev/null 2>&1 || die "warm-up failed: $url"
}

median() {  # median SCENARIO COLUMN over the rounds in RESULTS
  awk -F'\t' -v s="$1" -v c="$2" '$1 == s {print $c}' "$RESULTS" | sort -g |
    awk '{v[NR] = $1} END {
      if (NR == 0) { print "nan"; exit }
      if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# CPU time (clock ticks) of the two benchmark CPUs, "busy total": busy is user + nice + system +
# steal; idle, iowait and interrupt time are left out of busy (interrupts are charged to no task).
cpu_ticks() {
  awk -v a="cpu$SERVER_CPU" -v b="cpu$CLIENT_CPU" '$1 == a || ($1 == b && a != b) {
      busy += $2 + $3 + $4 + $9; for (i = 2; i <= 9; i++) total += $i }
    END { print busy, total }' /proc/stat
}

# Clock ticks used by this shell's finished children (the wrk runs), from `times`. Call it in this
# shell, not in $(…): a subshell starts counting its children from zero. Sets CHILD_TICKS.
child_ticks() {
  times >"$TMP/times"
  CHILD_TICKS=$(awk -v hz="$HZ" 'NR == 2 {
    s = 0; for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); s += t[1] * 60 + t[2] }
    printf "%d", s * hz + 0.5 }' "$TMP/times")
}

# wrk_run SCENARIO ROUND SERVER URL [SCRIPT ARGS...]: one bounded wrk run against the server
# PID[SERVER] (with the processes EXTRA[SERVER] and their children, e.g. its PostgreSQL); its
# numbers go to RESULTS, one line: scenario round req/s p50_ms p99_ms errors note other_cpu%
# server_cpu% us_per_req (note: WRAPPED when miss.lua ran out of keys, else -). "other" is the
# share of the two CPUs' time that went to neither the server nor wrk while it ran: other
# processes (a build, tests) competing for them.
wrk_run() {
  local scenario=$1 round=$2 server=$3 url=$4 out="$TMP/wrk-$1-$2.txt"
  shift 4
  local cpu0 srv0 kid0 cpu1 srv1 kid1 pids
  read -ra pids <<<"${PID[$server]} ${EXTRA[$server]:-}"
  cpu0=$(cpu_ticks)
  srv0=$(server_ticks "${pids[@]}")
  child_ticks
  kid0=$CHILD_TICKS
  wrk_measure "$out" "$scenario" "$url" "$@"
  cpu1=$(cpu_ticks)
  srv1=$(server_ticks "${pids[@]}")
  child_ticks
  kid1=$CHILD_TICKS
  local other
  other=$(awk -v c0="$cpu0" -v c1="$cpu1" -v ours=$((srv1 - srv0 + kid1 - kid0)) 'BEGIN {
      split(c0, a, " "); split(c1, b, " "); busy = b[1] - a[1]; total = b[2] - a[2]
      o = total > 0 ? 100 * (busy - ours) / total : 0
      printf "%.0f", (o < 0 ? 0 : o) }')
  wrk_read "$out"
  local rps=$WRK_RPS p50=$WRK_P50 p99=$WRK_P99 requests=$WRK_REQUESTS errors=$WRK_ERRORS note
  note=$(grep -o 'WRAPPED' "$out" || true)
  # The server's share of its core, and its CPU time per answered request: when the server's core
  # is not saturated, wrk (the client) set the pace, and only CPU per request compares servers.
  local busy us_per_req
  busy=$(awk -v t=$((srv1 - srv0)) -v hz="$HZ" -v s="$SECS" \
    'BEGIN {printf "%.0f", 100 * t / hz / s}')
  us_per_req=$(awk -v t=$((srv1 - srv0)) -v hz="$HZ" -v n="$requests" \
    'BEGIN {printf "%.2f", (n > 0 ? 1e6 * t / hz / n : 0)}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$round" "$rps" "$p50" "$p99" \
    "$errors" "${note:--}" "$other" "$busy" "$us_per_req" >>"$RESULTS"
  log "$(printf '  round %s  %-10s %7.0f req/s  p50 %6.3f ms  p99 %7.3f ms  server %3d%% CPU,' \
    "$round" "$scenario" "$rps" "$p50" "$p99" "$busy")$(printf ' %5.2f us/req  other %2d%%%s%s' \
    "$us_per_req" "$other" "$( ((errors == 0)) || echo "  $errors errors/non-2xx")" \
    "$([[ -z $note ]] || echo "  (keys ran out: WRAPPED)")")"
}

# result_row LABEL STORED SCENARIO: one line of the table of medians over the scenario's rounds in
# RESULTS (wrk_run's), against NGINX_RPS and NGINX_US (nginx's medians); result_header first.
result_row() {
  local label=$1 stored=$2 scenario=$3 rps p50 p99 busy us errors notes other
  rps=$(median "$scenario" 3)
  p50=$(median "$scenario" 4)
  p99=$(median "$scenario" 5)
  busy=$(median "$scenario" 9)
  us=$(median "$scenario" 10)
  errors=$(awk -F'\t' -v s="$scenario" '$1 == s {n += $6} END {print n + 0}' "$RESULTS")
  notes=$(awk -F'\t' -v s="$scenario" '$1 == s && $7 != "-" {print "keys wrapped"; exit}' \
    "$RESULTS")
  ((errors == 0)) || notes="${notes:+$notes, }$errors errors or non-2xx"
  other=$(awk -F'\t' -v s="$scenario" '$1 == s && $8 > m {m = $8} END {print m + 0}' "$RESULTS")
  printf '%-22s %9s %8.0f %7.3f %8.3f %6.2f %5.0f%% %7.2f %6.2f %5s%s\n' "$label" "$stored" \
    "$rps" "$p50" "$p99" "$(awk -v a="$rps" -v b="$NGINX_RPS" 'BEGIN {print a / b}')" "$busy" \
    "$us" "$(awk -v a="$us" -v b="$NGINX_US" 'BEGIN {print (b > 0 ? a / b : 0)}')" "$other%" \
    "${notes:+  $notes}"
}

result_header() {
  printf '%-22s %9s %8s %7s %8s %6s %6s %7s %6s %5s\n' scenario "keys" "req/s" "p50 ms" \
    "p99 ms" "/nginx" "server" "CPU us" "/nginx" other
  printf '%-22s %9s %8s %7s %8s %6s %6s %7s %6s %5s\n' "" "stored" "" "" "" "req/s" "CPU" \
    "per req" "CPU" CPU
  printf '%-22s %9s %8s %7s %8s %6s %6s %7s %6s %5s\n' ---------------------- --------- -------- \
    ------- -------- ------ ------ ------- ------ -----
}

# noisy_warning: a line when runs had more than 5% of the CPUs' time used by other processes.
noisy_warning() {
  local noisy
  noisy=$(awk -F'\t' '$8 > 5 {n++} END {print n + 0}' "$RESULTS")
  ((noisy == 0)) ||
    echo "WARNING: $noisy of $(wc -l <"$RESULTS") runs had more than 5% other CPU use."
}
