#!/usr/bin/env bash
# Windows nodes: the mingw-w64 cross build, its unit tests and `nodeproc.exe` under wine.
#   tests/suites/windows.sh [BUILD_DIR]
# 0. scripts/windows-deps.sh: Abseil, civetweb and prometheus-cpp cross-built from Debian's
#    source packages at the Linux build's versions, once, into a cache folder (cold: see the
#    script; cached: a stamp check). The time it took is printed.
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
# 5. `nodeproc.exe run` serves /metrics, /healthz, /readyz on loopback: promtool accepts the
#    exposition, the metric names are the Linux ones, and a real Prometheus (Debian package)
#    scrapes it with up == 1 and finds process series. Bounded waits throughout.
# Bounded: every step has a timeout; with the dependencies cached, about 3-5 min on 2 cores
# from scratch (wine's first start included), well under 1 min when the build is up to date.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
WBUILD=${NODEPROC_WINDOWS_BUILD_DIR:-${BUILD%/}-windows}
JOBS=${NODEPROC_JOBS:-2}
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
# The cold path (first run on a machine, or new versions) builds the three dependencies.
if DEPS=$(NODEPROC_JOBS=$JOBS timeout 3600 "$ROOT/scripts/windows-deps.sh" 2>"$TMP/deps.log"); then
  ok "cross-built dependencies in $DEPS ($(( $(date +%s) - t0 ))s$(grep -q 'building' "$TMP/deps.log" && echo ', cold' || echo ', cached'))"
  grep -E 'built in|done in' "$TMP/deps.log" | sed 's/^/  /'
else
  fail "scripts/windows-deps.sh"; tail -30 "$TMP/deps.log" | sed 's/^/  /'; finish
fi
t0=$(date +%s)
if timeout 120 cmake -S "$ROOT" -B "$WBUILD" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchain-mingw64.cmake" \
     -DNODEPROC_MINGW_DEPS_DIR="$DEPS" >"$TMP/configure.log" 2>&1 &&
   timeout 1800 cmake --build "$WBUILD" -j "$JOBS" >"$TMP/build.log" 2>&1; then
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
elif [ "$(wc -l <"$TMP/bad.err")" = 1 ] && grep -q 'format=bogus: expected csv, json or table' "$TMP/bad.err"; then
  ok "a bad flag exits non-zero with one line"
else
  fail "bad flag message: $(cat "$TMP/bad.err")"
fi
# Flags Windows cannot honour are refused with the reason, not ignored.
if NP run --listen-address= --kubelet-url=https://127.0.0.1:10250 >/dev/null 2>"$TMP/unsup.err"; then
  fail "--kubelet-url was accepted on Windows"
elif [ "$(wc -l <"$TMP/unsup.err")" = 1 ] && grep -q 'kubelet-url is not supported on Windows' "$TMP/unsup.err"; then
  ok "--kubelet-url is refused on Windows with the reason"
else
  fail "unsupported flag message: $(cat "$TMP/unsup.err")"
fi
# The DaemonSet loop: snapshot files in the contract layout, atomic (no temp left), retention.
RUNDIR=$TMP/run
mkdir -p "$RUNDIR"
# Stopped (Ctrl-C) once 3 files are written, not after a fixed time: wine under load is slow.
( cd "$WBUILD" && exec timeout -s INT 180 wine nodeproc.exe run --listen-address= --snapshot-dir="Z:$RUNDIR" --machine-id=node-a \
    --snapshot-interval=2s --cpu-sample-interval=1s --snapshot-retention=2 ) >/dev/null 2>"$TMP/run.err" &
wait_for_log() {  # wait_for_log PID FILE PATTERN COUNT: bounded (150 s), then Ctrl-C to PID
  local pid=$1 file=$2 pattern=$3 count=$4
  for _ in $(seq 1 300); do
    [ "$(grep -c "$pattern" "$file" 2>/dev/null)" -ge "$count" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  kill -INT "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}
wait_for_log $! "$TMP/run.err" 'snapshot written' 3
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
    elif a.startswith("--listen-address="):
        continue  # loopback only in tests
    print(a)
print("--listen-address=127.0.0.1:0")
PY
)
  if [ "${cargs[0]:-}" = run ]; then
    ( cd "$WBUILD" && exec timeout -s INT 180 wine nodeproc.exe "${cargs[@]}" ) >/dev/null 2>"$TMP/chartrun.err" &
    wait_for_log $! "$TMP/chartrun.err" 'snapshot written' 1
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
# 5. /metrics under wine: `nodeproc.exe run` on loopback, promtool, and a real Prometheus.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
( cd "$WBUILD" && exec timeout -s INT 240 wine nodeproc.exe run --listen-address=127.0.0.1:$PORT \
    --machine-id=metrics-node --cpu-sample-interval=1s --scan-interval=1s ) >/dev/null 2>"$TMP/serve.err" &
SERVE_PID=$!
ready=
for _ in $(seq 1 120); do  # bounded: 60 s for wine to start the process and the first scan
  if curl -sf --max-time 2 "http://127.0.0.1:$PORT/readyz" >"$TMP/readyz" 2>/dev/null; then ready=1; break; fi
  kill -0 "$SERVE_PID" 2>/dev/null || break
  sleep 0.5
done
if [ -n "$ready" ] && [ "$(cat "$TMP/readyz")" = ok ]; then
  ok "nodeproc.exe run serves /readyz (200 ok) on 127.0.0.1:$PORT"
else
  fail "nodeproc.exe run: no /readyz on 127.0.0.1:$PORT"; sed 's/^/  /' "$TMP/serve.err" | tail -8
fi
if [ -n "$ready" ]; then
  code=$(curl -s -o "$TMP/healthz" -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/healthz")
  [ "$code" = 200 ] && [ "$(cat "$TMP/healthz")" = ok ] && ok "/healthz: 200 ok" || fail "/healthz: $code $(cat "$TMP/healthz")"
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/nope")
  [ "$code" = 404 ] && ok "unknown path: 404" || fail "unknown path: $code"
  ctype=$(curl -s -o "$TMP/metrics.txt" -w '%{content_type}' --max-time 20 "http://127.0.0.1:$PORT/metrics")
  if [ "$ctype" = "text/plain; version=0.0.4; charset=utf-8" ] && grep -q '^nodeproc_process_resident_memory_bytes{' "$TMP/metrics.txt"; then
    ok "/metrics: $(grep -vc '^#' "$TMP/metrics.txt") samples, $(grep -c '^# TYPE' "$TMP/metrics.txt") families ($ctype)"
  else
    fail "/metrics: content type '$ctype', $(wc -l <"$TMP/metrics.txt") lines"; head -5 "$TMP/metrics.txt" | sed 's/^/  /'
  fi
  if command -v promtool >/dev/null; then
    if promtool check metrics <"$TMP/metrics.txt" >"$TMP/promtool.out" 2>&1; then
      ok "promtool check metrics accepts nodeproc.exe's /metrics"
    else
      fail "promtool check metrics:"; head -10 "$TMP/promtool.out" | sed 's/^/  /'
    fi
  else
    skip "promtool check metrics: no promtool (Debian package prometheus)"
  fi
  # The same families and labels as Linux: every family is in the metric contract
  # (exporters/METRICS.md), and the process series carry the group labels.
  if python3 - "$TMP/metrics.txt" "$ROOT/exporters/METRICS.md" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
contract = set(re.findall(r"\bnodeproc_[a-z0-9_]+", open(sys.argv[2], encoding="utf-8").read()))
families = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
unknown = sorted(f for f in families if f not in contract)
errors = []
if unknown:
    errors.append(f"families not in METRICS.md: {unknown}")
for need in ("nodeproc_process_resident_memory_bytes", "nodeproc_process_cpu_seconds_total",
             "nodeproc_process_threads", "nodeproc_processes", "nodeproc_build_info"):
    if need not in families:
        errors.append(f"missing {need}")
rss = re.findall(r'^nodeproc_process_resident_memory_bytes\{([^}]*)\}', text, re.M)
if not any('name="services.exe"' in l for l in rss):
    errors.append("no services.exe process series")
for labels in rss:
    keys = sorted(k for k, _ in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels))
    if keys != ["container", "name", "namespace", "pod"]:
        errors.append(f"process labels {keys}")
        break
build = re.findall(r'^nodeproc_build_info\{[^}]*\}', text, re.M)
print(f"  {len(families)} families, {len(rss)} process groups")
for e in errors:
    print("  " + e)
sys.exit(1 if errors else 0)
PY
  then ok "/metrics: only contract families (METRICS.md), process series with the Linux group labels"
  else fail "/metrics contract"; fi
  # A real Prometheus on the Linux side scrapes the Windows agent.
  if command -v prometheus >/dev/null; then
    PPORT=$(free_port)
    mkdir -p "$TMP/prom"
    cat >"$TMP/prom/prometheus.yml" <<YML
global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs:
  - job_name: nodeproc-windows
    static_configs: [{targets: ['127.0.0.1:$PORT']}]
YML
    timeout -s TERM 120 prometheus --config.file="$TMP/prom/prometheus.yml" --storage.tsdb.path="$TMP/prom/data" \
      --web.listen-address=127.0.0.1:$PPORT >"$TMP/prom/log" 2>&1 &
    PROM_PID=$!
    q() { curl -sf --max-time 3 "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
          python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null; }
    up= n=
    for _ in $(seq 1 60); do  # bounded: 60 s
      up=$(q 'up{job="nodeproc-windows"}')
      n=$(q 'count(nodeproc_process_resident_memory_bytes{job="nodeproc-windows",name="services.exe"})')
      [ "$up" = 1 ] && [ -n "$n" ] && break
      sleep 1
    done
    if [ "$up" = 1 ] && [ -n "$n" ] && [ "$n" -ge 1 ]; then
      ok "Prometheus scrapes nodeproc.exe under wine: up == 1, $n services.exe process series ($(q 'count({job="nodeproc-windows"})') series)"
    else
      fail "Prometheus scrape of nodeproc.exe: up='$up' services.exe series='$n'"
      curl -sf --max-time 3 "http://127.0.0.1:$PPORT/api/v1/targets" | head -c 600 | sed 's/^/  /'; echo
    fi
    kill "$PROM_PID" 2>/dev/null; wait "$PROM_PID" 2>/dev/null
  else
    skip "Prometheus scrape of nodeproc.exe: no prometheus (Debian package prometheus)"
  fi
fi
kill -INT "$SERVE_PID" 2>/dev/null
wait "$SERVE_PID" 2>/dev/null
if grep -q 'nodeproc stopped' "$TMP/serve.err"; then
  ok "nodeproc.exe run stops cleanly on Ctrl-C"
else
  fail "nodeproc.exe run did not log a clean stop"; tail -3 "$TMP/serve.err" | sed 's/^/  /'
fi
finish
