#!/usr/bin/env python3
"""Accounting coverage under a fork-heavy load, every contender in the same window:
  - the BPF probe: exit records + full scans every --interval (nodeproc_exit_coverage --probe=bpf)
  - the procfs probe: full scans every --interval only (nodeproc_exit_coverage --probe=procfs)
  - prometheus-process-exporter tracking every process, scraped every --interval (increase of
    the sum of namedprocess_namegroup_cpu_seconds_total)
Coverage = CPU each attributes over the window / the node's busy CPU (/proc/stat user+nice+
system) over the same window. Load: bench/coverage/fork_load.c (RATE processes per second each
burning MIN..MAX ms, plus a steady burner).

  bench/coverage/run.py --coverage=build-bench/bench/nodeproc_exit_coverage [--seconds=60]
      [--rate=100] [--min-ms=5] [--max-ms=20] [--steady=30] [--interval=2]
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
HZ = os.sysconf("SC_CLK_TCK")


def busy():
    with open("/proc/stat") as f:
        v = f.readline().split()[1:4]
    return sum(int(x) for x in v) / HZ


def pe_cpu(url):
    text = urllib.request.urlopen(url, timeout=60).read().decode()
    return sum(float(m.group(1)) for m in re.finditer(
        r"^namedprocess_namegroup_cpu_seconds_total\{[^}]*\} (\S+)$", text, re.M))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--coverage", required=True)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--min-ms", type=float, default=5)
    ap.add_argument("--max-ms", type=float, default=20)
    ap.add_argument("--steady", type=float, default=30)
    ap.add_argument("--interval", type=float, default=2)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="nodeproc-coverage.")
    load = os.path.join(work, "fork_load")
    subprocess.run(["cc", "-O2", "-o", load, os.path.join(HERE, "fork_load.c")], check=True)

    pe_proc, url = None, None
    pe = shutil.which("prometheus-process-exporter")
    if pe:
        cfg = os.path.join(work, "pe.yml")
        with open(cfg, "w") as f:
            f.write('process_names:\n  - name: "{{.Comm}}"\n    cmdline:\n      - \'.+\'\n')
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        pe_proc = subprocess.Popen([pe, f"-config.path={cfg}", f"-web.listen-address=127.0.0.1:{port}"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}/metrics"
        for _ in range(300):
            try:
                pe_cpu(url)
                break
            except OSError:
                time.sleep(0.2)
        else:
            url = None  # did not come up: its row is left out

    loader = subprocess.Popen([load, str(args.rate), str(args.min_ms), str(args.max_ms), str(args.steady),
                               str(args.seconds + 6)], stdout=subprocess.PIPE, text=True)
    time.sleep(2)  # load running
    probes = {}
    for probe in ("bpf", "procfs"):
        probes[probe] = subprocess.Popen([args.coverage, f"--probe={probe}", f"--seconds={args.seconds}",
                                          f"--interval={args.interval}"], stdout=subprocess.PIPE, text=True)
    pe_first = pe_cpu(url) if url else None
    busy0 = busy()
    pe_last = pe_first
    end = time.time() + args.seconds
    while url and time.time() < end:
        time.sleep(args.interval)
        pe_last = pe_cpu(url)
    if not url:
        time.sleep(args.seconds)
    busy_pe = busy() - busy0
    results = {p: proc.communicate()[0].strip() for p, proc in probes.items()}
    load_out = loader.communicate()[0].strip()
    if pe_proc:
        pe_proc.terminate()
        pe_proc.wait()
    shutil.rmtree(work, ignore_errors=True)

    print(f"load: {args.rate:g} processes/s burning {args.min_ms:g}-{args.max_ms:g} ms each + a steady "
          f"burner at {args.steady:g}%; window {args.seconds:g} s, scans/scrapes every {args.interval:g} s; "
          f"{os.cpu_count()} CPUs; fork_load: {load_out}")
    print()
    print("| contender | attributed CPU-s | node busy CPU-s | coverage |")
    print("|---|---|---|---|")
    for p, out in results.items():
        kv = dict(x.split("=") for x in out.split())
        print(f"| nodeproc {p} probe ({'exit records + scans' if p == 'bpf' else 'scans'}) | "
              f"{float(kv['counted']):.1f} | {float(kv['busy']):.1f} | {float(kv['coverage']) * 100:.1f}% |")
    if url:
        got = pe_last - pe_first
        print(f"| process-exporter (every process) | {got:.1f} | {busy_pe:.1f} | {got / busy_pe * 100:.1f}% |")


if __name__ == "__main__":
    main()
