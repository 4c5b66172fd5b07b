#!/usr/bin/env python3
"""The BPF probe against the procfs probe, bench/floor.c and process-exporter, in one run.

For N extra idle processes (default 1000 and 5000, bench/spawn_sleepers.c):
  - CPU per process per full scan: `nodeproc scan --probe=X --passes=P` (warm passes: the
    CPU of P+3 passes minus that of 3 passes, divided by P), bench/floor.c's in-process median,
    and process-exporter's CPU per /metrics scrape (it scans on every scrape);
  - at the largest N, the CPU of one CPU-sampler pass: `nodeproc run --probe=X` with
    --cpu-sample-interval=1s and no scrapes, CPU over a window divided by the samples taken.
Medians of --runs repetitions. Needs root for the BPF rows (else they are n/a).

  bench/bpf_compare.py [--nodeproc=build/agent/nodeproc] [--ns=1000,5000] [--runs=5]
                       [--passes=20] [--out=FILE]
Prints a Markdown table (and writes it to --out).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HZ = os.sysconf("SC_CLK_TCK")


def children_cpu():
    r = os.times()
    return r.children_user + r.children_system


def run_cpu(cmd):
    """CPU seconds (user+sys) of one run of cmd, and its stdout."""
    before = children_cpu()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return children_cpu() - before, out.stdout


def ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def count_pids():
    return sum(1 for d in os.listdir("/proc") if d.isdigit())


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Passes before the caches are warm: the container resolver confirms a host process's cgroup
# answer on 3 reads (kube/container_resolver.h) before it stops reading /proc/<pid>/cgroup.
WARM_UP = 3


def scan_cost(nodeproc, probe, passes, runs):
    """Median CPU seconds of one warm full scan, and the processes per pass."""
    costs, procs = [], 0
    for _ in range(runs):
        one, _ = run_cpu([nodeproc, "scan", f"--probe={probe}", f"--passes={WARM_UP}", "--log-level=error"])
        many, out = run_cpu([nodeproc, "scan", f"--probe={probe}", f"--passes={passes + WARM_UP}",
                             "--log-level=error"])
        costs.append(max(0.0, many - one) / passes)
        procs = int(out.strip().splitlines()[-1].split()[2])
    return statistics.median(costs), procs


def probe_pass_cost(binary, probe, passes, runs, sample=False):
    """Median CPU seconds per process of the probe alone (nodeproc_probe_pass)."""
    costs = []
    for _ in range(runs):
        out = subprocess.run([binary, f"--probe={probe}", f"--passes={passes}"] + (["--sample"] if sample else []),
                             capture_output=True, text=True, check=True).stdout
        costs.append(float(dict(p.split("=") for p in out.split())["us_per_process"]) * 1e-6)
    return statistics.median(costs)


def floor_cost(floor, runs):
    out = subprocess.run([floor, f"--repeat={max(5, runs * 4)}"], capture_output=True, text=True,
                         check=True).stdout
    kv = dict(p.split("=") for p in out.split())
    return float(kv["median_cpu_ms"]) / 1e3, int(kv["pids"])


def exporter_cost(pe, config, scrapes):
    port = free_port()
    proc = subprocess.Popen([pe, f"-config.path={config}", f"-web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(url, timeout=30).read()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        urllib.request.urlopen(url, timeout=60).read()  # warm
        start = ticks(proc.pid)
        for _ in range(scrapes):
            urllib.request.urlopen(url, timeout=60).read()
        return (ticks(proc.pid) - start) / scrapes
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def sampler_cost(nodeproc, probe, seconds):
    """CPU seconds per sampler pass of `nodeproc run` (1 s interval, no scrapes)."""
    proc = subprocess.Popen([nodeproc, "run", f"--probe={probe}", "--listen-address=",
                             "--cpu-sample-interval=1s", "--log-level=error"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(4)  # start-up, first scan, probe load
        start_cpu, start = ticks(proc.pid), time.time()
        time.sleep(seconds)
        return (ticks(proc.pid) - start_cpu) / (time.time() - start)  # 1 sample per second
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodeproc", default=os.path.join(ROOT, "build", "agent", "nodeproc"))
    ap.add_argument("--ns", default="1000,5000")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--passes", type=int, default=20)
    ap.add_argument("--sampler-seconds", type=int, default=30)
    ap.add_argument("--out", default="")
    ap.add_argument("--probe-pass", default="", help="nodeproc_probe_pass: also the probes alone")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="nodeproc-bpf-bench.")
    floor, spawn = os.path.join(work, "floor"), os.path.join(work, "spawn")
    subprocess.run(["cc", "-O2", "-o", floor, os.path.join(ROOT, "bench", "floor.c")], check=True)
    subprocess.run(["cc", "-O2", "-o", spawn, os.path.join(ROOT, "bench", "spawn_sleepers.c")], check=True)
    config = os.path.join(work, "pe.yml")
    with open(config, "w") as f:
        f.write('process_names:\n  - name: "{{.Comm}}"\n    cmdline:\n      - \'.+\'\n')
    pe = shutil.which("prometheus-process-exporter")
    have_bpf = subprocess.run([args.nodeproc, "scan", "--probe=bpf", "--passes=1"],
                              capture_output=True).returncode == 0

    rows = []
    ns = [int(n) for n in args.ns.split(",")]
    sampler = {}
    for n in ns:
        spawner = subprocess.Popen([spawn, str(n), os.path.join(work, "pids")], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True)
        assert spawner.stdout.readline().startswith("ready")
        try:
            time.sleep(1)
            total = count_pids()
            row = {"n": n, "procs": total}
            row["floor"], _ = floor_cost(floor, args.runs)
            row["procfs"], _ = scan_cost(args.nodeproc, "procfs", args.passes, args.runs)
            row["bpf"] = scan_cost(args.nodeproc, "bpf", args.passes, args.runs)[0] if have_bpf else None
            row["pe"] = exporter_cost(pe, config, 10) if pe else None
            if args.probe_pass:
                for probe in (["bpf"] if have_bpf else []) + ["procfs"]:
                    row[f"{probe}_alone"] = probe_pass_cost(args.probe_pass, probe, args.passes, args.runs)
                    row[f"{probe}_sample"] = probe_pass_cost(args.probe_pass, probe, args.passes, args.runs, True)
            rows.append(row)
            print(f"N={n}: {row}", file=sys.stderr, flush=True)
            if n == ns[-1]:
                sampler["procfs"] = sampler_cost(args.nodeproc, "procfs", args.sampler_seconds)
                if have_bpf:
                    sampler["bpf"] = sampler_cost(args.nodeproc, "bpf", args.sampler_seconds)
                sampler["procs"] = count_pids()
        finally:
            spawner.stdin.close()
            spawner.wait(timeout=120)
    shutil.rmtree(work, ignore_errors=True)

    def us(cost, procs):
        return "n/a" if cost is None else f"{cost / procs * 1e6:.2f}"

    def us1(cost):
        return "n/a" if cost is None else f"{cost * 1e6:.2f}"

    lines = [f"BPF probe comparison, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
             f"kernel {os.uname().release}, {os.cpu_count()} CPUs; medians of {args.runs} runs, "
             f"{args.passes} warm passes each.", "",
             "CPU per process per full scan (us):", "",
             "| extra processes | processes | BPF probe (`nodeproc scan --probe=bpf`) | procfs probe | bench/floor.c | process-exporter (per scrape) | floor / BPF |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = "n/a" if not r["bpf"] else f"{r['floor'] / r['bpf']:.1f}x"
        lines.append(f"| {r['n']} | {r['procs']} | {us(r['bpf'], r['procs'])} | {us(r['procfs'], r['procs'])} | "
                     f"{us(r['floor'], r['procs'])} | {us(r['pe'], r['procs'])} | {ratio} |")
    if args.probe_pass:
        lines += ["", "The probes alone (`nodeproc_probe_pass`: Probe::Scan / Probe::SampleCpu, no pipeline), "
                  "CPU us per process per pass:", "",
                  "| extra processes | BPF Scan | procfs Scan | BPF SampleCpu | procfs SampleCpu | floor / BPF Scan |",
                  "|---|---|---|---|---|---|"]
        for r in rows:
            b = r.get("bpf_alone")
            ratio = "n/a" if not b else f"{r['floor'] / r['procs'] / b:.1f}x"
            lines.append(f"| {r['n']} | {us1(b)} | {us1(r.get('procfs_alone'))} | {us1(r.get('bpf_sample'))} | "
                         f"{us1(r.get('procfs_sample'))} | {ratio} |")
    if sampler:
        lines += ["", f"CPU of one CPU-sampler pass (`nodeproc run`, {sampler['procs']} processes, no scrapes), ms:", "",
                  "| BPF probe | procfs probe |", "|---|---|",
                  f"| {sampler.get('bpf', 0) * 1e3:.1f} | {sampler['procfs'] * 1e3:.1f} |"]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
