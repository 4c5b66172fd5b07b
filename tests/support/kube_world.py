"""A small, self-consistent Kubernetes node for end-to-end tests of `nodeproc`:

  * POD_SPECS: pods with their namespace, uid, QoS, annotations, containers (name, image, id,
    runtime) and sandbox id;
  * pods_json() / summary_json(): what the kubelet's /pods and /stats/summary say about them;
  * cgroup_line(): the /proc/<pid>/cgroup line of a process of one of their containers, in the
    format of a given runtime and cgroup driver (containerd/systemd, cgroupfs v2, cri-o,
    dockershim, kind nesting, cri-o's conmon);
  * FakeProcTree: a --proc-root folder with fake PIDs (every file written) and live PIDs (the
    files of /proc/<pid> linked in, with a cgroup file of our choosing, so a real child can be
    "in a pod");
  * MockKubelet: tests/support/mock_kubelet.py over HTTPS with a CA from make_test_pki.sh, the
    two JSON documents above and a bearer token.
"""
import json
import os
import subprocess
import sys
import time

SUPPORT = os.path.dirname(os.path.abspath(__file__))
NODE_NAME = "e2e-node"


def _id(c):
    """A 64-hex container id made of one repeated hex digit pattern (readable in CSV rows)."""
    return (c * 64)[:64]


# Container ids and pod uids. Everything below derives from these.
POD_SPECS = [
    {   # containerd, systemd driver, burstable; two containers.
        "name": "web-7d4b9c6f5-x2k8p", "namespace": "shop", "uid": "1e7c3a5e-9d1b-4d3c-8c3a-0e2b6b1a7c11",
        "qos": "burstable", "driver": "systemd", "runtime": "containerd", "sandbox": _id("5a"),
        "containers": [("nginx", "docker.io/library/nginx:1.25", _id("a1")),
                       ("processing-logging", "docker.io/fluent/fluent-bit:2.2", _id("a2"))],
    },
    {   # containerd, cgroupfs driver, cgroup v2, burstable (the fault_kubelet_test format).
        "name": "coredns-66bff467f8-szddj", "namespace": "kube-system", "uid": "0adffe8e-9849-4e05-b4cd-92d2d1e1f1c3",
        "qos": "burstable", "driver": "cgroupfs", "runtime": "containerd", "sandbox": _id("5b"),
        "containers": [("coredns", "registry.k8s.io/coredns/coredns:v1.11.1", _id("b1"))],
    },
    {   # cri-o, systemd driver, besteffort.
        "name": "node-exporter-9xk2m", "namespace": "monitoring", "uid": "7c0d9f7e-3b51-4a8c-9e3e-2f6a1b0c4d21",
        "qos": "besteffort", "driver": "systemd", "runtime": "cri-o", "sandbox": _id("5c"),
        "containers": [("node-exporter", "quay.io/prometheus/node-exporter:v1.7.0", _id("c1"))],
    },
    {   # dockershim, systemd driver, guaranteed (no QoS level in the path).
        "name": "legacy-0", "namespace": "default", "uid": "22222222-3333-4444-5555-666666666666",
        "qos": "guaranteed", "driver": "systemd", "runtime": "docker", "sandbox": _id("5d"),
        "containers": [("app", "registry.example.com/legacy:9", _id("d1"))],
    },
    {   # containerd, cgroupfs, guaranteed; annotated out of nodeproc.
        "name": "report-28412-abcde", "namespace": "batch", "uid": "33333333-4444-5555-6666-777777777777",
        "qos": "guaranteed", "driver": "cgroupfs", "runtime": "containerd", "sandbox": _id("5e"),
        "annotations": {"nodeproc.io/exclude": "true"},
        "containers": [("report", "ghcr.io/example/report:2", _id("e1"))],
    },
    {   # kind: containerd/cgroupfs inside a docker container (the node); the inner id wins.
        "name": "nested-0", "namespace": "default", "uid": "44444444-5555-6666-7777-888888888888",
        "qos": "besteffort", "driver": "cgroupfs", "runtime": "containerd", "sandbox": _id("5f"),
        "kind_outer": _id("0f"),
        "containers": [("inner", "docker.io/library/busybox:1.36", _id("f1"))],
    },
]
PAUSE_IMAGE = "registry.k8s.io/pause:3.9"
RUNTIME_SCHEME = {"containerd": "containerd", "cri-o": "cri-o", "docker": "docker"}
SYSTEMD_SCOPE_PREFIX = {"containerd": "cri-containerd", "cri-o": "crio", "docker": "docker"}


def pod(name):
    return next(p for p in POD_SPECS if p["name"] == name)


def container(pod_name, container_name):
    return next(c for c in pod(pod_name)["containers"] if c[0] == container_name)


def add_pod(spec):
    """Adds a pod spec (same shape as POD_SPECS entries) for this test run."""
    POD_SPECS.append(spec)


def cgroup_line(p, container_id, conmon=False):
    """The v2 /proc/<pid>/cgroup content of a process in container `container_id` of pod `p`
    (`conmon`: cri-o's monitor of that container, which lives at pod level)."""
    uid = p["uid"]
    qos = p["qos"]
    if p["driver"] == "systemd":
        uu = uid.replace("-", "_")
        if qos == "guaranteed":
            path = f"/kubepods.slice/kubepods-pod{uu}.slice"
        else:
            path = f"/kubepods.slice/kubepods-{qos}.slice/kubepods-{qos}-pod{uu}.slice"
        prefix = SYSTEMD_SCOPE_PREFIX[p["runtime"]]
        if conmon:
            prefix += "-conmon"
        path += f"/{prefix}-{container_id}.scope"
    else:
        path = "/kubepods" + ("" if qos == "guaranteed" else f"/{qos}") + f"/pod{uid}"
        if p["runtime"] == "cri-o":
            path += f"/crio-{'conmon-' if conmon else ''}{container_id}"
        else:
            path += f"/{container_id}"
    if p.get("kind_outer"):
        path = f"/docker/{p['kind_outer']}" + path
    return f"0::{path}\n"


def pods_json():
    items = []
    for p in POD_SPECS:
        scheme = RUNTIME_SCHEME[p["runtime"]]
        items.append({
            "metadata": {"name": p["name"], "namespace": p["namespace"], "uid": p["uid"],
                         "labels": {"app": p["name"].split("-")[0]},
                         "annotations": dict(p.get("annotations", {}))},
            "spec": {"containers": [{"name": n, "image": img} for n, img, _ in p["containers"]]},
            "status": {"phase": "Running", "qosClass": p["qos"].capitalize(),
                       "containerStatuses": [
                           {"name": n, "image": img, "containerID": f"{scheme}://{cid}", "ready": True,
                            "state": {"running": {"startedAt": "2026-11-29T10:00:00Z"}}}
                           for n, img, cid in p["containers"]]},
        })
    return {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}


def container_stats(pod_index, container_index):
    """Deterministic, distinct figures per container (what the assertions compare with)."""
    base = (pod_index + 1) * 100 + container_index + 1
    return {
        "working_set": base * (1 << 20),            # e.g. 101 MiB
        "rss": base * (1 << 19),
        "usage": base * (3 << 19),
        "cpu_ns": base * 1_000_000_000,            # cumulative CPU: base seconds
        "nano_cores": base * 1_000_000,            # base millicores
    }


def summary_json(cpu_offset_seconds=0):
    """/stats/summary for POD_SPECS. `cpu_offset_seconds` advances every cumulative counter
    (a test that rewrites the file as time passes gets non-zero rates)."""
    now = "2026-11-29T10:05:00Z"
    pods = []
    for i, p in enumerate(POD_SPECS):
        containers, pod_ws, pod_cpu = [], 0, 0
        for j, (name, _, _) in enumerate(p["containers"]):
            s = container_stats(i, j)
            cpu_ns = s["cpu_ns"] + int(cpu_offset_seconds * s["nano_cores"])
            pod_ws += s["working_set"]
            pod_cpu += cpu_ns
            containers.append({
                "name": name, "startTime": "2026-11-29T10:00:00Z",
                "cpu": {"time": now, "usageNanoCores": s["nano_cores"], "usageCoreNanoSeconds": cpu_ns},
                "memory": {"time": now, "usageBytes": s["usage"], "workingSetBytes": s["working_set"],
                           "rssBytes": s["rss"], "pageFaults": 1000, "majorPageFaults": 1},
                "rootfs": {"time": now, "usedBytes": 4096 * (i + 1), "capacityBytes": 1 << 34,
                           "availableBytes": 1 << 33, "inodesUsed": 10},
                "logs": {"time": now, "usedBytes": 8192 * (i + 1), "capacityBytes": 1 << 34,
                         "availableBytes": 1 << 33},
            })
        pods.append({
            "podRef": {"name": p["name"], "namespace": p["namespace"], "uid": p["uid"]},
            "startTime": "2026-11-29T10:00:00Z",
            "containers": containers,
            "cpu": {"time": now, "usageNanoCores": 1_000_000, "usageCoreNanoSeconds": pod_cpu},
            "memory": {"time": now, "workingSetBytes": pod_ws, "usageBytes": pod_ws, "rssBytes": pod_ws // 2},
            "network": {"time": now, "name": "eth0", "rxBytes": 1000 * (i + 1), "rxErrors": 0,
                        "txBytes": 2000 * (i + 1), "txErrors": 0,
                        "interfaces": [{"name": "eth0", "rxBytes": 1000 * (i + 1), "rxErrors": 0,
                                        "txBytes": 2000 * (i + 1), "txErrors": 0}]},
            "volume": [{"time": now, "name": "kube-api-access", "usedBytes": 12288, "capacityBytes": 1 << 30,
                        "inodes": 1000, "inodesUsed": 9, "inodesFree": 991}],
            "ephemeral-storage": {"time": now, "usedBytes": 12288 * (i + 1)},
        })
    return {
        "node": {"nodeName": NODE_NAME, "startTime": "2026-11-29T09:00:00Z",
                 "cpu": {"time": now, "usageNanoCores": 250_000_000,
                         "usageCoreNanoSeconds": 5_000_000_000_000 + int(cpu_offset_seconds * 250_000_000)},
                 "memory": {"time": now, "availableBytes": 6 << 30, "usageBytes": 3 << 30,
                            "workingSetBytes": 2 << 30, "rssBytes": 1 << 30},
                 "network": {"time": now, "name": "eth0", "rxBytes": 1 << 30, "txBytes": 1 << 29,
                             "interfaces": [{"name": "eth0", "rxBytes": 1 << 30, "rxErrors": 0,
                                             "txBytes": 1 << 29, "txErrors": 0}]},
                 "fs": {"time": now, "availableBytes": 10 << 30, "capacityBytes": 40 << 30, "usedBytes": 30 << 30,
                        "inodesFree": 100000, "inodes": 200000, "inodesUsed": 100000},
                 "runtime": {"imageFs": {"time": now, "availableBytes": 10 << 30, "capacityBytes": 40 << 30,
                                         "usedBytes": 5 << 30}},
                 "rlimit": {"time": now, "maxpid": 4194304, "curproc": 321}},
        "pods": pods,
    }


def write_json(path, doc):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
    os.rename(tmp, path)  # the mock kubelet reads the file per request: never half a file


class FakeProcTree:
    """A --proc-root folder. Fake PIDs have every file the agent reads; live PIDs link the
    files of /proc/<pid> and get a cgroup file of the test's choosing."""

    BTIME = 1700000000
    PAGE = os.sysconf("SC_PAGE_SIZE")

    def __init__(self, root, live_root_files=False):
        self.proc = root
        os.makedirs(root, exist_ok=True)
        if live_root_files:
            # The real boot time, uptime and memory: live PIDs' start times stay right.
            for name in ("stat", "uptime", "meminfo", "loadavg"):
                os.symlink(f"/proc/{name}", os.path.join(root, name))
        else:
            self._write("stat", "cpu  100 0 100 1000 0 0 0 0 0 0\ncpu0 100 0 100 1000 0 0 0 0 0 0\n"
                        f"intr 0\nctxt 0\nbtime {self.BTIME}\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n")
            self._write("uptime", "100000.00 100000.00\n")
            self._write("meminfo", "MemTotal: 1000000 kB\nMemFree: 500000 kB\n")
            self._write("loadavg", "0.00 0.00 0.00 1/1 1\n")

    def _write(self, rel, data):
        with open(os.path.join(self.proc, rel), "w") as f:
            f.write(data)

    def add(self, pid, name, cmdline, cgroup, ppid=1, uid=0, rss_kb=4096, vms_kb=65536, threads=1,
            utime=50, stime=10, start_ticks=5000, fds=3, read_bytes=4096, write_bytes=512, state="S"):
        d = os.path.join(self.proc, str(pid))
        os.makedirs(os.path.join(d, "fd"))
        fields = [str(pid), f"({name})", state, str(ppid), str(pid), str(pid), "0", "-1", "4194560",
                  "10", "0", "0", "0", str(utime), str(stime), "0", "0", "20", "0", str(threads), "0",
                  str(start_ticks), str(vms_kb * 1024), str(rss_kb * 1024 // self.PAGE),
                  "18446744073709551615"]
        fields += ["0"] * (52 - len(fields))
        rel = lambda n: os.path.join(str(pid), n)  # noqa: E731
        self._write(rel("stat"), " ".join(fields) + "\n")
        self._write(rel("status"),
                    f"Name:\t{name}\nUmask:\t0022\nState:\t{state} (sleeping)\nTgid:\t{pid}\nNgid:\t0\n"
                    f"Pid:\t{pid}\nPPid:\t{ppid}\nTracerPid:\t0\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n"
                    f"Gid:\t{uid}\t{uid}\t{uid}\t{uid}\nFDSize:\t64\nGroups:\t\nVmPeak:\t{vms_kb} kB\n"
                    f"VmSize:\t{vms_kb} kB\nVmRSS:\t{rss_kb} kB\nRssAnon:\t{rss_kb} kB\nThreads:\t{threads}\n")
        self._write(rel("statm"), f"{vms_kb * 1024 // self.PAGE} {rss_kb * 1024 // self.PAGE} 10 1 0 10 0\n")
        self._write(rel("io"), f"rchar: {read_bytes}\nwchar: {write_bytes}\nsyscr: 1\nsyscw: 1\n"
                    f"read_bytes: {read_bytes}\nwrite_bytes: {write_bytes}\ncancelled_write_bytes: 0\n")
        self._write(rel("cmdline"), "\0".join(cmdline.split(" ")) + "\0")
        self._write(rel("comm"), name + "\n")
        self._write(rel("cgroup"), cgroup)
        for fd in range(fds):
            os.symlink("/dev/null", os.path.join(d, "fd", str(fd)))

    def add_live(self, pid, cgroup=None):
        """PID `pid` of this machine, seen through links to /proc/<pid>/*; `cgroup` (text)
        replaces its cgroup file (None: the whole folder is one link to /proc/<pid>)."""
        d = os.path.join(self.proc, str(pid))
        if cgroup is None:
            os.symlink(f"/proc/{pid}", d)
            return
        os.makedirs(d)
        for name in ("stat", "status", "statm", "cmdline", "comm", "io", "fd", "fdinfo", "maps",
                     "smaps_rollup", "exe", "cwd", "root", "task", "limits", "mountinfo"):
            os.symlink(f"/proc/{pid}/{name}", os.path.join(d, name))
        self._write(os.path.join(str(pid), "cgroup"), cgroup)


class MockKubelet:
    """tests/support/mock_kubelet.py on 127.0.0.1 with a fresh CA. Attributes: url, ca,
    other_ca (an unrelated CA), token_file, summary_path, pods_path, dir."""

    def __init__(self, folder, token="e2e-token"):
        self.dir = folder
        os.makedirs(folder, exist_ok=True)
        self.pki = os.path.join(folder, "pki")
        subprocess.run(["bash", os.path.join(SUPPORT, "make_test_pki.sh"), self.pki, NODE_NAME],
                       check=True, capture_output=True, timeout=120)
        self.ca = os.path.join(self.pki, "ca.crt")
        self.other_ca = os.path.join(self.pki, "other-ca.crt")
        self.token_file = os.path.join(folder, "token")
        with open(self.token_file, "w") as f:
            f.write(token + "\n")
        self.summary_path = os.path.join(folder, "summary.json")
        self.pods_path = os.path.join(folder, "pods.json")
        write_json(self.summary_path, summary_json())
        write_json(self.pods_path, pods_json())
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(SUPPORT, "mock_kubelet.py"), "--dir", folder,
             "--cert", os.path.join(self.pki, "server.crt"), "--key", os.path.join(self.pki, "server.key"),
             "--token-file", self.token_file, "--summary", self.summary_path, "--pods", self.pods_path],
            stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "READY":
            self.stop()
            raise RuntimeError(f"mock kubelet did not start: {line}")
        self.port = int(line[1])
        self.url = f"https://127.0.0.1:{self.port}"

    def control(self, doc):
        """Knobs of mock_kubelet.py (None: healthy)."""
        path = os.path.join(self.dir, "control.json")
        if doc is None:
            if os.path.exists(path):
                os.remove(path)
        else:
            write_json(path, doc)

    def requests(self):
        """[(path, status, authorized)] answered so far."""
        try:
            with open(os.path.join(self.dir, "requests.log")) as f:
                return [tuple(l.split()) for l in f if l.strip()]
        except OSError:
            return []

    def flags(self, ca=None):
        return [f"--kubelet-url={self.url}", f"--kubelet-ca-file={ca or self.ca}",
                f"--kubelet-token-file={self.token_file}"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_until(fn, timeout=30, interval=0.2):
    end = time.time() + timeout
    while time.time() < end:
        if fn():
            return True
        time.sleep(interval)
    return False
