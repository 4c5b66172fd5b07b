#!/usr/bin/env python3
"""Counters that never go back, checked by a real Prometheus (Debian `prometheus`, loopback,
1 s scrapes) over ~100 s of churn (issue 14 item 2). Two agents read the same fake proc tree
(CPU and I/O counters advancing in real time) and the same HTTPS mock kubelet:
  * `group` mode with --max-process-series=4 (groups folded into name="other"),
  * `pid` mode with --max-process-series=3 (pids moving in and out of "other" as their CPU
    ranking changes).
Churn: members of a group exit while others go on (host "npburner", pod "worker"s), PIDs are
reused by new processes of the same name, a group's last member exits (its series must go after
--process-series-grace=15s), and a pod's processes get their labels late (the kubelet lists the
pod only after 25 s: the processes move from the host-labelled group to the pod's).
Asserted through the HTTP API: `resets(x[10m])` is 0 for every `_total` series of both agents,
folding happened in both modes, late labels arrived, the gone group's series went away.
"""
import json
import os
import random
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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fault"))
import fakeproc  # noqa: E402
import fault_kubelet  # noqa: E402
from harness import BIN  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
CHURN_SECONDS = 100
GRACE = 15
LATE_AFTER = 25

POD_A = ("churn-a", "c0a0a0a0-1111-4222-8333-444455556666", "a1" * 32, "worker")
POD_B = ("late-b", "c0b0b0b0-1111-4222-8333-444455556666", "b2" * 32, "svc")


def cgroup(pod):
    _, uid, cid, _ = pod
    return f"0::/kubepods/burstable/pod{uid}/{cid}\n"


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


class Tree:
    """A fake /proc whose processes burn CPU and do I/O in real time. Counter files are replaced
    atomically (rename in the PID folder), PIDs appear and vanish atomically."""

    def __init__(self, root):
        self.fake = fakeproc.FakeProc(root)
        self.proc = self.fake.proc
        self.t0 = time.time()
        self.procs = {}  # pid -> dict(name, start, rate, born, cgroup)
        self.next_start = 1000
        self.lock = threading.Lock()

    def _files(self, pid, p):
        cpu_ticks = int(p["rate"] * (time.time() - p["born"]) * CLK_TCK) + p["base"]
        io = int(1000 * (time.time() - p["born"])) + p["base"] * 10
        fields = [str(pid), f"({p['name']})", "R", "1", str(pid), str(pid), "0", "-1", "4194560",
                  "10", "0", "0", "0", str(cpu_ticks), "0", "0", "0", "20", "0", "1", "0",
                  str(p["start"]), str(1000 * PAGE), "100", "18446744073709551615"]
        fields += ["0"] * (52 - len(fields))
        stat = " ".join(fields) + "\n"
        iotext = (f"rchar: {io}\nwchar: {io}\nsyscr: 1\nsyscw: 1\nread_bytes: {io}\n"
                  f"write_bytes: {io // 2}\ncancelled_write_bytes: 0\n")
        return stat, iotext

    def _write(self, d, name, data):
        tmp = os.path.join(d, f".{name}.tmp")
        with open(tmp, "w") as f:
            f.write(data)
        os.rename(tmp, os.path.join(d, name))

    def start(self, pid, name, rate, cgroup_text="0::/\n"):
        with self.lock:
            self.next_start += 7
            p = {"name": name, "start": self.next_start, "rate": rate, "born": time.time(),
                 "cgroup": cgroup_text, "base": random.randrange(0, 50)}
            tmp = os.path.join(self.proc, f".new-{pid}-{p['start']}")
            os.makedirs(tmp)
            stat, iotext = self._files(pid, p)
            for fname, data in (("stat", stat), ("io", iotext), ("cgroup", cgroup_text),
                                ("comm", name + "\n"), ("cmdline", f"/bin/{name}\0"),
                                ("statm", fakeproc.statm_text(pid, 1)),
                                ("status", fakeproc.status_text(pid, 1))):
                with open(os.path.join(tmp, fname), "w") as f:
                    f.write(data)
            os.makedirs(os.path.join(tmp, "fd"))
            d = self.fake.pid_dir(pid)
            if os.path.exists(d):
                self._remove_dir(pid)
            os.rename(tmp, d)
            self.procs[pid] = p

    def _remove_dir(self, pid):
        d = self.fake.pid_dir(pid)
        gone = os.path.join(self.proc, f".gone-{pid}-{random.randrange(1 << 30)}")
        os.rename(d, gone)
        shutil.rmtree(gone, ignore_errors=True)

    def exit(self, pid):
        with self.lock:
            if pid in self.procs:
                self._remove_dir(pid)
                del self.procs[pid]

    def set_rate(self, pid, rate):
        with self.lock:
            p = self.procs[pid]
            # Keep the counter continuous: fold what was burnt so far into the base.
            now = time.time()
            p["base"] += int(p["rate"] * (now - p["born"]) * CLK_TCK)
            p["born"] = now
            p["rate"] = rate

    def tick(self):
        with self.lock:
            for pid, p in self.procs.items():
                stat, iotext = self._files(pid, p)
                d = self.fake.pid_dir(pid)
                self._write(d, "stat", stat)
                self._write(d, "io", iotext)


class PrometheusCountersTest(unittest.TestCase):
    def setUp(self):
        if shutil.which("prometheus") is None:
            print("SKIPPED: prometheus is not installed (scripts/deps.sh installs it)")
            self.skipTest("prometheus is not installed")
        if shutil.which("openssl") is None:
            print("SKIPPED: openssl CLI missing")
            self.skipTest("openssl CLI missing")
        self.tmp = tempfile.mkdtemp(prefix="nodeproc-counters-")
        self.children = []
        self.stop = threading.Event()
        self.late = threading.Event()
        # The kubelet lists pod A from the start, pod B only once `late` is set.
        self.saved = (fault_kubelet.summary_json, fault_kubelet.pods_json)
        fault_kubelet.summary_json = self.summary_json
        fault_kubelet.pods_json = self.pods_json
        self.kubelet = fault_kubelet.FaultKubelet(self.tmp)

    def tearDown(self):
        self.stop.set()
        for p in self.children:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
        self.kubelet.stop()
        fault_kubelet.summary_json, fault_kubelet.pods_json = self.saved
        shutil.rmtree(self.tmp, ignore_errors=True)

    def pods(self):
        return [POD_A] + ([POD_B] if self.late.is_set() else [])

    def summary_json(self):
        used = int((time.time() - self.t0) * 1e9)
        return json.dumps({
            "node": {"nodeName": "churn-node", "cpu": {"usageCoreNanoSeconds": used},
                     "network": {"interfaces": [{"name": "eth0", "rxBytes": used, "txBytes": used}]}},
            "pods": [{"podRef": {"name": n, "namespace": "churn", "uid": uid},
                      "containers": [{"name": c, "cpu": {"usageCoreNanoSeconds": used}}],
                      "cpu": {"usageCoreNanoSeconds": used},
                      "network": {"interfaces": [{"name": "eth0", "rxBytes": used, "txBytes": used}]}}
                     for n, uid, _, c in self.pods()],
        }).encode()

    def pods_json(self):
        return json.dumps({"kind": "PodList", "apiVersion": "v1", "items": [
            {"metadata": {"name": n, "namespace": "churn", "uid": uid},
             "spec": {"containers": [{"name": c, "image": "example/x:1"}]},
             "status": {"containerStatuses": [{"name": c, "image": "example/x:1",
                                               "containerID": f"containerd://{cid}"}]}}
            for n, uid, cid, c in self.pods()]}).encode()

    def agent(self, *extra):
        port = free_port()
        log = open(os.path.join(self.tmp, f"agent-{port}.log"), "w+")
        p = subprocess.Popen(
            [BIN, "run", f"--listen-address=127.0.0.1:{port}", f"--proc-root={self.tree.proc}",
             "--cpu-sample-interval=500ms", "--scan-interval=500ms",
             f"--process-series-grace={GRACE}s", f"--kubelet-url={self.kubelet.url}",
             f"--kubelet-ca-file={self.kubelet.ca}", f"--kubelet-token-file={self.kubelet.token_file}",
             "--kubelet-cache-validity=1s", "--exclude-pause-containers=false", *extra],
            stderr=log)
        self.children.append(p)
        p.log = log
        return p, port

    def query(self, promql):
        url = self.prom_url + "/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        body = json.loads(http_get(url))
        self.assertEqual(body["status"], "success", body)
        return body["data"]["result"]

    def test_no_counter_ever_resets_under_churn(self):
        self.t0 = time.time()
        rng = random.Random(14)
        self.tree = Tree(os.path.join(self.tmp, "root"))
        t = self.tree
        t.start(300, "npburner", 0.5)
        t.start(301, "npburner", 0.5)
        t.start(302, "oneshot", 2.0)          # its group's only member: exits, series must go
        for i in range(6):                    # small host groups, folded in group mode
            t.start(330 + i, f"idle{i}", 0.01 * (i + 1))
        workers = [310, 311, 312, 313]
        for pid in workers:
            t.start(pid, "worker", rng.choice([0.1, 0.4, 0.8]), cgroup(POD_A))
        t.start(320, "svc", 0.2, cgroup(POD_B))
        t.start(321, "svc", 0.3, cgroup(POD_B))

        group, gport = self.agent("--process-metrics=group", "--max-process-series=4")
        pid_agent, pport = self.agent("--process-metrics=pid", "--max-process-series=3")
        for port in (gport, pport):
            wait_http(f"http://127.0.0.1:{port}/healthz")
        prom_port = free_port()
        with open(os.path.join(self.tmp, "prometheus.yml"), "w") as f:
            f.write(f"""
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: group
    static_configs: [{{targets: ["127.0.0.1:{gport}"]}}]
  - job_name: pid
    static_configs: [{{targets: ["127.0.0.1:{pport}"]}}]
""")
        prom_log = open(os.path.join(self.tmp, "prometheus.log"), "w+")
        prom = subprocess.Popen(
            ["prometheus", f"--config.file={self.tmp}/prometheus.yml",
             f"--storage.tsdb.path={self.tmp}/tsdb", f"--web.listen-address=127.0.0.1:{prom_port}"],
            stdout=prom_log, stderr=subprocess.STDOUT)
        self.children.append(prom)
        self.prom_url = f"http://127.0.0.1:{prom_port}"
        wait_http(self.prom_url + "/-/ready", timeout=120)

        # Churn, in real time.
        events = []
        start = time.time()
        next_churn = start + 3
        oneshot_gone = None
        while time.time() - start < CHURN_SECONDS:
            t.tick()
            now = time.time() - start
            if now > 12 and 301 in t.procs:
                t.exit(301)                   # a member exits, the other burns on
                events.append("npburner member exit")
            if now > 15 and 302 in t.procs:
                t.exit(302)
                oneshot_gone = time.time()
                events.append("oneshot group gone")
            if now > LATE_AFTER and not self.late.is_set():
                self.late.set()               # pod B's labels arrive
                events.append("late labels")
            if time.time() > next_churn:
                next_churn = time.time() + 3
                pid = rng.choice(workers)
                t.start(pid, "worker", rng.choice([0.05, 0.3, 0.9]), cgroup(POD_A))  # PID reuse
                other = rng.choice([p for p in workers if p != pid and p in t.procs])
                t.set_rate(other, rng.choice([0.05, 0.5, 1.0]))  # re-ranks the pid mode top-N
                if rng.random() < 0.3:
                    t.set_rate(330 + rng.randrange(6), rng.choice([0.0, 0.6]))
                events.append("worker pid reuse")
            time.sleep(0.25)
        for p in (group, pid_agent):
            self.assertIsNone(p.poll(), "an agent died")
        time.sleep(3)  # the last scrapes

        up = self.query("up")
        self.assertEqual(sorted(float(r["value"][1]) for r in up), [1.0, 1.0], up)
        counters = self.query('count by (job) ({__name__=~"nodeproc_.+_total"})')
        print("\ncounter series per job:", {r["metric"]["job"]: r["value"][1] for r in counters})
        self.assertEqual(len(counters), 2)
        names = json.loads(http_get(self.prom_url + "/api/v1/label/__name__/values"))["data"]
        counter_names = [n for n in names if n.startswith("nodeproc_") and n.endswith("_total")]
        self.assertIn("nodeproc_process_cpu_seconds_total", counter_names)
        self.assertIn("nodeproc_process_read_bytes_total", counter_names)
        series = 0
        for name in counter_names:  # one query per name: resets() drops the metric name
            resets = self.query(f"resets({name}[10m]) > 0")
            self.assertEqual(resets, [], f"{name}: counters that went back:\n" + json.dumps(resets)[:3000])
            series += len(self.query(f"count_over_time({name}[10m])"))
        print(f"resets() == 0 for all {series} _total series ({len(counter_names)} names) over the run")
        # The churn really happened.
        folded = self.query('max_over_time(nodeproc_process_series_dropped[10m])')
        self.assertEqual({r["metric"]["job"]: float(r["value"][1]) > 0 for r in folded},
                         {"group": True, "pid": True}, folded)
        other = self.query('nodeproc_process_cpu_seconds_total{name="other",job="pid"}')
        self.assertTrue(other, "pid mode: an other series")
        late = self.query('nodeproc_process_cpu_seconds_total{job="group",pod="late-b",name="svc"}')
        self.assertTrue(late, "late labels: pod B's group exists")
        early = self.query('max_over_time(nodeproc_process_cpu_seconds_total{job="group",pod="",name="svc"}[10m])')
        self.assertTrue(early, "before the labels, pod B's processes were in a host-labelled group")
        reused = self.query('count_over_time(nodeproc_process_group_processes{job="group",name="worker"}[10m])')
        self.assertTrue(reused)
        # The group whose last member exited was removed after the grace period.
        self.assertGreater(time.time() - oneshot_gone, GRACE + 10)
        self.assertEqual(self.query('nodeproc_process_cpu_seconds_total{name="oneshot"}'), [])
        seen = self.query('max_over_time(nodeproc_process_cpu_seconds_total{name="oneshot",job="group"}[10m])')
        names_seen = self.query('count by (name) (max_over_time(nodeproc_process_cpu_seconds_total{job="group"}[10m]))')
        self.assertTrue(seen, "the oneshot group was there before; group names seen: "
                        + str(sorted(r["metric"]["name"] for r in names_seen)))
        # Conservation inside one agent: the npburner group kept its exited member's CPU.
        burner = self.query('nodeproc_process_cpu_seconds_total{job="group",name="npburner"}')
        self.assertGreater(float(burner[0]["value"][1]), 0.3 * CHURN_SECONDS)
        print("events:", {e: events.count(e) for e in set(events)})


if __name__ == "__main__":
    unittest.main(verbosity=2)
