#!/usr/bin/env python3
"""A mock kubelet for tests: real HTTPS on 127.0.0.1 (http.server + ssl), serving /stats/summary
and /pods from JSON files.

  mock_kubelet.py --dir D --cert C --key K --token-file T --summary S --pods P [--port N]

Prints "READY <port>" on stdout once listening. Every request must carry
`Authorization: Bearer <token>` where the token is re-read from --token-file at each request
(rotation tests); otherwise 401. Each request is appended to D/requests.log as
"<path> <status> <authorized 0|1>".

Knobs, read from D/control.json at each request (absent = healthy), e.g.
  {"status": 403}                      every path answers 403
  {"status": {"/pods": 403}}           per path
  {"delay": 5}                         sleep before answering (slow kubelet)
  {"body": "malformed"}                200 with bytes that are not JSON
  {"body": "truncated"}                200, Content-Length larger than what is sent, then close
  {"body": "oversized", "size": N}     200 with a syntactically plausible N-byte body
Stop/restart: SIGTERM the process and start it again with --port of the previous run.
"""
import argparse
import http.server
import json
import os
import signal
import socketserver
import ssl
import sys
import threading
import time


def read(path, mode="r"):
    try:
        with open(path, mode) as f:
            return f.read()
    except OSError:
        return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the kubelet

    def log_message(self, *args):  # quiet
        pass

    def record(self, status, authorized):
        with self.server.log_lock:
            with open(os.path.join(self.server.dir, "requests.log"), "a") as f:
                f.write(f"{self.path} {status} {1 if authorized else 0}\n")

    def send_simple(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        control = {}
        raw = read(os.path.join(self.server.dir, "control.json"))
        if raw:
            try:
                control = json.loads(raw)
            except ValueError:
                control = {}
        token = (read(self.server.token_file) or "").strip()
        authorized = bool(token) and self.headers.get("Authorization") == f"Bearer {token}"
        path = self.path.split("?", 1)[0]
        delay = float(control.get("delay", 0))
        if delay > 0:
            time.sleep(delay)
        if not authorized:
            self.record(401, authorized)
            return self.send_simple(401, "Unauthorized")
        status = control.get("status")
        if isinstance(status, dict):
            status = status.get(path)
        if status and int(status) != 200:
            self.record(int(status), authorized)
            return self.send_simple(int(status), f"mock kubelet says {status}")
        files = {"/stats/summary": self.server.summary, "/pods": self.server.pods}
        if path not in files:
            self.record(404, authorized)
            return self.send_simple(404, "404 page not found")
        body = read(files[path], "rb") or b"{}"
        mode = control.get("body", "ok")
        self.record(200, authorized)
        if mode == "malformed":
            body = b'{"node": {"nodeName": tru'
        elif mode == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) + 1000))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        elif mode == "oversized":
            size = int(control.get("size", 64 << 20))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if not control.get("chunked"):
                self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b'{"pad":"' + b"x" * 65000 + b'"},'
            sent = 0
            try:
                while sent < size:
                    part = chunk[: min(len(chunk), size - sent)]
                    self.wfile.write(part)
                    sent += len(part)
            except OSError:
                pass
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--summary", required=True)
    ap.add_argument("--pods", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--plain-http", action="store_true", help="no TLS (http:// refusal tests)")
    a = ap.parse_args()
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.dir, srv.token_file, srv.summary, srv.pods = a.dir, a.token_file, a.summary, a.pods
    srv.log_lock = threading.Lock()
    if not a.plain_http:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print(f"READY {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
