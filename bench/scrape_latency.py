#!/usr/bin/env python3
"""Scrape latency of `nodeproc run` at N extra idle processes (issue 15 item 1: scrapes no longer
scan). Builds bench/spawn_sleepers.c, starts N sleepers, runs each given binary in turn with the
same flags, makes SCRAPES sequential /metrics requests and prints p50/p99 wall time per binary
side by side (the first scrape, which may wait for start-up, is not counted).

  bench/scrape_latency.py --n 1000 --n 5000 --scrapes 60 BINARY[=LABEL] [BINARY[=LABEL] ...]
Extra agent flags after `--`.
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def scrape_times(binary, scrapes, extra):
    port = free_port()
    agent = subprocess.Popen([binary, "run", f"--listen-address=127.0.0.1:{port}",
                              "--log-level=error", *extra], stderr=subprocess.DEVNULL)
    times = []
    try:
        end = time.time() + 60
        while time.time() < end:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as r:
                    r.read()
                break
            except OSError:
                time.sleep(0.2)
        for _ in range(scrapes):
            start = time.perf_counter()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60) as r:
                r.read()
            times.append(time.perf_counter() - start)
            time.sleep(0.1)
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=30)
    return times


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, action="append")
    ap.add_argument("--scrapes", type=int, default=60)
    ap.add_argument("binaries", nargs="+")
    args = ap.parse_args(argv)
    work = tempfile.mkdtemp(prefix="nodeproc-latency-")
    spawn = os.path.join(work, "spawn")
    subprocess.run(["cc", "-O2", "-o", spawn, os.path.join(ROOT, "bench", "spawn_sleepers.c")], check=True)
    print("| N | binary | scrapes | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    for n in args.n or [1000]:
        sleepers = subprocess.Popen([spawn, str(n), os.path.join(work, "pids")],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert sleepers.stdout.readline().startswith("ready")
        try:
            for spec in args.binaries:
                binary, _, label = spec.partition("=")
                t = scrape_times(binary, args.scrapes, extra)
                print(f"| {n} | {label or binary} | {len(t)} | {1000 * pct(t, 0.5):.1f} | "
                      f"{1000 * pct(t, 0.99):.1f} | {1000 * max(t):.1f} |", flush=True)
        finally:
            sleepers.send_signal(signal.SIGTERM)
            sleepers.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
