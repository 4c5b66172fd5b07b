"""A misbehaving kubelet for fault-injection tests: HTTPS on 127.0.0.1 with a certificate from a
CA made at test time (openssl CLI), serving /stats/summary and /pods. How it answers is read
from `mode` at each request, so a test can switch faults while the agent runs:

  ok         valid JSON (pod `fault-pod` in namespace `faults`, uid POD_UID)
  hang       accept, read the request, never answer (until stopped)
  reset      close the connection with RST right after reading the request
  status500  HTTP 500 with a small text body
  huge       200 with a syntactically valid body of `huge_bytes` (default 64 MiB)
  truncated  200 with a Content-Length larger than the body sent, then close
  garbage    200 with bytes that are not JSON
  slow       answer `ok` after `slow_seconds`

Requests without `Authorization: Bearer <token>` (token from `token_file`) get 401.
"""
import json
import os
import socket
import ssl
import struct
import subprocess
import threading
import time

POD_UID = "5e8f1b1e-2f39-4b54-9d9f-1e2b3c4d5e6f"
CONTAINER_ID = "8e2a1d0f4c9b7a6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e"
CGROUP = f"0::/kubepods/burstable/pod{POD_UID}/{CONTAINER_ID}\n"


def summary_json():
    return json.dumps({
        "node": {"nodeName": "fault-node", "cpu": {"usageNanoCores": 1000},
                 "memory": {"workingSetBytes": 1 << 30}},
        "pods": [{
            "podRef": {"name": "fault-pod", "namespace": "faults", "uid": POD_UID},
            "containers": [{"name": "app", "cpu": {"usageNanoCores": 500},
                            "memory": {"workingSetBytes": 1 << 20}}],
            "cpu": {"usageNanoCores": 500}, "memory": {"workingSetBytes": 1 << 20},
        }],
    }).encode()


def pods_json():
    return json.dumps({
        "kind": "PodList", "apiVersion": "v1",
        "items": [{
            "metadata": {"name": "fault-pod", "namespace": "faults", "uid": POD_UID},
            "spec": {"containers": [{"name": "app", "image": "example/app:1"}]},
            "status": {"containerStatuses": [{
                "name": "app", "image": "example/app:1",
                "containerID": f"containerd://{CONTAINER_ID}", "ready": True}]},
        }],
    }).encode()


def make_certs(folder, hosts=("127.0.0.1", "localhost"), prefix=""):
    """A CA and a server certificate it signs for `hosts`. Returns (ca, cert, key) paths."""
    ca_key, ca = os.path.join(folder, prefix + "ca.key"), os.path.join(folder, prefix + "ca.crt")
    key, csr, cert = (os.path.join(folder, prefix + n) for n in ("server.key", "server.csr", "server.crt"))
    ext = os.path.join(folder, prefix + "ext.cnf")
    san = ",".join(f"IP:{h}" if h[0].isdigit() else f"DNS:{h}" for h in hosts)
    with open(ext, "w") as f:
        f.write(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n")
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
        "-days", "2", "-subj", "/CN=fault-test-ca")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=localhost")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "2", "-extfile", ext)
    return ca, cert, key


class FaultKubelet:
    def __init__(self, folder, token="fault-token", tls=True, hosts=("127.0.0.1", "localhost")):
        self.folder = folder
        self.token_file = os.path.join(folder, "token")
        with open(self.token_file, "w") as f:
            f.write(token + "\n")
        self.token = token
        self.mode = "ok"
        self.huge_bytes = 64 << 20
        self.slow_seconds = 30
        self.requests = []  # (path, mode, status)
        self.lock = threading.Lock()
        self.ca, cert, key = make_certs(folder, hosts)
        self.auth_headers = []  # every Authorization header received (token leak checks)
        self.ctx = None
        if tls:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(cert, key)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def count(self, path_prefix="/"):
        with self.lock:
            return sum(1 for p, _, _ in self.requests if p.startswith(path_prefix))

    def stop(self):
        self.stopping.set()
        try:
            self.sock.close()
        except OSError:
            pass

    def _serve(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, raw):
        conn = raw
        try:
            raw.settimeout(10)
            if self.ctx is not None:
                conn = self.ctx.wrap_socket(raw, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            path = head[0].split(" ")[1] if len(head[0].split(" ")) > 1 else "/"
            headers = {h.split(":", 1)[0].strip().lower(): h.split(":", 1)[1].strip()
                       for h in head[1:] if ":" in h}
            mode = self.mode
            with self.lock:
                self.auth_headers.append(headers.get("authorization"))
            if headers.get("authorization") != f"Bearer {self.token}":
                self._send(conn, path, mode, 401, b"Unauthorized")
                return
            if mode == "hang":
                self._log(path, mode, 0)
                self.stopping.wait()
                return
            if mode == "reset":
                self._log(path, mode, 0)
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                raw.close()
                return
            if mode == "status500":
                self._send(conn, path, mode, 500, b"internal error")
                return
            if mode == "slow":
                time.sleep(self.slow_seconds)
            body = summary_json() if path.startswith("/stats/summary") else pods_json()
            if path.startswith("/stats/summary") or path.startswith("/pods"):
                if mode == "garbage":
                    body = b"\x00\xff<html>not json" * 10
                elif mode == "huge":
                    self._send_huge(conn, path, mode)
                    return
                elif mode == "truncated":
                    self._log(path, mode, 200)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                                 + body[:len(body) // 2])
                    return
                self._send(conn, path, mode, 200, body)
            else:
                self._send(conn, path, mode, 404, b"not found")
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _log(self, path, mode, status):
        with self.lock:
            self.requests.append((path, mode, status))

    def _send(self, conn, path, mode, status, body):
        self._log(path, mode, status)
        reason = {200: "OK", 401: "Unauthorized", 404: "Not Found", 500: "Internal Server Error"}[status]
        conn.sendall(f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)

    def _send_huge(self, conn, path, mode):
        self._log(path, mode, 200)
        n = self.huge_bytes
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     + f"Content-Length: {n}\r\nConnection: close\r\n\r\n".encode())
        # {"pods":[{}, {}, ...]} padded to n bytes: valid JSON all the way.
        head, tail = b'{"pods":[', b'{}]}'
        conn.sendall(head)
        left = n - len(head) - len(tail)
        chunk = b"{}," * 20000
        while left > 0 and not self.stopping.is_set():
            piece = chunk[:left - (left % 3) if left >= 3 else 0] or b" " * left
            conn.sendall(piece)
            left -= len(piece)
        conn.sendall(tail)
