#!/usr/bin/env python3
"""Fault injection on the /proc side: PIDs that exit and are reused while the agent scans a
fake tree (every row must come whole from one incarnation), hostile /proc entries, files the
agent may not read (EACCES, as user nobody), and a live /proc with processes churning.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fault"))
import fakeproc  # noqa: E402
import harness  # noqa: E402
from harness import HEADER, parse_csv, snapshot  # noqa: E402

GEN_RE = re.compile(r"--gen=(\d+)")


def check_row_is_whole(test, row):
    """Every field of the row belongs to the incarnation named by its command line."""
    pid = int(row["pid"])
    m = GEN_RE.search(row["cmdline"])
    test.assertIsNotNone(m, f"no generation in cmdline: {row!r}")
    e = fakeproc.expected(pid, int(m.group(1)))
    test.assertEqual(row["name"], e["name"], row)
    test.assertEqual(int(row["uid"]), e["uid"], row)
    test.assertEqual(int(row["threads"]), e["threads"], row)
    test.assertEqual(int(row["rss_kb"]), e["rss_kb"], row)
    test.assertEqual(int(row["vms_kb"]), e["vms_kb"], row)
    test.assertEqual(int(row["ppid"]), e["ppid"], row)
    if row["read_bytes"] != "":
        test.assertEqual(int(row["read_bytes"]), e["read_bytes"], row)
        test.assertEqual(int(row["write_bytes"]), e["write_bytes"], row)
    # The secret in the fake command line is scrubbed.
    test.assertNotIn("hunter", row["cmdline"])


def setUpModule():
    harness.require_agent()


class PidChurnTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nodeproc-fault-")
        self.fake = fakeproc.FakeProc(self.tmp)
        self.pids = list(range(1000, 1300))
        for pid in self.pids:
            self.fake.add(pid, self.fake.next_gen())

    def tearDown(self):
        fakeproc._rmtree(self.tmp)

    def test_rows_stay_whole_while_pids_exit_and_are_reused(self):
        churner = fakeproc.Churner(self.fake, self.pids, seed=7)
        churner.start()
        rows_seen = 0
        snapshots = 0
        try:
            # At least 12 snapshots, and on until the tree has changed often enough while the
            # agent was reading it (a faster agent needs more of them); bounded.
            while snapshots < 12 or (churner.mutations <= 100 and snapshots < 200):
                snapshots += 1
                out = snapshot(f"--proc-root={self.fake.proc}")
                header, rows = parse_csv(out.stdout)
                self.assertEqual(",".join(header), HEADER)
                for row in rows:
                    self.assertIn(int(row["pid"]), self.pids, row)
                    check_row_is_whole(self, row)
                rows_seen += len(rows)
                self.assertEqual(harness.sanitizer_reports(out.stderr), [])
        finally:
            churner.stop()
        self.assertGreater(churner.mutations, 100, "the tree did change during the scans")
        self.assertGreater(rows_seen, snapshots * len(self.pids) // 4, "most PIDs were seen")
        print(f"pid churn: {churner.mutations} mutations, {snapshots} snapshots, "
              f"{rows_seen} rows, all whole")

    def test_run_scrapes_and_snapshots_while_pids_churn(self):
        churner = fakeproc.Churner(self.fake, self.pids, seed=11)
        snapdir = os.path.join(self.tmp, "snapshots")
        agent = harness.Agent(f"--proc-root={self.fake.proc}", "--scan-min-interval=0s",
                              "--snapshot-interval=1s", snapshot_dir=snapdir)
        churner.start()
        try:
            agent.wait_ready()
            scrapes = 0
            end = time.time() + 6
            while time.time() < end:
                status, body = agent.get("/metrics")
                self.assertEqual(status, 200)
                scrapes += 1
            agent.wait_for(lambda: len(harness.snapshot_files(snapdir)) >= 2, what="two snapshots")
        finally:
            churner.stop()
            rc = agent.stop()
        self.assertEqual(rc, 0, agent.log()[-3000:])
        self.assertEqual(harness.sanitizer_reports(agent.log()), [])
        for path in harness.snapshot_files(snapdir):
            _, rows = harness.read_csv_file(path)
            for row in rows:
                check_row_is_whole(self, row)
        self.assertEqual(harness.stray_files(snapdir), [])
        print(f"run under churn: {scrapes} scrapes, {len(harness.snapshot_files(snapdir))} snapshots")


class HostileEntriesTest(unittest.TestCase):
    """Entries the kernel would never produce, or produces only in races: the agent skips or
    degrades them, keeps every good PID, and never crashes."""

    def test_hostile_entries(self):
        tmp = tempfile.mkdtemp(prefix="nodeproc-fault-")
        try:
            fake = fakeproc.FakeProc(tmp)
            good = [2000, 2001, 2002]
            for pid in good:
                fake.add(pid, fake.next_gen())
            proc = fake.proc

            def make(pid, **files):
                d = os.path.join(proc, str(pid))
                tmpd = fake.build(pid, fake.next_gen())
                os.rename(tmpd, d)
                os.chmod(d, 0o755)
                for name, content in files.items():
                    p = os.path.join(d, name)
                    if os.path.isdir(p):
                        shutil.rmtree(p)
                    elif os.path.lexists(p):
                        os.remove(p)
                    if content is None:
                        continue
                    if content == "DIR":
                        os.mkdir(p)
                    elif isinstance(content, tuple) and content[0] == "LINK":
                        os.symlink(content[1], p)
                    else:
                        with open(p, "wb") as f:
                            f.write(content if isinstance(content, bytes) else content.encode())
            make(3000, stat="DIR")                          # read() gives EISDIR
            make(3001, stat="")                             # empty
            make(3002, stat="3002 (trunc")                  # truncated mid-comm
            make(3003, stat="garbage\x00\xff" * 100)
            make(3004, stat=None)                           # missing
            make(3005, status=None, statm=None, io=None, cmdline=None)  # only stat
            make(3006, stat="3006 (a) (b) S " + " ".join(["99999999999999999999999"] * 60))
            make(3007, cmdline=b"x" * (4 << 20))            # 4 MiB command line
            make(3008, cmdline=b"a,b\0\"q\"\0new\nline\0\xff\xfe\0")
            make(3009, io="read_bytes: -5\nwrite_bytes: notanumber\n")
            make(3010, statm="1 2")
            make(3011, stat=("LINK", "/proc/self/stat"))     # symlink out of the tree
            make(3012, stat=("LINK", "stat"))                # symlink loop (ELOOP)
            make(3013, fd="DIR")                             # empty fd folder
            make(3014, status="Name:\t\nUid:\tx\nThreads:\t\n")
            make(3015, stat="3015 (" + ")" * 5000 + ") S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0\n")
            os.mkdir(os.path.join(proc, "123abc"))
            os.mkdir(os.path.join(proc, "-1"))
            os.mkdir(os.path.join(proc, "99999999999999999999"))
            os.symlink("/nonexistent", os.path.join(proc, "4000"))
            os.symlink("4001", os.path.join(proc, "4001"))  # loop
            with open(os.path.join(proc, "4002"), "w") as f:  # a file where a folder belongs
                f.write("x")
            start = time.time()
            out = snapshot(f"--proc-root={proc}")
            elapsed = time.time() - start
            _, rows = parse_csv(out.stdout)
            by_pid = {int(r["pid"]): r for r in rows}
            for pid in good:
                self.assertIn(pid, by_pid)
                check_row_is_whole(self, by_pid[pid])
            self.assertEqual(harness.sanitizer_reports(out.stderr), [])
            if 3008 in by_pid:
                self.assertIn("a,b", by_pid[3008]["cmdline"])
            if 3007 in by_pid:
                self.assertLessEqual(len(by_pid[3007]["cmdline"]), (4 << 20) + 10)
            for pid in (3000, 3001, 3002, 3003, 3004):
                self.assertNotIn(pid, by_pid, f"pid {pid} with a broken stat is skipped whole")
            print(f"hostile tree: {len(rows)} rows in {elapsed:.2f}s, pids kept: "
                  f"{sorted(p for p in by_pid if p >= 3000)}")
        finally:
            fakeproc._rmtree(tmp)


def have_setpriv():
    return shutil.which("setpriv") is not None and os.getuid() == 0


@unittest.skipUnless(have_setpriv(), "needs root and setpriv to run the agent as nobody")
class PermissionDeniedTest(unittest.TestCase):
    def test_unreadable_io_and_status_as_nobody_on_a_fake_tree(self):
        tmp = tempfile.mkdtemp(prefix="nodeproc-fault-")
        try:
            fake = fakeproc.FakeProc(tmp)
            fake.add(5000, fake.next_gen())                    # all readable
            fake.add(5001, fake.next_gen(), io_mode=0o400)     # io: root only -> EACCES
            fake.add(5002, fake.next_gen(), status_mode=0o400)  # status: root only
            for pid in (5000, 5001, 5002):
                os.chmod(fake.pid_dir(pid), 0o755)
            out = snapshot(f"--proc-root={fake.proc}", user="nobody")
            _, rows = parse_csv(out.stdout)
            by_pid = {int(r["pid"]): r for r in rows}
            self.assertIn(5000, by_pid)
            self.assertNotEqual(by_pid[5000]["read_bytes"], "")
            self.assertIn(5001, by_pid, "unreadable io keeps the process, io unknown")
            self.assertEqual(by_pid[5001]["read_bytes"], "", "unreadable io is unknown, not 0")
            self.assertEqual(by_pid[5001]["write_bytes"], "")
            check_row_is_whole(self, by_pid[5001])
            if 5002 in by_pid:
                check_row_is_whole(self, by_pid[5002])
            print(f"EACCES as nobody: 5001 io unknown; 5002 (status denied) "
                  f"{'kept' if 5002 in by_pid else 'skipped'}; stderr: {out.stderr.strip()[:300]}")
        finally:
            fakeproc._rmtree(tmp)

    def test_live_proc_as_nobody_logs_permission_once_per_cause(self):
        out = snapshot("--log-level=debug", user="nobody")
        _, rows = parse_csv(out.stdout)
        root_rows = [r for r in rows if r["uid"] == "0"]
        self.assertTrue(root_rows)
        # Other users' io is unreadable for nobody: unknown, never 0.
        denied = [r for r in root_rows if r["read_bytes"] == ""]
        self.assertTrue(denied, "some root processes' io is unreadable by nobody")
        lines = [l for l in out.stderr.splitlines()
                 if "ermission" in l or "EACCES" in l or "denied" in l]
        self.assertLessEqual(len(lines), 4, "permission errors are logged once per cause:\n"
                             + "\n".join(lines[:10]))
        print(f"live /proc as nobody: {len(rows)} rows, {len(denied)} with io unknown, "
              f"{len(lines)} permission log lines")


class LiveChurnTest(unittest.TestCase):
    def test_snapshots_of_the_live_proc_while_processes_churn(self):
        stop = threading.Event()
        spawned = [0]

        def churn():
            while not stop.is_set():
                procs = [subprocess.Popen(["/bin/true"]) for _ in range(20)]
                for p in procs:
                    p.wait()
                spawned[0] += len(procs)
        threads = [threading.Thread(target=churn, daemon=True) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            for _ in range(5):
                out = snapshot()
                header, rows = parse_csv(out.stdout)
                self.assertEqual(",".join(header), HEADER)
                self.assertGreater(len(rows), 3)
                for r in rows:
                    self.assertTrue(r["pid"].isdigit() and r["status"] != "", r)
                self.assertEqual(harness.sanitizer_reports(out.stderr), [])
        finally:
            stop.set()
            for t in threads:
                t.join()
        print(f"live churn: {spawned[0]} short-lived processes during 5 snapshots")


if __name__ == "__main__":
    unittest.main(verbosity=2)
