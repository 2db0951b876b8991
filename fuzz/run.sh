#!/usr/bin/env bash
# `make fuzz`: builds the fuzz targets with clang, libFuzzer, ASan and UBSan in build/fuzz, then
# runs each for FUZZ_SECONDS (default 60) on a copy of its seed corpus in
# build/fuzz/corpus/<target> (new inputs go there, never into the repository), and prints, per
# target, the executions and whether it crashed. Crash inputs land in
# build/fuzz/artifacts/<target>/, the full logs in build/fuzz/logs/<target>.log.
#
# Environment: FUZZ_SECONDS (per target), FUZZ_TARGETS (space-separated subset), JOBS (build
# parallelism, default: the number of cores). Exits 1 when any target crashed.
set -euo pipefail

cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"
jobs="${JOBS:-$(nproc)}"
targets=(${FUZZ_TARGETS:-api_key duration json_body credentials api_request})
build=build/fuzz

if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "FUZZ_SECONDS must be a positive number of seconds, not '$seconds'" >&2
  exit 2
fi

# Warnings do not stop a fuzzing run (the ci presets catch them).
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DKEYWARD_FUZZ=ON -DKEYWARD_WERROR=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target kw_fuzz_targets

mkdir -p "$build/logs"
summary=()
crashed=0
for target in "${targets[@]}"; do
  binary="$build/fuzz/fuzz_$target"
  corpus="$build/corpus/$target"
  artifacts="$build/artifacts/$target"
  log="$build/logs/$target.log"
  if [ ! -x "$binary" ]; then
    echo "unknown fuzz target: $target" >&2
    exit 2
  fi
  mkdir -p "$corpus" "$artifacts"
  cp -n fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  echo "fuzzing $target for ${seconds}s (log: $log)"
  dict=()
  [ -f "fuzz/dict/$target.dict" ] && dict=(-dict="fuzz/dict/$target.dict")
  status=0
  # The api_request target keeps its SQLite store in a temporary folder: memory if possible.
  TMPDIR="$([ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")" \
    "$binary" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=4096 -print_final_stats=1 \
    "${dict[@]}" -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || status=$?
  runs="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)"
  [ -n "$runs" ] || runs="$(sed -n 's/^Done \([0-9]*\) runs in.*/\1/p' "$log" | tail -n 1)"
  done_line="$(grep -E '^Done [0-9]+ runs in' "$log" | tail -n 1 || true)"
  artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
  if [ "$status" -eq 0 ] && [ -n "$done_line" ]; then
    result="no crash"
  else
    crashed=1
    result="CRASH (exit $status)${artifact:+, input: $artifact}"
    grep -E 'ERROR:|fuzz property violated|runtime error|SUMMARY' "$log" | head -n 5 | sed 's/^/    /'
  fi
  summary+=("$(printf '%-12s %12s executions  %s' "$target" "${runs:-?}" "$result")")
done

echo
echo "fuzzing summary (${seconds}s per target; corpora in $build/corpus):"
printf '  %s\n' "${summary[@]}"
exit "$crashed"
