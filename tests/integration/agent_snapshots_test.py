#!/usr/bin/env python3
"""End-to-end tests of the nodeproc binary on this machine's live /proc: `snapshot` output,
the CSV files `run` writes (read back with Python's csv module and compared with /proc field
by field), SIGTERM in the middle of a snapshot, unwritable and full snapshot folders, bad flags.
"""
import csv
import glob
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

BIN = os.environ.get("NODEPROC_BINARY", "build/agent/nodeproc")
HEADER = ("timestamp,pid,name,cmdline,vms_kb,rss_kb,create_time,cpu_5s,cpu_2m,cpu_1h,status,"
          "ppid,uid,threads,fds,read_bytes,write_bytes,container_id,pod_uid,namespace,pod,container")
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
STATUS = {"R": "running", "S": "sleeping", "D": "disk-sleep", "T": "stopped", "t": "tracing-stop",
          "Z": "zombie", "X": "dead", "I": "idle"}

CHILD = r"""
import sys, time
block = bytearray(48 * 1024 * 1024)
for i in range(0, len(block), 4096):
    block[i] = 1
sys.stdout.write("ready\n"); sys.stdout.flush()
burn = sys.argv[1] == "burn"
end = time.time() + 120
while time.time() < end:
    if not burn:
        time.sleep(0.2)
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def btime():
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("btime "):
                return int(line.split()[1])
    raise RuntimeError("no btime")


def stat_fields(pid):
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read().decode("latin-1")
    rest = data[data.rindex(")") + 2:].split()
    return rest  # rest[0] is the state (field 3)


def cpu_seconds(pid):
    rest = stat_fields(pid)
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


class Child:
    """A python3 child with a known command line (commas, quotes) and ~48 MiB resident."""

    def __init__(self, mode):
        self.argv = [sys.executable, "-c", CHILD, mode, "arg,with,commas", 'say "hi"']
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, text=True)
        self.started = time.time()
        assert self.proc.stdout.readline().strip() == "ready"

    @property
    def pid(self):
        return self.proc.pid

    def close(self):
        self.proc.kill()
        self.proc.wait()


def run_snapshot(fmt, *extra, env=None):
    out = subprocess.run([BIN, "snapshot", f"--format={fmt}", "--snapshot-wait=1s", *extra],
                         capture_output=True, timeout=120, env=env)
    if out.returncode != 0:
        raise AssertionError(f"snapshot failed ({out.returncode}): {out.stderr.decode()}")
    return out


def parse_csv(text):
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


class SnapshotCommandTest(unittest.TestCase):
    def test_csv_row_of_a_known_child_matches_proc(self):
        child = Child("burn")
        try:
            cpu_before, t_before = cpu_seconds(child.pid), time.time()
            out = run_snapshot("csv")
            cpu_after, t_after = cpu_seconds(child.pid), time.time()
            header, rows = parse_csv(out.stdout.decode("utf-8", "surrogateescape"))
            self.assertEqual(",".join(header), HEADER)
            row = next(r for r in rows if r["pid"] == str(child.pid))
            with open(f"/proc/{child.pid}/comm") as f:
                self.assertEqual(row["name"], f.read().rstrip("\n"))
            self.assertEqual(row["cmdline"], " ".join(child.argv))
            self.assertIn("arg,with,commas", row["cmdline"])
            self.assertIn('say "hi"', row["cmdline"])
            self.assertEqual(int(row["ppid"]), os.getpid())
            self.assertEqual(int(row["uid"]), os.getuid())
            self.assertEqual(row["status"], "running")
            rss_kb = int(row["rss_kb"])
            self.assertGreater(rss_kb, 48 * 1024, "the child touched 48 MiB")
            self.assertLess(rss_kb, 48 * 1024 + 64 * 1024)
            with open(f"/proc/{child.pid}/statm") as f:
                vms_kb = int(f.read().split()[0]) * PAGE // 1024
            self.assertAlmostEqual(int(row["vms_kb"]), vms_kb, delta=8 * 1024)
            self.assertEqual(int(row["threads"]), 1)
            self.assertEqual(int(row["fds"]), len(os.listdir(f"/proc/{child.pid}/fd")))
            created = time.mktime(time.strptime(row["create_time"] + " UTC", "%Y-%m-%d %H:%M:%S %Z")) - time.timezone
            self.assertLess(abs(created - child.started), 1.5)
            ts = time.mktime(time.strptime(row["timestamp"] + " UTC", "%Y-%m-%d %H:%M:%S %Z")) - time.timezone
            self.assertLess(abs(ts - t_after), 5)
            # What the child burned while the snapshot ran, in % of a core, vs cpu_5s.
            burned = 100 * (cpu_after - cpu_before) / (t_after - t_before)
            self.assertNotEqual(row["cpu_5s"], "")
            self.assertLess(abs(float(row["cpu_5s"]) - burned), 30,
                            f"cpu_5s={row['cpu_5s']} burned~{burned:.1f}")
            self.assertEqual(row["container_id"], "")
            # Every PID of /proc is there (give or take churn).
            pids = [d for d in os.listdir("/proc") if d.isdigit()]
            self.assertLess(abs(len(rows) - len(pids)), max(5, len(pids) // 10))
        finally:
            child.close()

    def test_idle_child_has_low_cpu(self):
        child = Child("sleep")
        try:
            _, rows = parse_csv(run_snapshot("csv").stdout.decode("utf-8", "surrogateescape"))
            row = next(r for r in rows if r["pid"] == str(child.pid))
            self.assertLess(float(row["cpu_5s"]), 10.0)
            self.assertEqual(row["status"], "sleeping")
        finally:
            child.close()

    def test_json_and_table(self):
        child = Child("sleep")
        try:
            data = json.loads(run_snapshot("json").stdout)
            rows = data if isinstance(data, list) else data.get("processes", [])
            mine = [r for r in rows if r.get("pid") == child.pid]
            self.assertEqual(len(mine), 1)
            self.assertEqual(mine[0]["ppid"], os.getpid())
            table = run_snapshot("table").stdout.decode("utf-8", "replace")
            self.assertIn("PID", table.splitlines()[0])
            self.assertIn(str(child.pid), table)
        finally:
            child.close()

    def test_anonymize_hides_the_command_line(self):
        child = Child("sleep")
        try:
            _, rows = parse_csv(run_snapshot("csv", "--anonymize").stdout.decode())
            row = next(r for r in rows if r["pid"] == str(child.pid))
            self.assertRegex(row["cmdline"], r"^[0-9a-f]{12}$")
        finally:
            child.close()


def one_line_error(test, *args):
    """Runs nodeproc with bad arguments: it must fail with one clear line on stderr (returned)."""
    out = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=30)
    test.assertNotEqual(out.returncode, 0, args)
    lines = [l for l in out.stderr.splitlines() if l.strip()]
    test.assertGreaterEqual(len(lines), 1)
    test.assertLessEqual(len(lines), 2, out.stderr)
    return lines[0]


class BadInputTest(unittest.TestCase):
    def check_one_line_error(self, *args):
        return one_line_error(self, *args)

    def test_bad_flags_exit_with_one_clear_line(self):
        self.assertIn("process-metrics", self.check_one_line_error("run", "--process-metrics=maybe"))
        # Patterns are RE2: Perl-only constructs are a start-up error naming the pattern.
        self.assertIn("(?=x)", self.check_one_line_error("snapshot", "--scrub-pattern=(?=x)"))
        self.assertIn("(?!kube)", self.check_one_line_error("snapshot", "--container-exclude=name:(?!kube).*"))
        self.assertIn("proc-root", self.check_one_line_error("snapshot", "--proc-root=/nonexistent/proc"))
        self.assertIn("snapshot-retention", self.check_one_line_error("run", "--snapshot-retention=forever"))
        self.assertIn("bogus", self.check_one_line_error("run", "--bogus-flag=1"))
        self.assertIn("anonymize-key-file", self.check_one_line_error("snapshot", "--anonymize-key-file=/nonexistent"))

    def test_env_sets_flags(self):
        env = dict(os.environ, NODEPROC_FORMAT="json")
        out = subprocess.run([BIN, "snapshot", "--snapshot-wait=0s"], capture_output=True, env=env, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        json.loads(out.stdout)


class Agent:
    def __init__(self, snapshot_dir, *extra, env=None, port=None):
        self.port = port or free_port()
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [BIN, "run", f"--listen-address=127.0.0.1:{self.port}", f"--snapshot-dir={snapshot_dir}",
             "--machine-id=test-node", "--snapshot-wait=200ms", "--cpu-sample-interval=500ms", *extra],
            stderr=self.stderr, env=env)

    def log(self):
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def get(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
            return r.status, r.read().decode()

    def wait_for(self, predicate, timeout=60, what="condition"):
        end = time.time() + timeout
        while time.time() < end:
            if predicate():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"agent exited ({self.proc.returncode}) waiting for {what}:\n{self.log()}")
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}:\n{self.log()}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


def files(root, pattern):
    return glob.glob(os.path.join(root, "**", pattern), recursive=True) + \
        glob.glob(os.path.join(root, "**", "." + pattern), recursive=True)


class RunSnapshotsTest(unittest.TestCase):
    def test_run_writes_a_complete_csv_at_start_in_the_contract_layout(self):
        child = Child("sleep")
        with tempfile.TemporaryDirectory() as d:
            agent = Agent(d)
            try:
                agent.wait_for(lambda: files(d, "process_*.csv"), what="first snapshot")
                path = files(d, "process_*.csv")[0]
                rel = os.path.relpath(path, d).split(os.sep)
                self.assertEqual(rel[0], "test-node")
                self.assertRegex(rel[1], r"^\d{8}T\d{6}Z$")
                self.assertEqual(rel[2], "process")
                self.assertRegex(rel[3], r"^process_\d{8}T\d{6}Z\.csv$")
                with open(path, newline="", encoding="utf-8", errors="surrogateescape") as f:
                    header, rows = parse_csv(f.read())
                self.assertEqual(",".join(header), HEADER)
                row = next(r for r in rows if r["pid"] == str(child.pid))
                self.assertIn("arg,with,commas", row["cmdline"])
                self.assertEqual(int(row["ppid"]), os.getpid())
                self.assertEqual(agent.get("/healthz")[0], 200)
                self.assertIn("process snapshot written", agent.log())
            finally:
                self.assertEqual(agent.stop(), 0)
                child.close()
            self.assertEqual(files(d, "*.tmp"), [])

    def test_sigterm_mid_snapshot_leaves_no_partial_or_temp_file(self):
        for attempt in range(3):
            with tempfile.TemporaryDirectory() as d:
                env = dict(os.environ, NODEPROC_TEST_SNAPSHOT_ROW_DELAY_MS="20")
                agent = Agent(d, env=env)
                try:
                    agent.wait_for(lambda: files(d, "*.tmp"), what="a snapshot in progress")
                    time.sleep(0.1 * attempt)
                finally:
                    rc = agent.stop()
                self.assertEqual(rc, 0, agent.log())
                self.assertIn("Skipping incomplete process snapshot (snapshot in progress)", agent.log())
                self.assertEqual(files(d, "*.tmp"), [], "temp file left")
                self.assertEqual(files(d, "process_*.csv"), [], "partial snapshot written")

    def test_unwritable_folder_logs_an_error_and_the_agent_keeps_running(self):
        with tempfile.TemporaryDirectory() as d:
            blocker = os.path.join(d, "not-a-dir")
            open(blocker, "w").close()
            agent = Agent(os.path.join(blocker, "snapshots"))
            try:
                agent.wait_for(lambda: "process snapshot failed" in agent.log(), what="error line")
                line = next(l for l in agent.log().splitlines() if "process snapshot failed" in l)
                self.assertIn("level=error", line)
                self.assertEqual(agent.get("/healthz")[0], 200)
                self.assertIn("nodeproc_snapshot", agent.get("/metrics")[1])
            finally:
                self.assertEqual(agent.stop(), 0)

    def test_full_disk_leaves_no_partial_file(self):
        d = tempfile.mkdtemp()
        # A tmpfs of about half of what a snapshot of this machine takes (whole pages, at least
        # one): the snapshot cannot fit however few processes the machine runs right now.
        size = len(subprocess.run([BIN, "snapshot", "--format=csv", "--snapshot-wait=0s"],
                                  capture_output=True, timeout=60).stdout)
        kib = max(4, (size // 2) // 4096 * 4)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", d],
                          capture_output=True).returncode != 0:
            self.skipTest("cannot mount a small tmpfs here (needs root and CAP_SYS_ADMIN)")
        try:
            agent = Agent(d)
            try:
                agent.wait_for(lambda: "process snapshot failed" in agent.log(), what="ENOSPC error")
                self.assertIn("No space left on device", agent.log())
                self.assertEqual(files(d, "process_*.csv"), [])
                self.assertEqual(files(d, "*.tmp"), [])
                self.assertEqual(agent.get("/healthz")[0], 200)
            finally:
                self.assertEqual(agent.stop(), 0)
        finally:
            subprocess.run(["umount", d])
            os.rmdir(d)


if __name__ == "__main__":
    unittest.main(verbosity=2)
