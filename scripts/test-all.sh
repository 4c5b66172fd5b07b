#!/usr/bin/env bash
# Runs every test suite against an already built tree (scripts/dev.sh test builds it first).
# Each suite prints its own verdict; the last line sums them up as "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${1:-$ROOT/build}
passed=0
failed=0
failed_names=()

suite() {  # suite NAME COMMAND...
  local name=$1
  shift
  echo "=== suite: $name"
  if "$@"; then
    passed=$((passed + 1))
    echo "=== suite $name: ok"
  else
    failed=$((failed + 1))
    failed_names+=("$name")
    echo "=== suite $name: FAILED"
  fi
}

suite ctest ctest --test-dir "$BUILD" --output-on-failure -j "${NODEPROC_JOBS:-$(nproc)}" --timeout 600
for extra in "$ROOT"/tests/suites/*.sh; do
  [ -e "$extra" ] || continue
  suite "$(basename "$extra" .sh)" bash "$extra" "$BUILD"
done

echo "suites: ${passed} ok, ${failed} failed${failed_names[*]:+ (${failed_names[*]})}"
[ "$failed" -eq 0 ]
