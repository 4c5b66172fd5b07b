#!/usr/bin/env bash
# Runs every test suite against an already built tree (scripts/dev.sh test builds it first):
# ctest (unit + integration), then each tests/suites/*.sh with the build dir as $1.
# The last line sums up every test: "tests: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${1:-$ROOT/build}
LOGDIR=$(mktemp -d)
trap 'rm -rf "$LOGDIR"' EXIT
tests_passed=0
tests_failed=0
failed_suites=()

# Adds a suite's counts, read from its last "N passed, M failed" line (ctest's own summary
# for ctest); a suite without one counts as one test, by its exit code.
count() {  # count NAME RC LOG
  local name=$1 rc=$2 log=$3 p f line
  if [ "$name" = ctest ]; then
    line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -1)
    if [ -n "$line" ]; then
      f=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
      p=$(( $(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line") - f ))
    fi
  else
    line=$(grep -E '([[:alnum:]_-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    if [ -n "$line" ]; then
      p=$(sed -E 's/.*[^0-9]?([0-9]+) passed, ([0-9]+) failed.*/\1/' <<<"$line")
      f=$(sed -E 's/.* passed, ([0-9]+) failed.*/\1/' <<<"$line")
    fi
  fi
  if [ -z "${p:-}" ]; then
    if [ "$rc" -eq 0 ]; then p=1; f=0; else p=0; f=1; fi
  fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  tests_passed=$((tests_passed + p))
  tests_failed=$((tests_failed + f))
}

suite() {  # suite NAME COMMAND...
  local name=$1 rc
  shift
  echo "=== suite: $name ($(date -u +%H:%M:%S))"
  "$@" 2>&1 | tee "$LOGDIR/$name.log"
  rc=${PIPESTATUS[0]}
  count "$name" "$rc" "$LOGDIR/$name.log"
  if [ "$rc" -eq 0 ]; then echo "=== suite $name: ok"; else failed_suites+=("$name"); echo "=== suite $name: FAILED (exit $rc)"; fi
}

suite ctest ctest --test-dir "$BUILD" --output-on-failure -j "${NODEPROC_JOBS:-$(nproc)}" --timeout 600
for extra in "$ROOT"/tests/suites/*.sh; do
  [ -e "$extra" ] || continue
  suite "$(basename "$extra" .sh)" bash "$extra" "$BUILD"
done

[ ${#failed_suites[@]} -eq 0 ] || echo "failed suites: ${failed_suites[*]}"
echo "tests: ${tests_passed} passed, ${tests_failed} failed"
[ ${#failed_suites[@]} -eq 0 ] && [ "$tests_failed" -eq 0 ]
