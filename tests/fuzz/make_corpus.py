#!/usr/bin/env python3
"""(Re)creates the small committed seed corpora under tests/fuzz/corpus/<target>/.

Seeds come from the procfs fixtures (tests/fixtures/procfs/fixtures.ttar), the
kubelet fixtures (tests/fixtures/kubelet/*.json, when present) and hand-written hostile cases.
Run it after a fixture change; the output is committed (a few KiB per target).

    python3 tests/fuzz/make_corpus.py
"""
import glob
import hashlib
import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "fault"))
import ttar  # noqa: E402

FIXTURES = os.path.join(ROOT, "tests", "fixtures")
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def proc_seeds():
    tmp = tempfile.mkdtemp()
    try:
        ttar.extract(os.path.join(FIXTURES, "procfs", "fixtures.ttar"), tmp)
        proc = os.path.join(tmp, "fixtures", "proc")
        for pid in sorted(os.listdir(proc)):
            if not pid.isdigit():
                continue
            for f in ("stat", "status", "statm", "io", "cmdline"):
                p = os.path.join(proc, pid, f)
                if os.path.isfile(p):
                    put("fuzz_proc_parsers", open(p, "rb").read())
    finally:
        shutil.rmtree(tmp)
    hostile = [
        # comm with spaces and parentheses; kernel thread flags; zombie; truncated lines.
        "42 (a) (b) S 1 42 42 0 -1 4194560 0 0 0 0 3 4 0 0 20 0 1 0 100 0 0 18446744073709551615\n",
        "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 2 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 1 0 0 0 0 0\n",
        "77 ()) Z 1 77 77 0 -1 4227084 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n",
        "9 (x",
        "9 (x) R",
        "Name:\tbash\nState:\tZ (zombie)\nPPid:\t1\nUid:\t0\t0\t0\t0\nThreads:\t1\n",
        "Name:\ta b\nUid:\t4294967295\t1\nVmRSS:\t18446744073709551615 kB\nThreads:\t-1\n",
        "1 2 3 4 5 6 7\n",
        "18446744073709551615 18446744073709551615 0 0 0 0 0\n",
        "read_bytes: 18446744073709551616\nwrite_bytes: -1\n",
        "a\0b c\0\"quoted\"\0new\nline\0\xff\xfe\0",
    ]
    for h in hostile:
        put("fuzz_proc_parsers", h.encode("latin-1"))


CGROUPS = [
    # cgroup v2, systemd driver, containerd
    "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1e7c3a5e_9d1b_4d3c_8c3a_0e2b6b1a7c11.slice/cri-containerd-4f1e0b8b1c5bd0a3c6f1b0e0d1e9c3f3a1b2c3d4e5f60718293a4b5c6d7e8f90.scope\n",
    # cgroup v1, cgroupfs driver
    "12:pids:/kubepods/burstable/pod5e8f1b1e-2f39-4b54-9d9f-1e2b3c4d5e6f/8e2a1d0f4c9b7a6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d\n11:memory:/kubepods/burstable/pod5e8f1b1e-2f39-4b54-9d9f-1e2b3c4d5e6f/8e2a1d0f4c9b7a6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d\n1:name=systemd:/kubepods/burstable/pod5e8f1b1e-2f39-4b54-9d9f-1e2b3c4d5e6f/8e2a1d0f4c9b7a6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d\n",
    # cgroup v2, cgroupfs driver, burstable, 64-hex id
    "0::/kubepods/burstable/pod5e8f1b1e-2f39-4b54-9d9f-1e2b3c4d5e6f/8e2a1d0f4c9b7a6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e\n",
    # the agent in its own cgroup namespace: paths relative to its cgroup
    "0::/../../kubepods-besteffort-pod1e7c3a5e_9d1b_4d3c_8c3a_0e2b6b1a7c11.slice/cri-containerd-4f1e0b8b1c5bd0a3c6f1b0e0d1e9c3f3a1b2c3d4e5f60718293a4b5c6d7e8f90.scope\n",
    "0::/../../pod5e8f1b1e-2f39-4b54-9d9f-1e2b3c4d5e6f/8e2a1d0f4c9b7a6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e\n",
    # guaranteed pod (no QoS level)
    "0::/kubepods/pod0a1b2c3d-0000-1111-2222-333344445555/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
    # cri-o, and its conmon which is not the container
    "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod11111111_2222_3333_4444_555555555555.slice/crio-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.scope\n",
    "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod11111111_2222_3333_4444_555555555555.slice/crio-conmon-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.scope\n",
    # docker
    "0::/system.slice/docker-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.scope\n",
    "3:cpu,cpuacct:/docker/cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\n",
    # kind: nested runtime, innermost id wins
    "0::/system.slice/docker-dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod22222222_3333_4444_5555_666666666666.slice/cri-containerd-eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.scope\n",
    # host processes
    "0::/init.scope\n",
    "0::/user.slice/user-0.slice/session-1.scope\n",
    "0::/\n",
    # hostile
    "",
    "::\n:\n0:\n",
    "0::/kubepods/pod/\n",
    "0::/kubepods.slice/kubepods-pod.slice/cri-containerd-.scope\n",
    "0::" + "/kubepods" * 200 + "\n",
]


def kube_seeds():
    for c in CGROUPS:
        put("fuzz_cgroup", c)
    fixtures = os.path.join(ROOT, "tests", "fixtures", "kubelet")
    for path in sorted(glob.glob(os.path.join(fixtures, "*.json"))):
        data = open(path, "rb").read()
        if len(data) > 200000:
            continue
        if b'"kind"' in data and b'PodList' in data or os.path.basename(path).startswith("pods"):
            put("fuzz_pods", data)
        else:
            put("fuzz_summary", data)
    for t in ("fuzz_summary", "fuzz_pods"):
        for h in ["", "{}", "[]", "null", '{"node":{},"pods":[{}]}', '{"items":[{"metadata":{}}]}',
                  '{"pods":[{"podRef":{"name":1},"containers":[{"cpu":{"usageNanoCores":-1}}]}]}',
                  '{"items":[{"status":{"containerStatuses":[{"containerID":"containerd://"}]}}]}',
                  '{"node":{"cpu":{"usageNanoCores":18446744073709551616}}}',
                  '{"pods":[' * 100, '{"a":"\\ud800"}']:
            put(t, h)


def output_seeds():
    # fuzz_csv_roundtrip: "<name>\0<cmdline>"
    for name, cmd in [("bash", "bash -c echo hi"), ("a) (b", 'sh -c "a,b"\nnext'),
                      ("", ""), ("x\"y", "\"\"\",,,\r\n\r\n"), ("\xff\xfe", "\x00\x01\x7f")]:
        put("fuzz_csv_roundtrip", (name + "\0" + cmd).encode("latin-1"))
    # fuzz_cmdline_privacy: a command line (spaces between args)
    for cmd in ["mysql -u root -psecret123 db", "redis-server --requirepass hunter2",
                "java -jar app.jar --password=s3cr3t --token abc",
                "curl https://user:pa55@example.com/x -H Authorization: Bearer eyJhbGciOi",
                "aws AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "app jdbc:postgresql://db/x?user=a&password=b", "api_key=123 secret=456",
                "--password", "--password=", "-p", "token", ""]:
        put("fuzz_cmdline_privacy", cmd)
    # fuzz_config: records "<flag index byte><value>" separated by NUL
    for rec in [b"\x04288,72h", b"\x0310s\x00\x13100ms", b"\x14pid\x00\x15-1", b"\x16debug",
                b"\x17json\x00\x18500ms", b"\x08https://127.0.0.1:10250\x00\x0b1",
                b"\x1cname:foo.*\nimage:bar\x00\x1dnamespace:kube-system", b"\x1e(unclosed"]:
        put("fuzz_config", rec)


if __name__ == "__main__":
    for t in ("fuzz_proc_parsers", "fuzz_cgroup", "fuzz_summary", "fuzz_pods",
              "fuzz_csv_roundtrip", "fuzz_cmdline_privacy", "fuzz_config"):
        shutil.rmtree(os.path.join(OUT, t), ignore_errors=True)
    proc_seeds()
    kube_seeds()
    output_seeds()
    for t in sorted(os.listdir(OUT)):
        print(t, len(os.listdir(os.path.join(OUT, t))))
