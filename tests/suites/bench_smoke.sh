#!/usr/bin/env bash
# Proves the performance tooling works (it measures nothing; no timing is asserted):
# builds nodeproc_bench (-DNODEPROC_BUILD_BENCH=ON, in "<build>-bench"), runs every micro
# benchmark once briefly, then `bench/compare.sh --quick` (N=100, 5 scrapes).
#   tests/suites/bench_smoke.sh BUILD_DIR
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
BENCH_BUILD="${BUILD%/}-bench"
JOBS=${NODEPROC_JOBS:-2}
passed=0
failed=0
TMP=$(mktemp -d /tmp/bench-smoke.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
finish() { echo "bench_smoke: $passed passed, $failed failed, 0 skipped"; [ "$failed" -eq 0 ]; exit $?; }

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$BENCH_BUILD/CMakeCache.txt" ]; then
  cmake -S "$ROOT" -B "$BENCH_BUILD" "${generator[@]}" -DNODEPROC_BUILD_BENCH=ON \
    -DNODEPROC_BUILD_TESTS=OFF >"$TMP/cmake.log" 2>&1 || { cat "$TMP/cmake.log"; fail "cmake configure"; finish; }
fi
# compare.sh uses the tree's own nodeproc when it is built; only build one here otherwise.
targets=(nodeproc_bench)
[ -x "$BUILD/agent/nodeproc" ] || targets+=(nodeproc)
if cmake --build "$BENCH_BUILD" -j "$JOBS" --target "${targets[@]}" >"$TMP/build.log" 2>&1; then
  ok "build nodeproc_bench"
else
  tail -40 "$TMP/build.log"; fail "build nodeproc_bench"; finish
fi

BENCH="$BENCH_BUILD/bench/nodeproc_bench"
if "$BENCH" --benchmark_min_time=0.01 --benchmark_format=json --benchmark_out="$TMP/bench.json" \
     >"$TMP/bench.txt" 2>&1; then
  # Every registered benchmark ran without SkipWithError, and the always-present ones exist.
  if python3 - "$TMP/bench.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))["benchmarks"]
names = [x["name"] for x in b]
errors = [x["name"] + ": " + x.get("error_message", "") for x in b if x.get("error_occurred")]
need = ["BM_ParseSummaryNlohmann", "BM_TextSerialize10kSeriesBaseline"]
missing = [n for n in need if not any(x.startswith(n) for x in names)]
print("benchmarks: %d (%s)" % (len(names), ", ".join(names)))
if errors or missing:
    print("errors: %s; missing: %s" % (errors, missing))
    sys.exit(1)
PY
  then ok "nodeproc_bench ran"; else fail "nodeproc_bench results"; fi
else
  tail -30 "$TMP/bench.txt"; fail "nodeproc_bench exit code"
fi

NODEPROC="$BUILD/agent/nodeproc"
[ -x "$NODEPROC" ] || NODEPROC="$BENCH_BUILD/agent/nodeproc"
if timeout 170 "$ROOT/bench/compare.sh" --quick --nodeproc="$NODEPROC" --bench="$BENCH" \
     --out="$TMP/compare.md" >"$TMP/compare.txt" 2>"$TMP/compare.err"; then
  cat "$TMP/compare.md"
  # The floor row must hold numbers: the harness itself worked.
  if grep -qE '^\| 100 \| [0-9]+ \| [0-9.]+ \| [0-9.]+ \|' "$TMP/compare.md"; then ok "compare.sh --quick"; else fail "compare.sh --quick report"; fi
else
  tail -20 "$TMP/compare.err"; fail "compare.sh --quick exit code"
fi
# Accounting coverage under a steady load (bench/conservation.py; the fork-heavy ratio is only
# recorded in bench/RESULTS.md): a loose lower bound, the machine may be busy with other work.
if timeout 120 python3 "$ROOT/bench/conservation.py" --binary="$NODEPROC" --window=10 \
     --scan-interval=1s --smoke=0.5 >"$TMP/conservation.txt" 2>&1; then
  cat "$TMP/conservation.txt"; ok "conservation steady ratio"
else
  cat "$TMP/conservation.txt"; fail "conservation steady ratio"
fi
# Nothing it started may outlive it.
if pgrep -f "$TMP|nodeproc-compare" >/dev/null 2>&1; then fail "compare.sh left processes behind"; else ok "no leftovers"; fi
finish
