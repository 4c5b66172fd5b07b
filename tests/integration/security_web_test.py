#!/usr/bin/env python3
"""/metrics protection: basic auth (--web-basic-auth-user + --web-basic-auth-password-file),
a bearer token (--web-bearer-token-file) and TLS (--web-tls-cert-file/--web-tls-key-file):
no or wrong credentials get 401 and no metrics, the right ones get 200.
"""
import base64
import os
import ssl
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fault"))
import harness  # noqa: E402
from fault_kubelet import make_certs  # noqa: E402


def get(url, headers=None, context=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10 * harness.SLOW, context=context) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def basic(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


def setUpModule():
    harness.require_agent()


class WebAuthTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nodeproc-web-")

    def write(self, name, text):
        p = os.path.join(self.tmp, name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, 0o600)
        return p

    def start(self, *args):
        agent = harness.Agent(*args)
        self.addCleanup(lambda: self.assertEqual(agent.stop(), 0, agent.log()[-2000:]))
        agent.wait_for(lambda: "nodeproc started" in agent.log() or agent.get("/healthz", 2)[0] == 200,
                       what="start")
        return agent

    def test_basic_auth(self):
        pw = self.write("pw", "S3cret-basic\n")
        agent = self.start("--web-basic-auth-user=prom", f"--web-basic-auth-password-file={pw}")
        url = f"http://127.0.0.1:{agent.port}/metrics"
        self.assertEqual(get(url)[0], 401)
        self.assertEqual(get(url, basic("prom", "wrong"))[0], 401)
        self.assertEqual(get(url, basic("other", "S3cret-basic"))[0], 401)
        status, body = get(url, basic("prom", "S3cret-basic"))
        self.assertEqual(status, 200)
        self.assertIn("nodeproc_build_info", body)
        self.assertNotIn("nodeproc_", get(url, basic("prom", "wrong"))[1])
        print("basic auth: none/wrong -> 401, right -> 200; /healthz ->",
              get(f"http://127.0.0.1:{agent.port}/healthz")[0])

    def test_bearer_token(self):
        tok = self.write("tok", "tok-0123456789abcdef\n")
        agent = self.start(f"--web-bearer-token-file={tok}")
        url = f"http://127.0.0.1:{agent.port}/metrics"
        self.assertEqual(get(url)[0], 401)
        self.assertEqual(get(url, {"Authorization": "Bearer nope"})[0], 401)
        self.assertEqual(get(url, {"Authorization": "Bearer tok-0123456789abcde"})[0], 401)
        self.assertEqual(get(url, {"Authorization": "Bearer tok-0123456789abcdef"})[0], 200)
        print("bearer: none/wrong/prefix -> 401, right -> 200")

    def test_tls(self):
        ca, cert, key = make_certs(self.tmp, hosts=("127.0.0.1", "localhost"))
        agent = self.start(f"--web-tls-cert-file={cert}", f"--web-tls-key-file={key}")
        ctx = ssl.create_default_context(cafile=ca)
        status, body = get(f"https://127.0.0.1:{agent.port}/metrics", context=ctx)
        self.assertEqual(status, 200)
        self.assertIn("nodeproc_build_info", body)
        # Plain HTTP to the TLS port yields no metrics.
        try:
            status, body = get(f"http://127.0.0.1:{agent.port}/metrics")
            self.assertNotIn("nodeproc_build_info", body)
        except (OSError, urllib.error.URLError, ValueError):
            pass
        print("TLS: verified https -> 200, plain http -> no metrics")


if __name__ == "__main__":
    unittest.main(verbosity=2)
