#!/usr/bin/env python3
"""Peak RSS (VmHWM) of nodeproc under the hostile inputs of issue 15 item 4, each against the
chart's 256 MiB memory limit:

  cmdline   N processes (default 100) with 1.8 MB command lines (legal: under the 2 MiB argv
            limit, no privilege needed); also the size of the CSV snapshot, bounded by
            --max-cmdline-bytes
  body      a 50 MB kubelet /stats/summary of tiny array elements
  pods      a kubelet /stats/summary and /pods with ~100k pods
  fakepids  100k fake PIDs (a fake /proc tree, tests/fault/fakeproc.py)

Each case runs `nodeproc run` (agent mode: scans, CSV snapshot, kubelet cache) until its first
CSV snapshot is written and one /metrics scrape answered, then reads VmHWM from
/proc/<pid>/status before stopping it.

  bench/memory_bounds.py --nodeproc=build/agent/nodeproc [--cases=cmdline,body,pods,fakepids]
                         [--processes=100] [--fake-pids=100000] [--json]
The integration test tests/integration/memory_bounds_test.py runs the cmdline and body cases.
"""
import argparse
import csv as _csv
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "fault"))
import fakeproc  # noqa: E402

CHART_LIMIT_MIB = 256
TRUNCATED = "\u2026[truncated]"
ARG_BYTES = 120 * 1024  # one argument stays under MAX_ARG_STRLEN (128 KiB)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def run_agent(nodeproc, *flags, timeout=300, scrape=True, wait_metric=None):
    """Starts `nodeproc run`, waits for its first CSV snapshot and one /metrics answer.
    Returns (VmHWM KiB, path of the CSV, seconds, log)."""
    work = tempfile.mkdtemp(prefix="nodeproc-membound-")
    snapdir = os.path.join(work, "snapshots")
    port = free_port()
    log = open(os.path.join(work, "log"), "w+b")
    proc = subprocess.Popen([nodeproc, "run", f"--listen-address=127.0.0.1:{port}",
                             f"--snapshot-dir={snapdir}", "--machine-id=bench",
                             "--cpu-sample-interval=5s", *flags], stderr=log)
    start = time.time()
    try:
        csv = None
        while time.time() - start < timeout:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"agent exited {proc.returncode}: {log.read().decode(errors='replace')[-2000:]}")
            done = glob.glob(os.path.join(snapdir, "*", "*", "process", "process_*.csv"))
            if done:
                csv = done[0]
                break
            time.sleep(0.1)
        if csv is None:
            raise RuntimeError("no snapshot written in time")
        metrics = ""
        while scrape:
            # A scrape of 100k fake PIDs (each its own group) is slow on a loaded machine.
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=600) as r:
                metrics = r.read().decode()
            # The kubelet is read in the background: wait until its answer was parsed.
            if wait_metric is None or wait_metric in metrics or time.time() - start > timeout:
                break
            time.sleep(0.2)
        elapsed = time.time() - start
        hwm = vm_hwm_kib(proc.pid)
        size = os.path.getsize(csv)
        with open(csv, newline="", encoding="utf-8", errors="surrogateescape") as f:
            rows = list(_csv.DictReader(f))
        log.seek(0)
        return {"vm_hwm_kib": hwm, "csv_bytes": size, "csv_rows": len(rows),
                "longest_cmdline": max((len(r["cmdline"].encode("utf-8", "surrogateescape")) for r in rows), default=0),
                "truncated_cmdlines": sum(r["cmdline"].endswith(TRUNCATED) for r in rows),
                "seconds": round(elapsed, 1), "metrics": metrics,
                "log": log.read().decode(errors="replace")}
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def spawn_long_cmdlines(n, total_bytes):
    """n processes whose argv totals ~total_bytes (several arguments under 128 KiB each). Each is
    a shell waiting on a child sleep, so its own command line stays the long one."""
    args = []
    left = total_bytes
    i = 0
    while left > 0:
        take = min(ARG_BYTES, left)
        args.append(chr(ord("a") + i % 26) * take)
        left -= take
        i += 1
    procs = [subprocess.Popen(["/bin/sh", "-c", "sleep 600; :", "longcmd", *args],
                              stdin=subprocess.DEVNULL, start_new_session=True) for _ in range(n)]
    return procs


def kill_all(procs):
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)  # the shell and its sleep
        except OSError:
            pass
    for p in procs:
        p.wait()


def case_cmdline(nodeproc, processes=100, cmdline_bytes=1_800_000, max_cmdline_bytes=4096):
    procs = spawn_long_cmdlines(processes, cmdline_bytes)
    try:
        time.sleep(0.5)
        r = run_agent(nodeproc, f"--max-cmdline-bytes={max_cmdline_bytes}")
    finally:
        kill_all(procs)
    r["processes"] = processes
    r["cmdline_bytes"] = cmdline_bytes
    return r


def write_kubelet_dir(path, summary, pods=None):
    os.makedirs(os.path.join(path, "stats"), exist_ok=True)
    with open(os.path.join(path, "stats", "summary.json"), "w") as f:
        f.write(summary)
    if pods is not None:
        with open(os.path.join(path, "pods.json"), "w") as f:
            f.write(pods)


def case_body(nodeproc, body_bytes=50_000_000):
    d = tempfile.mkdtemp(prefix="nodeproc-kubelet-")
    try:
        # Many tiny array elements: each costs a 16-byte DOM value for 2 bytes of input.
        n = (body_bytes - 32) // 3
        tiny = "[" + "[]," * (n - 1) + "[]]"
        summary = '{"node":{"nodeName":"n"},"pods":' + tiny + "}"
        write_kubelet_dir(d, summary, '{"kind":"PodList","items":' + tiny + "}")
        r = run_agent(nodeproc, f"--kubelet-fixture-dir={d}",
                      wait_metric='nodeproc_kubelet_requests_total{endpoint="pods"')
        r["body_bytes"] = len(summary)
        return r
    finally:
        shutil.rmtree(d, ignore_errors=True)


def case_pods(nodeproc, pods=100_000):
    d = tempfile.mkdtemp(prefix="nodeproc-kubelet-")
    try:
        summary_pods = []
        list_pods = []
        for i in range(pods):
            uid = f"{i:08d}-0000-0000-0000-000000000000"
            summary_pods.append(
                '{"podRef":{"name":"p%d","namespace":"ns","uid":"%s"},'
                '"containers":[{"name":"c","cpu":{"usageNanoCores":1,"usageCoreNanoSeconds":2},'
                '"memory":{"workingSetBytes":3}}],"cpu":{"usageNanoCores":1}}' % (i, uid))
            list_pods.append(
                '{"metadata":{"name":"p%d","namespace":"ns","uid":"%s","labels":{"app":"a"}},'
                '"spec":{"containers":[{"name":"c","image":"img"}]},'
                '"status":{"containerStatuses":[{"name":"c","containerID":"containerd://%064d"}]}}'
                % (i, uid, i))
        summary = '{"node":{"nodeName":"n"},"pods":[' + ",".join(summary_pods) + "]}"
        podlist = '{"kind":"PodList","items":[' + ",".join(list_pods) + "]}"
        write_kubelet_dir(d, summary, podlist)
        r = run_agent(nodeproc, f"--kubelet-fixture-dir={d}",
                      wait_metric='nodeproc_kubelet_requests_total{endpoint="pods"')
        r["pods"] = pods
        r["summary_bytes"] = len(summary)
        r["pods_bytes"] = len(podlist)
        return r
    finally:
        shutil.rmtree(d, ignore_errors=True)


def case_fakepids(nodeproc, count=100_000, scrape=True):
    d = tempfile.mkdtemp(prefix="nodeproc-fakeproc-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        fake = fakeproc.FakeProc(d)
        # Lighter than FakeProc.add (no rename, no fd folder): 100k PIDs in seconds.
        for pid in range(2, count + 2):
            p = fake.pid_dir(pid)
            os.mkdir(p)
            e = fakeproc.expected(pid, 1)
            for name, text in (("stat", fakeproc.stat_line(pid, 1)),
                               ("status", fakeproc.status_text(pid, 1)),
                               ("statm", fakeproc.statm_text(pid, 1)),
                               ("io", fakeproc.io_text(pid, 1)),
                               ("cmdline", e["cmdline"].replace(" ", "\0") + "\0"),
                               ("cgroup", "0::/\n")):
                with open(os.path.join(p, name), "w") as f:
                    f.write(text)
        r = run_agent(nodeproc, f"--proc-root={fake.proc}", timeout=900, scrape=scrape)
        r["fake_pids"] = count
        r["scraped"] = scrape
        return r
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodeproc", default=os.path.join(os.path.dirname(HERE), "build", "agent", "nodeproc"))
    ap.add_argument("--cases", default="cmdline,body,pods,fakepids")
    ap.add_argument("--processes", type=int, default=100)
    ap.add_argument("--fake-pids", type=int, default=100_000)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-scrape", action="store_true",
                    help="fakepids: measure scan + CSV snapshot only, without a /metrics scrape")
    a = ap.parse_args()
    results = {}
    for case in a.cases.split(","):
        if case == "cmdline":
            r = case_cmdline(a.nodeproc, a.processes)
        elif case == "body":
            r = case_body(a.nodeproc)
        elif case == "pods":
            r = case_pods(a.nodeproc)
        elif case == "fakepids":
            r = case_fakepids(a.nodeproc, a.fake_pids, scrape=not a.no_scrape)
        else:
            sys.exit(f"unknown case {case}")
        r.pop("metrics")
        r.pop("log")
        results[case] = r
        print(f"{case}: VmHWM {r['vm_hwm_kib'] / 1024:.1f} MiB (limit {CHART_LIMIT_MIB} MiB), "
              f"CSV {r['csv_bytes'] / 1024:.1f} KiB, {r['seconds']} s  {json.dumps(r)}", flush=True)
    if a.json:
        print(json.dumps(results, indent=2))
    over = [c for c, r in results.items() if r["vm_hwm_kib"] > CHART_LIMIT_MIB * 1024]
    sys.exit(1 if over else 0)


if __name__ == "__main__":
    main()
