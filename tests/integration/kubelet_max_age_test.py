#!/usr/bin/env python3
"""Kubelet data has a maximum age (issue 14 item 4), against the HTTPS fault kubelet:
  * at start-up, while no kubelet data is rendered, nodeproc_kubelet_cache_age_seconds is absent;
    on every scrape of the run it is present exactly when kubelet series are rendered;
  * during an outage the last good data is served until --kubelet-max-age, then: the series of
    the pod deleted meanwhile are gone (its process counters after --process-series-grace, here
    2 s, like any group without live members), pod labels of surviving processes are gone (CSV
    namespace/pod/container empty, pod_uid and container_id from the cgroup kept),
    nodeproc_kubelet_data_stale is 1 and /readyz says why;
  * after recovery everything is back.
Bounded: about 30 s.
"""
import os
import sys
import tempfile
import time
import unittest
import urllib.error

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fault"))
import fakeproc  # noqa: E402
import harness  # noqa: E402
from fault_kubelet import CGROUP, CONTAINER_ID, POD_UID, FaultKubelet  # noqa: E402
from harness import SLOW  # noqa: E402

POD_PID = 600        # the deleted pod's process (removed during the outage)
SURVIVOR_PID = 602   # a process in the same cgroup that stays (its labels must go past max age)
HOST_PID = 601
MAX_AGE = 4


def setUpModule():
    harness.require_agent()


def get(agent, path, timeout=5):
    try:
        return agent.get(path, timeout=timeout)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def kubelet_series(body):
    return [l for l in body.splitlines()
            if l.startswith(("nodeproc_pod_", "nodeproc_container_", "nodeproc_node_"))]


def gauge(body, name):
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


class KubeletMaxAgeTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nodeproc-maxage-")
        self.fake = fakeproc.FakeProc(os.path.join(self.tmp, "root"))
        self.fake.add(POD_PID, self.fake.next_gen(), cgroup=CGROUP)
        self.fake.add(SURVIVOR_PID, self.fake.next_gen(), cgroup=CGROUP)
        self.fake.add(HOST_PID, self.fake.next_gen())
        self.kubelet = FaultKubelet(self.tmp)
        self.snapshots = os.path.join(self.tmp, "snapshots")

    def tearDown(self):
        self.kubelet.stop()
        fakeproc._rmtree(self.tmp)

    def scrape(self, agent):
        """One scrape, with the invariant checked on every one of them."""
        status, body = get(agent, "/metrics")
        self.assertEqual(status, 200)
        age = gauge(body, "nodeproc_kubelet_cache_age_seconds")
        rendered = kubelet_series(body)
        self.assertEqual(age is not None, bool(rendered),
                         f"cache age {age} with {len(rendered)} kubelet series")
        return body

    def latest_csv_row(self, pid):
        files = harness.snapshot_files(self.snapshots)
        if not files:
            return None
        _, rows = harness.read_csv_file(files[-1])
        rows = {r["pid"]: r for r in rows}
        return rows.get(str(pid))

    def test_outage_past_max_age_drops_kubelet_data(self):
        self.kubelet.mode = "slow"  # a start-up window without kubelet data
        self.kubelet.slow_seconds = 2
        agent = harness.Agent(f"--proc-root={self.fake.proc}", f"--kubelet-url={self.kubelet.url}",
                              f"--kubelet-ca-file={self.kubelet.ca}",
                              f"--kubelet-token-file={self.kubelet.token_file}",
                              "--kubelet-timeout=5s", "--kubelet-cache-validity=1s",
                              f"--kubelet-max-age={MAX_AGE}s", "--scan-interval=300ms",
                              # Process counters of a group whose processes are gone (here: whose
                              # labels went) stay this long, as for any group (METRICS.md).
                              "--process-series-grace=2s",
                              "--snapshot-interval=1s", snapshot_dir=self.snapshots)
        try:
            agent.wait_for(lambda: get(agent, "/healthz")[0] == 200, what="/healthz")
            first = self.scrape(agent)
            self.kubelet.mode = "ok"
            agent.wait_for(lambda: 'pod="fault-pod"' in self.scrape(agent), what="pod series")
            body = self.scrape(agent)
            self.assertEqual(gauge(body, "nodeproc_kubelet_data_stale"), 0)
            self.assertIn('nodeproc_pod_memory_working_set_bytes{namespace="faults",pod="fault-pod"}', body)
            agent.wait_for(lambda: get(agent, "/readyz")[0] == 200, what="/readyz 200")
            print(f"\nstart-up scrape had {len(kubelet_series(first))} kubelet series")

            # Outage; the pod is deleted meanwhile (its process exits).
            self.kubelet.mode = "status500"
            outage = time.time()
            self.fake.remove(POD_PID)
            agent.wait_for(lambda: 'pod="fault-pod"' not in self.scrape(agent),
                           timeout=MAX_AGE + 20, what="the deleted pod's series to go")
            gone_after = time.time() - outage
            body = self.scrape(agent)
            self.assertEqual(kubelet_series(body), [])
            self.assertEqual(gauge(body, "nodeproc_kubelet_data_stale"), 1)
            self.assertIsNone(gauge(body, "nodeproc_kubelet_cache_age_seconds"))
            self.assertNotIn('namespace="faults"', body)
            status, why = get(agent, "/readyz")
            self.assertEqual(status, 503)
            self.assertIn("kubelet data older than --kubelet-max-age", why)
            # Not before the maximum age (the last good data is served until then; validity 1 s).
            self.assertGreater(gone_after, MAX_AGE - 1.5)
            print(f"kubelet outage: pod series gone after {gone_after:.1f}s (max age {MAX_AGE}s)")

            # A CSV written now has no pod names (the cgroup's pod uid and container id stay).
            t = time.time()
            agent.wait_for(lambda: harness.snapshot_files(self.snapshots) and
                           os.path.getmtime(harness.snapshot_files(self.snapshots)[-1]) > t + 0.5,
                           what="a CSV snapshot written during the outage")
            row = self.latest_csv_row(SURVIVOR_PID)
            self.assertIsNotNone(row)
            self.assertEqual((row["namespace"], row["pod"], row["container"]), ("", "", ""))
            self.assertEqual((row["pod_uid"], row["container_id"]), (POD_UID, CONTAINER_ID))

            # Recovery.
            self.kubelet.mode = "ok"
            agent.wait_for(lambda: gauge(self.scrape(agent), "nodeproc_kubelet_data_stale") == 0,
                           what="fresh kubelet data")
            agent.wait_for(lambda: get(agent, "/readyz")[0] == 200, what="/readyz 200 again")
            body = self.scrape(agent)
            self.assertIn('namespace="faults"', body)
        finally:
            rc = agent.stop()
        self.assertEqual(rc, 0, agent.log()[-3000:])
        self.assertEqual(harness.sanitizer_reports(agent.log()), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
