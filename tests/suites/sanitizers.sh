#!/usr/bin/env bash
# Builds the whole project and its tests with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DNODEPROC_SANITIZE=ON, gcc, in "<build>-asan") and runs ctest there: every unit test and
# every integration test (which then drives the sanitized `nodeproc` binary). Any leak, memory
# error or undefined behaviour aborts the test that hit it.
#   tests/suites/sanitizers.sh BUILD_DIR
# Not run here (NODEPROC_SANITIZE_CTEST_ARGS replaces this): the tests whose point is time or
# size under real load, asserted by the plain run (a ~100 s counter churn against Prometheus,
# exact exit accounting over ~45 s, memory bounds that ASan's own memory would swamp); the C++
# they drive is unit-tested here.
# Env: NODEPROC_JOBS (build and ctest parallelism, default 2), NODEPROC_SANITIZE_CTEST_ARGS
# (ctest arguments, default the exclusion above; e.g. "-L unit").
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
ASAN_BUILD="${BUILD%/}-asan"
JOBS=${NODEPROC_JOBS:-2}
mkdir -p "$ASAN_BUILD"
LOG="$ASAN_BUILD/sanitizers-suite.log"

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$ASAN_BUILD/CMakeCache.txt" ]; then
  # gcc by default (what CI builds with); -O1 keeps the sanitized build and tests quick, -g1
  # (line tables only) keeps file:line in reports at a fraction of -g's compile and link time.
  if ! cmake -S "$ROOT" -B "$ASAN_BUILD" "${generator[@]}" -DNODEPROC_SANITIZE=ON \
      -DNODEPROC_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g1 -O1" \
      -DCMAKE_C_FLAGS_DEBUG="-g1 -O1" >"$LOG" 2>&1; then
    tail -30 "$LOG"; echo "sanitizers: configure failed"; echo "sanitizers: 0 passed, 1 failed, 0 skipped"; exit 1
  fi
fi
start=$(date +%s)
if ! cmake --build "$ASAN_BUILD" -j "$JOBS" >>"$LOG" 2>&1; then
  grep -E 'error|Error' "$LOG" | head -30
  echo "sanitizers: build failed"; echo "sanitizers: 0 passed, 1 failed, 0 skipped"; exit 1
fi
echo "sanitized build: $(( $(date +%s) - start ))s"

# halt_on_error everywhere: the first report fails the test. Leak detection is on (LSan is part
# of ASan on x86_64 Linux). The suppressions file holds only third-party leaks, each explained.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
if [ -f "$ROOT/tests/fault/lsan.supp" ]; then
  export LSAN_OPTIONS="suppressions=$ROOT/tests/fault/lsan.supp:print_suppressions=0"
fi
# Tests that spawn the binary use these too; they know the build is sanitized from here.
export NODEPROC_SANITIZED=1
# shellcheck disable=SC2086
ctest --test-dir "$ASAN_BUILD" --output-on-failure -j "$JOBS" --timeout 900 \
  --output-junit "$ASAN_BUILD/ctest-junit.xml" \
  ${NODEPROC_SANITIZE_CTEST_ARGS:--E ^py_(prometheus_counters|bpf_exit_accounting|memory_bounds)_test\$} \
  2>&1 | tee "$ASAN_BUILD/ctest.log"
rc=${PIPESTATUS[0]}
grep -hE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$ASAN_BUILD/ctest.log" | sort | uniq -c | head -20
# Skipped tests (GTEST_SKIP, Python skips) are counted apart, not as passed.
python3 "$ROOT/tests/support/ctest_summary.py" "$ASAN_BUILD/ctest-junit.xml" sanitizers || rc=1
exit "$rc"
