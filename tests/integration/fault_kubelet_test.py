#!/usr/bin/env python3
"""Fault injection on the kubelet side, against a misbehaving HTTPS kubelet on 127.0.0.1
(tests/fault/fault_kubelet.py): hang, connection reset, HTTP 500, huge and truncated bodies,
garbage, a token file that disappears. The agent must stay bounded in time and memory, keep
serving /metrics and snapshots (host data, then stale kubelet data), and recover.
"""
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fault"))
import fakeproc  # noqa: E402
import harness  # noqa: E402
from fault_kubelet import CGROUP, CONTAINER_ID, POD_UID, FaultKubelet  # noqa: E402
from harness import BIN, SLOW, parse_csv  # noqa: E402

POD_PID = 600
HOST_PID = 601


def setUpModule():
    harness.require_agent()


class KubeletFaultBase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nodeproc-kfault-")
        self.fake = fakeproc.FakeProc(os.path.join(self.tmp, "root"))
        self.fake.add(POD_PID, self.fake.next_gen(), cgroup=CGROUP)
        self.fake.add(HOST_PID, self.fake.next_gen())
        self.kubelet = FaultKubelet(self.tmp)

    def tearDown(self):
        self.kubelet.stop()
        fakeproc._rmtree(self.tmp)

    def kubelet_flags(self, timeout="2s"):
        return [f"--proc-root={self.fake.proc}", f"--kubelet-url={self.kubelet.url}",
                f"--kubelet-ca-file={self.kubelet.ca}",
                f"--kubelet-token-file={self.kubelet.token_file}",
                f"--kubelet-timeout={timeout}"]

    def snapshot_rows(self, timeout="2s"):
        """Runs `snapshot`, returns (rows by pid, stderr, seconds, max RSS in KiB)."""
        start = time.time()
        proc = subprocess.Popen([BIN, "snapshot", "--format=csv", "--snapshot-wait=0s",
                                 *self.kubelet_flags(timeout)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = proc.communicate(timeout=60 * SLOW)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise AssertionError(f"snapshot did not finish within {60 * SLOW}s (mode {self.kubelet.mode})")
        elapsed = time.time() - start
        err = err.decode("utf-8", "replace")
        self.assertEqual(proc.returncode, 0, f"mode {self.kubelet.mode}: {err}")
        self.assertEqual(harness.sanitizer_reports(err), [])
        _, rows = parse_csv(out.decode("utf-8", "surrogateescape"))
        return {int(r["pid"]): r for r in rows}, err, elapsed


class SnapshotKubeletFaultTest(KubeletFaultBase):
    def test_healthy_kubelet_fills_pod_columns(self):
        rows, _, _ = self.snapshot_rows()
        row = rows[POD_PID]
        self.assertEqual(row["container_id"], CONTAINER_ID)
        self.assertEqual(row["pod_uid"], POD_UID)
        self.assertEqual(row["namespace"], "faults")
        self.assertEqual(row["pod"], "fault-pod")
        self.assertEqual(row["container"], "app")
        self.assertEqual(rows[HOST_PID]["namespace"], "")

    def test_each_fault_yields_host_data_within_the_timeout(self):
        table = []
        for mode in ("hang", "reset", "status500", "truncated", "garbage", "huge", "slow"):
            with self.subTest(mode=mode):
                self.kubelet.mode = mode
                self.kubelet.slow_seconds = 20
                self.kubelet.huge_bytes = 96 << 20
                rows, err, elapsed = self.snapshot_rows(timeout="2s")
                row = rows[POD_PID]
                # The cgroup still names the container; the kubelet's names are unknown.
                self.assertEqual(row["container_id"], CONTAINER_ID)
                self.assertEqual(row["namespace"], "", f"{mode}: no kubelet data was available")
                self.assertIn(HOST_PID, rows)
                # Two endpoints, each bounded by --kubelet-timeout (+ start-up slack).
                self.assertLess(elapsed, 15 * SLOW, f"{mode}: took {elapsed:.1f}s")
                kline = [l for l in err.splitlines() if "kubelet" in l.lower()]
                self.assertTrue(kline, f"{mode}: a log line names the kubelet failure:\n{err}")
                if mode == "reset":
                    # A TCP reset is a connection reset, not a certificate failure.
                    self.assertIn("code=reset", kline[0], err)
                    self.assertIn("connection reset", kline[0], err)
                    self.assertNotIn("certificate", err, err)
                table.append((mode, f"{elapsed:.1f}s", kline[0][:160]))
        for t in table:
            print("kubelet fault:", *t)

    def test_huge_body_is_capped(self):
        # The body is valid JSON of 192 MiB: the agent must stop reading at its cap rather
        # than buffer (and parse) all of it.
        self.kubelet.mode = "huge"
        self.kubelet.huge_bytes = 192 << 20
        proc = subprocess.Popen([BIN, "snapshot", "--format=csv", "--snapshot-wait=0s",
                                 *self.kubelet_flags("20s")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, _, usage = os.wait4(proc.pid, 0)
        out = proc.stdout.read()
        err = proc.stderr.read().decode("utf-8", "replace")
        maxrss_mib = usage.ru_maxrss / 1024
        print(f"huge kubelet body (192 MiB): agent max RSS {maxrss_mib:.0f} MiB")
        self.assertTrue(out, err)
        if not harness.SANITIZED:
            self.assertLess(maxrss_mib, 150, "the response size is capped")


class RunKubeletFaultTest(KubeletFaultBase):
    def metrics(self, agent):
        start = time.time()
        status, body = agent.get("/metrics", timeout=5)
        return status, body, time.time() - start

    def test_run_survives_faults_serves_stale_data_and_recovers(self):
        agent = harness.Agent(*self.kubelet_flags("1s"), "--kubelet-cache-validity=1s",
                              "--scan-min-interval=0s")
        try:
            agent.wait_ready()
            agent.wait_for(lambda: 'namespace="faults"' in agent.get("/metrics")[1],
                           what="pod labels from a healthy kubelet")
            for mode in ("hang", "reset", "status500", "truncated", "garbage"):
                self.kubelet.mode = mode
                n0 = self.kubelet.count()
                worst = 0
                end = time.time() + 4
                while time.time() < end:
                    status, body, took = self.metrics(agent)
                    self.assertEqual(status, 200)
                    worst = max(worst, took)
                    # Stale kubelet data is served: the pod labels stay.
                    self.assertIn('namespace="faults"', body, mode)
                # A dead kubelet never blocks a scrape.
                self.assertLess(worst, 2.5 * SLOW, f"{mode}: a scrape took {worst:.2f}s")
                asked = self.kubelet.count() - n0
                # At most one refresh (2 endpoints) per validity window (1 s) in 4 s, + slack.
                self.assertLessEqual(asked, 2 * 7, f"{mode}: kubelet asked {asked} times in 4s")
                print(f"run, kubelet {mode}: worst scrape {worst:.2f}s, kubelet asked {asked}x in 4s")
            _, body, _ = self.metrics(agent)
            age = [l for l in body.splitlines() if l.startswith("nodeproc_kubelet_cache_age_seconds")]
            if age:
                self.assertGreater(float(age[0].split()[-1]), 1.0, "cache age grows while failing")
            self.kubelet.mode = "ok"
            n0 = self.kubelet.count()
            # Refreshes are driven by readers (scrapes): keep scraping.
            agent.wait_for(lambda: agent.get("/metrics")[0] == 200 and self.kubelet.count() > n0,
                           what="a refresh after recovery")
            time.sleep(1.5)
            _, body, _ = self.metrics(agent)
            age = [l for l in body.splitlines() if l.startswith("nodeproc_kubelet_cache_age_seconds")]
            if age:
                self.assertLess(float(age[0].split()[-1]), 5.0, "fresh data after recovery")
        finally:
            rc = agent.stop()
        self.assertEqual(rc, 0, agent.log()[-3000:])
        self.assertEqual(harness.sanitizer_reports(agent.log()), [])

    def test_reset_is_its_own_class_and_outages_and_recoveries_are_logged(self):
        """A TCP reset is counted as code="reset" (not "tls") and logged as a connection reset;
        each outage is logged (not once per lifetime) and each recovery says so."""
        agent = harness.Agent(*self.kubelet_flags("1s"), "--kubelet-cache-validity=1s",
                              "--scan-min-interval=0s")

        def warnings():
            return [l for l in agent.log().splitlines()
                    if "level=warning" in l and "/stats/summary refresh failed" in l]

        def recoveries():
            return [l for l in agent.log().splitlines() if "kubelet /stats/summary works again" in l]

        def scrape_until(predicate, what):
            agent.wait_for(lambda: agent.get("/metrics")[0] == 200 and predicate(), timeout=30, what=what)
        try:
            agent.wait_ready()
            agent.wait_for(lambda: 'namespace="faults"' in agent.get("/metrics")[1], what="pod labels")
            for outage in (1, 2):
                self.kubelet.mode = "reset"
                scrape_until(lambda: len(warnings()) >= outage, f"outage {outage} logged")
                self.kubelet.mode = "ok"
                scrape_until(lambda: len(recoveries()) >= outage, f"recovery {outage} logged")
            _, body = agent.get("/metrics")
            reset = [l for l in body.splitlines()
                     if l.startswith("nodeproc_kubelet_requests_total") and 'code="reset"' in l]
            self.assertTrue(reset, body)
            self.assertGreater(float(reset[0].split()[-1]), 0)
            self.assertNotIn('code="tls"', body)
            w, r = warnings(), recoveries()
            for line in w:
                self.assertIn("code=reset", line)
                self.assertIn("connection reset", line)
                self.assertNotIn("certificate", line)
            self.assertEqual(len(w), 2, "one line per outage (rate-limited within one):\n" + "\n".join(w))
            self.assertIn("failures=", r[0])
            print("reset outage:", w[0][:200])
            print("recovery:   ", r[0][:200])
        finally:
            rc = agent.stop()
        self.assertEqual(rc, 0, agent.log()[-3000:])

    def test_token_file_disappears_then_rotates(self):
        agent = harness.Agent(*self.kubelet_flags("1s"), "--kubelet-cache-validity=1s",
                              "--scan-min-interval=0s")
        try:
            agent.wait_ready()
            agent.wait_for(lambda: 'namespace="faults"' in agent.get("/metrics")[1],
                           what="pod labels")
            os.remove(self.kubelet.token_file)
            end = time.time() + 3
            while time.time() < end:  # scrapes drive refreshes, which now fail
                agent.get("/metrics")
                time.sleep(0.2)
            self.assertTrue(agent.alive())
            status, body = agent.get("/metrics")
            self.assertEqual(status, 200)
            self.assertIn('namespace="faults"', body, "stale data while the token is missing")
            # Rotation: a new token in a new file, the server only takes the new one.
            self.kubelet.token = "rotated-token"
            tmp = self.kubelet.token_file + ".new"
            with open(tmp, "w") as f:
                f.write("rotated-token\n")
            os.rename(tmp, self.kubelet.token_file)
            n_ok = lambda: sum(1 for p, m, s in self.kubelet.requests if s == 200)  # noqa: E731
            before = n_ok()
            agent.wait_for(lambda: agent.get("/metrics")[0] == 200 and n_ok() > before, timeout=20,
                           what="a request with the rotated token")
            log = agent.log()
            print("token file gone:", next((l for l in log.splitlines() if "token" in l.lower()), "(no line)")[:200])
        finally:
            rc = agent.stop()
        self.assertEqual(rc, 0, agent.log()[-3000:])


if __name__ == "__main__":
    unittest.main(verbosity=2)
