#!/usr/bin/env python3
"""Offline validation of the nodeproc Helm chart (helm/nodeproc).

    python3 tests/chart/validate_chart.py [--helm HELM] [--chart DIR] [--keep DIR]

For the chart's defaults and every helm/nodeproc/ci/*-values.yaml (found automatically):
  1. helm lint --strict, and helm template (Kubernetes 1.30, Prometheus Operator APIs on);
  2. yamllint of the rendered output;
  3. every rendered object against the Kubernetes 1.30 OpenAPI definitions or the Prometheus
     Operator CRDs (tests/fixtures/k8s-schemas), strictly: an unknown field is an error, as with
     `kubeconform -strict`; IntOrString and Quantity as the API server reads them;
  4. a few API-server rules the schemas cannot express (tolerations, names, selectors, mounts);
  5. least privilege (RULES below), minus the exceptions declared per variation in
     tests/chart/posture_exceptions.yaml. An exception that matches nothing is an error.
Then negative renders (NEGATIVE below): values the chart must refuse make helm fail (values
schema or template `fail`), and settings it must not deploy make this validation fail.

Prints "ok: ..." / "FAIL: ..." lines; the last line is "validate-chart: N passed, M failed,
K skipped". Without helm every check is skipped (exit 0, reported as skipped, never passed).
Exit status: 0 when nothing failed.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import jsonschema
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCHEMAS = os.path.join(ROOT, "tests", "fixtures", "k8s-schemas")
EXCEPTIONS = os.path.join(HERE, "posture_exceptions.yaml")
KUBE_VERSION = "1.30.0"
RELEASE, NAMESPACE = "nodeproc", "nodeproc"
RENDER_ARGS = ["--kube-version", KUBE_VERSION, "--api-versions", "monitoring.coreos.com/v1"]

# Least-privilege rules (DESIGN.md "Deployment posture"): the agent runs as root with every
# capability dropped but these two, no host namespaces, read-only root filesystem, no privilege
# escalation, seccomp RuntimeDefault, host /proc mounted read-only, read-only RBAC on node stats.
RULES = {
    "privileged": "a privileged container",
    "host-namespace": "hostPID, hostNetwork or hostIPC",
    "host-process": "a Windows HostProcess pod",
    "capabilities-drop": "capabilities.drop lacks ALL",
    "capabilities-add": "adds capabilities beyond SYS_PTRACE and DAC_READ_SEARCH",
    "rootfs-writable": "readOnlyRootFilesystem is not true",
    "privilege-escalation": "allowPrivilegeEscalation is not false",
    "seccomp": "no RuntimeDefault (or Localhost) seccomp profile",
    "hostpath": "a hostPath volume other than /proc mounted read-only",
    "resources": "no resource requests or no memory limit",
    "rbac": "RBAC beyond reading node stats/pods (wildcards, write verbs, other resources)",
}
ALLOWED_CAPS = {"SYS_PTRACE", "DAC_READ_SEARCH"}
READ_VERBS = {"get", "list", "watch"}
# (apiGroup, resource) -> allowed verbs. The review APIs only ask the API server a question
# (what a kube-rbac-proxy sidecar needs to authenticate and authorize scrapers).
RBAC_ALLOWED = {
    ("", "nodes/stats"): READ_VERBS,
    ("", "nodes/pods"): READ_VERBS,
    ("authentication.k8s.io", "tokenreviews"): {"create"},
    ("authorization.k8s.io", "subjectaccessreviews"): {"create"},
}

# Values the chart must refuse. stage "helm": `helm template` fails with a message matching
# `expect`; stage "validate": it renders, and this validation reports a finding matching it.
NEGATIVE = [
    ("pull-policy", ["--set", "image.pullPolicy=Sometimes"], "helm", r"image\.pullPolicy must be one of"),
    ("misspelt key", "snapshots:\n  retension: '288'\n", "helm", r"Additional property retension is not allowed"),
    ("wrong type", "resources:\n  limits:\n    memory: [256Mi]\n", "helm", r"resources\.limits\.memory: Invalid type"),
    ("bad quantity", "resources:\n  limits:\n    memory: 256MB\n", "helm", r"resources\.limits\.memory: Does not match pattern"),
    ("pvc without claim", ["--set", "snapshots.volume.type=persistentVolumeClaim"], "helm", r"claimName is required"),
    ("bad duration", ["--set", "agent.cpuSampleInterval=fast"], "helm", r"agent\.cpuSampleInterval: Does not match pattern"),
    ("bad process metrics", ["--set", "agent.processMetrics=both"], "helm", r"agent\.processMetrics must be one of"),
    ("windows snapshot dir", ["--set", "windows.snapshotDir=/var/lib/x"], "helm", r"windows\.snapshotDir: Does not match pattern"),
    ("privileged", ["--set", "securityContext.privileged=true"], "validate", r"\[privileged\]"),
    ("extra capability", ["--set", "securityContext.capabilities.add={SYS_PTRACE,SYS_ADMIN}"], "validate",
     r"\[capabilities-add\].*SYS_ADMIN"),
    ("writable rootfs", ["--set", "securityContext.readOnlyRootFilesystem=false"], "validate", r"\[rootfs-writable\]"),
    ("host / mounted", ["--set", "hostProcPath=/"], "validate", r"\[hostpath\].*'/'"),
    ("unknown field (strict schema)", "affinity:\n  nodeAffinty: {}\n", "validate",
     r"\[schema\].*unknown field 'nodeAffinty' \(did you mean 'nodeAffinity'\?\)"),
    ("toleration value with Exists", "tolerations:\n  - operator: Exists\n    value: x\n", "validate",
     r"\[api\].*must be empty when operator is Exists"),
]

YAMLLINT_RENDERED = """{extends: default, rules: {
  document-start: disable, line-length: disable, comments: disable, comments-indentation: disable,
  indentation: {spaces: consistent, indent-sequences: whatever, check-multi-line-strings: false},
  truthy: {allowed-values: ['true', 'false'], check-keys: false},
  empty-lines: {level: warning}, trailing-spaces: {level: warning}, new-line-at-end-of-file: disable}}"""

QUANTITY = (r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
            r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$")


class Report:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def ok(self, msg):
        self.passed += 1
        print("ok: " + msg)

    def fail(self, msg, details=()):
        self.failed += 1
        print("FAIL: " + msg)
        for d in details:
            print("    " + d)

    def skip(self, msg):
        self.skipped += 1
        print("SKIPPED: " + msg)

    def check(self, cond, msg, details=()):
        (self.ok(msg) if cond else self.fail(msg, details))


# ------------------------------------------------------------------ schemas


def strict(node, crd=False):
    """A copy of an OpenAPI schema in which an object's unknown fields are errors."""
    if isinstance(node, list):
        return [strict(x, crd) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: strict(sub, crd) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "allOf", "anyOf", "oneOf", "not"):
            out[key] = strict(value, crd)
        else:
            out[key] = value
    if out.get("x-kubernetes-int-or-string"):
        out.pop("anyOf", None)
        out["type"] = ["integer", "string"]
    if "properties" in out and "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    if crd and out.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def _json(path):
    with open(path) as f:
        return json.load(f)


def load_validators():
    """{(apiVersion, kind): validator} for Kubernetes 1.30 kinds and the Prometheus Operator CRDs."""
    minor = ".".join(KUBE_VERSION.split(".")[:2])
    raw = _json(os.path.join(SCHEMAS, "k8s-v%s-definitions.json" % minor))["definitions"]
    defs = {name: strict(d) for name, d in raw.items()}
    # As the API server decodes them: IntOrString takes both; a Quantity is a string in the
    # quantity syntax, or a plain number.
    defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = {"type": ["integer", "string"]}
    defs["io.k8s.apimachinery.pkg.api.resource.Quantity"] = {"type": ["string", "number"], "pattern": QUANTITY}
    roots = {}
    for name, d in raw.items():
        for gvk in d.get("x-kubernetes-group-version-kind", []):
            api = "%s/%s" % (gvk["group"], gvk["version"]) if gvk["group"] else gvk["version"]
            roots[(api, gvk["kind"])] = name
    for path in sorted(glob.glob(os.path.join(SCHEMAS, "crd-*.json"))):
        for key, entry in _json(path).items():
            group, version, kind = key.split("/")
            s = strict(entry["openAPIV3Schema"], crd=True)
            s.setdefault("properties", {}).update({
                "apiVersion": {"enum": ["%s/%s" % (group, version)]}, "kind": {"enum": [kind]},
                "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}})
            s["required"] = sorted(set(s.get("required", [])) | {"apiVersion", "kind", "metadata"})
            defs["crd." + key.replace("/", ".")] = s
            roots[("%s/%s" % (group, version), kind)] = "crd." + key.replace("/", ".")
    formats = jsonschema.FormatChecker(formats=())
    formats.checks("int32")(lambda v: not isinstance(v, int) or -2**31 <= v < 2**31)
    formats.checks("int64")(lambda v: not isinstance(v, int) or -2**63 <= v < 2**63)
    return {k: jsonschema.Draft4Validator({"$ref": "#/definitions/" + name, "definitions": defs}, format_checker=formats)
            for k, name in roots.items()}


def schema_errors(validator, obj):
    for err in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(map(str, err.absolute_path)) or "(root)"
        msg = err.message
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            known = list(err.schema.get("properties", {}))
            unknown = [k for k in err.instance if k not in known]
            hints = []
            for k in unknown:
                close = [c for c in known if _similar(k, c)]
                hints.append("unknown field %r%s" % (k, " (did you mean %r?)" % close[0] if close else ""))
            msg = "; ".join(hints) or msg
        elif err.validator == "pattern" and err.validator_value == QUANTITY:
            msg = "%r is not a quantity (e.g. 100m, 64Mi)" % (err.instance,)
        yield "%s: %s" % (where, msg[:300])


def _similar(a, b):
    import difflib
    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio() >= 0.8


def drop_nulls(x):
    """An explicit null is an unset field for the API server."""
    if isinstance(x, dict):
        return {k: drop_nulls(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [drop_nulls(v) for v in x]
    return x


# ------------------------------------------------------------------ object checks


def pod_of(obj):
    """(pod spec, pod template metadata) of objects that run pods, else (None, None)."""
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Pod":
        return spec, obj.get("metadata") or {}
    if obj.get("kind") in ("DaemonSet", "Deployment", "StatefulSet", "ReplicaSet", "Job"):
        template = spec.get("template") or {}
        return template.get("spec") or {}, template.get("metadata") or {}
    return None, None


def api_findings(obj):
    """Rules the API server enforces that the OpenAPI schema cannot express."""
    ps, pmeta = pod_of(obj)
    if ps is None:
        return
    volumes = [v.get("name") for v in ps.get("volumes") or []]
    if len(set(volumes)) != len(volumes):
        yield "spec: duplicate volume names %s" % volumes
    containers = (ps.get("initContainers") or []) + (ps.get("containers") or [])
    names = [c.get("name") for c in containers]
    if len(set(names)) != len(names):
        yield "spec: duplicate container names %s" % names
    for c in containers:
        for m in c.get("volumeMounts") or []:
            if m.get("name") not in volumes:
                yield "container %s: volumeMount %r names no volume of the pod" % (c.get("name"), m.get("name"))
    for i, t in enumerate(ps.get("tolerations") or []):
        if t.get("operator") == "Exists" and t.get("value"):
            yield "tolerations[%d].value: must be empty when operator is Exists" % i
    selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    labels = pmeta.get("labels") or {}
    for k, v in selector.items():
        if labels.get(k) != v:
            yield "spec.selector.matchLabels: %s=%s is not a label of the pod template" % (k, v)


def posture_findings(obj):
    """(rule, subject, message) for each least-privilege finding of one object."""
    kind = obj.get("kind")
    if kind in ("ClusterRole", "Role"):
        for i, r in enumerate(obj.get("rules") or []):
            for group in r.get("apiGroups") or [""]:
                for res in r.get("resources") or []:
                    allowed = RBAC_ALLOWED.get((group, res), set())
                    extra = sorted(set(r.get("verbs") or []) - allowed)
                    if extra or "*" in (group, res):
                        yield "rbac", res, "rules[%d]: %s %s on %r/%r" % (i, "may" if allowed else "grants", extra or r.get("verbs"), group, res)
            if r.get("nonResourceURLs"):
                yield "rbac", "*", "rules[%d]: nonResourceURLs %s" % (i, r["nonResourceURLs"])
        return
    ps, _ = pod_of(obj)
    if ps is None:
        return
    psc = ps.get("securityContext") or {}
    for field in ("hostPID", "hostNetwork", "hostIPC"):
        if ps.get(field):
            yield "host-namespace", "*", "%s: true" % field
    if (psc.get("windowsOptions") or {}).get("hostProcess"):
        yield "host-process", "*", "securityContext.windowsOptions.hostProcess: true"
    hostpaths = {v["name"]: v["hostPath"].get("path") for v in ps.get("volumes") or [] if "hostPath" in v}
    for c in (ps.get("initContainers") or []) + (ps.get("containers") or []):
        name = c.get("name")
        sc = c.get("securityContext") or {}
        caps = sc.get("capabilities") or {}
        if sc.get("privileged"):
            yield "privileged", name, "container %s: privileged: true" % name
        if "ALL" not in [str(x).upper() for x in caps.get("drop") or []]:
            yield "capabilities-drop", name, "container %s: capabilities.drop does not hold ALL" % name
        extra = [a for a in caps.get("add") or [] if str(a).upper().replace("CAP_", "") not in ALLOWED_CAPS]
        if extra:
            yield "capabilities-add", name, "container %s: adds %s" % (name, ", ".join(map(str, extra)))
        if sc.get("readOnlyRootFilesystem") is not True:
            yield "rootfs-writable", name, "container %s: readOnlyRootFilesystem is not true" % name
        if sc.get("allowPrivilegeEscalation") is not False:
            yield "privilege-escalation", name, "container %s: allowPrivilegeEscalation is not false" % name
        seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            yield "seccomp", name, "container %s: seccomp profile %s" % (name, seccomp or "unset")
        res = c.get("resources") or {}
        if not res.get("requests") or not (res.get("limits") or {}).get("memory"):
            yield "resources", name, "container %s: no requests or no memory limit" % name
        for m in c.get("volumeMounts") or []:
            vol = m.get("name")
            if vol in hostpaths and not (hostpaths[vol] == "/proc" and m.get("readOnly") is True):
                yield "hostpath", vol, "container %s: hostPath %r (volume %s) at %s%s" % (
                    name, hostpaths[vol], vol, m.get("mountPath"), "" if m.get("readOnly") else ", writable")


class Exceptions:
    """The table of tests/chart/posture_exceptions.yaml, with use counts to find stale entries."""

    def __init__(self, path):
        with open(path) as f:
            table = yaml.safe_load(f) or {}
        self.entries = []
        for key, items in table.items():
            for e in items or []:
                unknown = set(e) - {"rule", "object", "subject", "why"}
                if e.get("rule") not in RULES or not e.get("object") or not e.get("why") or unknown:
                    raise SystemExit("%s: bad entry under %r: %s (rule must be one of %s; object and why are required)"
                                     % (path, key, e, ", ".join(RULES)))
                self.entries.append(dict(e, variation=str(key), used=0))

    def match(self, variation, rule, ident, subject):
        for e in self.entries:
            if e["variation"] in ("*", variation) and e["rule"] == rule and e["object"] == ident \
                    and e.get("subject", "*") in ("*", subject):
                e["used"] += 1
                return e
        return None

    def stale(self, variations):
        return [e for e in self.entries if not e["used"] and (e["variation"] == "*" or e["variation"] in variations)] + \
               [e for e in self.entries if e["variation"] not in variations and e["variation"] != "*"]


def validate_objects(text, validators, variation, exceptions):
    """(objects, errors, accepted) for one rendered manifest stream."""
    errors, accepted, objects = [], [], []
    seen = set()
    for doc in yaml.safe_load_all(text):
        if not doc:
            continue
        if not isinstance(doc, dict):
            errors.append("[schema] a rendered document is not a mapping: %.80r" % (doc,))
            continue
        obj = drop_nulls(doc)
        ident = "%s/%s" % (obj.get("kind"), (obj.get("metadata") or {}).get("name"))
        objects.append(ident)
        key = (str(obj.get("apiVersion")).split("/")[0], ident, (obj.get("metadata") or {}).get("namespace"))
        if key in seen:
            errors.append("[api] %s: rendered twice" % ident)
        seen.add(key)
        validator = validators.get((str(obj.get("apiVersion")), str(obj.get("kind"))))
        if validator is None:
            errors.append("[schema] %s: no schema for %s %s (add it to tests/fixtures/k8s-schemas)" % (ident, obj.get("apiVersion"), obj.get("kind")))
            continue
        bad = ["[schema] %s: %s" % (ident, e) for e in schema_errors(validator, obj)]
        if bad:  # the checks below expect the schema's shapes
            errors += bad
            continue
        errors += ["[api] %s: %s" % (ident, e) for e in api_findings(obj)]
        for rule, subject, msg in posture_findings(obj):
            e = exceptions.match(variation, rule, ident, subject) if exceptions else None
            (accepted if e else errors).append("[%s] %s: %s%s" % (rule, ident, msg, " (accepted: %s)" % e["why"] if e else ""))
    return objects, errors, accepted


# ------------------------------------------------------------------ helm and yamllint


def run(cmd, **kw):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, **kw)
    except OSError as e:  # no such program
        return subprocess.CompletedProcess(cmd, 127, "", str(e))


def values_args(args, tmp, name):
    """helm arguments for a NEGATIVE entry: a list as is, a string as a values file."""
    if isinstance(args, list):
        return args
    path = os.path.join(tmp, re.sub(r"\W+", "-", name) + ".yaml")
    with open(path, "w") as f:
        f.write(args)
    return ["-f", path]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--helm", default=os.environ.get("HELM"), help="helm binary (default: $HELM, else scripts/helm.sh --install)")
    ap.add_argument("--chart", default=os.path.join(ROOT, "helm", "nodeproc"))
    ap.add_argument("--keep", help="write the rendered manifests into this folder")
    opts = ap.parse_args()
    report = Report()
    chart = os.path.abspath(opts.chart)
    variations = [("default", [])] + [(os.path.basename(f), ["-f", f])
                                      for f in sorted(glob.glob(os.path.join(chart, "ci", "*-values.yaml")))]

    helm = opts.helm
    if not helm:
        r = run([os.path.join(ROOT, "scripts", "helm.sh"), "--install"])
        helm = r.stdout.strip() if r.returncode == 0 else None
    if not helm or run([helm, "version", "--short"]).returncode != 0:
        report.skip("chart validation: no helm (scripts/deps.sh installs it with scripts/helm.sh)")
        print("validate-chart: %d passed, %d failed, %d skipped" % (report.passed, report.failed, report.skipped))
        return 0
    have_yamllint = run(["yamllint", "--version"]).returncode == 0

    with tempfile.TemporaryDirectory(prefix="validate-chart.") as tmp:
        env = dict(os.environ, HELM_CACHE_HOME=tmp + "/h/cache", HELM_CONFIG_HOME=tmp + "/h/config", HELM_DATA_HOME=tmp + "/h/data")
        print("validate-chart: %s, %s, Kubernetes %s, %d variations" % (
            os.path.relpath(chart, ROOT), run([helm, "version", "--short"]).stdout.strip(), KUBE_VERSION, len(variations)))
        schema = _json(os.path.join(chart, "values.schema.json"))
        try:
            jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator).check_schema(schema)
            report.ok("values.schema.json is a valid JSON Schema")
        except jsonschema.SchemaError as e:
            report.fail("values.schema.json: %s" % e.message)
        validators = load_validators()
        exceptions = Exceptions(EXCEPTIONS)

        for label, args in variations:
            r = run([helm, "lint", "--strict", chart, "--kube-version", KUBE_VERSION] + args, env=env)
            report.check(r.returncode == 0, "helm lint --strict [%s]" % label, (r.stdout + r.stderr).strip().splitlines()[-15:])
            r = run([helm, "template", RELEASE, chart, "--namespace", NAMESPACE] + RENDER_ARGS + args, env=env)
            if r.returncode != 0:
                report.fail("helm template [%s]" % label, r.stderr.strip().splitlines()[-15:])
                continue
            rendered = os.path.join(tmp, "render-%s" % label)
            with open(rendered, "w") as f:
                f.write(r.stdout)
            if opts.keep:
                os.makedirs(opts.keep, exist_ok=True)
                with open(os.path.join(opts.keep, label.replace(".yaml", "") + ".yaml"), "w") as f:
                    f.write(r.stdout)
            if have_yamllint:
                y = run(["yamllint", "-f", "parsable", "-d", YAMLLINT_RENDERED, rendered])
                warnings = [ln for ln in y.stdout.splitlines() if "[warning]" in ln]
                report.check(y.returncode == 0, "yamllint rendered [%s]%s" % (label, " (%d warnings)" % len(warnings) if warnings else ""),
                             [ln.replace(rendered + ":", "line ") for ln in y.stdout.splitlines() if "[error]" in ln][:20])
            else:
                report.skip("yamllint rendered [%s]: no yamllint (Debian package yamllint)" % label)
            try:
                objects, errors, accepted = validate_objects(r.stdout, validators, label, exceptions)
            except yaml.YAMLError as e:
                report.fail("rendered YAML [%s] does not parse: %s" % (label, str(e).replace("\n", " ")))
                continue
            report.check(not errors, "schema, API rules and least privilege [%s]: %d objects%s" % (
                label, len(objects), ", %d accepted exceptions" % len(accepted) if accepted else ""), errors + accepted)
            for a in accepted:
                print("    accepted " + a)
        stale = exceptions.stale({label for label, _ in variations})
        report.check(not stale, "every posture exception is used (%d declared)" % len(exceptions.entries),
                     ["stale exception under %r: %s %s %s" % (e["variation"], e["rule"], e["object"], e.get("subject", "*")) for e in stale])

        # Negative renders: on the chart without its ci/ variations, one broken setting each.
        for name, args, stage, expect in NEGATIVE:
            vargs = values_args(args, tmp, name)
            r = run([helm, "template", RELEASE, chart, "--namespace", NAMESPACE] + RENDER_ARGS + vargs, env=env)
            if stage == "helm":
                msg = " ".join(r.stderr.split())
                if r.returncode != 0 and re.search(expect, msg):
                    report.ok("rejects %s: %s" % (name, re.search(r"%s.{0,60}" % expect, msg).group(0).strip()))
                else:
                    report.fail("helm template must reject %s (%s) with /%s/" % (name, " ".join(vargs), expect),
                                ["helm exit %d: %s" % (r.returncode, msg[-400:])])
                continue
            if r.returncode != 0:
                report.fail("%s: helm template failed before validation could see it" % name, r.stderr.strip().splitlines()[-5:])
                continue
            _, errors, _ = validate_objects(r.stdout, validators, "default", exceptions)
            hits = [e for e in errors if re.search(expect, e)]
            report.check(bool(hits), "finds %s: %s" % (name, hits[0][:200] if hits else "nothing"),
                         ["expected /%s/ among:" % expect] + errors[:10])

    print("validate-chart: %d passed, %d failed, %d skipped" % (report.passed, report.failed, report.skipped))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
