#!/usr/bin/env python3
"""Fault injection on the HTTP side: clients that connect and send nothing, send garbage or a
huge header, or vanish mid-response. The agent must not crash or leak, and /healthz keeps
answering (tests/integration/serving_abuse_test.py holds the larger abuse with timings).
"""
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fault"))
import harness  # noqa: E402
from harness import SLOW  # noqa: E402


def setUpModule():
    harness.require_agent()


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class HttpFaultTest(unittest.TestCase):
    def setUp(self):
        self.agent = harness.Agent("--scan-min-interval=1s")
        self.agent.wait_ready()

    def tearDown(self):
        rc = self.agent.stop()
        self.assertEqual(rc, 0, self.agent.log()[-2000:])
        self.assertEqual(harness.sanitizer_reports(self.agent.log()), [])

    def healthz_seconds(self, timeout=60):
        start = time.time()
        status, _ = self.agent.get("/healthz", timeout=timeout)
        self.assertEqual(status, 200)
        return time.time() - start

    def test_idle_connections_never_delay_the_probes(self):
        # Idle clients cost the asynchronous server a socket each, never a thread: /healthz
        # answers at once behind one or many of them (serving_abuse_test.py holds 200).
        one = socket.create_connection(("127.0.0.1", self.agent.port))
        try:
            fast = self.healthz_seconds()
            self.assertLess(fast, 3 * SLOW, f"/healthz took {fast:.1f}s behind one idle connection")
        finally:
            one.close()
        idle = [socket.create_connection(("127.0.0.1", self.agent.port)) for _ in range(32)]
        try:
            took = self.healthz_seconds(timeout=120)
            self.assertLess(took, 3 * SLOW, f"/healthz took {took:.1f}s behind 32 idle connections")
        finally:
            for s in idle:
                s.close()
        self.assertTrue(self.agent.alive())
        self.assertLess(self.healthz_seconds(), 2 * SLOW)
        print(f"idle connections: 1 -> /healthz in {fast:.3f}s; 32 -> /healthz in {took:.3f}s")

    def test_garbage_huge_headers_and_early_hangups(self):
        fds_before = open_fds(self.agent.pid)
        payloads = [b"\x00\xff\x16\x03\x01garbage\r\n\r\n", b"GET /metrics HTTP/1.1\r\n" + b"X: " + b"a" * 200000 + b"\r\n\r\n",
                    b"GET /" + b"%" * 5000 + b" HTTP/1.1\r\n\r\n", b"POST /metrics HTTP/1.1\r\nContent-Length: 99999999\r\n\r\nx",
                    b"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %%%%\r\n\r\n",
                    b"GET /metrics HTTP/1.0\r\n\r\n"]
        for _ in range(5):
            for p in payloads:
                try:
                    s = socket.create_connection(("127.0.0.1", self.agent.port), timeout=5)
                    s.sendall(p)
                    if p.endswith(b"HTTP/1.0\r\n\r\n"):
                        s.recv(100)  # read a little of /metrics, then hang up mid-response
                    s.close()
                except OSError:
                    pass
        self.assertTrue(self.agent.alive())
        self.assertLess(self.healthz_seconds(), 15 * SLOW)
        status, body = self.agent.get("/metrics")
        self.assertEqual(status, 200)
        self.assertIn("nodeproc_build_info", body)
        time.sleep(1)
        fds_after = open_fds(self.agent.pid)
        self.assertLessEqual(fds_after, fds_before + 4, "no fd leak from aborted connections")
        print(f"garbage/huge/hang-up clients x30: agent fine, fds {fds_before} -> {fds_after}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
