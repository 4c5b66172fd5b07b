"""Hostile HTTP clients held against a running agent, and a kubelet-like prober measuring how long
/healthz and /readyz take meanwhile. Shared by tests/integration/serving_abuse_test.py (asserts)
and bench/probe_latency.py (before/after figures). Loopback only.

Each abuse runs in its own process (asyncio, one event loop for hundreds of sockets) so that the
prober, in another process, is not slowed down by the abuser's Python. An abuse keeps its
connections up: a connection the server closes is opened again at once, as an attacker would.
"""
import asyncio
import multiprocessing
import os
import resource
import socket
import ssl
import statistics
import time

ABUSES = {
    # name: (description, tls_only)
    "idle": ("200 idle connections", False),
    "slowloris": ("50 slowloris connections (request head at 1 byte/s)", False),
    "scrapes": ("1000 concurrent scrapes (keep-alive, back to back)", False),
    "stalled_tls": ("24 silent + 24 trickling (1 byte / 2 s) TLS handshakes", True),
}


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def client_context(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False  # the certificate names 127.0.0.1; hostname checks are not the point
    return ctx


async def _open(port, tls_ctx):
    return await asyncio.open_connection("127.0.0.1", port, ssl=tls_ctx,
                                         ssl_handshake_timeout=30 if tls_ctx else None)


async def _read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status, b"connection: close" in head.lower()


async def _idle(port, tls_ctx, stop, counts):
    while not stop.is_set():
        try:
            reader, writer = await _open(port, tls_ctx)
            counts["opened"] += 1
            await reader.read(1)  # returns when the server closes (idle deadline, eviction)
            writer.close()
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
            await asyncio.sleep(0.05)


async def _slowloris(port, tls_ctx, stop, counts):
    while not stop.is_set():
        try:
            reader, writer = await _open(port, tls_ctx)
            counts["opened"] += 1
            writer.write(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            await writer.drain()
            while not stop.is_set() and not reader.at_eof():
                try:
                    await asyncio.wait_for(reader.read(1), timeout=1.0)
                    break  # the server answered or closed
                except asyncio.TimeoutError:
                    writer.write(b"a")
                    await writer.drain()
            writer.close()
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
            await asyncio.sleep(0.05)


async def _scrapes(port, tls_ctx, stop, counts, auth):
    request = (b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth + b"\r\n")
    while not stop.is_set():
        try:
            reader, writer = await _open(port, tls_ctx)
            counts["opened"] += 1
            while not stop.is_set():
                writer.write(request)
                await writer.drain()
                status, close = await _read_response(reader)
                counts[status] = counts.get(status, 0) + 1
                if close:
                    break
            writer.close()
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError, ValueError, IndexError):
            await asyncio.sleep(0.05)


async def _stalled_tls(port, stop, counts, trickle):
    # A TLS ClientHello record header, then nothing (silent) or a byte every 2 s (trickle).
    hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 500
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            counts["opened"] += 1
            i = 0
            while not stop.is_set() and not reader.at_eof():
                try:
                    await asyncio.wait_for(reader.read(1), timeout=2.0)
                    break
                except asyncio.TimeoutError:
                    if trickle and i < len(hello):
                        writer.write(hello[i:i + 1])
                        await writer.drain()
                        i += 1
            writer.close()
        except (OSError, asyncio.IncompleteReadError):
            await asyncio.sleep(0.05)


async def _run_abuse(name, port, ca, auth, stop, ready, counts_out):
    tls_ctx = client_context(ca) if ca else None
    counts = {"opened": 0}
    if name == "idle":
        tasks = [_idle(port, tls_ctx, stop, counts) for _ in range(200)]
        want = 200
    elif name == "slowloris":
        tasks = [_slowloris(port, tls_ctx, stop, counts) for _ in range(50)]
        want = 50
    elif name == "scrapes":
        tasks = [_scrapes(port, tls_ctx, stop, counts, auth) for _ in range(1000)]
        want = 1000
    elif name == "stalled_tls":
        tasks = ([_stalled_tls(port, stop, counts, False) for _ in range(24)] +
                 [_stalled_tls(port, stop, counts, True) for _ in range(24)])
        want = 48
    else:
        raise ValueError(name)
    running = [asyncio.ensure_future(t) for t in tasks]

    async def watch():
        deadline = time.time() + 60
        while counts["opened"] < want and time.time() < deadline:
            await asyncio.sleep(0.05)
        ready.set()  # every connection has been opened once: the abuse is on
        while not stop.is_set():
            await asyncio.sleep(0.05)
        for t in running:
            t.cancel()

    await asyncio.gather(watch(), *running, return_exceptions=True)
    counts_out.update({str(k): v for k, v in counts.items()})


def _abuse_main(name, port, ca, auth, stop, ready, counts_out):
    import warnings
    warnings.simplefilter("ignore", ResourceWarning)  # sockets dropped by cancelled tasks
    raise_fd_limit()
    asyncio.run(_run_abuse(name, port, ca, auth, stop, ready, counts_out))


class Abuse:
    """Context manager: the named abuse runs in a child process while the block runs."""

    def __init__(self, name, port, ca=None, auth=b""):
        self.name, self.port, self.ca, self.auth = name, port, ca, auth
        mp = multiprocessing.get_context("fork")
        self.stop, self.ready = mp.Event(), mp.Event()
        self.manager = mp.Manager()
        self.counts = self.manager.dict()
        self.proc = mp.Process(target=_abuse_main, args=(name, port, ca, auth, self.stop, self.ready,
                                                         self.counts), daemon=True)

    def __enter__(self):
        self.proc.start()
        if not self.ready.wait(90):
            self.__exit__(None, None, None)
            raise AssertionError(f"abuse {self.name} did not get its connections up")
        time.sleep(0.5)  # let the first wave settle into its steady state
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.proc.join(20)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.result = dict(self.counts)
        self.manager.shutdown()
        return False


def probe_once(port, path, ca=None, timeout=5.0):
    """One kubelet-style probe: a new connection, GET, read to the end. Returns (status, seconds);
    status 0 when it failed or took longer than `timeout`."""
    start = time.monotonic()
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        try:
            if ca:
                sock = client_context(ca).wrap_socket(sock)
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                         .encode())
            data = b""
            while True:
                remaining = timeout - (time.monotonic() - start)
                if remaining <= 0:
                    raise socket.timeout()
                sock.settimeout(remaining)
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        finally:
            sock.close()
        status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
        return status, time.monotonic() - start
    except (OSError, ssl.SSLError, ValueError, IndexError):
        return 0, time.monotonic() - start


def _probe_main(port, ca, seconds, interval, out):
    results = []
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        path = "/healthz" if i % 2 == 0 else "/readyz"
        status, took = probe_once(port, path, ca)
        results.append((path, status, took))
        i += 1
        time.sleep(max(0.0, interval - took))
    out.send(results)


def probe_for(port, seconds, ca=None, interval=0.1):
    """Probes /healthz and /readyz alternately for `seconds`, from a separate process.
    Returns [(path, status, seconds)]."""
    mp = multiprocessing.get_context("fork")
    recv, send = mp.Pipe(duplex=False)
    proc = mp.Process(target=_probe_main, args=(port, ca, seconds, interval, send), daemon=True)
    proc.start()
    results = recv.recv()
    proc.join()
    return results


def summary(results):
    times = sorted(t for _, _, t in results)
    ok = sum(1 for _, s, t in results if s == 200 and t < 1.0)
    if not times:
        return {"n": 0, "ok": 0, "p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    p99 = times[min(len(times) - 1, int(round(0.99 * (len(times) - 1))))]
    return {"n": len(times), "ok": ok, "p50": statistics.median(times), "p99": p99,
            "max": times[-1]}


def make_ca_and_cert(folder, prefix="", cn="nodeproc-test", ca=None):
    """A CA (new, or the given (ca_cert, ca_key)) and a server certificate it signs for 127.0.0.1
    (ECDSA P-256). Returns (ca_cert, ca_key, cert, key)."""
    import subprocess
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    if ca is None:
        ca_cert, ca_key = os.path.join(folder, "ca.crt"), os.path.join(folder, "ca.key")
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", ca_key, "-out", ca_cert, "-days", "2", "-subj", "/CN=abuse-test-ca")
    else:
        ca_cert, ca_key = ca
    key, csr, cert = (os.path.join(folder, prefix + n) for n in ("tls.key", "tls.csr", "tls.crt"))
    ext = os.path.join(folder, prefix + "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", key, "-out", csr, "-subj", f"/CN={cn}")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "2", "-extfile", ext)
    return ca_cert, ca_key, cert, key


def peer_common_name(port, ca):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        with client_context(ca).wrap_socket(sock) as tls:
            subject = dict(x[0] for x in tls.getpeercert()["subject"])
            return subject.get("commonName")
