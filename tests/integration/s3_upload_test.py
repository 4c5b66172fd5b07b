#!/usr/bin/env python3
"""Snapshot upload against a real S3 server: a throwaway Ceph RADOS Gateway started on loopback
by this test (tests/support/ceph_rgw.py; Debian packages from scripts/deps.sh). Checks:
byte-identical objects read back under the documented keys; the store stopped while snapshots
accumulate (and the agent restarted meanwhile), then every file arrives exactly once; SIGTERM
in the middle of an upload (no object, uploaded after restart) and in the middle of a snapshot
(never uploaded, logged); wrong keys; a missing bucket (then created: nothing lost).
When the gateway cannot start, prints SKIPPED with the reason and exits 77 (ctest: skipped).
"""
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fault"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "support"))
import ceph_rgw  # noqa: E402
import harness  # noqa: E402

BUCKET = "snaps"
RGW = None
KEY_RE = re.compile(r"^(?P<prefix>[^/]+)/(?P<machine>[^/]+)/(?P<start>\d{8}T\d{6}Z)/process/"
                    r"(?P<kind>process|files)_(?P<ts>\d{8}T\d{6}Z)\.csv$")


def creds(access=ceph_rgw.ACCESS_KEY, secret=ceph_rgw.SECRET_KEY):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=access, AWS_SECRET_ACCESS_KEY=secret)
    env.pop("AWS_SESSION_TOKEN", None)
    return env


def start_agent(tmp, prefix, *extra, env=None, bucket=BUCKET, interval="1s"):
    return harness.Agent(f"--snapshot-interval={interval}", f"--upload-bucket={bucket}",
                         f"--upload-endpoint={RGW.endpoint}", "--upload-path-style",
                         f"--upload-prefix={prefix}", "--upload-backoff-max=1s", *extra,
                         snapshot_dir=os.path.join(tmp, "snaps"), machine_id="node-a",
                         env=env or creds())


def metric(agent, name, labels=""):
    _, text = agent.get("/metrics")
    m = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def local_files(tmp):
    """{relative path under the snapshot dir: bytes} of complete snapshot files."""
    root = os.path.join(tmp, "snaps")
    out = {}
    for path in harness.files_under(root):
        name = os.path.basename(path)
        if re.match(r"^(process|files)_\d{8}T\d{6}Z\.csv$", name):
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = f.read()
    return out


def uploaded_lines(log):
    return re.findall(r'msg="snapshot uploaded" key=(\S+)', log)


def setUpModule():
    global RGW
    warnings.simplefilter("ignore", ResourceWarning)  # the harness keeps agent logs open
    harness.require_agent()
    missing = ceph_rgw.missing_binaries()
    reason = None
    if missing:
        reason = f"Ceph RGW binaries missing ({', '.join(missing)}; scripts/deps.sh installs them)"
    else:
        started = time.time()
        try:
            RGW = ceph_rgw.Rgw(start_timeout=120).start()
            RGW.client().create_bucket(BUCKET)
            print(f"Ceph RGW up at {RGW.endpoint} in {time.time() - started:.1f}s", flush=True)
        except Exception as e:  # noqa: BLE001  (any start failure is a visible skip)
            reason = f"Ceph RGW did not start: {e}"
            if RGW is not None:
                RGW.close()
            RGW = None
    if reason:
        print(f"SKIPPED: s3_upload_test: {reason}", flush=True)
        sys.exit(77)


def tearDownModule():
    if RGW is not None:
        RGW.close()


class UploadTest(unittest.TestCase):
    def setUp(self):
        if not RGW.gateway_running():  # a failed test may have left it stopped
            RGW.start_gateway()
        self.tmp = harness.tempfile.mkdtemp(prefix="nodeproc-s3-")
        self.s3 = RGW.client()

    def tearDown(self):
        harness.subprocess.run(["rm", "-rf", self.tmp])

    def assert_bucket_matches_volume(self, prefix, local):
        objects = self.s3.list_keys(BUCKET, prefix + "/")
        self.assertEqual(sorted(objects), sorted(f"{prefix}/{rel}" for rel in local))
        for rel, data in local.items():
            key = f"{prefix}/{rel}"
            self.assertRegex(key, KEY_RE)
            size, etag = objects[key]
            self.assertEqual(size, len(data), key)
            self.assertEqual(etag, hashlib.md5(data).hexdigest(), key)
            self.assertEqual(self.s3.get(BUCKET, key), data, key)
        return objects

    def test_uploads_complete_snapshots_byte_identical(self):
        agent = start_agent(self.tmp, "readback", "--snapshot-files")
        try:
            agent.wait_ready()
            agent.wait_for(lambda: len(uploaded_lines(agent.log())) >= 6, timeout=90,
                           what="six uploads (process + files CSVs)")
            self.metrics_text = agent.get("/metrics")[1]
            self.assertGreaterEqual(metric(agent, "nodeproc_upload_requests_total", '{outcome="success"}'), 6)
            self.assertGreater(metric(agent, "nodeproc_upload_bytes_total"), 0)
            self.assertGreater(metric(agent, "nodeproc_upload_last_success_timestamp_seconds"), 1.7e9)
        finally:
            self.assertEqual(agent.stop(), 0)
        log = agent.log()
        if shutil.which("promtool"):
            out = subprocess.run(["promtool", "check", "metrics"], input=self.metrics_text,
                                 capture_output=True, text=True)
            self.assertEqual((out.returncode, out.stdout + out.stderr), (0, ""))
        local = local_files(self.tmp)
        kinds = {rel.split("/")[-1].split("_")[0] for rel in local}
        self.assertEqual(kinds, {"process", "files"})
        # Every file on the volume that the agent reported uploaded is in the bucket, identical.
        done = {k[len("readback/"):] for k in uploaded_lines(log)}
        self.assert_bucket_matches_volume("readback", {r: d for r, d in local.items() if r in done})
        self.assertEqual(len(done), len(uploaded_lines(log)), "a file uploaded twice")

    def test_outage_restart_and_recovery_every_file_exactly_once(self):
        prefix = "outage"
        agent = start_agent(self.tmp, prefix)
        logs = []
        try:
            agent.wait_ready()
            agent.wait_for(lambda: uploaded_lines(agent.log()), timeout=60, what="a first upload")
            RGW.stop_gateway()
            written_before = agent.log().count("process snapshot written")
            agent.wait_for(lambda: agent.log().count("process snapshot written") >= written_before + 4,
                           timeout=60, what="four snapshots during the outage")
            self.assertGreaterEqual(metric(agent, "nodeproc_upload_pending_files"), 3)
            self.assertGreater(metric(agent, "nodeproc_upload_requests_total", '{outcome="network_error"}'), 0)
            self.assertGreater(metric(agent, "nodeproc_upload_oldest_pending_age_seconds"), 0)
        finally:
            self.assertEqual(agent.stop(), 0)
        logs.append(agent.log())
        # The agent restarts while the store is still down: the spool is rebuilt from the volume.
        agent = start_agent(self.tmp, prefix)
        try:
            agent.wait_ready()
            agent.wait_for(lambda: "snapshot upload started" in agent.log(), timeout=30, what="uploader")
            pending_at_start = int(re.search(r'snapshot upload started" .*pending_files=(\d+)', agent.log()).group(1))
            self.assertGreaterEqual(pending_at_start, 4)
            time.sleep(2)
            RGW.start_gateway()
            agent.wait_for(lambda: metric(agent, "nodeproc_upload_pending_files") == 0 and
                           metric(agent, "nodeproc_upload_requests_total", '{outcome="success"}') >= pending_at_start,
                           timeout=90, what="the backlog uploaded")
            self.assertIn("snapshot upload recovered", agent.log())
        finally:
            self.assertEqual(agent.stop(), 0)
        logs.append(agent.log())
        local = local_files(self.tmp)
        objects = self.s3.list_keys(BUCKET, prefix + "/")
        # Files written after the last upload and before the stop are pending, not lost.
        keys = [k for log in logs for k in uploaded_lines(log)]
        self.assertEqual(len(keys), len(set(keys)), "some file was uploaded twice")
        uploaded = {k[len(prefix) + 1:] for k in keys}
        self.assertTrue(uploaded <= set(local))
        self.assertGreaterEqual(len(set(local) - uploaded), 0)
        self.assert_bucket_matches_volume(prefix, {r: d for r, d in local.items() if r in uploaded})
        self.assertEqual(len(objects), len(uploaded))
        starts = {KEY_RE.match(k).group("start") for k in objects}
        self.assertEqual(len(starts), 2, "objects of both agent runs")
        print(f"outage run: {len(local)} files on the volume, {len(objects)} objects in "
              f"s3://{BUCKET}/{prefix}/, each uploaded once ({pending_at_start} pending at the restart)")
        for key in sorted(objects):
            print(f"  {key} {objects[key][0]} bytes md5={objects[key][1]}")

    def test_sigterm_during_upload_leaves_no_object_and_uploads_after_restart(self):
        prefix = "sigterm"
        env = creds()
        env["NODEPROC_TEST_UPLOAD_MAX_SEND_BPS"] = "3000"
        # libcurl's send buffer (16 KiB at the least) leaves at once whatever the rate limit: 80
        # sleepers with 1 KiB command lines make the snapshot far larger (~100 KB, ~30 s at 3 KB/s),
        # so the upload is surely in flight at the stop, on a quiet machine too.
        sleepers = [subprocess.Popen(["sleep", "600", "x" * 1024]) for _ in range(80)]
        try:
            agent = start_agent(self.tmp, prefix, env=env, interval="300s")
            try:
                agent.wait_ready()
                agent.wait_for(lambda: "process snapshot written" in agent.log(), timeout=60, what="a snapshot")
                time.sleep(1.5)
            finally:
                self.assertEqual(agent.stop(), 0)
        finally:
            for p in sleepers:
                p.kill()
                p.wait()
        log = agent.log()
        self.assertIn("upload interrupted by shutdown", log)
        self.assertEqual(uploaded_lines(log), [])
        self.assertEqual(self.s3.list_keys(BUCKET, prefix + "/"), {}, "a partial object")
        first = local_files(self.tmp)
        self.assertEqual(len(first), 1)
        agent = start_agent(self.tmp, prefix, interval="300s")
        try:
            agent.wait_ready()
            agent.wait_for(lambda: len(uploaded_lines(agent.log())) >= 2, timeout=60,
                           what="the interrupted file and the new one uploaded")
        finally:
            self.assertEqual(agent.stop(), 0)
        self.assertIn(f"{prefix}/{next(iter(first))}", uploaded_lines(agent.log()))
        self.assert_bucket_matches_volume(prefix, local_files(self.tmp))

    def test_snapshot_interrupted_by_shutdown_is_never_uploaded(self):
        prefix = "partial"
        env = creds()
        env["NODEPROC_TEST_SNAPSHOT_ROW_DELAY_MS"] = "30"  # ~200 rows: ~6 s per snapshot
        agent = start_agent(self.tmp, prefix, env=env, interval="300s")
        try:
            agent.wait_ready()
            agent.wait_for(lambda: any(n.endswith(".tmp") for n in harness.files_under(self.tmp)),
                           timeout=60, what="a snapshot in progress")
            time.sleep(0.5)
        finally:
            self.assertEqual(agent.stop(), 0)
        log = agent.log()
        self.assertIn("Skipping incomplete process snapshot upload (snapshot in progress)", log)
        self.assertEqual(local_files(self.tmp), {})
        self.assertEqual(self.s3.list_keys(BUCKET, prefix + "/"), {})

    def test_wrong_keys_are_a_distinct_rate_limited_error_and_nothing_is_lost(self):
        for access, secret, code in ((ceph_rgw.ACCESS_KEY, "wrong-secret", "SignatureDoesNotMatch"),
                                     ("NOSUCHKEY0000000000X", ceph_rgw.SECRET_KEY, "InvalidAccessKeyId")):
            tmp = os.path.join(self.tmp, code)
            agent = start_agent(tmp, "wrongkeys", env=creds(access, secret))
            began = time.time()
            try:
                agent.wait_ready()
                agent.wait_for(lambda: (metric(agent, "nodeproc_upload_requests_total", '{outcome="auth_error"}') or 0) >= 3,
                               timeout=60, what="three refused uploads")
                self.assertEqual(metric(agent, "nodeproc_upload_requests_total", '{outcome="success"}'), 0)
            finally:
                self.assertEqual(agent.stop(), 0)
            log = agent.log()
            failures = [l for l in log.splitlines() if "snapshot upload failed" in l]
            allowed = 1 + int((time.time() - began) // 60)  # one line per cause a minute
            self.assertTrue(1 <= len(failures) <= allowed, "rate-limited logs\n" + log[-3000:])
            self.assertIn(f"cause=auth_error:{code}", failures[0])
            self.assertIn("credentials refused", failures[0])
            self.assertNotIn(secret, log)
            self.assertGreaterEqual(len(local_files(tmp)), 1, "files stay on the volume")
        self.assertEqual(self.s3.list_keys(BUCKET, "wrongkeys/"), {})

    def test_missing_bucket_is_a_distinct_error_then_created_nothing_lost(self):
        bucket = "created-later"
        agent = start_agent(self.tmp, "late", bucket=bucket)
        try:
            agent.wait_ready()
            agent.wait_for(lambda: (metric(agent, "nodeproc_upload_requests_total", '{outcome="no_bucket"}') or 0) >= 2,
                           timeout=60, what="uploads refused: no bucket")
            log = agent.log()
            self.assertRegex(log, r"cause=no_bucket:NoSuchBucket .*bucket 'created-later' does not exist")
            self.s3.create_bucket(bucket)
            agent.wait_for(lambda: metric(agent, "nodeproc_upload_pending_files") == 0 and
                           (metric(agent, "nodeproc_upload_requests_total", '{outcome="success"}') or 0) >= 2,
                           timeout=60, what="the spool uploaded once the bucket exists")
        finally:
            self.assertEqual(agent.stop(), 0)
        done = {k[len("late/"):] for k in uploaded_lines(agent.log())}
        objects = self.s3.list_keys(bucket, "late/")
        self.assertEqual(sorted(objects), sorted(f"late/{r}" for r in done))
        # Every file written before the bucket existed made it.
        first = min(local_files(self.tmp))
        self.assertIn(first, done)


class HostileStoreTest(unittest.TestCase):
    """Stores that hang or answer garbage: bounded by --upload-timeout, never block shutdown."""

    def serve(self, handler):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(16)
        conns = []

        def loop():
            while True:
                try:
                    c, _ = srv.accept()
                except OSError:
                    return
                conns.append(c)
                threading.Thread(target=handler, args=(c,), daemon=True).start()
        threading.Thread(target=loop, daemon=True).start()
        self.addCleanup(lambda: [x.close() for x in conns + [srv]])
        return f"http://127.0.0.1:{srv.getsockname()[1]}"

    def run_agent(self, endpoint, tmp):
        return harness.Agent("--snapshot-interval=300s", "--upload-bucket=snaps",
                             f"--upload-endpoint={endpoint}", "--upload-path-style",
                             "--upload-timeout=2s", "--upload-backoff-max=1s",
                             snapshot_dir=os.path.join(tmp, "snaps"), machine_id="node-h", env=creds())

    def test_a_store_that_never_answers_times_out_and_does_not_delay_shutdown(self):
        tmp = harness.tempfile.mkdtemp(prefix="nodeproc-s3h-")
        self.addCleanup(shutil.rmtree, tmp, True)

        def hang(c):
            try:
                while c.recv(65536):
                    pass
            except OSError:
                pass
        agent = self.run_agent(self.serve(hang), tmp)
        try:
            agent.wait_ready()
            agent.wait_for(lambda: (metric(agent, "nodeproc_upload_requests_total", '{outcome="network_error"}') or 0) >= 1,
                           timeout=60, what="a timed-out upload")
            # /metrics answers while an upload hangs.
            t = time.time()
            agent.get("/metrics")
            self.assertLess(time.time() - t, 5 * harness.SLOW)
            stop = time.time()
        finally:
            self.assertEqual(agent.stop(), 0)
        self.assertLess(time.time() - stop, 10 * harness.SLOW, "shutdown waited for the hung store")
        self.assertIn("cause=network_error", agent.log())
        self.assertEqual(len(local_files(tmp)), 1, "the file stays pending on the volume")

    def test_garbage_and_huge_error_bodies_are_a_clear_bounded_error(self):
        tmp = harness.tempfile.mkdtemp(prefix="nodeproc-s3h-")
        self.addCleanup(shutil.rmtree, tmp, True)

        def garbage(c):
            try:
                c.recv(65536)
                body = b"<Error><Code>\xff\x00\"=\n</Code><Message>" + b"x" * (4 << 20) + b"</Message></Error>"
                c.sendall(b"HTTP/1.1 503 Slow Down\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            except OSError:
                pass
            c.close()
        agent = self.run_agent(self.serve(garbage), tmp)
        try:
            agent.wait_ready()
            agent.wait_for(lambda: (metric(agent, "nodeproc_upload_requests_total", '{outcome="server_error"}') or 0) >= 2,
                           timeout=60, what="two refused uploads")
        finally:
            self.assertEqual(agent.stop(), 0)
        line = next(l for l in agent.log().splitlines() if "snapshot upload failed" in l)
        self.assertLess(len(line), 1000)
        self.assertIn("cause=server_error:", line)
        self.assertIn("HTTP 503", line)


if __name__ == "__main__":
    unittest.main(verbosity=2)
