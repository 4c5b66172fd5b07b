#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (-DNODEPROC_FUZZ=ON, in "<build>-fuzz"), replays every
# kept crash input (tests/fuzz/regressions/<target>/) and the seed corpus, then fuzzes each
# target for a bounded time. Any crash, leak, timeout or sanitizer report fails the suite; the
# input that caused it is copied to <build>-fuzz/artifacts/<target>/ (keep it as a regression
# input once fixed).
#   tests/suites/fuzz.sh BUILD_DIR
# Env: NODEPROC_FUZZ_SECONDS (default 30 per target), NODEPROC_FUZZ_TARGETS (space-separated
# subset), NODEPROC_JOBS (build parallelism, default 2).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
FUZZ_BUILD="${BUILD%/}-fuzz"
SECONDS_PER_TARGET=${NODEPROC_FUZZ_SECONDS:-30}
JOBS=${NODEPROC_JOBS:-2}
passed=0
failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
finish() { echo "fuzz: $passed passed, $failed failed, 0 skipped"; [ "$failed" -eq 0 ]; exit $?; }

if ! command -v clang++ >/dev/null 2>&1; then
  fail "clang++ not found (scripts/deps.sh installs clang and libclang-rt-14-dev)"; finish
fi
mkdir -p "$FUZZ_BUILD"
LOG="$FUZZ_BUILD/fuzz-suite.log"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$FUZZ_BUILD/CMakeCache.txt" ]; then
  if ! CC=clang CXX=clang++ cmake -S "$ROOT" -B "$FUZZ_BUILD" "${generator[@]}" -DNODEPROC_FUZZ=ON \
      -DNODEPROC_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$LOG" 2>&1; then
    tail -30 "$LOG"; fail "cmake configure (clang, NODEPROC_FUZZ=ON)"; finish
  fi
else
  cmake "$FUZZ_BUILD" >"$LOG" 2>&1  # picks up targets whose code landed since
fi
grep '^-- fuzz:' "$LOG" || true
if cmake --build "$FUZZ_BUILD" -j "$JOBS" --target nodeproc_fuzz_targets >>"$LOG" 2>&1; then
  ok "build fuzz targets"
else
  grep -E 'error|Error' "$LOG" | head -30; fail "build fuzz targets"; finish
fi

targets=()
if [ -n "${NODEPROC_FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$NODEPROC_FUZZ_TARGETS"
else
  while read -r t; do [ -n "$t" ] && targets+=("$t"); done <"$FUZZ_BUILD/tests/fuzz/targets.txt"
fi
[ ${#targets[@]} -gt 0 ] || { fail "no fuzz target built"; finish; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
WORK=$(mktemp -d /tmp/nodeproc-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
summary=()
for t in "${targets[@]}"; do
  bin="$FUZZ_BUILD/tests/fuzz/$t"
  [ -x "$bin" ] || { fail "$t: not built"; continue; }
  seeds="$ROOT/tests/fuzz/corpus/$t"
  regressions="$ROOT/tests/fuzz/regressions/$t"
  artifacts="$FUZZ_BUILD/artifacts/$t"
  mkdir -p "$artifacts" "$WORK/$t"
  # 1. Replay kept crash inputs and the seeds: each must run clean.
  replay=()
  for d in "$regressions" "$seeds"; do
    [ -d "$d" ] && while IFS= read -r -d '' f; do replay+=("$f"); done < <(find "$d" -type f -print0)
  done
  if [ ${#replay[@]} -gt 0 ]; then
    if "$bin" -runs=1 -timeout=10 "${replay[@]}" >"$WORK/$t.replay.log" 2>&1; then
      ok "$t: ${#replay[@]} regression/seed inputs replayed clean"
    else
      tail -40 "$WORK/$t.replay.log"; fail "$t: a regression or seed input fails"
      continue
    fi
  fi
  # 2. Fuzz: new inputs go to a scratch corpus, the committed seeds are read only.
  corpus_dirs=("$WORK/$t")
  [ -d "$seeds" ] && corpus_dirs+=("$seeds")
  dict=()
  [ -f "$ROOT/tests/fuzz/$t.dict" ] && dict=(-dict="$ROOT/tests/fuzz/$t.dict")
  "$bin" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" "${corpus_dirs[@]}" \
    >"$WORK/$t.log" 2>&1
  rc=$?
  execs=$(grep -E '^stat::number_of_executed_units' "$WORK/$t.log" | awk '{print $2}' | tail -1)
  cov=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE).*cov: ' "$WORK/$t.log" | tail -1 | sed -E 's/.*cov: ([0-9]+).*/\1/')
  crashes=$(find "$artifacts" -type f -newer "$WORK/$t.replay.log" 2>/dev/null | wc -l)
  summary+=("$(printf '%-24s %10s execs  cov %-6s crashes %s' "$t" "${execs:-?}" "${cov:-?}" "$crashes")")
  if [ "$rc" -eq 0 ]; then
    ok "$t: ${execs:-?} executions in ${SECONDS_PER_TARGET}s, no crash"
  else
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$WORK/$t.log" | head -20
    tail -30 "$WORK/$t.log"
    fail "$t: crashed (exit $rc); input kept in $artifacts"
  fi
done
echo "--- fuzz summary (${SECONDS_PER_TARGET}s per target)"
printf '%s\n' "${summary[@]}"
finish
