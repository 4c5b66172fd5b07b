#!/usr/bin/env python3
"""Paths built from configuration stay inside the snapshot folder: a machine id (flag, or
$NODE_NAME) such as `../../etc` or `/abs` never makes the agent write outside --snapshot-dir,
and retention never follows a symlink planted in the folder to delete files elsewhere.
Accepted outcomes: a clear config error (non-zero exit), or files written inside the folder.
"""
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fault"))
import fakeproc  # noqa: E402
import harness  # noqa: E402


def all_files(root):
    out = set()
    for dirpath, dirnames, names in os.walk(root):
        for n in names + dirnames:
            out.add(os.path.join(dirpath, n))
    return out


def setUpModule():
    harness.require_agent()


class SnapshotPathTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nodeproc-paths-")
        self.fake = fakeproc.FakeProc(os.path.join(self.tmp, "root"))
        for pid in (800, 801):
            self.fake.add(pid, self.fake.next_gen())

    def tearDown(self):
        fakeproc._rmtree(self.tmp)

    def run_with_machine_id(self, machine_id, via_env=False):
        base = os.path.join(self.tmp, "case", "a", "b")
        snapdir = os.path.join(base, "snaps")
        os.makedirs(snapdir, exist_ok=True)
        before = all_files(self.tmp)
        env = dict(os.environ)
        extra = []
        if via_env:
            env["NODE_NAME"] = machine_id
            args_machine = None
        else:
            args_machine = machine_id
        agent = harness.Agent(f"--proc-root={self.fake.proc}", "--snapshot-interval=1s",
                              f"--snapshot-dir={snapdir}", *extra,
                              *( [f"--machine-id={args_machine}"] if args_machine is not None else []),
                              env=env, listen=False)
        try:
            deadline = time.time() + 5 * harness.SLOW
            while time.time() < deadline and agent.alive():
                if harness.snapshot_files(self.tmp) or "snapshot failed" in agent.log():
                    break
                time.sleep(0.1)
            time.sleep(0.3)
        finally:
            rc = agent.stop() if agent.alive() else agent.proc.wait()
        new = all_files(self.tmp) - before
        outside = sorted(p for p in new if not (p + "/").startswith(snapdir + "/")
                         and not p.startswith(self.fake.root))
        return rc, agent.log(), new, outside, snapdir

    def test_machine_ids_cannot_escape_the_folder(self):
        for mid, env in [("../../escape", False), ("../../../../../../tmp/escape-abs", False),
                         ("/tmp/escape-absolute", False), ("..", False), (".", False),
                         ("a/../../escape2", False), ("../../escape-env", True), ("x\ny", False)]:
            with self.subTest(machine_id=mid, env=env):
                rc, log, new, outside, snapdir = self.run_with_machine_id(mid, env)
                self.assertEqual(outside, [], f"machine id {mid!r} wrote outside {snapdir}:\n{log[-1500:]}")
                self.assertFalse(os.path.exists("/tmp/escape-absolute"))
                self.assertFalse(os.path.exists("/tmp/escape-abs"))
                written = [p for p in new if p.endswith(".csv")]
                verdict = "rejected (exit %d)" % rc if rc != 0 else (
                    "written inside: " + os.path.relpath(written[0], snapdir) if written else "nothing written")
                print(f"machine id {mid!r}{' ($NODE_NAME)' if env else ''}: {verdict}")

    def test_retention_does_not_follow_symlinks_out_of_the_folder(self):
        snapdir = os.path.join(self.tmp, "snaps")
        outside = os.path.join(self.tmp, "precious")
        os.makedirs(os.path.join(outside, "process"))
        victim = os.path.join(outside, "process", "process_20000101T000000Z.csv")
        with open(victim, "w") as f:
            f.write("precious\n")
        os.makedirs(os.path.join(snapdir, "node"))
        # An old agent-start folder that is really a symlink to somewhere else, and a real one
        # whose process/ folder is a symlink.
        os.symlink(outside, os.path.join(snapdir, "node", "20000101T000000Z"))
        outside2 = os.path.join(self.tmp, "precious2")
        os.makedirs(outside2)
        victim2 = os.path.join(outside2, "process_20000102T000000Z.csv")
        with open(victim2, "w") as f:
            f.write("precious\n")
        os.makedirs(os.path.join(snapdir, "node", "20000102T000000Z"))
        os.symlink(outside2, os.path.join(snapdir, "node", "20000102T000000Z", "process"))
        agent = harness.Agent(f"--proc-root={self.fake.proc}", "--snapshot-interval=1s",
                              "--snapshot-retention=1,1s", snapshot_dir=snapdir,
                              machine_id="node", listen=False)
        try:
            agent.wait_for(lambda: len(harness.snapshot_files(os.path.join(snapdir, "node"))) >= 1,
                           what="a snapshot")
            time.sleep(2.5)  # a few retention passes
        finally:
            rc = agent.stop()
        self.assertEqual(rc, 0, agent.log()[-2000:])
        self.assertTrue(os.path.exists(victim), "retention deleted a file through a symlink")
        self.assertTrue(os.path.exists(victim2), "retention deleted a file through a symlinked process/")
        print("retention + planted symlink: file outside the folder kept")


if __name__ == "__main__":
    unittest.main(verbosity=2)
