#!/usr/bin/env python3
"""Accounting coverage (issue 14 item 3): how much of the node's busy CPU the process counters
account for. Runs `nodeproc run` on the live /proc, a load, and measures over the same window

    ratio = sum over series of increase(nodeproc_process_cpu_seconds_total)
            / node busy CPU from /proc/stat (user + nice + system; not irq/softirq/steal/guest)

The increase is read from two scrapes (counters never decrease and series live through the
window, so the difference of sums is the sum of increases). Loads:
  steady      NPROC busy loops alive for the whole window
  fork-heavy  a spawner that keeps starting processes that each burn ~20 ms of CPU and exit
              (far shorter than the scan interval)
Procfs scans see the processes alive at each scan: a process that starts and exits between two
scans adds nothing, so the fork-heavy ratio is the coverage of a procfs agent under such churn.
The machine's other load counts on both sides (every process is scanned); so the script also
prints the load's own coverage: the increase of its group (the loads rename themselves
npsteady / npfork, children inherit it) over the CPU the load used (utime+stime of the load
processes plus cutime+cstime of their reaped children, from /proc/<pid>/stat).

  bench/conservation.py [--binary build/agent/nodeproc] [--window 30] [--scan-interval 5s]
                        [--load steady|fork|both] [--smoke MIN_RATIO]
--smoke: steady load, asserts ratio >= MIN_RATIO (CI); prints "conservation_smoke: ok|FAIL".
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")

NAME = "import ctypes; ctypes.CDLL(None).prctl(15, b'%s', 0, 0, 0)\n"  # PR_SET_NAME, inherited
BUSY = NAME % "npsteady" + "while True: pass\n"
# Each child: ~20 ms of CPU, then exit. The spawner itself is a cheap loop.
SPAWNER = NAME % "npfork" + r"""
import os, sys, time
def burn(ms):
    end = time.process_time() + ms / 1000.0
    while time.process_time() < end:
        pass
while True:
    pid = os.fork()
    if pid == 0:
        burn(20)
        os._exit(0)
    os.waitpid(pid, 0)
"""


def busy_seconds():
    with open("/proc/stat") as f:
        fields = f.readline().split()
    user, nice, system = int(fields[1]), int(fields[2]), int(fields[3])
    return (user + nice + system) / CLK_TCK


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_total(port, name=None):
    """Sum of nodeproc_process_cpu_seconds_total, over every series or those of one name."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        body = r.read().decode("utf-8", "replace")
    total = 0.0
    for line in body.splitlines():
        if line.startswith("nodeproc_process_cpu_seconds_total{"):
            if name is None or f'name="{name}"' in line:
                total += float(line.rsplit(" ", 1)[1])
    return total


def load_cpu(procs):
    """CPU of the load processes and of their reaped children (utime+stime+cutime+cstime)."""
    total = 0
    for p in procs:
        with open(f"/proc/{p.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += sum(int(x) for x in fields[11:15])
    return total / CLK_TCK


def snapshot_time(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("nodeproc_snapshot_timestamp_seconds "):
                return float(line.split()[1])
    return 0.0


def wait_new_snapshot(port, after, timeout=60):
    """Waits until the rendered snapshot was taken after `after` (a scan boundary)."""
    end = time.time() + timeout
    while time.time() < end:
        if snapshot_time(port) > after:
            return
        time.sleep(0.05)
    raise RuntimeError("no new snapshot")


def measure(binary, load, window, scan_interval, nproc):
    port = free_port()
    agent = subprocess.Popen([binary, "run", f"--listen-address=127.0.0.1:{port}",
                              f"--scan-interval={scan_interval}", "--log-level=warning"],
                             stderr=subprocess.DEVNULL)
    loads = []
    try:
        end = time.time() + 30
        while time.time() < end:
            try:
                cpu_total(port)
                break
            except OSError:
                time.sleep(0.2)
        if load == "steady":
            loads = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(nproc)]
        else:
            loads = [subprocess.Popen([sys.executable, "-c", SPAWNER]) for _ in range(nproc)]
        time.sleep(2)  # loads running, seen by a scan
        # Window edges on scan boundaries: busy time is read right when a new snapshot appears.
        now = time.time()
        wait_new_snapshot(port, now)
        name = "npsteady" if load == "steady" else "npfork"
        b0, c0, l0, n0 = busy_seconds(), cpu_total(port), load_cpu(loads), cpu_total(port, name)
        time.sleep(window)
        wait_new_snapshot(port, time.time())
        b1, c1, l1, n1 = busy_seconds(), cpu_total(port), load_cpu(loads), cpu_total(port, name)
    finally:
        for p in loads:
            p.kill()
            p.wait()
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=30)
    return c1 - c0, b1 - b0, n1 - n0, l1 - l0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "agent", "nodeproc"))
    ap.add_argument("--window", type=float, default=30)
    ap.add_argument("--scan-interval", default="5s")
    ap.add_argument("--load", default="both", choices=["steady", "fork", "both"])
    ap.add_argument("--nproc", type=int, default=2)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--smoke", type=float, default=None)
    args = ap.parse_args()
    loads = ["steady"] if args.smoke is not None else (
        ["steady", "fork"] if args.load == "both" else [args.load])
    ratios = {}
    for load in loads:
        for run in range(args.runs):
            counted, busy, load_counted, load_used = measure(
                args.binary, load, args.window, args.scan_interval, args.nproc)
            ratio = counted / busy if busy > 0 else float("nan")
            own = load_counted / load_used if load_used > 0 else float("nan")
            ratios.setdefault(load, []).append(ratio)
            ratios.setdefault(load + " (load only)", []).append(own)
            print(f"{load:6s} run {run + 1}: window {args.window:.0f}s scan-interval {args.scan_interval}: "
                  f"node: counted {counted:.2f} / busy {busy:.2f} CPU-s = {ratio:.3f}; "
                  f"load alone: counted {load_counted:.2f} / used {load_used:.2f} CPU-s = {own:.3f}")
    for load, rs in ratios.items():
        rs = sorted(rs)
        print(f"{load}: median ratio {rs[len(rs) // 2]:.3f} over {len(rs)} run(s)")
    if args.smoke is not None:
        r = ratios["steady"][0]
        ok = r >= args.smoke
        print(f"conservation_smoke: {'ok' if ok else 'FAIL'} (steady ratio {r:.3f}, lower bound {args.smoke})")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
