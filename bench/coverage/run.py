#!/usr/bin/env python3
"""Accounting coverage under a fork-heavy load, every contender in the same window:
  - `nodeproc run --probe=bpf`: exit records + background scans every --interval;
  - `nodeproc run --probe=procfs`: background scans every --interval only;
  - prometheus-process-exporter tracking every process, scraped every --interval (it scans on
    each scrape).
Attributed CPU = the increase of the sum of the group counters each exports
(nodeproc_process_cpu_seconds_total, namedprocess_namegroup_cpu_seconds_total) between two of
its scans; coverage = that / the node's busy CPU (/proc/stat user+nice+system) between the same
two scans. A nodeproc scan is caught by polling nodeproc_scanner_scans_total every 50 ms, and
/proc/stat is read right then, so each contender's window is aligned with its own scans.
Series never go during the window (--process-series-grace longer than it), and folded groups
(name="other") keep their CPU: the sum is what the node's CPU was attributed to.
Load: bench/coverage/fork_load.c (RATE processes per second each burning MIN..MAX ms, plus a
steady burner).

  bench/coverage/run.py [--nodeproc=build/agent/nodeproc] [--seconds=60] [--rate=150]
      [--min-ms=5] [--max-ms=20] [--steady=30] [--interval=5]
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HZ = os.sysconf("SC_CLK_TCK")


def busy():
    with open("/proc/stat") as f:
        v = f.readline().split()[1:4]
    return sum(int(x) for x in v) / HZ


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(url):
    return urllib.request.urlopen(url, timeout=60).read().decode()


def metric_sum(text, name, labels=""):
    return sum(float(m.group(1)) for m in re.finditer(
        rf"^{name}(?:\{{[^}}]*{labels}[^}}]*\}})? (\S+)$", text, re.M))


def wait_up(url, seconds=60):
    deadline = time.time() + seconds
    while True:
        try:
            return scrape(url)
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


class Nodeproc:
    """A running agent, and its attributed CPU between two of its scans."""

    def __init__(self, binary, probe, interval, window):
        self.probe = probe
        self.url = f"http://127.0.0.1:{free_port()}/metrics"
        self.proc = subprocess.Popen(
            [binary, "run", f"--probe={probe}", f"--listen-address={self.url[7:-8]}",
             f"--scan-interval={interval:g}s", f"--process-series-grace={int(window * 3)}s",
             "--snapshot-dir=", "--log-level=error"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_up(self.url)

    def at_next_scan(self):
        """(group CPU sum, node busy CPU-s) right after the agent's next completed scan."""
        scans = lambda t: metric_sum(t, "nodeproc_scanner_scans_total", 'outcome="success"')
        first = scans(scrape(self.url))
        while True:
            time.sleep(0.05)
            text = scrape(self.url)
            if scans(text) > first:
                return metric_sum(text, "nodeproc_process_cpu_seconds_total"), busy()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodeproc", default=os.path.join(ROOT, "build", "agent", "nodeproc"))
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--rate", type=float, default=150)
    ap.add_argument("--min-ms", type=float, default=5)
    ap.add_argument("--max-ms", type=float, default=20)
    ap.add_argument("--steady", type=float, default=30)
    ap.add_argument("--interval", type=float, default=5)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="nodeproc-coverage.")
    load = os.path.join(work, "fork_load")
    subprocess.run(["cc", "-O2", "-o", load, os.path.join(HERE, "fork_load.c")], check=True)

    agents = [Nodeproc(args.nodeproc, p, args.interval, args.seconds) for p in ("bpf", "procfs")]
    pe_proc, pe_url = None, None
    pe = shutil.which("prometheus-process-exporter")
    if pe:
        cfg = os.path.join(work, "pe.yml")
        with open(cfg, "w") as f:
            f.write('process_names:\n  - name: "{{.Comm}}"\n    cmdline:\n      - \'.+\'\n')
        pe_url = f"http://127.0.0.1:{free_port()}/metrics"
        pe_proc = subprocess.Popen([pe, f"-config.path={cfg}", f"-web.listen-address={pe_url[7:-8]}"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_up(pe_url)

    load_seconds = args.seconds + 2 * args.interval + 5  # covers every contender's window
    loader = subprocess.Popen([load, str(args.rate), str(args.min_ms), str(args.max_ms),
                               str(args.steady), str(load_seconds)], stdout=subprocess.PIPE, text=True)
    time.sleep(2)  # load running
    results = {}

    def measure(agent):
        cpu0, busy0 = agent.at_next_scan()
        time.sleep(args.seconds)
        cpu1, busy1 = agent.at_next_scan()
        results[f"nodeproc {agent.probe} probe"] = (cpu1 - cpu0, busy1 - busy0)

    def measure_pe():
        pe_cpu = lambda: metric_sum(scrape(pe_url), "namedprocess_namegroup_cpu_seconds_total")
        cpu0, busy0 = pe_cpu(), busy()
        end = time.time() + args.seconds
        cpu1 = cpu0
        while time.time() < end:
            time.sleep(args.interval)
            cpu1 = pe_cpu()
        results["process-exporter (every process)"] = (cpu1 - cpu0, busy() - busy0)

    threads = [threading.Thread(target=measure, args=(a,)) for a in agents]
    if pe_url:
        threads.append(threading.Thread(target=measure_pe))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    load_out = loader.communicate()[0].strip()
    spawned = int(re.search(r"spawned=(\d+)", load_out).group(1))
    for a in agents:
        a.stop()
    if pe_proc:
        pe_proc.terminate()
        pe_proc.wait()
    shutil.rmtree(work, ignore_errors=True)

    print(f"load: {args.rate:g} processes/s burning {args.min_ms:g}-{args.max_ms:g} ms each + a steady "
          f"burner at {args.steady:g}%; window {args.seconds:g} s, scans/scrapes every {args.interval:g} s; "
          f"{os.cpu_count()} CPUs; fork_load: {load_out} ({spawned / load_seconds:.0f} processes/s reached)")
    print()
    print("| contender | attributed CPU-s | node busy CPU-s | coverage |")
    print("|---|---|---|---|")
    for name, (got, node) in results.items():
        print(f"| {name} | {got:.1f} | {node:.1f} | {got / node * 100:.1f}% |")


if __name__ == "__main__":
    main()
