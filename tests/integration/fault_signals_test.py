#!/usr/bin/env python3
"""Fault injection around the agent's life cycle: SIGTERM/SIGINT at random points of a CSV
snapshot (20 times: never a partial or temp file, exit 0, no crash), SIGHUP (logged, the agent
goes on), a full snapshot volume (ENOSPC on a small tmpfs: no partial file, the agent goes on
and recovers when space comes back) and configuration errors (one clear stderr line, non-zero
exit).
"""
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fault"))
import fakeproc  # noqa: E402
import harness  # noqa: E402
from harness import BIN, SLOW, parse_csv  # noqa: E402

NPIDS = 200


def make_tree(tmp):
    fake = fakeproc.FakeProc(os.path.join(tmp, "root"))
    for pid in range(3000, 3000 + NPIDS):
        fake.add(pid, fake.next_gen())
    return fake


def setUpModule():
    harness.require_agent()


class SigtermMidSnapshotTest(unittest.TestCase):
    def test_sigterm_at_random_points_of_a_snapshot_20_times(self):
        rng = random.Random(int(os.environ.get("NODEPROC_FAULT_SEED", "20261122")))
        tmp = tempfile.mkdtemp(prefix="nodeproc-sig-")
        fake = make_tree(tmp)
        # 200 rows x 5 ms: a snapshot takes about a second, so a signal often lands inside it.
        env = dict(os.environ, NODEPROC_TEST_SNAPSHOT_ROW_DELAY_MS="5")
        outcomes = {"cancelled": 0, "complete": 0, "none": 0}
        try:
            for i in range(20):
                snapdir = os.path.join(tmp, f"snap{i}")
                sig = signal.SIGINT if i % 5 == 4 else signal.SIGTERM
                agent = harness.Agent(f"--proc-root={fake.proc}", "--snapshot-interval=1s",
                                      snapshot_dir=snapdir, env=env, listen=False)
                try:
                    if i % 2 == 0:
                        # Wait until a temp file exists, then a random part of the snapshot.
                        agent.wait_for(lambda: harness.stray_files(snapdir) if os.path.isdir(snapdir) else False,
                                       timeout=30, what="a snapshot in progress")
                        time.sleep(rng.uniform(0, 0.9))
                    else:
                        # Anywhere: start-up, mid-snapshot, between snapshots.
                        time.sleep(rng.uniform(0, 2.5) * SLOW)
                finally:
                    rc = agent.stop(sig)
                log = agent.log()
                self.assertEqual(rc, 0, f"round {i}: exit {rc}\n{log[-3000:]}")
                self.assertEqual(harness.sanitizer_reports(log), [], f"round {i}")
                if os.path.isdir(snapdir):
                    self.assertEqual(harness.stray_files(snapdir), [], f"round {i}: temp file left")
                    for path in harness.snapshot_files(snapdir):
                        _, rows = harness.read_csv_file(path)
                        self.assertEqual(len(rows), NPIDS, f"round {i}: partial snapshot {path}")
                        outcomes["complete"] += 1
                written = harness.snapshot_files(snapdir) if os.path.isdir(snapdir) else []
                if "Skipping incomplete process snapshot (snapshot in progress)" in log:
                    outcomes["cancelled"] += 1
                elif not written:
                    outcomes["none"] += 1
        finally:
            fakeproc._rmtree(tmp)
        print(f"20 signals: {outcomes['cancelled']} cancelled mid-snapshot (logged), "
              f"{outcomes['complete']} complete files, {outcomes['none']} stopped before any file")
        self.assertGreater(outcomes["cancelled"], 0, "some signals landed inside a snapshot")


class SighupTest(unittest.TestCase):
    def test_sighup_is_logged_and_the_agent_goes_on(self):
        agent = harness.Agent("--scan-min-interval=0s")
        try:
            agent.wait_ready()
            for _ in range(3):
                agent.proc.send_signal(signal.SIGHUP)
                time.sleep(0.3)
            self.assertTrue(agent.alive())
            self.assertEqual(agent.get("/metrics")[0], 200)
            agent.wait_for(lambda: "SIGHUP" in agent.log(), what="a SIGHUP log line")
        finally:
            rc = agent.stop()
        self.assertEqual(rc, 0, agent.log()[-2000:])
        line = next(l for l in agent.log().splitlines() if "SIGHUP" in l)
        print("SIGHUP:", line)


class FullDiskTest(unittest.TestCase):
    def test_enospc_no_partial_file_agent_goes_on_and_recovers(self):
        tmp = tempfile.mkdtemp(prefix="nodeproc-enospc-")
        fake = make_tree(tmp)
        size = len(harness.snapshot(f"--proc-root={fake.proc}").stdout.encode())
        mnt = os.path.join(tmp, "mnt")
        os.mkdir(mnt)
        # Room for one snapshot (plus folders), not two.
        kib = (size * 3 // 2) // 4096 * 4 + 8
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", mnt],
                           capture_output=True)
        if r.returncode != 0:
            fakeproc._rmtree(tmp)
            self.skipTest(f"cannot mount a small tmpfs: {r.stderr.decode().strip()}")
        try:
            agent = harness.Agent(f"--proc-root={fake.proc}", "--snapshot-interval=1s",
                                  "--snapshot-retention=1000", snapshot_dir=mnt)
            try:
                agent.wait_ready()
                agent.wait_for(lambda: "process snapshot failed" in agent.log() or
                               "No space" in agent.log(), what="an ENOSPC error line")
                self.assertTrue(agent.alive())
                self.assertEqual(agent.get("/healthz")[0], 200)
                files = harness.snapshot_files(mnt)
                self.assertEqual(harness.stray_files(mnt), [], "no temp file on a full disk")
                for path in files:
                    _, rows = harness.read_csv_file(path)
                    self.assertEqual(len(rows), NPIDS, f"partial file {path}")
                body = agent.get("/metrics")[1]
                fail = [l for l in body.splitlines()
                        if l.startswith("nodeproc_snapshots_total") and "failure" in l]
                self.assertTrue(fail and float(fail[0].split()[-1]) >= 1, "failure metric")
                # Space comes back: the next snapshot succeeds.
                for path in files:
                    os.remove(path)
                n_written = agent.log().count("process snapshot written")
                agent.wait_for(lambda: agent.log().count("process snapshot written") > n_written,
                               timeout=30, what="a snapshot after space came back")
                self.assertEqual(harness.stray_files(mnt), [])
                err = next(l for l in agent.log().splitlines() if "snapshot failed" in l)
                print(f"ENOSPC (tmpfs {kib}k, snapshot {size} B):", err[:220])
            finally:
                rc = agent.stop()
            self.assertEqual(rc, 0, agent.log()[-2000:])
            self.assertEqual(harness.stray_files(mnt), [])
        finally:
            subprocess.run(["umount", "-l", mnt])
            fakeproc._rmtree(tmp)


class ConfigErrorTest(unittest.TestCase):
    def one_line_error(self, args, env=None, contains=None, last_line_only=False):
        full_env = dict(os.environ, **(env or {}))
        out = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=30 * SLOW,
                             env=full_env)
        self.assertNotEqual(out.returncode, 0, f"{args} must fail")
        self.assertNotIn(out.returncode, (-6, -11, 134, 139), f"{args} crashed")
        lines = [l for l in out.stderr.splitlines() if l.strip()]
        if last_line_only:  # a run-time failure may follow log lines; it ends with the clear one
            lines = lines[-1:]
            self.assertTrue(lines and lines[0].startswith("nodeproc: "), out.stderr)
        self.assertEqual(len(lines), 1, f"{args}: one clear line, got:\n{out.stderr}")
        if contains:
            self.assertRegex(lines[0], contains)
        return out.returncode, lines[0]

    def test_config_errors(self):
        tmp = tempfile.mkdtemp(prefix="nodeproc-cfg-")
        empty_key = os.path.join(tmp, "empty.key")
        open(empty_key, "w").close()
        busy = harness.free_port()
        import socket
        holder = socket.socket()
        holder.bind(("127.0.0.1", busy))
        holder.listen(1)
        cases = [
            (["run", "--snapshot-interval=abc"], None, "snapshot.interval"),
            (["run", "--snapshot-interval=0s"], None, "snapshot.interval"),
            (["run", "--snapshot-retention=-1"], None, "retention"),
            (["run", "--snapshot-retention=forever"], None, "retention"),
            (["run", "--process-metrics=maybe"], None, "process.metrics"),
            (["run", "--max-process-series=0"], None, "max.process.series"),
            (["run", "--log-level=loud"], None, "log.level"),
            (["run", "--cpu-sample-interval=1ms"], None, "cpu.sample.interval"),
            (["run", "--kubelet-timeout=-1s"], None, "kubelet"),
            (["snapshot", "--proc-root=/nonexistent/proc"], None, "proc.root"),
            (["snapshot", "--anonymize-key-file=/nonexistent"], None, "anonymize.key.file"),
            (["snapshot", f"--anonymize-key-file={empty_key}"], None, "anonymize.key.file"),
            (["snapshot", "--kubelet-url=https://127.0.0.1:1", "--kubelet-ca-file=/nonexistent",
              "--kubelet-token-file=/nonexistent"], None, "kubelet"),
            (["run", "--web-tls-cert-file=/etc/hostname"], None, "tls"),
            (["run", "--web-basic-auth-user=admin"], None, "basic.auth"),
            (["run", "--bogus-flag=1"], None, "bogus"),
            (["run", "extra-positional"], None, "extra-positional"),
            (["snapshot", "--format=xml"], None, "format"),
            (["run", "--container-exclude=name:(unclosed"], None, None),
            (["run", "--container-include=nonsense"], None, None),
            (["run"], {"NODEPROC_SNAPSHOT_INTERVAL": "bogus"}, "NODEPROC_SNAPSHOT_INTERVAL"),
            (["run", f"--listen-address=127.0.0.1:{busy}"], None, str(busy)),
            (["run", "--listen-address=256.1.1.1:99999"], None, None),
        ]
        try:
            for args, env, contains in cases:
                with self.subTest(args=args, env=env):
                    busy_port = any(str(busy) in a for a in args)
                    rc, line = self.one_line_error(args, env, contains, last_line_only=busy_port)
                    print(f"config error: {' '.join(args)} {env or ''} -> exit {rc}: {line[:150]}")
        finally:
            holder.close()
            os.remove(empty_key)
            os.rmdir(tmp)


if __name__ == "__main__":
    unittest.main(verbosity=2)
