#!/usr/bin/env bash
# Soak test (not CI): `nodeproc run` scraped every second for N minutes while ~2000 processes
# churn (each lives 5-60 s and is replaced), CSV snapshots every 10 s. Every 30 s it prints the
# agent's RSS and open fds; at the end it asserts:
#   - memory flat: median RSS of the last minute <= 1.10 x the median of minute 2;
#   - no fd growth: open fds at the end <= fds after the first minute + 2;
#   - every scrape answered 200, every snapshot is a complete CSV (header + parseable rows),
#     no temp file left;
#   - with --asan: the agent exits 0 on SIGTERM and LeakSanitizer reports nothing.
#
#   scripts/soak.sh [--minutes N] [--procs N] [--asan] [--binary PATH] [--build DIR]
# --asan uses <build>-asan/agent/nodeproc (tests/suites/sanitizers.sh builds it); RSS of an
# ASan binary includes its quarantine, so the memory check uses a 25% margin there.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MINUTES=10
PROCS=2000
ASAN=0
BUILD="$ROOT/build"
BINARY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES=$2; shift 2 ;;
    --minutes=*) MINUTES=${1#*=}; shift ;;
    --procs) PROCS=$2; shift 2 ;;
    --procs=*) PROCS=${1#*=}; shift ;;
    --asan) ASAN=1; shift ;;
    --binary) BINARY=$2; shift 2 ;;
    --binary=*) BINARY=${1#*=}; shift ;;
    --build) BUILD=$2; shift 2 ;;
    --build=*) BUILD=${1#*=}; shift ;;
    *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
if [ -z "$BINARY" ]; then
  if [ "$ASAN" = 1 ]; then BINARY="${BUILD%/}-asan/agent/nodeproc"; else BINARY="$BUILD/agent/nodeproc"; fi
fi
[ -x "$BINARY" ] || { echo "soak: no binary at $BINARY (build it first)" >&2; exit 2; }
[ "$MINUTES" -ge 3 ] || { echo "soak: --minutes must be at least 3 (minute 2 vs the last)" >&2; exit 2; }
ulimit -n 65536 2>/dev/null || true
ulimit -u unlimited 2>/dev/null || true
if [ "$ASAN" = 1 ]; then
  export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:quarantine_size_mb=32"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
exec python3 - "$BINARY" "$MINUTES" "$PROCS" "$ASAN" "$ROOT" <<'PY'
import csv, io, os, random, signal, socket, statistics, subprocess, sys, tempfile, threading, time
import urllib.request

binary, minutes, nprocs, asan, root = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5]
HEADER = ("timestamp,pid,name,cmdline,vms_kb,rss_kb,create_time,cpu_5s,cpu_2m,cpu_1h,status,"
          "ppid,uid,threads,fds,read_bytes,write_bytes,container_id,pod_uid,namespace,pod,container")
work = tempfile.mkdtemp(prefix="nodeproc-soak-")
snapdir = os.path.join(work, "snapshots")
with socket.socket() as s:
    s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]

# --- churn: keep nprocs sleepers alive, each living 5-60 s, replaced when it exits.
stop = threading.Event()
children, spawned = [], [0]
lock = threading.Lock()
def churn():
    rng = random.Random(1)
    while not stop.is_set():
        with lock:
            alive = [c for c in children if c.poll() is None]
            children[:] = alive
            need = nprocs - len(alive)
        for _ in range(min(need, 200)):
            if stop.is_set():
                break
            c = subprocess.Popen(["sleep", f"{rng.uniform(5, 60):.2f}"], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with lock:
                children.append(c)
            spawned[0] += 1
        stop.wait(0.2)
churner = threading.Thread(target=churn, daemon=True); churner.start()
t0 = time.time()
while len(children) < nprocs * 0.9 and time.time() - t0 < 120:
    time.sleep(0.5)
print(f"soak: {len(children)} churning processes up in {time.time() - t0:.0f}s; "
      f"{minutes} min, scrape every 1s, snapshot every 10s, binary {binary}", flush=True)

log = open(os.path.join(work, "agent.log"), "w+b")
agent = subprocess.Popen([binary, "run", f"--listen-address=127.0.0.1:{port}",
                          f"--snapshot-dir={snapdir}", "--machine-id=soak", "--snapshot-interval=10s",
                          "--snapshot-retention=1000", "--scan-min-interval=0s",
                          "--cpu-sample-interval=1s"], stderr=log, stdout=subprocess.DEVNULL)

def rss_kb():
    with open(f"/proc/{agent.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
def fds():
    return len(os.listdir(f"/proc/{agent.pid}/fd"))

failures, scrapes, samples = [], 0, []   # samples: (t, rss_kb, fds)
start = time.time()
next_report = 0
deadline = start + minutes * 60
while time.time() < deadline:
    tick = time.time()
    if agent.poll() is not None:
        failures.append(f"agent exited with {agent.returncode}")
        break
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            body = r.read()
            if r.status != 200 or b"nodeproc_" not in body:
                failures.append(f"scrape status {r.status}")
        scrapes += 1
    except Exception as e:  # the agent may still be starting during the first second
        if tick - start > 5:
            failures.append(f"scrape error at {tick - start:.0f}s: {e}")
    t = time.time() - start
    samples.append((t, rss_kb(), fds()))
    if t >= next_report:
        print(f"  t={t:5.0f}s  rss={samples[-1][1] / 1024:7.1f} MiB  fds={samples[-1][2]:4d}  "
              f"scrapes={scrapes}  processes spawned={spawned[0]}", flush=True)
        next_report += 30
    time.sleep(max(0, 1 - (time.time() - tick)))

stop.set()
agent.send_signal(signal.SIGTERM)
try:
    rc = agent.wait(timeout=120)
except subprocess.TimeoutExpired:
    agent.kill(); rc = "killed after 120s"
churner.join()
with lock:
    for c in children:
        c.kill()
    for c in children:
        c.wait()
log.seek(0)
log_text = log.read().decode("utf-8", "replace")

# --- checks
def median_between(a, b):
    v = [r for t, r, _ in samples if a <= t < b]
    return statistics.median(v) if v else None
m2 = median_between(60, 120)
end_t = samples[-1][0] if samples else 0
last = median_between(end_t - 60, end_t + 1)
limit = 1.25 if asan else 1.10
if m2 is None or last is None:
    failures.append("not enough samples")
elif last > m2 * limit:
    failures.append(f"RSS grew: minute-2 median {m2 / 1024:.1f} MiB, last-minute median {last / 1024:.1f} MiB")
fd_1m = max([f for t, _, f in samples if t < 60] or [0])
fd_end = samples[-1][2] if samples else 0
if fd_end > fd_1m + 2:
    failures.append(f"fd growth: {fd_1m} after 1 min, {fd_end} at the end")
if rc != 0:
    failures.append(f"agent exit status {rc}")
san = [l for l in log_text.splitlines() if "Sanitizer" in l or "runtime error" in l]
if san:
    failures.append("sanitizer report:\n" + "\n".join(san[:20]))
snaps, rows_total, bad = 0, 0, []
for dirpath, _, names in os.walk(snapdir):
    for n in names:
        p = os.path.join(dirpath, n)
        if not (n.startswith("process_") and n.endswith(".csv")):
            bad.append(f"stray file {p}")
            continue
        with open(p, newline="", encoding="utf-8", errors="surrogateescape") as f:
            rows = list(csv.reader(f))
        snaps += 1
        if not rows or ",".join(rows[0]) != HEADER:
            bad.append(f"{p}: bad header")
        elif any(len(r) != len(rows[0]) for r in rows[1:]):
            bad.append(f"{p}: ragged rows")
        elif len(rows) - 1 < nprocs * 0.8:
            bad.append(f"{p}: only {len(rows) - 1} rows with ~{nprocs} processes")
        rows_total += len(rows) - 1
failures += bad
if snaps < minutes * 6 * 0.8:
    failures.append(f"only {snaps} snapshots in {minutes} min at 10s")

print(f"soak summary: {minutes} min, {scrapes} scrapes, {spawned[0]} processes spawned, "
      f"{snaps} snapshots ({rows_total} rows), all parsed" if not bad else "")
print(f"  RSS: minute-2 median {m2 / 1024 if m2 else 0:.1f} MiB, last-minute median "
      f"{last / 1024 if last else 0:.1f} MiB, max {max(r for _, r, _ in samples) / 1024:.1f} MiB")
print(f"  fds: {fd_1m} after 1 min, {fd_end} at the end (max {max(f for _, _, f in samples)})")
print(f"  exit status on SIGTERM: {rc}; sanitizer reports: {len(san)}")
if failures:
    print("soak: FAILED\n  " + "\n  ".join(failures))
    print(f"  (agent log and snapshots kept in {work})")
    sys.exit(1)
import shutil; shutil.rmtree(work)
print("soak: passed")
PY
