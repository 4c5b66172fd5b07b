#!/usr/bin/env python3
"""A stand-in for the agent's /metrics, for checking the dashboard before the agent runs.

usage: fake_exporter.py PORT      (serves http://127.0.0.1:PORT/metrics and /healthz)

It serves the families the dashboard uses, with the label sets exporters/METRICS.md documents
(a host process group, one container of one pod, kubelet and snapshot self metrics); counters
grow with time so rate() and increase() have something to compute. tests/chart/live_dashboard.sh
uses it with --fake; the real check scrapes the built agent.
"""
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

START = time.time()
GROUPS = [  # namespace, pod, container, name, cpu cores, rss bytes
    ("", "", "", "systemd", 0.01, 12 << 20),
    ("", "", "", "containerd", 0.05, 80 << 20),
    ("shop", "web-7d9f", "nginx", "nginx", 0.2, 40 << 20),
]
CONTAINERS = [("shop", "web-7d9f", "nginx", 64 << 20, 36 << 20)]


def exposition():
    t = time.time() - START
    now = time.time()
    out = []

    def fam(name, typ, rows):
        out.append("# HELP %s fake\n# TYPE %s %s" % (name, name, typ))
        for labels, value in rows:
            lab = ",".join('%s="%s"' % kv for kv in labels)
            out.append("%s{%s} %s" % (name, lab, repr(float(value))))

    def pl(g):
        return [("namespace", g[0]), ("pod", g[1]), ("container", g[2]), ("name", g[3])]
    fam("nodeproc_build_info", "gauge", [([("version", "0.1.0"), ("commit", "fake")], 1)])
    fam("nodeproc_process_cpu_seconds_total", "counter", [(pl(g), 100 + g[4] * t) for g in GROUPS])
    fam("nodeproc_process_cpu_usage_ratio", "gauge",
        [(pl(g) + [("window", w)], g[4]) for g in GROUPS for w in ("5s", "2m", "1h")])
    fam("nodeproc_process_resident_memory_bytes", "gauge", [(pl(g), g[5]) for g in GROUPS])
    fam("nodeproc_scan_processes", "gauge", [([], 123)])
    fam("nodeproc_container_memory_working_set_bytes", "gauge",
        [([("namespace", c[0]), ("pod", c[1]), ("container", c[2])], c[3]) for c in CONTAINERS])
    fam("nodeproc_container_memory_rss_bytes", "gauge",
        [([("namespace", c[0]), ("pod", c[1]), ("container", c[2])], c[4]) for c in CONTAINERS])
    fam("nodeproc_container_cpu_usage_seconds_total", "counter",
        [([("namespace", c[0]), ("pod", c[1]), ("container", c[2])], 50 + 0.2 * t) for c in CONTAINERS])
    fam("nodeproc_kubelet_cache_age_seconds", "gauge", [([], t % 10)])
    fam("nodeproc_kubelet_requests_total", "counter",
        [([("endpoint", e), ("code", "200")], 1 + int(t / 10)) for e in ("summary", "pods")])
    fam("nodeproc_snapshots_total", "counter", [([("result", "success")], 1 + int(t / 2))])
    fam("nodeproc_snapshot_last_success_timestamp_seconds", "gauge", [([], now - (t % 2))])
    out.append("# HELP nodeproc_scan_duration_seconds fake\n# TYPE nodeproc_scan_duration_seconds histogram")
    n = 1 + int(t)
    for le in ("0.001", "0.01", "0.1", "1", "+Inf"):
        out.append('nodeproc_scan_duration_seconds_bucket{le="%s"} %d' % (le, 0 if le == "0.001" else n))
    out.append("nodeproc_scan_duration_seconds_sum %f\nnodeproc_scan_duration_seconds_count %d" % (0.005 * n, n))
    return ("\n".join(out) + "\n").encode()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = exposition() if self.path.startswith("/metrics") else b"ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
