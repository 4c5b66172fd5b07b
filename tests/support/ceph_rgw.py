"""A throwaway single-node Ceph RADOS Gateway on 127.0.0.1 (Debian packages ceph-mon, ceph-osd,
radosgw, ceph-common; scripts/deps.sh installs them): one monitor, one memstore OSD, radosgw
with auth none inside the cluster and one S3 user. Starts in a few seconds, lives in a temp
folder, is stopped with SIGTERM to the recorded PIDs. Also a tiny S3 client (SigV4 by hand in
Python: test-side only, to read back what the agent wrote).

Shape (measured on Debian 12, Ceph 16.2): msgr v2 only on loopback, `ms mon client mode = crc`
(radosgw defaults to secure, which needs cephx), fast paxos (radosgw creates ~7 pools), pools of
size 1, memstore.
"""
import datetime
import hashlib
import hmac
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET

ACCESS_KEY = "NODEPROCTESTKEY00001"
SECRET_KEY = "nodeproc-test-secret-key-0000000000000000"
REGION = "us-east-1"
BINARIES = ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "monmaptool", "ceph")


def missing_binaries():
    return [b for b in BINARIES if shutil.which(b) is None]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Rgw:
    def __init__(self, start_timeout=90):
        self.dir = tempfile.mkdtemp(prefix="nodeproc-rgw-")
        self.mon_port = free_port()
        self.port = free_port()
        self.start_timeout = start_timeout
        self.procs = {}
        self.fsid = str(uuid.uuid4())
        self.conf = os.path.join(self.dir, "ceph.conf")
        self._write_conf()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def _write_conf(self):
        d = self.dir
        for sub in ("run", "log", "crash", "tmp", "mon", "osd"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        # OSD ports: a range of its own (it binds several).
        base = 20000 + (os.getpid() * 37) % 20000
        with open(self.conf, "w") as f:
            f.write(f"""[global]
fsid = {self.fsid}
mon host = v2:127.0.0.1:{self.mon_port}
mon initial members = a
ms bind msgr1 = false
ms bind msgr2 = true
ms bind port min = {base}
ms bind port max = {base + 200}
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
ms mon client mode = crc
keyring = /dev/null
run dir = {d}/run
log file = {d}/log/$name.log
pid file = {d}/run/$name.pid
admin socket = {d}/run/$name.asok
crash dir = {d}/crash
tmp dir = {d}/tmp
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon warn on pool no redundancy = false
[mon]
mon data = {d}/mon/$cluster-$id
paxos propose interval = 0.05
paxos min wait = 0.01
[osd]
osd data = {d}/osd/$cluster-$id
osd objectstore = memstore
memstore device bytes = 1073741824
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:{self.port}
rgw dns name = localhost
rgw data = {d}/rgw
""")

    def _run(self, *args, timeout=60):
        out = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(args)}: exit {out.returncode}: {out.stderr[-2000:]}")
        return out.stdout

    def _spawn(self, name, *args):
        with open(os.path.join(self.dir, "log", f"{name}.stderr"), "ab") as log:
            self.procs[name] = subprocess.Popen(list(args), stdout=log, stderr=log, start_new_session=True)

    def _ceph(self, *args, timeout=30):
        return self._run("ceph", "-c", self.conf, "--connect-timeout", "10", *args, timeout=timeout)

    def start(self):
        """Creates the cluster, starts mon + osd + radosgw and the S3 user. Raises on failure."""
        deadline = time.time() + self.start_timeout
        c = self.conf
        monmap = os.path.join(self.dir, "monmap")
        self._run("monmaptool", "--create", "--fsid", self.fsid, "--addv", "a",
                  f"[v2:127.0.0.1:{self.mon_port}]", monmap)
        self._run("ceph-mon", "-c", c, "--mkfs", "-i", "a", "--monmap", monmap)
        self._spawn("mon", "ceph-mon", "-c", c, "-f", "-i", "a")
        osd_uuid = str(uuid.uuid4())
        osd_id = self._ceph("osd", "new", osd_uuid).strip()
        os.makedirs(os.path.join(self.dir, "osd", f"ceph-{osd_id}"), exist_ok=True)
        self._run("ceph-osd", "-c", c, "--mkfs", "-i", osd_id, "--osd-uuid", osd_uuid)
        self.osd_id = osd_id
        self._spawn("osd", "ceph-osd", "-c", c, "-f", "-i", osd_id)
        while "1 up" not in self._ceph("osd", "stat"):
            if time.time() > deadline:
                raise RuntimeError("OSD did not come up")
            time.sleep(0.2)
        self.start_gateway(deadline)
        self._run("radosgw-admin", "-c", c, "user", "create", "--uid=test", "--display-name=test",
                  f"--access-key={ACCESS_KEY}", f"--secret-key={SECRET_KEY}")
        return self

    def start_gateway(self, deadline=None):
        deadline = deadline or time.time() + self.start_timeout
        self._spawn("rgw", "radosgw", "-c", self.conf, "-f", "-n", "client.rgw")
        while True:
            try:
                with urllib.request.urlopen(self.endpoint + "/", timeout=2) as r:
                    if r.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            if self.procs["rgw"].poll() is not None:
                raise RuntimeError(f"radosgw exited: {self.gateway_log()[-2000:]}")
            if time.time() > deadline:
                raise RuntimeError(f"radosgw not answering: {self.gateway_log()[-2000:]}")
            time.sleep(0.1)

    def gateway_running(self):
        p = self.procs.get("rgw")
        return p is not None and p.poll() is None

    def stop_gateway(self):
        p = self.procs.pop("rgw", None)
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        # The port is closed once the process is gone.
        end = time.time() + 10
        while time.time() < end:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.05)

    def gateway_log(self):
        try:
            with open(os.path.join(self.dir, "log", "rgw.stderr"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def close(self):
        self.stop_gateway()
        for name in ("osd", "mon"):
            p = self.procs.pop(name, None)
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def client(self, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
        return S3(self.endpoint, access_key, secret_key)


class S3:
    """Path-style S3 requests signed with SigV4 (test-side reader; the agent uses libcurl)."""

    def __init__(self, endpoint, access_key, secret_key, region=REGION):
        self.endpoint = endpoint
        self.host = endpoint.split("://", 1)[1]
        self.ak, self.sk, self.region = access_key, secret_key, region

    def request(self, method, path, query="", body=b""):
        now = datetime.datetime.utcnow()
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        day = now.strftime("%Y%m%d")
        payload = hashlib.sha256(body).hexdigest()
        headers = {"host": self.host, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
        signed = ";".join(sorted(headers))
        canonical = "\n".join([method, path, query,
                               "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)),
                               signed, payload])
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        k = ("AWS4" + self.sk).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.ak}/{scope}, "
                                    f"SignedHeaders={signed}, Signature={sig}")
        url = self.endpoint + path + (("?" + query) if query else "")
        req = urllib.request.Request(url, data=body if method in ("PUT", "POST") else None,
                                     method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read(), dict(e.headers)

    def create_bucket(self, bucket):
        status, body, _ = self.request("PUT", f"/{bucket}")
        if status != 200:
            raise RuntimeError(f"create bucket {bucket}: {status} {body[:300]!r}")

    def list_keys(self, bucket, prefix=""):
        """All keys (ListObjectsV2, paginated) -> {key: (size, etag)}."""
        out = {}
        token = None
        while True:
            q = [("list-type", "2"), ("max-keys", "1000")]
            if prefix:
                q.append(("prefix", prefix))
            if token:
                q.append(("continuation-token", token))
            q.sort()
            query = "&".join(f"{k}={urllib.parse.quote(v, safe='-_.~')}" for k, v in q)
            status, body, _ = self.request("GET", f"/{bucket}", query)
            if status != 200:
                raise RuntimeError(f"list {bucket}: {status} {body[:300]!r}")
            root = ET.fromstring(body)
            ns = root.tag.split("}")[0] + "}" if root.tag.startswith("{") else ""
            for c in root.findall(f"{ns}Contents"):
                out[c.find(f"{ns}Key").text] = (int(c.find(f"{ns}Size").text),
                                               c.find(f"{ns}ETag").text.strip('"'))
            if root.findtext(f"{ns}IsTruncated") != "true":
                return out
            token = root.findtext(f"{ns}NextContinuationToken")

    def get(self, bucket, key):
        status, body, _ = self.request("GET", f"/{bucket}/{key}")
        if status != 200:
            raise RuntimeError(f"get {key}: {status} {body[:300]!r}")
        return body


import urllib.parse  # noqa: E402  (used by list_keys)
