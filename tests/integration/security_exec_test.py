#!/usr/bin/env python3
"""The agent never spawns a program (no shell, no helper) and never opens another process's
`mem` or `environ`: `nodeproc run` (scrapes + snapshots) and `nodeproc snapshot` run under
`strace -f`, and the trace holds exactly one execve (strace starting the agent) and no open of
/proc/<pid>/{mem,environ}.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fault"))
import harness  # noqa: E402
from harness import BIN, SLOW  # noqa: E402

TRACE = "execve,execveat,fork,vfork,open,openat,openat2"
# LeakSanitizer cannot run under ptrace: a sanitized agent checks leaks elsewhere (soak, ctest).
ENV = dict(os.environ, ASAN_OPTIONS=(os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":"))


def analyse(trace_path):
    with open(trace_path, errors="replace") as f:
        lines = f.read().splitlines()
    execs = [l for l in lines if re.search(r"\bexecve(at)?\(", l)]
    # The ASan runtime of a sanitized build reads its own /proc/self/environ at start: allowed
    # there, never another process's.
    who = r"\d+" if harness.SANITIZED else r"\d+|self|thread-self"
    secret_opens = [l for l in lines
                    if re.search(r'open(at2?)?\(.*"[^"]*/(' + who + r')/(mem|environ)"', l)]
    return lines, execs, secret_opens


def setUpModule():
    harness.require_agent()


@unittest.skipUnless(shutil.which("strace"), "strace is not installed (Debian package strace)")
class NoExecTest(unittest.TestCase):
    def check(self, trace_path, what):
        lines, execs, secret_opens = analyse(trace_path)
        if any("PTRACE" in l and "Operation not permitted" in l for l in lines[:5]):
            self.skipTest("ptrace not permitted here")
        self.assertEqual(len(execs), 1, f"{what}: only the agent's own execve, got:\n" + "\n".join(execs))
        self.assertIn(os.path.basename(BIN), execs[0])
        self.assertEqual(secret_opens, [], f"{what} opened mem/environ")
        print(f"{what}: {len(lines)} traced syscalls, 1 execve, no mem/environ open")

    def test_snapshot_spawns_nothing(self):
        with tempfile.TemporaryDirectory() as d:
            trace = os.path.join(d, "trace")
            out = subprocess.run(["strace", "-f", "-qq", "-e", f"trace={TRACE}", "-o", trace, BIN,
                                  "snapshot", "--format=csv", "--snapshot-wait=200ms"],
                                 capture_output=True, timeout=120 * SLOW, env=ENV)
            self.assertEqual(out.returncode, 0, out.stderr.decode(errors="replace")[-2000:])
            self.check(trace, "snapshot")

    def test_run_spawns_nothing(self):
        with tempfile.TemporaryDirectory() as d:
            trace = os.path.join(d, "trace")
            snaps = os.path.join(d, "snaps")
            agent = harness.Agent("--snapshot-interval=1s", "--scan-min-interval=0s",
                                  snapshot_dir=snaps, env=ENV,
                                  cmd_prefix=("strace", "-f", "-qq", "-e", f"trace={TRACE}", "-o", trace))
            try:
                agent.wait_ready(timeout=90)
                for _ in range(3):
                    self.assertEqual(agent.get("/metrics")[0], 200)
                agent.wait_for(lambda: len(harness.snapshot_files(snaps)) >= 2, timeout=60,
                               what="two snapshots")
                time.sleep(0.5)
            finally:
                # SIGTERM goes to the agent itself (strace's child); strace then exits with its status.
                with open(f"/proc/{agent.pid}/task/{agent.pid}/children") as f:
                    children = f.read().split()
                if children:
                    os.kill(int(children[0]), signal.SIGTERM)
                    try:
                        rc = agent.proc.wait(timeout=60 * SLOW)
                    except subprocess.TimeoutExpired:
                        rc = agent.stop()
                else:
                    rc = agent.stop()
            self.assertEqual(rc, 0, agent.log()[-2000:])
            self.check(trace, "run (3 scrapes, 2+ snapshots)")


if __name__ == "__main__":
    unittest.main(verbosity=2)
