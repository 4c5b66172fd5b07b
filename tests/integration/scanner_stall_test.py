#!/usr/bin/env python3
"""A hung /proc read stalls only the background scanner (issue 15 item 1). The fake proc tree
gets a PID whose `cmdline` is a FIFO: opening it blocks like a read of /proc/<pid>/cmdline whose
process holds its mmap lock. While the scanner is blocked:
  * /metrics answers at once from the last snapshot (the process series stay), its age grows;
  * nodeproc_scanner_stuck turns 1 past --scan-deadline and a warning is logged;
  * /healthz answers 200, /readyz answers 503 "scanner stuck for Ns";
and when the FIFO gets a writer the scan ends: stuck 0, /readyz 200, "scanner recovered".
SIGTERM while the scanner is blocked still stops the agent (exit 0, bounded).
"""
import os
import signal
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fault"))
import fakeproc  # noqa: E402
import harness  # noqa: E402
from harness import SLOW  # noqa: E402


def setUpModule():
    harness.require_agent()


def metric(body, name):
    for line in body.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def get(agent, path, timeout=5):
    try:
        return agent.get(path, timeout=timeout)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


class ScannerStallTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nodeproc-stall-")
        self.fake = fakeproc.FakeProc(os.path.join(self.tmp, "root"))
        self.fake.add(500, 1)
        self.fifos = []

    def tearDown(self):
        for fifo in self.fifos:  # unblock any reader left
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                os.close(fd)
            except OSError:
                pass
        fakeproc._rmtree(self.tmp)

    def add_fifo_pid(self, pid):
        """A PID whose cmdline blocks its reader until a writer opens it."""
        tmp = self.fake.build(pid, self.fake.next_gen())
        os.chmod(tmp, 0o755)
        os.unlink(os.path.join(tmp, "cmdline"))
        os.mkfifo(os.path.join(tmp, "cmdline"), 0o666)
        os.rename(tmp, self.fake.pid_dir(pid))
        fifo = os.path.join(self.fake.pid_dir(pid), "cmdline")
        self.fifos.append(fifo)
        return fifo

    def wait_stuck(self, agent):
        """Waits until the scanner reports stuck. None when the scans went on (the probe does not
        block on the FIFO any more: the test cannot stall it this way)."""
        scans = None
        end = time.time() + 30 * SLOW
        while time.time() < end:
            status, body = get(agent, "/metrics")
            self.assertEqual(status, 200)
            if metric(body, "nodeproc_scanner_stuck") == 1:
                return body
            now = metric(body, 'nodeproc_scanner_scans_total{outcome="success"}')
            if scans is None:
                scans = now
            elif now is not None and now >= scans + 20:
                return None  # 20 scans completed with the FIFO in the tree
            time.sleep(0.1)
        self.fail("the scanner was never reported stuck:\n" + agent.log()[-3000:])

    def test_metrics_and_probes_answer_while_the_scanner_is_blocked(self):
        agent = harness.Agent(f"--proc-root={self.fake.proc}", "--scan-interval=300ms",
                              "--scan-deadline=1s")
        try:
            agent.wait_ready()
            agent.wait_for(lambda: get(agent, "/readyz")[0] == 200, what="/readyz 200")
            agent.wait_for(lambda: 'name="p500g1"' in get(agent, "/metrics")[1], what="p500 series")
            fifo = self.add_fifo_pid(501)
            body = self.wait_stuck(agent)
            if body is None:
                print("SKIPPED: a FIFO cmdline no longer blocks the probe; the stall is not reproduced")
                self.skipTest("FIFO cmdline does not block the probe")
            # Serving goes on from the last snapshot, and every answer is quick.
            worst = 0
            for _ in range(10):
                start = time.time()
                status, body = get(agent, "/metrics")
                worst = max(worst, time.time() - start)
                self.assertEqual(status, 200)
                self.assertIn('name="p500g1"', body)
                self.assertEqual(metric(body, "nodeproc_scanner_stuck"), 1)
                time.sleep(0.1)
            self.assertLess(worst, 2 * SLOW, f"a scrape took {worst:.2f}s while the scanner was blocked")
            self.assertGreater(metric(body, "nodeproc_snapshot_age_seconds"), 1.0)
            self.assertGreater(metric(body, "nodeproc_scanner_scan_running_seconds"), 1.0)
            status, _ = get(agent, "/healthz", timeout=2)
            self.assertEqual(status, 200, "/healthz stays 200 while the scanner is stuck")
            status, ready = get(agent, "/readyz", timeout=2)
            self.assertEqual(status, 503)
            self.assertIn("scanner stuck for", ready)
            agent.wait_for(lambda: "scanner stuck" in agent.log(), what="the stuck warning")
            # A writer unblocks the read: the scan ends and the scanner recovers.
            os.close(os.open(fifo, os.O_WRONLY))  # the scanner waits on the other end: no block
            self.fake.remove(501)  # or the next scan blocks on it again
            agent.wait_for(lambda: metric(get(agent, "/metrics")[1], "nodeproc_scanner_stuck") == 0,
                           what="stuck back to 0")
            agent.wait_for(lambda: get(agent, "/readyz")[0] == 200, what="/readyz 200 again")
            self.assertIn("scanner recovered", agent.log())
            # Blocked again, then SIGTERM: the agent still stops, within a bound.
            self.add_fifo_pid(502)
            if self.wait_stuck(agent) is None:
                self.skipTest("FIFO cmdline does not block the probe")
            start = time.time()
            rc = agent.stop(timeout=30)
            self.assertEqual(rc, 0, agent.log()[-3000:])
            self.assertLess(time.time() - start, 20 * SLOW)
            self.assertIn("scanner still blocked", agent.log())
        finally:
            agent.kill()
        self.assertEqual(harness.sanitizer_reports(agent.log()), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
