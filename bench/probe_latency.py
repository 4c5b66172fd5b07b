#!/usr/bin/env python3
"""Probe latency under abuse, two agent binaries side by side (e.g. main's and this branch's).

usage: bench/probe_latency.py BEFORE_BINARY AFTER_BINARY [--seconds N]

For each abuse of tests/fault/http_abuse.py (plain: idle, slowloris, scrapes; TLS: the same and
stalled handshakes), starts `BINARY run --proc-root=/proc` on loopback for each binary in turn,
holds the abuse, probes /healthz and /readyz every 100 ms (new connection each, 5 s timeout like
the chart's probes) for N seconds, and prints one markdown table row per (abuse, binary):
probes answered 200 within 1 s, p50, p99, max. Loopback only.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "fault"))
import harness  # noqa: E402
import http_abuse  # noqa: E402


def start(binary, tmp, tls_pair, token):
    port = harness.free_port()
    args = [binary, "run", "--proc-root=/proc", f"--listen-address=127.0.0.1:{port}",
            f"--web-bearer-token-file={token}"]
    if tls_pair:
        args += [f"--web-tls-cert-file={tls_pair[0]}", f"--web-tls-key-file={tls_pair[1]}"]
    log = open(os.path.join(tmp, f"agent-{port}.log"), "w")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log)
    return proc, port


def wait_ready(port, ca, proc):
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if http_abuse.probe_once(port, "/readyz", ca)[0] == 200:
            return True
        time.sleep(0.1)
    return False


def ms(x):
    return ">5000 (timeout)" if x >= 5.0 else f"{x * 1000:.1f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--seconds", type=float, default=5)
    opts = ap.parse_args()
    http_abuse.raise_fd_limit()
    tmp = tempfile.mkdtemp(prefix="nodeproc-probe-bench-")
    try:
        ca, _, cert, key = http_abuse.make_ca_and_cert(tmp)
        token = os.path.join(tmp, "token")
        with open(token, "w") as f:
            f.write("bench-token\n")
        auth = b"Authorization: Bearer bench-token\r\n"
        print("| abuse | server | probes 200 within 1 s | refused/reset/timed out | p50 ms | p99 ms | max ms |")
        print("|---|---|---|---|---|---|---|")
        cases = [(False, n) for n, (_, tls_only) in http_abuse.ABUSES.items() if not tls_only]
        cases += [(True, n) for n in http_abuse.ABUSES]
        for tls, name in cases:
            for label, binary in (("before", opts.before), ("after", opts.after)):
                proc, port = start(binary, tmp, (cert, key) if tls else None, token)
                cafile = ca if tls else None
                try:
                    if not wait_ready(port, cafile, proc):
                        print(f"| {name} | {label} | agent not ready | | | | |")
                        continue
                    with http_abuse.Abuse(name, port, cafile, auth):
                        results = http_abuse.probe_for(port, opts.seconds, cafile)
                    s = http_abuse.summary(results)
                    failed = sum(1 for _, st, _ in results if st == 0)
                    desc = ("TLS: " if tls else "plain: ") + http_abuse.ABUSES[name][0]
                    print(f"| {desc} | {label} | {s['ok']}/{s['n']} | {failed} | {ms(s['p50'])} | "
                          f"{ms(s['p99'])} | {ms(s['max'])} |", flush=True)
                finally:
                    proc.terminate()
                    try:
                        proc.wait(20)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
