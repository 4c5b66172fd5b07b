#!/usr/bin/env python3
"""Probe selection on the live kernel: with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN dropped
(setpriv), or in a PID namespace of its own (unshare --pid: a pod without hostPID), --probe=auto
falls back to procfs with ONE log line saying why and still scans, and --probe=bpf exits
non-zero with one clear line; with them (root), auto runs the BPF probe. The
running agent exports nodeproc_probe_info{probe=...} 1 (and, for BPF, the exit-record drop
counter), checked with promtool when installed. Needs root, kernel BTF, a BPF-enabled build and
setpriv; prints SKIPPED otherwise.
"""
import os
import shutil
import subprocess
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fault"))
import harness  # noqa: E402
from harness import BIN, SLOW  # noqa: E402

DROP = ["setpriv", "--inh-caps=-all", "--bounding-set=-bpf,-perfmon,-sys_admin", "--"]


def why_not():
    if os.geteuid() != 0:
        return "not root"
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        return "no kernel BTF"
    if not shutil.which("setpriv"):
        return "setpriv missing (Debian package util-linux)"
    out = subprocess.run([BIN, "scan", "--probe=bpf", "--passes=1"], capture_output=True, text=True)
    if "this build has no BPF probe" in out.stderr:
        return "this build has no BPF probe"
    return ""


def scan(*args, drop=False):
    cmd = (DROP if drop else []) + [BIN, "scan", "--passes=2", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120 * SLOW)


def probe_lines(stderr):
    return [l for l in stderr.splitlines() if "process probe" in l]


class ProbeSelectionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_agent()
        reason = why_not()
        if reason:
            print(f"SKIPPED: BPF probe selection tests: {reason}", flush=True)
            raise unittest.SkipTest(reason)

    def test_auto_falls_back_to_procfs_with_one_line(self):
        out = scan("--probe=auto", drop=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"pass 2: \d+ processes")
        lines = probe_lines(out.stderr)
        self.assertEqual(len(lines), 1, out.stderr)
        self.assertIn("procfs (BPF probe unavailable)", lines[0])
        self.assertIn("CAP_BPF and CAP_PERFMON", lines[0])

    def test_bpf_fails_start_up_with_one_line(self):
        out = scan("--probe=bpf", drop=True)
        self.assertNotEqual(out.returncode, 0)
        self.assertEqual(out.stdout, "")
        err = out.stderr.strip().splitlines()
        self.assertEqual(len(err), 1, out.stderr)
        self.assertIn("--probe=bpf", err[0])
        self.assertIn("missing CAP_BPF and CAP_PERFMON", err[0])

    def test_auto_uses_bpf_when_allowed(self):
        out = scan("--probe=auto")
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = probe_lines(out.stderr)
        self.assertEqual(len(lines), 1, out.stderr)
        self.assertIn("process probe: bpf", lines[0])
        self.assertRegex(out.stdout, r"pass 2: \d+ processes")

    def test_own_pid_namespace_is_refused_with_one_line(self):
        # A pod without hostPID: the task iterator would walk only the agent's own namespace
        # (and every host process would be read from /proc at BPF's cost on top).
        if not shutil.which("unshare"):
            self.skipTest("unshare missing (Debian package util-linux)")
        own = ["unshare", "--pid", "--fork", "--"]
        out = subprocess.run(own + [BIN, "scan", "--passes=1", "--probe=bpf"], capture_output=True,
                             text=True, timeout=120 * SLOW)
        self.assertNotEqual(out.returncode, 0)
        err = out.stderr.strip().splitlines()
        self.assertEqual(len(err), 1, out.stderr)
        self.assertIn("PID namespace of its own", err[0])
        self.assertIn("hostPID", err[0])
        out = subprocess.run(own + [BIN, "scan", "--passes=1", "--probe=auto"], capture_output=True,
                             text=True, timeout=120 * SLOW)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = probe_lines(out.stderr)
        self.assertEqual(len(lines), 1, out.stderr)
        self.assertIn("procfs (BPF probe unavailable)", lines[0])
        self.assertIn("PID namespace of its own", lines[0])

    def test_bad_probe_value(self):
        out = scan("--probe=kernel")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("--probe=kernel: expected auto, bpf or procfs", out.stderr)

    def metrics_of_running_agent(self, drop):
        port = harness.free_port()
        cmd = (DROP if drop else []) + [BIN, "run", f"--listen-address=127.0.0.1:{port}", "--probe=auto"]
        agent = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 60 * SLOW
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                        return r.read().decode()
                except OSError:
                    if time.time() > deadline or agent.poll() is not None:
                        raise
                    time.sleep(0.2)
        finally:
            agent.terminate()
            agent.wait(timeout=30)

    def check_promtool(self, text):
        if not shutil.which("promtool"):
            print("SKIPPED: promtool check (Debian package prometheus)")
            return
        out = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        mine = [l for l in (out.stdout + out.stderr).splitlines() if "probe" in l or "bpf" in l]
        self.assertEqual(mine, [], out.stdout + out.stderr)

    def test_metrics_name_the_probe(self):
        text = self.metrics_of_running_agent(drop=False)
        self.assertIn('nodeproc_probe_info{probe="bpf"} 1', text)
        self.assertIn("nodeproc_bpf_exit_records_dropped_total 0", text)
        self.check_promtool(text)
        text = self.metrics_of_running_agent(drop=True)
        self.assertIn('nodeproc_probe_info{probe="procfs"} 1', text)
        self.assertNotIn("nodeproc_bpf_exit_records_dropped_total", text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
