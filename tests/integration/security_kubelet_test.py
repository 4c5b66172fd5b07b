#!/usr/bin/env python3
"""The agent talks to the kubelet only over verified TLS unless told otherwise: a kubelet whose
certificate is signed by another CA, or issued for another name, or served over plain http://,
gets no data (and never the bearer token in clear text); --kubelet-insecure-skip-verify opts in,
with a warning.
"""
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fault"))
import fakeproc  # noqa: E402
import harness  # noqa: E402
from fault_kubelet import CGROUP, FaultKubelet, make_certs  # noqa: E402
from harness import BIN, SLOW, parse_csv  # noqa: E402

POD_PID = 700


def setUpModule():
    harness.require_agent()


class KubeletTlsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nodeproc-ktls-")
        self.fake = fakeproc.FakeProc(os.path.join(self.tmp, "root"))
        self.fake.add(POD_PID, self.fake.next_gen(), cgroup=CGROUP)
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.stop()
        fakeproc._rmtree(self.tmp)

    def kubelet(self, **kw):
        folder = tempfile.mkdtemp(dir=self.tmp)
        k = FaultKubelet(folder, **kw)
        self.servers.append(k)
        return k

    def run_snapshot(self, kubelet, *extra, ca=None):
        args = [BIN, "snapshot", "--format=csv", "--snapshot-wait=0s", f"--proc-root={self.fake.proc}",
                f"--kubelet-url={kubelet.url}", f"--kubelet-ca-file={ca or kubelet.ca}",
                f"--kubelet-token-file={kubelet.token_file}", "--kubelet-timeout=3s", *extra]
        out = subprocess.run(args, capture_output=True, timeout=60 * SLOW)
        err = out.stderr.decode("utf-8", "replace")
        row = None
        if out.returncode == 0:
            _, rows = parse_csv(out.stdout.decode("utf-8", "surrogateescape"))
            row = next((r for r in rows if int(r["pid"]) == POD_PID), None)
        return out.returncode, row, err

    def test_verified_tls_works(self):
        k = self.kubelet()
        rc, row, err = self.run_snapshot(k)
        self.assertEqual(rc, 0, err)
        self.assertEqual(row["namespace"], "faults", err)

    def test_certificate_from_another_ca_is_refused_unless_told(self):
        k = self.kubelet()
        other_ca, _, _ = make_certs(tempfile.mkdtemp(dir=self.tmp), prefix="other-")
        rc, row, err = self.run_snapshot(k, ca=other_ca)
        self.assertEqual(rc, 0, "host data is still produced")
        self.assertEqual(row["namespace"], "", "no kubelet data over an unverified connection")
        self.assertNotIn(f"Bearer {k.token}", k.auth_headers, "the token never reached it")
        line = next((l for l in err.splitlines() if "kubelet" in l.lower()), "")
        self.assertTrue(line, err)
        print("wrong CA:", line[:200])
        # Opt-in: works, with a warning.
        rc, row, err = self.run_snapshot(k, "--kubelet-insecure-skip-verify", ca=other_ca)
        self.assertEqual(rc, 0, err)
        self.assertEqual(row["namespace"], "faults", err)
        self.assertRegex(err.lower(), r"insecure|skip.verif|unsafe", "a warning says so")

    def test_certificate_for_another_name_is_refused(self):
        k = self.kubelet(hosts=("kubelet.other.example",))
        rc, row, err = self.run_snapshot(k)
        self.assertEqual(rc, 0, err)
        self.assertEqual(row["namespace"], "", "the certificate does not name 127.0.0.1")
        print("wrong name:", next((l for l in err.splitlines() if "kubelet" in l.lower()), "")[:200])
        # Told which name to expect (--kubelet-tls-server-name): accepted.
        rc, row, err = self.run_snapshot(k, "--kubelet-tls-server-name=kubelet.other.example")
        self.assertEqual(rc, 0, err)
        self.assertEqual(row["namespace"], "faults", err)

    def test_plain_http_never_gets_the_token(self):
        k = self.kubelet(tls=False)
        rc, row, err = self.run_snapshot(k)
        self.assertNotIn(f"Bearer {k.token}", k.auth_headers, "bearer token sent over plain http")
        if rc == 0:
            self.assertEqual(row["namespace"], "")
        line = next((l for l in err.splitlines() if "http" in l.lower() or "kubelet" in l.lower()), "")
        print(f"http:// kubelet: exit {rc}, requests seen {len(k.auth_headers)}: {line[:200]}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
