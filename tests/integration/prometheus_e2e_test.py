#!/usr/bin/env python3
"""End to end with a real Prometheus server (Debian `prometheus`) on loopback scraping a
running nodeproc that talks to the HTTPS mock kubelet (tests/support/mock_kubelet.py with
the consistent node of tests/support/kube_world.py). The agent's --proc-root is a hybrid tree:
every live PID of this machine (links to /proc/<pid>), a live child whose cgroup file puts it
in a pod's container (its stat/status/io are the real ones), a live host child, and fake PIDs
in the other pods' containers. Checked through Prometheus's HTTP API:
  * the pod child's RSS and CPU series carry the fixture's namespace/pod/container labels and
    plausible values; the host child's labels are empty;
  * container and pod series from /stats/summary carry namespace/pod/container with the
    fixture's values (the annotated pod's containers are filtered out), counters have rates;
  * `promtool check metrics` is silent on a live scrape;
  * every query of the Grafana dashboard returns data (pod/container panels included).
Wall time ~40-60 s (1 s scrape interval).
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
import threading
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
import kube_world as kw  # noqa: E402

BIN = os.environ.get("NODEPROC_BINARY", "build/agent/nodeproc")
SRC = os.environ.get("NODEPROC_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
# Unique per run: other worktrees may run this test at the same time, and every live PID of
# the machine is in the agent's proc tree.
CHILD_NAME = f"npe2e-b{os.getpid()}"
HOST_CHILD_NAME = f"npe2e-h{os.getpid()}"
# The pod the burner child is "in" (containerd, systemd driver), added to the mock kubelet's node.
BURNER_POD = {
    "name": "burner-5f6d7c8b9-q2w3e", "namespace": "e2e", "uid": "b0b0b0b0-1111-4222-8333-444455556666",
    "qos": "burstable", "driver": "systemd", "runtime": "containerd", "sandbox": "5" * 64,
    "containers": [("burner", "docker.io/library/python:3.11", "ab" * 32)],
}
FAKE_PID_BASE = 40000  # above this machine's pid_max (32768 by default): no clash with live PIDs

CHILD = r"""
import ctypes, sys, time
ctypes.CDLL(None).prctl(15, NAME.encode(), 0, 0, 0)   # PR_SET_NAME: a comm no other process has
block = bytearray(MIB * 1024 * 1024)
for i in range(0, len(block), 4096):
    block[i] = 1
sys.stdout.write("ready\n"); sys.stdout.flush()
end = time.time() + 600
while time.time() < end:
    if SPIN:
        pass
    else:
        time.sleep(1)
"""


def start_child(name, mib, spin):
    code = f"NAME, MIB, SPIN = {name!r}, {mib}, {spin}\n" + CHILD
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    return child


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
        try:
            cls.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def start(cls):
        if shutil.which("prometheus") is None:
            raise unittest.SkipTest("prometheus is not installed (scripts/deps.sh installs it)")
        if shutil.which("openssl") is None:
            raise unittest.SkipTest("openssl CLI missing (scripts/deps.sh installs it)")
        cls.tmp = tempfile.mkdtemp(prefix="nodeproc-prom-")
        cls.children = []
        cls.child = start_child(CHILD_NAME, 64, True)
        cls.children.append(cls.child)
        cls.host_child = start_child(HOST_CHILD_NAME, 16, False)
        cls.children.append(cls.host_child)
        # The node: the fixture pods + the burner's pod, served by the HTTPS mock kubelet. The
        # summary is rewritten every second with advancing CPU counters (non-zero rates).
        if all(p["name"] != BURNER_POD["name"] for p in kw.POD_SPECS):
            kw.add_pod(BURNER_POD)
        cls.kubelet = kw.MockKubelet(os.path.join(cls.tmp, "kubelet"))
        cls.stop_summary = threading.Event()
        t0 = time.time()

        def advance():
            while not cls.stop_summary.wait(1):
                kw.write_json(cls.kubelet.summary_path, kw.summary_json(time.time() - t0))
        cls.summary_thread = threading.Thread(target=advance, daemon=True)
        cls.summary_thread.start()
        # The hybrid proc tree.
        cls.tree = kw.FakeProcTree(os.path.join(cls.tmp, "proc"), live_root_files=True)
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) not in (cls.child.pid, cls.host_child.pid):
                cls.tree.add_live(int(name))
        burner_id = BURNER_POD["containers"][0][2]
        cls.tree.add_live(cls.child.pid, cgroup=kw.cgroup_line(BURNER_POD, burner_id))
        cls.tree.add_live(cls.host_child.pid, cgroup="0::/user.slice/user-1000.slice/session-7.scope\n")
        cls.fake_pids = {}
        pid = FAKE_PID_BASE
        for p in kw.POD_SPECS:
            if p is BURNER_POD:
                continue
            for cname, _, cid in p["containers"]:
                pid += 1
                cls.tree.add(pid, cname[:15], f"/bin/{cname} --serve", kw.cgroup_line(p, cid),
                             rss_kb=1024 * (pid - FAKE_PID_BASE), start_ticks=100 * (pid - FAKE_PID_BASE))
                cls.fake_pids[pid] = (p, cname)
            pid += 1
            cls.tree.add(pid, "pause", "/pause", kw.cgroup_line(p, p["sandbox"]))
        cls.agent_port = free_port()
        cls.agent_log = open(os.path.join(cls.tmp, "agent.log"), "w+")
        cls.agent = subprocess.Popen(
            [BIN, "run", f"--listen-address=127.0.0.1:{cls.agent_port}", "--cpu-sample-interval=1s",
             f"--snapshot-dir={cls.tmp}/snapshots", "--machine-id=e2e", "--scan-min-interval=1s",
             f"--proc-root={cls.tree.proc}", *cls.kubelet.flags(), "--kubelet-cache-validity=1s"],
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
        for c in getattr(cls, "children", []):
            c.kill()
            c.wait()
        if getattr(cls, "stop_summary", None) is not None:
            cls.stop_summary.set()
            cls.summary_thread.join()
        if getattr(cls, "kubelet", None) is not None:
            cls.kubelet.stop()
        if getattr(cls, "tmp", None):
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
        self.assertEqual(len(rss), 1, rss)
        labels = rss[0]["metric"]
        want = {"namespace": BURNER_POD["namespace"], "pod": BURNER_POD["name"],
                "container": BURNER_POD["containers"][0][0]}
        self.assertEqual({k: labels.get(k, "") for k in want}, want, labels)
        print("\nquery result:", json.dumps(rss)[:400])
        value = float(rss[0]["value"][1])
        self.assertGreater(value, 64 * 2**20, "the child touched 64 MiB")
        self.assertLess(value, 160 * 2**20)
        # CPU over 5 s: the child spins on one core; allow for a busy 2-core machine.
        cpu = self.wait_query(
            f'nodeproc_process_cpu_usage_ratio{{name="{CHILD_NAME}",window="5s"}}',
            predicate=lambda r: len(r) == 1 and float(r[0]["value"][1]) > 0.3)
        self.assertLess(float(cpu[0]["value"][1]), 1.3)
        # rate() once Prometheus holds 10 s of scrapes of the counter.
        self.wait_query(f'count_over_time(nodeproc_process_cpu_seconds_total{{name="{CHILD_NAME}"}}[10s]) >= 8')
        total = self.wait_query(f'rate(nodeproc_process_cpu_seconds_total{{name="{CHILD_NAME}"}}[10s])')
        self.assertGreater(float(total[0]["value"][1]), 0.2)
        self.assertLess(float(total[0]["value"][1]), 1.3)
        start = self.wait_query(f'nodeproc_process_start_time_seconds{{name="{CHILD_NAME}"}}')
        self.assertLess(abs(float(start[0]["value"][1]) - time.time()), 600)

    def test_host_child_has_empty_pod_labels(self):
        rss = self.wait_query(f'nodeproc_process_resident_memory_bytes{{name="{HOST_CHILD_NAME}"}}')
        self.assertEqual(len(rss), 1)
        for key in ("namespace", "pod", "container"):
            self.assertEqual(rss[0]["metric"].get(key, ""), "", f"host process must have empty {key}")
        value = float(rss[0]["value"][1])
        self.assertGreater(value, 16 * 2**20, "the host child touched 16 MiB")
        self.assertLess(value, 100 * 2**20)

    def test_fake_pod_processes_carry_pod_labels(self):
        for pid, (p, cname) in self.fake_pids.items():
            with self.subTest(pod=p["name"], container=cname):
                sel = f'nodeproc_process_resident_memory_bytes{{namespace="{p["namespace"]}",pod="{p["name"]}",container="{cname}"}}'
                if p.get("annotations", {}).get("nodeproc.io/exclude") == "true":
                    self.wait_query("nodeproc_process_resident_memory_bytes{namespace=\"kube-system\"}")
                    self.assertEqual(self.query(sel), [], "annotated pod: filtered out")
                    continue
                r = self.wait_query(sel)
                self.assertEqual(len(r), 1, r)
                self.assertEqual(r[0]["metric"]["name"], cname[:15])
                self.assertEqual(float(r[0]["value"][1]), 1024 * 1024 * (pid - FAKE_PID_BASE))
        # The sandboxes (pause) are dropped by default.
        self.assertEqual(self.query('nodeproc_process_resident_memory_bytes{name="pause"}'), [])

    def test_container_and_pod_series_from_the_summary(self):
        for i, p in enumerate(kw.POD_SPECS):
            excluded = p.get("annotations", {}).get("nodeproc.io/exclude") == "true"
            for j, (cname, _, _) in enumerate(p["containers"]):
                with self.subTest(pod=p["name"], container=cname):
                    sel = f'{{namespace="{p["namespace"]}",pod="{p["name"]}",container="{cname}"}}'
                    if excluded:
                        self.wait_query("nodeproc_container_memory_working_set_bytes")
                        self.assertEqual(self.query("nodeproc_container_memory_working_set_bytes" + sel), [])
                        continue
                    stats = kw.container_stats(i, j)
                    ws = self.wait_query("nodeproc_container_memory_working_set_bytes" + sel)
                    self.assertEqual(len(ws), 1, ws)
                    self.assertEqual(float(ws[0]["value"][1]), stats["working_set"])
                    rss = self.wait_query("nodeproc_container_memory_rss_bytes" + sel)
                    self.assertEqual(float(rss[0]["value"][1]), stats["rss"])
        # Pod series: the pod's working set is the sum over its containers in the fixture.
        web = kw.pod("web-7d4b9c6f5-x2k8p")
        i = kw.POD_SPECS.index(web)
        want = sum(kw.container_stats(i, j)["working_set"] for j in range(len(web["containers"])))
        r = self.wait_query(f'nodeproc_pod_memory_working_set_bytes{{namespace="shop",pod="{web["name"]}"}}')
        self.assertEqual(float(r[0]["value"][1]), want)
        # The counters advance at usageNanoCores (the summary is rewritten every second):
        # coredns runs at 0.201 cores in the fixture.
        dns = kw.pod("coredns-66bff467f8-szddj")
        cores = kw.container_stats(kw.POD_SPECS.index(dns), 0)["nano_cores"] / 1e9
        sel = '{namespace="kube-system",container="coredns"}'
        self.wait_query(f"count_over_time(nodeproc_container_cpu_usage_seconds_total{sel}[15s]) >= 12")
        rate = self.wait_query(f"rate(nodeproc_container_cpu_usage_seconds_total{sel}[15s])")
        print(f"\ncoredns container CPU rate over 15 s: {float(rate[0]['value'][1]):.3f} cores (fixture {cores})")
        self.assertGreater(float(rate[0]["value"][1]), cores * 0.5)
        self.assertLess(float(rate[0]["value"][1]), cores * 2)
        # The kubelet was asked with the token, and both endpoints answered 200.
        reqs = self.kubelet.requests()
        self.assertIn(("/stats/summary", "200", "1"), reqs)
        self.assertIn(("/pods", "200", "1"), reqs)

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
        self.assertIn('namespace="kube-system"', body, "a live scrape with pod labels")
        samples = [l for l in body.splitlines() if l and not l.startswith("#")]
        print(f"\npromtool check metrics: silent (exit 0) on a scrape of {len(samples)} samples; pod lines:")
        for l in [l for l in samples if 'pod="coredns' in l][:4]:
            print(" ", l)

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
            print("\n" + d + ":", (out.stdout.strip().splitlines() or ["(no output)"])[-1])


if __name__ == "__main__":
    unittest.main(verbosity=2)
