#!/usr/bin/env python3
"""Unit tests of tests/chart/validate_chart.py's object checks (no helm needed).

    python3 tests/chart/validate_chart_test.py
"""
import copy
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import validate_chart as vc  # noqa: E402

DAEMONSET = {
    "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "nodeproc", "namespace": "nodeproc"},
    "spec": {
        "selector": {"matchLabels": {"app": "nodeproc"}},
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}},
        "template": {
            "metadata": {"labels": {"app": "nodeproc"}},
            "spec": {
                "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                "volumes": [{"name": "proc", "hostPath": {"path": "/proc"}}],
                "containers": [{
                    "name": "nodeproc", "image": "nodeproc:1",
                    "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": 268435456}},
                    "securityContext": {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                                        "capabilities": {"drop": ["ALL"], "add": ["SYS_PTRACE", "DAC_READ_SEARCH"]}},
                    "volumeMounts": [{"name": "proc", "mountPath": "/host/proc", "readOnly": True}],
                    "ports": [{"name": "metrics", "containerPort": 9866}],
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": "metrics"}},
                }],
            },
        },
    },
}


def findings(obj, exceptions=None, variation="default"):
    import yaml
    _, errors, accepted = vc.validate_objects(yaml.safe_dump(obj), VALIDATORS, variation, exceptions)
    return errors, accepted


VALIDATORS = vc.load_validators()


class ValidateChartTest(unittest.TestCase):
    def test_least_privilege_daemonset_is_clean(self):
        self.assertEqual(findings(DAEMONSET), ([], []))

    def test_int_or_string_and_quantity(self):
        ds = copy.deepcopy(DAEMONSET)
        ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] = 2
        self.assertEqual(findings(ds)[0], [])
        ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] = 1.5
        self.assertRegex(" ".join(findings(ds)[0]), r"maxUnavailable: 1\.5 is not of type")
        c = ds["spec"]["template"]["spec"]["containers"][0]
        ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] = 1
        c["resources"]["limits"]["memory"] = "256MB"
        self.assertRegex(" ".join(findings(ds)[0]), r"'256MB' is not a quantity")
        c["resources"]["limits"]["memory"] = "1e3"
        self.assertEqual(findings(ds)[0], [])

    def test_unknown_and_misplaced_fields_are_errors(self):
        ds = copy.deepcopy(DAEMONSET)
        ds["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFileSystem"] = True
        ds["metadata"]["lables"] = {"a": "b"}
        errors = " ".join(findings(ds)[0])
        self.assertIn("unknown field 'readOnlyRootFileSystem' (did you mean 'readOnlyRootFilesystem'?)", errors)
        self.assertIn("unknown field 'lables' (did you mean 'labels'?)", errors)

    def test_explicit_null_is_unset(self):
        ds = copy.deepcopy(DAEMONSET)
        ds["spec"]["template"]["spec"]["nodeSelector"] = None
        self.assertEqual(findings(ds)[0], [])

    def test_crd_schema_is_strict_and_pinned(self):
        sm = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "n"},
              "spec": {"selector": {"matchLabels": {"a": "b"}}, "endpoints": [{"port": "metrics", "intervall": "15s"}]}}
        self.assertRegex(" ".join(findings(sm)[0]), r"unknown field 'intervall' \(did you mean 'interval'\?\)")
        sm["spec"]["endpoints"][0] = {"port": "metrics", "interval": "15s"}
        self.assertEqual(findings(sm)[0], [])
        sm["apiVersion"] = "monitoring.coreos.com/v2"
        self.assertRegex(" ".join(findings(sm)[0]), r"no schema for monitoring.coreos.com/v2 ServiceMonitor")

    def test_posture_rules(self):
        cases = [
            (("spec", "template", "spec", "hostPID"), True, r"\[host-namespace\] .*hostPID"),
            (("spec", "template", "spec", "containers", 0, "securityContext", "capabilities", "drop"), ["NET_RAW"], r"\[capabilities-drop\]"),
            (("spec", "template", "spec", "containers", 0, "securityContext", "capabilities", "add"), ["SYS_PTRACE", "CAP_BPF"], r"\[capabilities-add\] .*adds CAP_BPF"),
            (("spec", "template", "spec", "containers", 0, "securityContext", "allowPrivilegeEscalation"), True, r"\[privilege-escalation\]"),
            (("spec", "template", "spec", "securityContext", "seccompProfile", "type"), "Unconfined", r"\[seccomp\] .*Unconfined"),
            (("spec", "template", "spec", "containers", 0, "volumeMounts", 0, "readOnly"), False, r"\[hostpath\] .*'/proc'.*writable"),
            (("spec", "template", "spec", "containers", 0, "resources", "limits"), {}, r"\[resources\]"),
        ]
        for path, value, expect in cases:
            ds = copy.deepcopy(DAEMONSET)
            node = ds
            for p in path[:-1]:
                node = node[p]
            node[path[-1]] = value
            with self.subTest(path=path):
                self.assertRegex(" ".join(findings(ds)[0]), expect)

    def test_rbac(self):
        role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"},
                "rules": [{"apiGroups": [""], "resources": ["nodes/stats", "nodes/pods"], "verbs": ["get"]},
                          {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]}]}
        self.assertEqual(findings(role)[0], [])
        for rule, expect in [({"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]}, r"grants \['get'\] on ''/'nodes/proxy'"),
                             ({"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}, r"'secrets'"),
                             ({"apiGroups": [""], "resources": ["nodes/stats"], "verbs": ["*"]}, r"may \['\*'\]"),
                             ({"apiGroups": ["*"], "resources": ["nodes/stats"], "verbs": ["get"]}, r"'\*'/'nodes/stats'")]:
            r = copy.deepcopy(role)
            r["rules"].append(rule)
            with self.subTest(rule=rule):
                self.assertRegex(" ".join(findings(r)[0]), r"\[rbac\] .*" + expect)

    def test_exceptions_apply_per_variation_and_subject(self):
        import tempfile
        ds = copy.deepcopy(DAEMONSET)
        ds["spec"]["template"]["spec"]["hostNetwork"] = True
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            f.write("x-values.yaml:\n  - {rule: host-namespace, object: DaemonSet/nodeproc, why: test}\n"
                    "'*':\n  - {rule: hostpath, object: DaemonSet/nodeproc, subject: snapshots, why: test}\n")
            f.flush()
            ex = vc.Exceptions(f.name)
            errors, accepted = findings(ds, ex, "x-values.yaml")
            self.assertEqual(errors, [])
            self.assertEqual(len(accepted), 1)
            self.assertRegex(" ".join(findings(ds, ex, "default")[0]), r"\[host-namespace\]")
            # The '*' entry never matched (no snapshots volume): stale; so is an entry of a gone file.
            self.assertEqual([e["rule"] for e in ex.stale({"default", "x-values.yaml"})], ["hostpath"])
            self.assertEqual(sorted(e["rule"] for e in ex.stale({"default"})), ["host-namespace", "hostpath"])

    def test_a_document_that_is_not_an_object_is_an_error(self):
        import yaml
        _, errors, _ = vc.validate_objects("- a\n- b\n---\n" + yaml.safe_dump(DAEMONSET), VALIDATORS, "default", None)
        self.assertEqual(len(errors), 1)
        self.assertRegex(errors[0], r"not a mapping")

    def test_wrong_shapes_are_schema_errors_not_crashes(self):
        ds = copy.deepcopy(DAEMONSET)
        ds["spec"]["template"]["spec"]["volumes"] = {"proc": "/proc"}
        ds["spec"]["template"]["spec"]["containers"][0]["securityContext"] = "privileged"
        errors = findings(ds)[0]
        self.assertTrue(errors and all(e.startswith("[schema]") for e in errors), errors)
        odd = {"apiVersion": ["v1"], "kind": "Pod", "metadata": {"name": "p"}, "spec": []}
        self.assertRegex(" ".join(findings(odd)[0]), r"no schema for \['v1'\] Pod")

    def test_api_rules(self):
        ds = copy.deepcopy(DAEMONSET)
        ps = ds["spec"]["template"]["spec"]
        ps["tolerations"] = [{"operator": "Exists", "value": "x"}]
        ps["containers"][0]["volumeMounts"].append({"name": "nope", "mountPath": "/x"})
        ds["spec"]["selector"]["matchLabels"]["tier"] = "agent"
        errors = " ".join(findings(ds)[0])
        self.assertIn("must be empty when operator is Exists", errors)
        self.assertIn("volumeMount 'nope' names no volume", errors)
        self.assertIn("tier=agent is not a label of the pod template", errors)


if __name__ == "__main__":
    unittest.main(verbosity=2)
