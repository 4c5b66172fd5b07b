#!/usr/bin/env python3
"""End to end with a real Prometheus server (Debian `prometheus`) on loopback scraping a
running nodeproc (live /proc, plus the HTTPS mock kubelet when it is available): the series of
a known child process exist with the right labels and plausible values, `promtool check
metrics` is silent on a live scrape, and every query of the Grafana dashboard returns data.
"""
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

BIN = os.environ.get("NODEPROC_BINARY", "build/agent/nodeproc")
SRC = os.environ.get("NODEPROC_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CHILD_NAME = "npe2e-burner"

CHILD = r"""
import ctypes, sys, time
ctypes.CDLL(None).prctl(15, b"%s", 0, 0, 0)   # PR_SET_NAME: a comm no other process has
block = bytearray(64 * 1024 * 1024)
for i in range(0, len(block), 4096):
    block[i] = 1
sys.stdout.write("ready\n"); sys.stdout.flush()
end = time.time() + 600
while time.time() < end:
    pass
""" % CHILD_NAME.encode().decode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def wait_http(url, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        try:
            http_get(url, timeout=2)
            return
        except Exception:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


class PrometheusE2ETest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if shutil.which("prometheus") is None:
            raise unittest.SkipTest("prometheus is not installed (scripts/deps.sh installs it)")
        cls.tmp = tempfile.mkdtemp(prefix="nodeproc-prom-")
        cls.child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
        assert cls.child.stdout.readline().strip() == "ready"
        cls.agent_port = free_port()
        cls.agent_log = open(os.path.join(cls.tmp, "agent.log"), "w+")
        cls.agent = subprocess.Popen(
            [BIN, "run", f"--listen-address=127.0.0.1:{cls.agent_port}", "--cpu-sample-interval=1s",
             f"--snapshot-dir={cls.tmp}/snapshots", "--machine-id=e2e", "--scan-min-interval=1s"],
            stderr=cls.agent_log)
        wait_http(f"http://127.0.0.1:{cls.agent_port}/readyz")
        cls.prom_port = free_port()
        with open(os.path.join(cls.tmp, "prometheus.yml"), "w") as f:
            f.write(f"""
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: nodeproc
    static_configs:
      - targets: ["127.0.0.1:{cls.agent_port}"]
        labels: {{node: "e2e-node"}}
""")
        cls.prom_log = open(os.path.join(cls.tmp, "prometheus.log"), "w+")
        cls.prom = subprocess.Popen(
            ["prometheus", f"--config.file={cls.tmp}/prometheus.yml", f"--storage.tsdb.path={cls.tmp}/tsdb",
             f"--web.listen-address=127.0.0.1:{cls.prom_port}", "--web.enable-lifecycle"],
            stdout=cls.prom_log, stderr=subprocess.STDOUT)
        cls.prom_url = f"http://127.0.0.1:{cls.prom_port}"
        wait_http(cls.prom_url + "/-/ready", timeout=120)

    @classmethod
    def tearDownClass(cls):
        for p in (getattr(cls, "prom", None), getattr(cls, "agent", None)):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
        if getattr(cls, "child", None) is not None:
            cls.child.kill()
            cls.child.wait()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def query(self, promql):
        url = self.prom_url + "/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        body = json.loads(http_get(url))
        self.assertEqual(body["status"], "success", body)
        return body["data"]["result"]

    def wait_query(self, promql, timeout=90, predicate=lambda r: len(r) > 0):
        end = time.time() + timeout
        result = []
        while time.time() < end:
            result = self.query(promql)
            if predicate(result):
                return result
            time.sleep(1)
        self.agent_log.seek(0)
        self.fail(f"no data for {promql} (last: {result})\nagent log:\n{self.agent_log.read()[-3000:]}")

    def test_target_is_up(self):
        r = self.wait_query('up{job="nodeproc"} == 1')
        self.assertEqual(r[0]["metric"]["instance"], f"127.0.0.1:{self.agent_port}")

    def test_child_rss_and_cpu_series_have_the_right_labels_and_values(self):
        rss = self.wait_query(f'nodeproc_process_resident_memory_bytes{{name="{CHILD_NAME}"}}')
        self.assertEqual(len(rss), 1)
        labels = rss[0]["metric"]
        for key in ("namespace", "pod", "container"):
            self.assertEqual(labels.get(key, ""), "", f"host process must have empty {key}")
        value = float(rss[0]["value"][1])
        self.assertGreater(value, 64 * 2**20, "the child touched 64 MiB")
        self.assertLess(value, 160 * 2**20)
        # CPU over 5 s: the child spins on one core; allow for a busy 2-core machine.
        cpu = self.wait_query(
            f'nodeproc_process_cpu_usage_ratio{{name="{CHILD_NAME}",window="5s"}}',
            predicate=lambda r: len(r) == 1 and float(r[0]["value"][1]) > 0.3)
        self.assertLess(float(cpu[0]["value"][1]), 1.3)
        total = self.wait_query(f'rate(nodeproc_process_cpu_seconds_total{{name="{CHILD_NAME}"}}[10s])')
        self.assertGreater(float(total[0]["value"][1]), 0.2)
        self.assertLess(float(total[0]["value"][1]), 1.3)
        start = self.wait_query(f'nodeproc_process_start_time_seconds{{name="{CHILD_NAME}"}}')
        self.assertLess(abs(float(start[0]["value"][1]) - time.time()), 600)

    def test_self_metrics_are_scraped(self):
        self.wait_query("nodeproc_build_info")
        self.wait_query("nodeproc_snapshot_last_success_timestamp_seconds > 0")

    def test_promtool_check_metrics_is_silent_on_a_live_scrape(self):
        if shutil.which("promtool") is None:
            self.skipTest("promtool is not installed")
        body = http_get(f"http://127.0.0.1:{self.agent_port}/metrics")
        self.assertIn("nodeproc_process_resident_memory_bytes", body)
        out = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual((out.stdout + out.stderr).strip(), "")

    def test_dashboard_queries_return_data(self):
        script = os.path.join(SRC, "tests", "chart", "check_dashboard_queries.py")
        dashboards = [os.path.join(root, f) for root, _, files in os.walk(os.path.join(SRC, "helm"))
                      for f in files if f.endswith(".json") and "dashboard" in f]
        if not os.path.exists(script) or not dashboards:
            self.skipTest("no dashboard or checker in this tree")
        self.wait_query(f'nodeproc_process_resident_memory_bytes{{name="{CHILD_NAME}"}}')
        time.sleep(12)  # rate() windows need a few samples
        for d in dashboards:
            out = subprocess.run([sys.executable, script, "--prometheus", self.prom_url, "--dashboard", d],
                                 capture_output=True, text=True, timeout=300)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
