#!/usr/bin/env python3
"""/healthz and /readyz answer within 1 s while hostile clients hold the agent's port: 200 idle
connections, 50 slowloris connections, 1000 concurrent scrapes and (TLS on) 24 silent + 24
trickling TLS handshakes. Plain and TLS (a CA and an ECDSA server certificate made with openssl at
test time). Afterwards /metrics still works and basic/bearer auth still reject and accept; the TLS
certificate is reloaded when its files are replaced. Loopback only; about a minute.
"""
import base64
import os
import shutil
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fault"))
import harness  # noqa: E402
import http_abuse  # noqa: E402

PROBE_SECONDS = 3
DEADLINE = 1.0 * harness.SLOW
TOKEN = "abuse-token-0123456789"
USER, PASSWORD = "prom", "abuse-pass-42"


def setUpModule():
    harness.require_agent()
    if shutil.which("openssl") is None:
        raise unittest.SkipTest("SKIPPED: no openssl CLI to make the test certificates")
    http_abuse.raise_fd_limit()  # the agent inherits it; 1000 client sockets live in the test


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


class ServingAbuseBase:
    tls = False

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nodeproc-abuse-")
        token = os.path.join(cls.tmp, "token")
        password = os.path.join(cls.tmp, "password")
        for path, text in ((token, TOKEN), (password, PASSWORD)):
            with open(path, "w") as f:
                f.write(text + "\n")
            os.chmod(path, 0o600)
        args = ["--proc-root=/proc", f"--web-bearer-token-file={token}",
                f"--web-basic-auth-user={USER}", f"--web-basic-auth-password-file={password}"]
        cls.ca = None
        if cls.tls:
            cls.ca, cls.ca_key, cls.cert, cls.key = http_abuse.make_ca_and_cert(cls.tmp, cn="first")
            args += [f"--web-tls-cert-file={cls.cert}", f"--web-tls-key-file={cls.key}"]
        cls.agent = harness.Agent(*args)
        deadline = time.time() + 60 * harness.SLOW
        while http_abuse.probe_once(cls.agent.port, "/readyz", cls.ca)[0] != 200:
            if time.time() > deadline or not cls.agent.alive():
                raise AssertionError("agent not ready:\n" + cls.agent.log()[-3000:])
            time.sleep(0.1)

    @classmethod
    def tearDownClass(cls):
        rc = cls.agent.stop()
        log = cls.agent.log()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert rc == 0, log[-3000:]
        assert harness.sanitizer_reports(log) == [], log[-3000:]

    def url(self, path):
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.agent.port}{path}"

    def get(self, path, headers=None):
        req = urllib.request.Request(self.url(path), headers=headers or {})
        ctx = http_abuse.client_context(self.ca) if self.tls else None
        try:
            with urllib.request.urlopen(req, timeout=10 * harness.SLOW, context=ctx) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def hold(self, name):
        auth = f"Authorization: Bearer {TOKEN}\r\n".encode()
        with http_abuse.Abuse(name, self.agent.port, self.ca, auth) as abuse:
            results = http_abuse.probe_for(self.agent.port, PROBE_SECONDS, self.ca)
        s = http_abuse.summary(results)
        label = ("TLS " if self.tls else "plain ") + http_abuse.ABUSES[name][0]
        print(f"{label}: {s['ok']}/{s['n']} probes 200 within 1 s, p50 {s['p50'] * 1000:.1f} ms, "
              f"p99 {s['p99'] * 1000:.1f} ms, max {s['max'] * 1000:.1f} ms; abuser {abuse.result}")
        self.assertTrue(self.agent.alive(), self.agent.log()[-3000:])
        self.assertGreaterEqual(len(results), 10, "the prober barely ran")
        slow = [(p, st, round(t, 3)) for p, st, t in results if st != 200 or t >= DEADLINE]
        self.assertEqual(slow, [], f"{label}: probes failed or slower than {DEADLINE}s")
        return abuse.result

    def test_1_idle_connections(self):
        self.hold("idle")

    def test_2_slowloris(self):
        self.hold("slowloris")

    def test_3_concurrent_scrapes(self):
        if harness.SANITIZED:
            # 1000 scrapes against a ~4x slower sanitized agent on 2 cores measure the machine, not
            # the server's design: the plain ctest run asserts this case; ASan covers the others.
            self.skipTest("1000 concurrent scrapes: timing asserted by the non-sanitized run only")
        counts = self.hold("scrapes")
        # Served (200) or refused at once (503, excess scrapes), nothing else. Over TLS, slow
        # clients may not finish a handshake before newer connections evict them at the cap.
        self.assertEqual(set(counts) - {"opened", "200", "503"}, set(), counts)

    def test_9_metrics_and_auth_still_work_afterwards(self):
        # Scrapes still queued from the flood (their clients gone) may fill the render queue
        # until their render is done: 503 with Retry-After meanwhile, then 200.
        deadline = time.time() + 60 * harness.SLOW
        while True:
            status, body = self.get("/metrics", {"Authorization": f"Bearer {TOKEN}"})
            if status != 503 or time.time() > deadline:
                break
            time.sleep(1)
        self.assertEqual(status, 200)
        self.assertIn("nodeproc_build_info", body)
        self.assertIn("nodeproc_http_connections_evicted_total", body)
        self.assertEqual(self.get("/metrics", basic(USER, PASSWORD))[0], 200)
        self.assertEqual(self.get("/metrics")[0], 401)
        self.assertEqual(self.get("/metrics", {"Authorization": "Bearer wrong"})[0], 401)
        self.assertEqual(self.get("/metrics", basic(USER, "wrong"))[0], 401)
        status, body = self.get("/metrics", basic(USER, "wrong"))
        self.assertNotIn("nodeproc_build_info", body)
        self.assertEqual(self.get("/healthz")[0], 200)
        self.assertEqual(self.get("/readyz")[0], 200)


class PlainServingAbuseTest(ServingAbuseBase, unittest.TestCase):
    tls = False


class TlsServingAbuseTest(ServingAbuseBase, unittest.TestCase):
    tls = True

    def test_4_stalled_tls_handshakes(self):
        self.hold("stalled_tls")

    def test_5_certificate_reload(self):
        self.assertEqual(http_abuse.peer_common_name(self.agent.port, self.ca), "first")
        # A new pair from the same CA, renamed over the old files as a Secret update would.
        folder = tempfile.mkdtemp(dir=self.tmp)
        _, _, cert, key = http_abuse.make_ca_and_cert(folder, cn="second", ca=(self.ca, self.ca_key))
        os.rename(key, self.key)
        os.rename(cert, self.cert)
        seen = None
        deadline = time.time() + 20 * harness.SLOW
        while time.time() < deadline:
            seen = http_abuse.peer_common_name(self.agent.port, self.ca)
            if seen == "second":
                break
            time.sleep(0.2)
        self.assertEqual(seen, "second")
        self.assertIn("TLS certificate reloaded", self.agent.log())
        # A broken pair (the key is garbage) is refused and the current one keeps serving.
        with open(self.key, "w") as f:
            f.write("not a key\n")
        time.sleep(1.5)
        self.assertEqual(http_abuse.peer_common_name(self.agent.port, self.ca), "second")
        self.assertEqual(self.get("/healthz")[0], 200)
        self.assertIn("do not load", self.agent.log())
        print("TLS reload: new pair served on the next handshake; a broken pair kept the old one")


if __name__ == "__main__":
    unittest.main(verbosity=2)
