#!/usr/bin/env python3
"""The built agent accepts the command line the chart renders, for every values variation.

usage: agent_accepts_chart_args.py HELM CHART AGENT WORK_DIR

For the defaults and each ci/*-values.yaml: render the DaemonSet, take the container's args,
map the in-pod paths to this machine (/host/proc -> /proc, the snapshot folder, the
service-account token and CA, the anonymization key -> files in WORK_DIR; $(NODE_NAME) and
$(NODE_IP) -> test-node and 127.0.0.1; the listen address -> a free loopback port), start
`AGENT run <args>` and require /healthz to answer 200 while the process keeps running. The
kubelet URL points at a closed loopback port: a dead kubelet must not stop the agent.
Prints one line per variation and "agent_args: N passed, M failed".
"""
import glob
import os
import socket
import subprocess
import sys
import time
import ssl
import urllib.request

import yaml


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    helm, chart, agent, work = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    token = os.path.join(work, "token")
    with open(token, "w") as f:
        f.write("not-a-real-token\n")
    ca = os.path.join(work, "ca.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", os.path.join(work, "ca.key"), "-out", ca, "-days", "2",
                    "-subj", "/CN=test-ca"], check=True, capture_output=True)
    # The web TLS pair (web.tls: the Secret's tls.crt/tls.key).
    web_cert, web_key = os.path.join(work, "web.crt"), os.path.join(work, "web.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", web_key, "-out", web_cert, "-days", "2", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True)
    keydir = os.path.join(work, "anonymize")
    os.makedirs(keydir, exist_ok=True)
    variations = [("default", [])] + [("ci/" + os.path.basename(f), ["-f", f])
                                      for f in sorted(glob.glob(os.path.join(chart, "ci", "*-values.yaml")))]
    passed = failed = 0
    unverified = ssl.create_default_context()
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE
    for label, extra in variations:
        out = subprocess.run([helm, "template", "nodeproc", chart, "--kube-version", "1.30.0",
                              "--show-only", "templates/daemonset.yaml"] + extra, capture_output=True, text=True)
        if out.returncode != 0:
            print("FAIL  %s: helm template: %s" % (label, out.stderr.strip()[-300:]))
            failed += 1
            continue
        ds = yaml.safe_load(out.stdout)
        c = ds["spec"]["template"]["spec"]["containers"][0]
        snapdir = os.path.join(work, label.replace("/", "_"), "snapshots")
        os.makedirs(snapdir, exist_ok=True)
        port = free_port()
        args = []
        tls = False
        for a in c["args"]:
            a = a.replace("$(NODE_NAME)", "test-node").replace("$(NODE_IP)", "127.0.0.1")
            name, _, value = a.partition("=")
            if name == "--proc-root":
                a = "--proc-root=/proc"
            elif name == "--listen-address":
                a = "--listen-address=127.0.0.1:%d" % port
            elif name == "--snapshot-dir":
                a = "--snapshot-dir=" + snapdir
            elif name == "--kubelet-url":
                a = "--kubelet-url=https://127.0.0.1:%d" % free_port()  # nothing listens
            elif name == "--kubelet-token-file":
                a = "--kubelet-token-file=" + token
            elif name == "--kubelet-ca-file":
                a = "--kubelet-ca-file=" + ca
            elif name == "--web-tls-cert-file":
                a, tls = "--web-tls-cert-file=" + web_cert, True
            elif name == "--web-tls-key-file":
                a = "--web-tls-key-file=" + web_key
            elif name == "--anonymize-key-file":
                key = os.path.join(keydir, os.path.basename(value))
                with open(key, "w") as f:
                    f.write("test-key\n")
                a = "--anonymize-key-file=" + key
            args.append(a)
        log = open(os.path.join(work, label.replace("/", "_") + ".log"), "w")
        env = dict(os.environ, NODE_NAME="test-node", NODE_IP="127.0.0.1")
        for e in c.get("env", []):  # values from Secrets (e.g. upload keys): stand-in values
            if "secretKeyRef" in e.get("valueFrom", {}):
                env[e["name"]] = "TEST" + e["valueFrom"]["secretKeyRef"]["key"].replace("_", "")
        proc = subprocess.Popen([agent, "run"] + args, stdout=log, stderr=subprocess.STDOUT, env=env)
        healthy, why = False, "no answer"
        deadline = time.time() + 20
        while time.time() < deadline:
            if proc.poll() is not None:
                why = "exited with %d" % proc.returncode
                break
            try:
                url = "%s://127.0.0.1:%d/healthz" % ("https" if tls else "http", port)
                with urllib.request.urlopen(url, timeout=2, context=unverified if tls else None) as r:
                    if r.status == 200:
                        healthy = True
                        break
            except OSError as e:
                why = str(e)
            time.sleep(0.3)
        alive = proc.poll() is None
        if alive:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
        if healthy and alive:
            passed += 1
            print("ok    %s: agent runs with the chart's %d args, /healthz 200" % (label, len(args)))
        else:
            failed += 1
            tail = open(log.name).read().strip().splitlines()[-5:]
            print("FAIL  %s: %s\n      args: %s\n      %s" % (label, why, " ".join(args), "\n      ".join(tail)))
    print("agent_args: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
