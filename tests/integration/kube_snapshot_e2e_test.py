#!/usr/bin/env python3
"""Issue 3 end to end: a fake proc tree + the HTTPS mock kubelet (tests/support/mock_kubelet.py,
CA from make_test_pki.sh, bearer token) -> `nodeproc snapshot --format=csv` shows the right
namespace/pod/container/pod_uid/container_id for containerized PIDs of every cgroup format
(containerd/systemd, cgroupfs v2, cri-o + conmon, dockershim, kind nesting, plain docker) and
respects the include/exclude rules, the pause sandbox rule and the exclude annotation.
Degraded kubelets: /pods forbidden (names from /stats/summary by pod uid), a wrong CA and a
wrong token (host data + container ids from the cgroups, empty pod columns, a clear log line).
"""
import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "support"))
import kube_world as kw  # noqa: E402
from kube_world import cgroup_line, container, pod  # noqa: E402

BIN = os.environ.get("NODEPROC_BINARY", os.path.join(os.path.dirname(os.path.dirname(HERE)), "build", "agent", "nodeproc"))
SLOW = 4 if os.environ.get("NODEPROC_SANITIZED") == "1" else 1
POD_COLUMNS = ("container_id", "pod_uid", "namespace", "pod", "container")

WEB, DNS, NODEEXP = "web-7d4b9c6f5-x2k8p", "coredns-66bff467f8-szddj", "node-exporter-9xk2m"
LEGACY, REPORT, NESTED = "legacy-0", "report-28412-abcde", "nested-0"
PLAIN_DOCKER_ID = "9" * 64


def expect(pod_name, container_name):
    """Expected pod columns of a process of that container."""
    p = pod(pod_name)
    cid = container(pod_name, container_name)[2] if container_name else ""
    return {"container_id": cid, "pod_uid": p["uid"], "namespace": p["namespace"], "pod": p["name"],
            "container": container_name}


HOST = {k: "" for k in POD_COLUMNS}

# pid -> (comm, cgroup content, expected pod columns with a healthy kubelet and no rules;
#         None = the row is dropped by default).
PROCESSES = {
    1: ("systemd", "0::/init.scope\n", HOST),
    801: ("sshd", "1:name=systemd:/system.slice/ssh.service\n0::/system.slice/ssh.service\n", HOST),
    802: ("bash", "0::/user.slice/user-1000.slice/session-3.scope\n", HOST),
    # containerd, systemd driver: two processes of nginx, one of the sidecar, the sandbox.
    101: ("nginx", cgroup_line(pod(WEB), container(WEB, "nginx")[2]), expect(WEB, "nginx")),
    102: ("nginx", cgroup_line(pod(WEB), container(WEB, "nginx")[2]), expect(WEB, "nginx")),
    103: ("fluent-bit", cgroup_line(pod(WEB), container(WEB, "processing-logging")[2]),
          expect(WEB, "processing-logging")),
    110: ("pause", cgroup_line(pod(WEB), pod(WEB)["sandbox"]), None),
    # containerd, cgroupfs driver, cgroup v2 (0::/kubepods/burstable/pod<uid>/<id>) + sandbox.
    201: ("coredns", cgroup_line(pod(DNS), container(DNS, "coredns")[2]), expect(DNS, "coredns")),
    210: ("pause", cgroup_line(pod(DNS), pod(DNS)["sandbox"]), None),
    # cri-o, systemd driver; conmon lives at pod level: pod known, container not.
    301: ("node_exporter", cgroup_line(pod(NODEEXP), container(NODEEXP, "node-exporter")[2]),
          expect(NODEEXP, "node-exporter")),
    302: ("conmon", cgroup_line(pod(NODEEXP), container(NODEEXP, "node-exporter")[2], conmon=True),
          expect(NODEEXP, "")),
    # dockershim, systemd driver, guaranteed pod (no QoS level).
    401: ("legacy", cgroup_line(pod(LEGACY), container(LEGACY, "app")[2]), expect(LEGACY, "app")),
    # annotated nodeproc.io/exclude: "true" (cgroupfs, guaranteed).
    501: ("report", cgroup_line(pod(REPORT), container(REPORT, "report")[2]), None),
    # kind: the kubelet's containers inside a docker container; the inner id wins.
    601: ("inner", cgroup_line(pod(NESTED), container(NESTED, "inner")[2]), expect(NESTED, "inner")),
    # A plain docker container on the node (no pod): container id only.
    701: ("redis-server", f"0::/docker/{PLAIN_DOCKER_ID}\n", dict(HOST, container_id=PLAIN_DOCKER_ID)),
}


def parse_csv(text):
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = rows[0]
    for r in rows[1:]:
        assert len(r) == len(header), r
    return header, {int(r[header.index("pid")]): dict(zip(header, r)) for r in rows[1:]}


class KubeSnapshotE2ETest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(BIN):
            raise unittest.SkipTest(f"{BIN} is not built")
        if shutil.which("openssl") is None:
            raise unittest.SkipTest("openssl CLI missing (scripts/deps.sh installs it)")
        cls.tmp = tempfile.mkdtemp(prefix="nodeproc-kube-e2e-")
        cls.tree = kw.FakeProcTree(os.path.join(cls.tmp, "proc"))
        for pid, (name, cgroup, _) in PROCESSES.items():
            cls.tree.add(pid, name, f"/usr/bin/{name} --pid={pid} --token=s3cr3t", cgroup,
                         ppid=101 if pid == 102 else 1, rss_kb=1024 * (pid % 50 + 1))
        cls.kubelet = kw.MockKubelet(os.path.join(cls.tmp, "kubelet"))

    @classmethod
    def tearDownClass(cls):
        cls.kubelet.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.kubelet.control(None)

    def snapshot(self, *flags, ca=None):
        cmd = [BIN, "snapshot", "--format=csv", "--snapshot-wait=0s", f"--proc-root={self.tree.proc}",
               "--kubelet-timeout=5s", *self.kubelet.flags(ca), *flags]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60 * SLOW)
        self.assertEqual(out.returncode, 0, out.stderr)
        header, rows = parse_csv(out.stdout)
        self.assertEqual(header[-5:], ["container_id", "pod_uid", "namespace", "pod", "container"])
        return rows, out.stderr, out.stdout

    def assert_columns(self, rows, pid, want):
        self.assertIn(pid, rows, f"pid {pid} ({PROCESSES[pid][0]}) missing")
        got = {k: rows[pid][k] for k in POD_COLUMNS}
        self.assertEqual(got, want, f"pid {pid} ({PROCESSES[pid][0]})")

    def test_default_rules_fill_pod_columns_and_drop_sandboxes_and_annotated_pods(self):
        rows, err, out = self.snapshot()
        for pid, (name, _, want) in PROCESSES.items():
            with self.subTest(pid=pid, name=name):
                if want is None:
                    self.assertNotIn(pid, rows, f"pid {pid} ({name}) must be dropped by default")
                else:
                    self.assert_columns(rows, pid, want)
                    self.assertEqual(rows[pid]["name"], name)
        self.assertEqual(set(rows), {p for p, (_, _, w) in PROCESSES.items() if w is not None})
        # Secrets in command lines are scrubbed in pod rows too.
        self.assertNotIn("s3cr3t", out)
        # Both endpoints were asked, with the token.
        reqs = self.kubelet.requests()
        for path in ("/pods", "/stats/summary"):
            self.assertIn((path, "200", "1"), reqs)
        lines = out.splitlines()
        print("\nsnapshot excerpt (mock kubelet):")
        print(" ", lines[0])
        for line in lines[1:]:
            if line.split(",", 2)[1] in ("1", "101", "201", "301", "302", "401", "601", "701"):
                print(" ", line)

    def test_exclude_namespace_drops_its_rows(self):
        rows, _, _ = self.snapshot("--container-exclude=namespace:kube-system")
        self.assertNotIn(201, rows)
        for pid in (101, 102, 103, 301, 302, 401, 601, 701, 1, 801, 802):
            self.assert_columns(rows, pid, PROCESSES[pid][2])

    def test_exclude_is_anchored(self):
        # `name:logging` names no container here: `processing-logging` must stay.
        rows, _, _ = self.snapshot("--container-exclude=name:logging", "--container-exclude=name:nginx")
        self.assertNotIn(101, rows)
        self.assertNotIn(102, rows)
        self.assert_columns(rows, 103, PROCESSES[103][2])

    def test_include_wins_over_exclude_and_the_annotation(self):
        rows, _, _ = self.snapshot("--container-exclude=namespace:kube-system", "--container-include=name:coredns",
                                   "--container-include=namespace:batch")
        self.assert_columns(rows, 201, expect(DNS, "coredns"))
        self.assert_columns(rows, 501, expect(REPORT, "report"))
        # The include rules name no container-less process: the sandboxes stay dropped.
        self.assertNotIn(110, rows)
        self.assertNotIn(210, rows)

    def test_exclude_by_image(self):
        rows, _, _ = self.snapshot("--container-exclude=image:quay\\.io/prometheus/.*")
        self.assertNotIn(301, rows)
        # conmon's container (hence image) is unknown: a rule never matches an unknown value.
        self.assert_columns(rows, 302, PROCESSES[302][2])
        self.assert_columns(rows, 401, PROCESSES[401][2])

    def test_pause_kept_when_pause_exclusion_is_off(self):
        rows, _, _ = self.snapshot("--exclude-pause-containers=false")
        self.assert_columns(rows, 110, expect(WEB, "") | {"container_id": pod(WEB)["sandbox"]})
        self.assert_columns(rows, 210, expect(DNS, "") | {"container_id": pod(DNS)["sandbox"]})

    def test_pods_forbidden_names_come_from_the_summary(self):
        # RBAC with nodes/stats only: /pods answers 403. Namespace and pod come from
        # /stats/summary by pod uid; the container name only for single-container pods.
        self.kubelet.control({"status": {"/pods": 403}})
        rows, err, _ = self.snapshot()
        self.assert_columns(rows, 201, expect(DNS, "coredns"))
        self.assert_columns(rows, 401, expect(LEGACY, "app"))
        self.assert_columns(rows, 101, expect(WEB, "") | {"container_id": container(WEB, "nginx")[2]})
        self.assert_columns(rows, 1, HOST)
        # The sandbox is recognised by its process name without /pods.
        self.assertNotIn(110, rows)
        self.assertNotIn(210, rows)
        self.assertIn(("/pods", "403", "1"), self.kubelet.requests())
        self.assertIn("403", err)

    def assert_degraded(self, rows, err, what):
        for pid, (name, _, want) in PROCESSES.items():
            if pid in (110, 210):
                self.assertNotIn(pid, rows, f"{what}: the sandbox (by its name) is dropped anyway")
                continue
            self.assertIn(pid, rows, f"{what}: pid {pid} ({name}) still printed")
            cgroup_id = want["container_id"] if want else container(REPORT, "report")[2]
            self.assertEqual(rows[pid]["container_id"], cgroup_id, f"{what}: ids come from the cgroups")
            for col in ("namespace", "pod", "container"):
                self.assertEqual(rows[pid][col], "", f"{what}: no kubelet data, pid {pid}")
        lines = [l for l in err.splitlines() if "kubelet" in l.lower()]
        self.assertTrue(lines, f"{what}: a log line names the kubelet failure:\n{err}")
        return lines

    def test_wrong_ca_prints_host_data_and_a_clear_error(self):
        rows, err, _ = self.snapshot(ca=self.kubelet.other_ca)
        lines = self.assert_degraded(rows, err, "wrong CA")
        self.assertTrue(any("certificate" in l.lower() or "ssl" in l.lower() or "tls" in l.lower() for l in lines),
                        f"the error says it is about the certificate:\n{err}")
        print("\nwrong CA:", lines[0][:240])

    def test_wrong_token_prints_host_data_and_a_clear_error(self):
        bad = os.path.join(self.tmp, "bad-token")
        with open(bad, "w") as f:
            f.write("not-the-token\n")
        cmd = [BIN, "snapshot", "--format=csv", "--snapshot-wait=0s", f"--proc-root={self.tree.proc}",
               f"--kubelet-url={self.kubelet.url}", f"--kubelet-ca-file={self.kubelet.ca}",
               f"--kubelet-token-file={bad}"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60 * SLOW)
        self.assertEqual(out.returncode, 0, out.stderr)
        _, rows = parse_csv(out.stdout)
        lines = self.assert_degraded(rows, out.stderr, "wrong token")
        self.assertTrue(any("401" in l for l in lines), out.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
