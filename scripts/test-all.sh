#!/usr/bin/env bash
# Runs every test suite against an already built tree (scripts/dev.sh test builds it first):
# ctest (unit + integration), then each tests/suites/*.sh with the build dir as $1.
# Each suite ends with "N passed, M failed, K skipped"; skipped tests are listed by name, and
# the last line sums up every test: "tests: N passed, M failed, K skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${1:-$ROOT/build}
LOGDIR=$(mktemp -d)
trap 'rm -rf "$LOGDIR"' EXIT
tests_passed=0
tests_failed=0
tests_skipped=0
failed_suites=()
skipped_names=()
SUMMARY='(^|[[:alnum:]_-]+: )([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?$'

# Adds a suite's counts, read from its last "N passed, M failed, K skipped" line; a suite
# without one counts as one test, by its exit code. Its skipped tests are those it prints as
# "SKIPPED: what" / "SKIP: what" / "skipped: what" lines.
count() {  # count NAME RC LOG
  local name=$1 rc=$2 log=$3 p="" f="" s=0 line
  line=$(grep -E "$SUMMARY" "$log" | tail -1)
  if [[ $line =~ $SUMMARY ]]; then
    p=${BASH_REMATCH[2]}; f=${BASH_REMATCH[3]}; s=${BASH_REMATCH[5]:-0}
  fi
  if [ -z "$p" ]; then
    if [ "$rc" -eq 0 ]; then p=1; f=0; else p=0; f=1; fi
  fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  tests_passed=$((tests_passed + p))
  tests_failed=$((tests_failed + f))
  tests_skipped=$((tests_skipped + s))
  while IFS= read -r l; do
    skipped_names+=("$name: $l")
  done < <(sed -nE 's/^(SKIPPED|SKIP|skipped): //p' "$log")
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

# ctest's own summary counts a skipped test as passed: the JUnit file tells them apart.
run_ctest() {
  local rc
  ctest --test-dir "$BUILD" --output-on-failure -j "${NODEPROC_JOBS:-$(nproc)}" --timeout 600 \
    --output-junit "$LOGDIR/ctest.xml"
  rc=$?
  python3 "$ROOT/tests/support/ctest_summary.py" "$LOGDIR/ctest.xml" ctest || rc=1
  return $rc
}

suite ctest run_ctest
for extra in "$ROOT"/tests/suites/*.sh; do
  [ -e "$extra" ] || continue
  suite "$(basename "$extra" .sh)" bash "$extra" "$BUILD"
done

[ ${#failed_suites[@]} -eq 0 ] || echo "failed suites: ${failed_suites[*]}"
if [ ${#skipped_names[@]} -gt 0 ]; then
  echo "skipped (${#skipped_names[@]}):"
  printf '  %s\n' "${skipped_names[@]}"
fi
echo "tests: ${tests_passed} passed, ${tests_failed} failed, ${tests_skipped} skipped"
[ ${#failed_suites[@]} -eq 0 ] && [ "$tests_failed" -eq 0 ]
