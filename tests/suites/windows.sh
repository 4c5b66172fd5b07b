#!/usr/bin/env bash
# Windows nodes: the mingw-w64 cross build, its unit tests and `nodeproc.exe snapshot` under wine.
#   tests/suites/windows.sh [BUILD_DIR]
# 1. Cross-builds (cmake/toolchain-mingw64.cmake) into BUILD_DIR-windows (or
#    $NODEPROC_WINDOWS_BUILD_DIR): nodeproc.exe and windows_unit_tests.exe (GoogleTest from
#    Debian's /usr/src/googletest).
# 2. Starts wine in a temporary WINEPREFIX (WINEDEBUG=-all). When wine cannot start, the wine
#    checks are SKIPPED (printed, not counted as passed) and the suite still passes on the build.
# 3. Runs windows_unit_tests.exe under wine: each gtest test counts (skips are listed).
# 4. Runs nodeproc.exe snapshot --format=csv|json|table under wine and checks the CSV header is
#    the Linux contract header, and rows are plausible (wine's services.exe, nodeproc.exe itself
#    with its command line, times, sizes, unknowns empty); `run` writes snapshot files in the
#    contract layout with retention; PSS degrades to Toolhelp-only data, logged once.
# Bounded: every step has a timeout; about 3-5 min on 2 cores from scratch (wine's first start
# included), well under 1 min when the build is up to date.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
WBUILD=${NODEPROC_WINDOWS_BUILD_DIR:-${BUILD%/}-windows}
JOBS=${NODEPROC_JOBS:-$(nproc)}
TMP=$(mktemp -d /tmp/windows-suite.XXXXXX)
export WINEPREFIX=$TMP/wineprefix WINEDEBUG=-all WINEARCH=win64
# No Mono / Gecko install prompts on the first start: nodeproc needs neither.
export WINEDLLOVERRIDES="mscoree,mshtml="
WINE_STARTED=0
cleanup() {
  if [ "$WINE_STARTED" = 1 ] && command -v wineserver >/dev/null; then
    timeout 20 wineserver -k >/dev/null 2>&1  # this prefix's wineserver only
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
passed=0
failed=0
skipped=0
START=$(date +%s)
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
skip() { echo "SKIP: $*"; skipped=$((skipped + 1)); }
finish() {
  echo "windows suite took $(( $(date +%s) - START ))s"
  echo "windows: $passed passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ]
  exit $?
}

# 1. Cross build.
for tool in x86_64-w64-mingw32-g++-posix cmake ninja; do
  command -v "$tool" >/dev/null || { fail "$tool missing (scripts/deps.sh installs g++-mingw-w64-x86-64-posix, cmake, ninja-build)"; finish; }
done
[ -f /usr/src/googletest/CMakeLists.txt ] || { fail "no /usr/src/googletest (Debian package googletest)"; finish; }
t0=$(date +%s)
if timeout 120 cmake -S "$ROOT" -B "$WBUILD" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchain-mingw64.cmake" \
     >"$TMP/configure.log" 2>&1 &&
   timeout 600 cmake --build "$WBUILD" -j "$JOBS" >"$TMP/build.log" 2>&1; then
  ok "cross build: nodeproc.exe and windows_unit_tests.exe in $WBUILD ($(( $(date +%s) - t0 ))s)"
else
  fail "cross build"; tail -30 "$TMP/configure.log" "$TMP/build.log" 2>/dev/null | sed 's/^/  /'; finish
fi
if grep -E '(warning|error):' "$TMP/build.log" >"$TMP/warnings"; then
  fail "cross build has warnings:"; sed 's/^/  /' "$TMP/warnings" | head -20
else
  ok "cross build is warning-free (-Wall -Wextra)"
fi
for exe in nodeproc.exe windows_unit_tests.exe; do
  if file "$WBUILD/$exe" 2>/dev/null | grep -q 'PE32+ executable.*x86-64' ||
     head -c 2 "$WBUILD/$exe" 2>/dev/null | grep -q MZ; then
    ok "$exe is a Windows x86-64 executable"
  else
    fail "$exe is not a Windows executable"
  fi
done
# Statically linked: no mingw runtime DLL needed on the node.
if command -v x86_64-w64-mingw32-objdump >/dev/null; then
  dlls=$(x86_64-w64-mingw32-objdump -p "$WBUILD/nodeproc.exe" | sed -n 's/^\tDLL Name: //p' | tr 'A-Z' 'a-z' | sort -u | tr '\n' ' ')
  if grep -qE 'libstdc|libgcc|libwinpthread' <<<"$dlls"; then
    fail "nodeproc.exe needs mingw runtime DLLs: $dlls"
  else
    ok "nodeproc.exe imports only system DLLs: $dlls"
  fi
fi

# 2. Wine.
if ! command -v wine >/dev/null; then
  skip "wine checks: no wine (Debian packages wine, wine64)"; finish
fi
t0=$(date +%s)
if timeout 180 wine wineboot --init >"$TMP/wineboot.log" 2>&1 &&
   timeout 60 wine cmd /c echo wine-ok 2>/dev/null | grep -q wine-ok; then
  WINE_STARTED=1
  echo "wine started in $(( $(date +%s) - t0 ))s ($(wine --version 2>/dev/null))"
else
  WINE_STARTED=1
  skip "unit tests and nodeproc.exe under wine: wine cannot start on this machine:"
  tail -5 "$TMP/wineboot.log" | sed 's/^/  /'
  finish
fi

# 3. Unit tests under wine.
# wine's console turns "\n" into "\r\n".
( cd "$WBUILD" && timeout 300 wine windows_unit_tests.exe ) >"$TMP/unit.raw" 2>&1
rc=$?
tr -d '\r' <"$TMP/unit.raw" >"$TMP/unit.log"
total=$(sed -nE 's/^\[==========\] ([0-9]+) tests? from .* ran\..*/\1/p' "$TMP/unit.log" | tail -1)
upassed=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) tests?\./\1/p' "$TMP/unit.log" | tail -1)
uskipped=$(sed -nE 's/^\[  SKIPPED \] ([0-9]+) tests?, listed below:/\1/p' "$TMP/unit.log" | tail -1)
ufailed=$(sed -nE 's/^ *([0-9]+) FAILED TESTS?$/\1/p' "$TMP/unit.log" | tail -1)
if [ -z "$total" ]; then
  fail "windows_unit_tests.exe did not run under wine (exit $rc)"; tail -20 "$TMP/unit.log" | sed 's/^/  /'
else
  passed=$((passed + ${upassed:-0}))
  failed=$((failed + ${ufailed:-0}))
  skipped=$((skipped + ${uskipped:-0}))
  echo "unit tests under wine: $total ran, ${upassed:-0} passed, ${ufailed:-0} failed, ${uskipped:-0} skipped (exit $rc)"
  grep -E '^\[  (FAILED|SKIPPED) \] [A-Za-z0-9_./]+$' "$TMP/unit.log" | sort -u | sed 's/^/  /'
  grep -B1 -E ': Skipped$' "$TMP/unit.log" >/dev/null && grep -A1 -E ': Skipped$' "$TMP/unit.log" | grep -vE ': Skipped$|^--$' | sort -u | sed 's/^/  skip reason: /'
  if [ "$rc" -ne 0 ] && [ "${ufailed:-0}" -eq 0 ]; then fail "windows_unit_tests.exe exit $rc"; fi
  [ "${ufailed:-0}" -eq 0 ] || grep -B3 -A12 'Failure' "$TMP/unit.log" | head -60 | sed 's/^/  /'
fi

# 4. nodeproc.exe snapshot under wine.
NP() { ( cd "$WBUILD" && timeout 120 wine nodeproc.exe "$@" ); }
if NP snapshot --format=csv --snapshot-wait=1s >"$TMP/snap.csv" 2>"$TMP/snap.err"; then
  ok "nodeproc.exe snapshot --format=csv ran under wine ($(($(wc -l <"$TMP/snap.csv") - 1)) rows)"
else
  fail "nodeproc.exe snapshot --format=csv"; sed 's/^/  /' "$TMP/snap.err" | head
fi
echo "  first rows:"; head -4 "$TMP/snap.csv" | sed 's/^/    /'
# The contract header, as the README states it (the Linux writer's header is tested against it).
contract=$(grep -m1 -E '^timestamp,pid,name,cmdline,' "$ROOT/README.md")
if [ -n "$contract" ] && [ "$(head -1 "$TMP/snap.csv")" = "$contract" ]; then
  ok "CSV header is the Linux contract header"
else
  fail "CSV header differs: '$(head -1 "$TMP/snap.csv")' vs '$contract'"
fi
if [ -x "$BUILD/agent/nodeproc" ]; then
  linux_header=$("$BUILD/agent/nodeproc" snapshot --format=csv --snapshot-wait=0s 2>/dev/null | head -1)
  if [ "$linux_header" = "$(head -1 "$TMP/snap.csv")" ]; then ok "CSV header equals the Linux binary's"; else fail "CSV header differs from the Linux binary's"; fi
fi
if python3 - "$TMP/snap.csv" <<'PY'
import csv, re, sys, datetime
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8"), strict=True))
header, body = rows[0], rows[1:]
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)
check(b"\r" not in open(sys.argv[1], "rb").read(), "CR in the output (stdout not binary)")
check(len(body) >= 3, f"only {len(body)} rows")
now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
T = "%Y-%m-%d %H:%M:%S"
pids = set()
for r in body:
    d = dict(zip(header, r))
    check(len(r) == len(header), f"row with {len(r)} fields: {r}")
    check(d["pid"].isdigit() and d["ppid"].isdigit(), f"pid/ppid not numeric: {r}")
    check(d["pid"] not in pids, f"pid {d['pid']} twice")
    pids.add(d["pid"])
    check(abs((datetime.datetime.strptime(d["timestamp"], T) - now).total_seconds()) < 600, f"timestamp {d['timestamp']}")
    if d["create_time"]:
        ct = datetime.datetime.strptime(d["create_time"], T)
        check(ct <= datetime.datetime.strptime(d["timestamp"], T), f"created after the snapshot: {r}")
    check(d["status"] == "running", f"status {d['status']}")
    check(d["uid"] == "", f"uid should be unknown (empty) on Windows: {r}")
    check(d["threads"].isdigit() and int(d["threads"]) >= 1, f"threads: {r}")
    for c in ("cpu_5s", "cpu_2m", "cpu_1h"):
        check(d[c] == "" or re.fullmatch(r"\d+\.\d\d", d[c]), f"{c}={d[c]}")
    for c in ("container_id", "pod_uid", "namespace", "pod", "container"):
        check(d[c] == "", f"{c} set on a host process")
names = {}
for r in body:
    d = dict(zip(header, r))
    names.setdefault(d["name"].lower(), []).append(d)
check("services.exe" in names, f"no services.exe among {sorted(names)}")
me = names.get("nodeproc.exe", [])
check(len(me) == 1, f"nodeproc.exe rows: {len(me)}")
if me:
    m = me[0]
    check("snapshot --format=csv" in m["cmdline"], f"own command line: {m['cmdline']!r}")
    check(int(m["rss_kb"]) > 1000 and int(m["vms_kb"]) > 0, f"own memory: {m}")
    check(m["create_time"] != "" and m["cpu_5s"] != "", f"own create_time/cpu: {m}")
    # Windows does not re-parent: a parent may have exited (wine's start-up process), so
    # ppid need not be listed; it is never the process itself.
    check(m["ppid"] != m["pid"], f"own ppid {m['ppid']}")
# Another process's command line (read from its PEB) is there too.
for s in names.get("services.exe", []):
    check("services.exe" in s["cmdline"].lower(), f"services.exe cmdline {s['cmdline']!r}")
    check(s["ppid"] != s["pid"], f"services.exe ppid {s['ppid']}")
print(f"  {len(body)} rows, names: {', '.join(sorted(names))}")
for e in errors[:20]:
    print("  " + e)
sys.exit(1 if errors else 0)
PY
then ok "CSV rows are plausible (services.exe, nodeproc.exe with its command line, times, unknowns empty)"
else fail "CSV rows"; fi
if grep -q 'running under wine' "$TMP/snap.err" && [ "$(grep -c 'running under wine' "$TMP/snap.err")" = 1 ]; then
  ok "wine's stub counters are logged once"
else
  fail "expected one 'running under wine' log line"; sed 's/^/  /' "$TMP/snap.err" | head
fi

if NP snapshot --format=json --snapshot-wait=0s >"$TMP/snap.json" 2>/dev/null &&
   python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) >= 3, len(rows)
assert all(r["uid"] is None and r["fds"] is None and r["status"] == "running" for r in rows), rows[0]
assert any(r["name"].lower() == "services.exe" for r in rows)
' "$TMP/snap.json"; then
  ok "nodeproc.exe snapshot --format=json: valid JSON, unknowns null"
else
  fail "nodeproc.exe snapshot --format=json"
fi
if NP snapshot --format=table --snapshot-wait=0s 2>/dev/null | grep -qE '^ +PID +PPID +UID STATE'; then
  ok "nodeproc.exe snapshot --format=table"
else
  fail "nodeproc.exe snapshot --format=table"
fi
if NP snapshot --format=bogus >/dev/null 2>"$TMP/bad.err"; then
  fail "a bad --format was accepted"
elif [ "$(wc -l <"$TMP/bad.err")" = 1 ] && grep -q 'format must be csv, json or table' "$TMP/bad.err"; then
  ok "a bad flag exits non-zero with one line"
else
  fail "bad flag message: $(cat "$TMP/bad.err")"
fi
# The DaemonSet loop: snapshot files in the contract layout, atomic (no temp left), retention.
RUNDIR=$TMP/run
mkdir -p "$RUNDIR"
( cd "$WBUILD" && timeout -s INT 9 wine nodeproc.exe run --snapshot-dir="Z:$RUNDIR" --machine-id=node-a \
    --snapshot-interval=2s --cpu-sample-interval=1s --snapshot-retention=2 ) >/dev/null 2>"$TMP/run.err"
written=$(grep -c 'snapshot written' "$TMP/run.err")
files=$(find "$RUNDIR" -type f | sort)
nfiles=$(grep -c . <<<"$files")
if [ "$written" -ge 3 ] && [ "$nfiles" = 2 ] &&
   ! grep -vqE "^$RUNDIR/node-a/[0-9]{8}T[0-9]{6}Z/process/process_[0-9]{8}T[0-9]{6}Z\.csv\$" <<<"$files" &&
   [ "$(head -1 "$(head -1 <<<"$files")")" = "$contract" ]; then
  ok "nodeproc.exe run: $written snapshots written, 2 kept (retention), contract paths, no temp files"
else
  fail "nodeproc.exe run: $written written, files: $files"; sed 's/^/  /' "$TMP/run.err" | tail -5
fi
# The args the chart's Windows DaemonSet renders (helm/nodeproc, windows.enabled) are accepted.
HELM=${HELM:-$("$ROOT/scripts/helm.sh" --install 2>/dev/null || true)}
if [ -n "$HELM" ]; then
  HELM_CACHE_HOME=$TMP/h HELM_CONFIG_HOME=$TMP/h HELM_DATA_HOME=$TMP/h "$HELM" template nodeproc "$ROOT/helm/nodeproc" \
    -f "$ROOT/helm/nodeproc/ci/windows-values.yaml" --show-only templates/daemonset-windows.yaml >"$TMP/wds.yaml" 2>"$TMP/wds.err"
  CHARTDIR=$TMP/chartrun
  mkdir -p "$CHARTDIR"
  mapfile -t cargs < <(python3 - "$TMP/wds.yaml" "Z:$CHARTDIR" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))["spec"]["template"]["spec"]["containers"][0]
for a in c["args"]:
    a = a.replace("$(NODE_NAME)", "chart-node")
    if a.startswith("--snapshot-dir="):
        a = "--snapshot-dir=" + sys.argv[2]
    elif a.startswith("--snapshot-interval="):
        a = "--snapshot-interval=2s"
    print(a)
PY
)
  if [ "${cargs[0]:-}" = run ]; then
    ( cd "$WBUILD" && timeout -s INT 6 wine nodeproc.exe "${cargs[@]}" ) >/dev/null 2>"$TMP/chartrun.err"
    if grep -q 'snapshot written' "$TMP/chartrun.err" && ! grep -q '^nodeproc:' "$TMP/chartrun.err" &&
       [ -n "$(find "$CHARTDIR/chart-node" -name 'process_*.csv' 2>/dev/null)" ]; then
      ok "nodeproc.exe runs with the chart's Windows DaemonSet args: ${cargs[*]}"
    else
      fail "nodeproc.exe rejects the chart's Windows args ${cargs[*]}"; sed 's/^/  /' "$TMP/chartrun.err" | head -5
    fi
  else
    fail "cannot render the chart's Windows DaemonSet"; sed 's/^/  /' "$TMP/wds.err" | head -5
  fi
else
  skip "the chart's Windows args (no helm; scripts/deps.sh installs it with scripts/helm.sh)"
fi
# PSS: a stub in wine 8 (not exported) -> Toolhelp-only, logged once; real data on Windows.
NP snapshot --format=csv --snapshot-wait=0s --pss-detail >"$TMP/pss.csv" 2>"$TMP/pss.err"
if [ "$(wc -l <"$TMP/pss.csv")" -ge 4 ] &&
   { [ "$(grep -c 'Toolhelp-only data' "$TMP/pss.err")" = 1 ] || ! grep -q 'Toolhelp-only' "$TMP/pss.err"; }; then
  ok "--pss-detail: rows kept; $(grep -q 'Toolhelp-only' "$TMP/pss.err" && echo 'PSS unavailable, logged once' || echo 'PSS available')"
else
  fail "--pss-detail"; sed 's/^/  /' "$TMP/pss.err" | head
fi
if NP pss >"$TMP/pss.out" 2>&1; then
  grep -q '^thread ' "$TMP/pss.out" && ok "nodeproc.exe pss: threads walked" || fail "nodeproc.exe pss output"
elif grep -q 'PSS (PssCaptureSnapshot) is not available' "$TMP/pss.out"; then
  ok "nodeproc.exe pss: reports that PSS is not available here"
else
  fail "nodeproc.exe pss: $(cat "$TMP/pss.out")"
fi
finish
