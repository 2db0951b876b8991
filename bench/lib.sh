# shellcheck shell=bash disable=SC2034  # the settings below are used by the sourcing scripts
# Shell shared by bench/run.sh and bench/tokens.sh; sourced, not run, after `set -euo pipefail`.
# It sets the settings both take (SECS, ROUNDS, CONNS, WRK_THREADS, WARMUP, SERVER_CPU,
# CLIENT_CPU, BUILD_DIR); its functions also use TMP (bench_start_tmp sets it), PID and PORT
# (NAME -> pid / port) and RESULTS (the tab-separated numbers) of the sourcing script.
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
# PID and remove the folder when the script exits.
bench_start_tmp() {
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  declare -gA PID=() PORT=()
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

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for name in "${!PID[@]}"; do stop "$name"; done
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

# --- wrk runs and their numbers ----------------------------------------------------------------

to_ms() {  # wrk's "123.45us" / "1.20ms" / "2.00s" / "1.00m" -> milliseconds
  awk -v t="$1" 'BEGIN {
    n = t + 0; u = t; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    else if (u != "ms") n = -1
    printf "%.3f", n }'
}

# Clock ticks used by a server: the process (all its threads) and its children (nginx's worker).
server_ticks() {
  local pid=$1 p sum=0 t
  for p in "$pid" $(pgrep -P "$pid" || true); do
    t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
    sum=$((sum + t))
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
