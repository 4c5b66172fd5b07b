"""Shared helpers of the fault_*/security_* integration tests: run the built `nodeproc`
(env NODEPROC_BINARY) as `snapshot` or `run`, read its CSV output, wait for conditions.
"""
import csv
import glob
import io
import os
import signal
import socket
import subprocess
import tempfile
import time
import sys
import urllib.request

csv.field_size_limit(sys.maxsize)  # a command line may be megabytes long

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NODEPROC_BINARY", os.path.join(ROOT, "build", "agent", "nodeproc"))
SANITIZED = os.environ.get("NODEPROC_SANITIZED") == "1"
# Sanitized binaries are several times slower: stretch every deadline.
SLOW = 4 if SANITIZED else 1
HEADER = ("timestamp,pid,name,cmdline,vms_kb,rss_kb,create_time,cpu_5s,cpu_2m,cpu_1h,status,"
          "ppid,uid,threads,fds,read_bytes,write_bytes,container_id,pod_uid,namespace,pod,container")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_csv(text):
    """RFC 4180 via python's csv module. Returns (header, [row dict])."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        raise AssertionError("empty CSV")
    header = rows[0]
    for r in rows[1:]:
        if len(r) != len(header):
            raise AssertionError(f"row with {len(r)} fields, header has {len(header)}: {r!r}")
    return header, [dict(zip(header, r)) for r in rows[1:]]


def read_csv_file(path):
    with open(path, newline="", encoding="utf-8", errors="surrogateescape") as f:
        return parse_csv(f.read())


def snapshot(*args, fmt="csv", env=None, timeout=120, check=True, user=None):
    """`nodeproc snapshot --format=<fmt> --snapshot-wait=0s <args>`; returns CompletedProcess
    with text stdout/stderr (surrogateescape)."""
    cmd = [BIN, "snapshot", f"--format={fmt}", "--snapshot-wait=0s", *args]
    if user is not None:
        cmd = as_user(user) + cmd
    out = subprocess.run(cmd, capture_output=True, timeout=timeout * SLOW, env=env)
    out.stdout = out.stdout.decode("utf-8", "surrogateescape")
    out.stderr = out.stderr.decode("utf-8", "replace")
    if check and out.returncode != 0:
        raise AssertionError(f"snapshot exit {out.returncode}: {out.stderr}")
    return out


def as_user(user):
    """A command prefix running as `user` (no groups), or skip-worthy None."""
    import pwd
    pw = pwd.getpwnam(user)
    return ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all"]


def files_under(root):
    out = []
    for dirpath, _, names in os.walk(root):
        out += [os.path.join(dirpath, n) for n in names]
    return out


def snapshot_files(root):
    return sorted(glob.glob(os.path.join(root, "**", "process_*.csv"), recursive=True))


def stray_files(root):
    """Anything under a snapshot folder that is not a finished process_*.csv (temp files)."""
    return [f for f in files_under(root)
            if not (os.path.basename(f).startswith("process_") and f.endswith(".csv"))]


class Agent:
    """`nodeproc run` in the background, stderr captured."""

    def __init__(self, *extra, snapshot_dir=None, env=None, port=None, listen=True,
                 machine_id="fault-node", cmd_prefix=()):
        self.port = port or free_port()
        self.stderr = tempfile.TemporaryFile()
        args = [BIN, "run", "--snapshot-wait=200ms", "--cpu-sample-interval=500ms"]
        if listen:
            args.append(f"--listen-address=127.0.0.1:{self.port}")
        else:
            args.append("--listen-address=")
        if snapshot_dir is not None:
            args += [f"--snapshot-dir={snapshot_dir}", f"--machine-id={machine_id}"]
        self.args = [*cmd_prefix, *args, *extra]
        self.proc = subprocess.Popen(self.args, stderr=self.stderr, stdout=subprocess.DEVNULL,
                                     env=env)

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def get(self, path, timeout=10, headers=None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers or {})
        with urllib.request.urlopen(req, timeout=timeout * SLOW) as r:
            return r.status, r.read().decode("utf-8", "replace")

    def wait_for(self, predicate, timeout=60, what="condition"):
        end = time.time() + timeout * SLOW
        while time.time() < end:
            try:
                if predicate():
                    return
            except (OSError, ValueError):
                pass
            if self.proc.poll() is not None:
                raise AssertionError(f"agent exited ({self.proc.returncode}) waiting for {what}:\n"
                                     f"{self.log()[-4000:]}")
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}:\n{self.log()[-4000:]}")

    def wait_ready(self, timeout=60):
        self.wait_for(lambda: self.get("/healthz", timeout=2)[0] == 200, timeout, "/healthz")

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout * SLOW)
            return rc
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"agent did not stop within {timeout}s of signal {sig}:\n"
                                 f"{self.log()[-4000:]}")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def sanitizer_reports(text):
    return [l for l in text.splitlines()
            if "AddressSanitizer" in l or "LeakSanitizer" in l or "runtime error:" in l]


def require_agent():
    """Skips the calling test module while `nodeproc snapshot` does not exist yet (the CLI stub
    of the skeleton prints its usage for every command). Call from setUpModule()."""
    import unittest
    out = subprocess.run([BIN, "snapshot", "--proc-root=/nonexistent-nodeproc-root"],
                         capture_output=True, text=True, timeout=60)
    if "proc-root" not in out.stderr and "usage: nodeproc run|snapshot|version" in out.stderr:
        raise unittest.SkipTest("`nodeproc snapshot` is not implemented in this build yet")
