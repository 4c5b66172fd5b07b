#!/usr/bin/env python3
"""End-to-end test of the deep snapshot (`nodeproc run --snapshot-files`) on this machine's live
/proc: a child holds a known open file and a known memory-mapped file (its fd closed); the
files_<ts>.csv written next to process_<ts>.csv is read back with Python's csv module and its
rows for the child are compared with os.stat() and with dpkg's own answer for the libc the child
maps. Also: the loaded-package metric, SIGTERM during the files phase (no partial files CSV, no
temp file, the complete process CSV stays), and the flags' checks.
Bounded: about 20 s on 2 cores (one agent run per test, each stopped as soon as it has written).
"""
import csv
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_snapshots_test import BIN, Agent, files, one_line_error  # noqa: E402  (shared helpers)

FILES_HEADER = ("timestamp,pid,container_id,pod_uid,namespace,pod,container,path,kind,size,mode,"
                "uid,gid,mtime,inode,package,package_version")
PROCESS_HEADER_START = "timestamp,pid,name,cmdline,"

CHILD = r"""
import ctypes, mmap, os, sys, time
held = open(sys.argv[1], "rb")                       # stays open: kind "open"
# Mapped, fd closed: kind "mapped" (Python's mmap module would keep a dup of the fd open).
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
fd = os.open(sys.argv[2], os.O_RDONLY)
addr = libc.mmap(None, os.fstat(fd).st_size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
assert addr not in (None, ctypes.c_void_p(-1).value), ctypes.get_errno()
os.close(fd)
sys.stdout.write("ready\n"); sys.stdout.flush()
time.sleep(120)
"""


def utc(text):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(text))


def dpkg_owner(path):
    """(package, version) dpkg says owns `path` (trying the /usr-merged twin too), or None."""
    if shutil.which("dpkg") is None:
        return None
    candidates = [path]
    if path.startswith("/usr/"):
        candidates.append(path[len("/usr"):])
    else:
        candidates.append("/usr" + path)
    for p in candidates:
        out = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if out.returncode == 0:
            qualified = out.stdout.splitlines()[0].split(": ")[0]  # "libc6:amd64"
            version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", qualified],
                                     capture_output=True, text=True, check=True).stdout
            return qualified.split(":")[0], version
    return None


class Child:
    def __init__(self, workdir):
        self.open_path = os.path.join(workdir, "held, open.log")  # a comma: CSV quoting
        self.mapped_path = os.path.join(workdir, "mapped.bin")
        with open(self.open_path, "wb") as f:
            f.write(b"x" * 12345)
        os.chmod(self.open_path, 0o640)
        with open(self.mapped_path, "wb") as f:
            f.write(b"m" * 8192)
        os.chmod(self.mapped_path, 0o600)
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD, self.open_path, self.mapped_path],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"

    @property
    def pid(self):
        return self.proc.pid

    def libc(self):
        with open(f"/proc/{self.pid}/maps") as f:
            for line in f:
                parts = line.split(maxsplit=5)
                if len(parts) == 6 and re.search(r"/libc\.so\.6$", parts[5].strip()):
                    return parts[5].strip()
        return None

    def close(self):
        self.proc.kill()
        self.proc.wait()


def read_csv(path):
    with open(path, newline="", encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return text, rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


class FilesSnapshotTest(unittest.TestCase):
    def test_child_open_and_mapped_files_with_packages_and_metric(self):
        with tempfile.TemporaryDirectory() as d, tempfile.TemporaryDirectory() as work:
            child = Child(work)
            agent = Agent(d, "--snapshot-files", "--package-metrics")
            try:
                agent.wait_for(lambda: files(d, "files_*.csv") and not files(d, ".files_*.tmp"),
                               what="files snapshot")
                agent.wait_for(lambda: "files snapshot written" in agent.log(), what="log line")
                [files_csv] = [p for p in files(d, "files_*.csv") if not os.path.basename(p).startswith(".")]
                [process_csv] = files(d, "process_*.csv")
                # Next to the process CSV, same timestamp.
                self.assertEqual(os.path.dirname(files_csv), os.path.dirname(process_csv))
                self.assertEqual(os.path.basename(files_csv)[len("files_"):],
                                 os.path.basename(process_csv)[len("process_"):])
                text, header, rows = read_csv(files_csv)
                self.assertEqual(",".join(header), FILES_HEADER)
                self.assertTrue(text.endswith("\n"))
                mine = {r["path"]: r for r in rows if r["pid"] == str(child.pid)}
                self.assertTrue(mine, "no rows for the child")

                held = mine[child.open_path]
                st = os.stat(child.open_path)
                self.assertEqual(held["kind"], "open")
                self.assertEqual(int(held["size"]), 12345)
                self.assertEqual(held["mode"], "0640")
                self.assertEqual(int(held["uid"]), st.st_uid)
                self.assertEqual(int(held["gid"]), st.st_gid)
                self.assertEqual(int(held["inode"]), st.st_ino)
                self.assertEqual(held["mtime"], utc(st.st_mtime))
                self.assertEqual(held["package"], "")
                self.assertEqual(held["container_id"], "")

                mapped = mine[child.mapped_path]
                self.assertEqual(mapped["kind"], "mapped")
                self.assertEqual(int(mapped["size"]), 8192)
                self.assertEqual(mapped["mode"], "0600")
                self.assertEqual(int(mapped["inode"]), os.stat(child.mapped_path).st_ino)

                libc_path = child.libc()
                self.assertIsNotNone(libc_path, "the child maps no libc.so.6")
                libc = mine[libc_path]
                self.assertEqual(libc["kind"], "mapped")
                self.assertEqual(int(libc["size"]), os.stat(libc_path).st_size)
                owner = dpkg_owner(libc_path)
                if owner is None:
                    print("dpkg not available: package of libc not compared", file=sys.stderr)
                else:
                    self.assertEqual((libc["package"], libc["package_version"]), owner)
                # Sockets/pipes are counted, not listed: every row is a path.
                self.assertTrue(all(r["path"].startswith("/") for r in rows))
                self.assertTrue(all(r["kind"] in ("open", "mapped", "both") for r in rows))

                # The same pids as the process CSV (minus kernel threads and exited processes).
                _, _, process_rows = read_csv(process_csv)
                self.assertTrue({r["pid"] for r in rows} <= {r["pid"] for r in process_rows})

                line = next(l for l in agent.log().splitlines() if "files snapshot written" in l)
                print("\n  " + line, file=sys.stderr)
                self.assertRegex(line, r"us_per_process=\d+")

                status, metrics = agent.get("/metrics")
                self.assertEqual(status, 200)
                if owner is not None:
                    m = re.search(r'^nodeproc_loaded_package_processes\{package="%s",version="%s"\} (\d+)$'
                                  % (re.escape(owner[0]), re.escape(owner[1])), metrics, re.M)
                    self.assertIsNotNone(m, "no loaded-package series for libc")
                    self.assertGreaterEqual(int(m.group(1)), 1)
                self.assertRegex(metrics, r"(?m)^nodeproc_loaded_package_series_dropped \d+$")
                rows_total = re.search(r"(?m)^nodeproc_files_snapshot_rows_total (\d+)", metrics)
                self.assertIsNotNone(rows_total)
                self.assertGreaterEqual(int(rows_total.group(1)), len(rows))
                if shutil.which("promtool"):
                    check = subprocess.run(["promtool", "check", "metrics"], input=metrics,
                                           capture_output=True, text=True)
                    self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
                    self.assertEqual(check.stdout + check.stderr, "")
            finally:
                self.assertEqual(agent.stop(), 0, agent.log())
                child.close()
            self.assertEqual(files(d, "*.tmp"), [])

    def test_sigterm_during_the_files_phase_drops_only_the_files_csv(self):
        for attempt in range(2):
            with tempfile.TemporaryDirectory() as d:
                env = dict(os.environ, NODEPROC_TEST_FILES_PROCESS_DELAY_MS="30")
                agent = Agent(d, "--snapshot-files", env=env)
                try:
                    agent.wait_for(lambda: files(d, ".files_*.tmp"), what="a files phase in progress")
                    time.sleep(0.2 * attempt)
                finally:
                    rc = agent.stop()
                log = agent.log()
                self.assertEqual(rc, 0, log)
                line = next((l for l in log.splitlines()
                             if "Skipping incomplete process snapshot (snapshot in progress)" in l), None)
                self.assertIsNotNone(line, log)
                self.assertIn("part=files", line)
                self.assertEqual(files(d, "*.tmp"), [], "temp file left")
                self.assertEqual(files(d, "files_*.csv"), [], "partial files CSV written")
                # The process CSV was complete before the files phase began: it stays, whole.
                [process_csv] = files(d, "process_*.csv")
                text, header, rows = read_csv(process_csv)
                self.assertTrue(",".join(header).startswith(PROCESS_HEADER_START))
                self.assertTrue(text.endswith("\n"))
                self.assertGreater(len(rows), 5)
                self.assertTrue(all(len(r) == len(header) for r in rows))


class FilesFlagsTest(unittest.TestCase):
    def check_one_line_error(self, *args):
        return one_line_error(self, *args)

    def test_bad_values_exit_with_one_clear_line(self):
        with tempfile.TemporaryDirectory() as d:
            self.assertIn("--max-files-per-process=0",
                          self.check_one_line_error("run", f"--snapshot-dir={d}", "--snapshot-files",
                                                    "--max-files-per-process=0"))
            self.assertIn("--package-metrics needs --snapshot-files",
                          self.check_one_line_error("run", f"--snapshot-dir={d}", "--package-metrics"))
            self.assertIn("--snapshot-files needs --snapshot-dir",
                          self.check_one_line_error("run", "--snapshot-files"))
            self.assertIn("max_files_per_process",
                          self.check_one_line_error("run", "--max-files-per-process=many"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
