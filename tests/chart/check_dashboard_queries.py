#!/usr/bin/env python3
"""Checks every PromQL expression of the nodeproc Grafana dashboard.

usage: check_dashboard_queries.py [--dashboard PATH] [--prometheus URL] [--metrics-md PATH]
                                  [--promtool PATH] [--wait SECONDS] [--rate-interval D]

Offline checks (always):
  * the dashboard is valid JSON with panels, each panel query has an expression and a refId;
  * every nodeproc_* metric an expression names is documented in exporters/METRICS.md
    (histogram series: the _bucket/_sum/_count of a documented histogram);
  * every expression parses, with Grafana variables substituted (`promtool check rules`).
Live check (with --prometheus URL or $NODEPROC_PROMETHEUS_URL): every expression - panel
targets and the label_values() selectors of the template variables - returns data from that
Prometheus (instant query; retried until --wait seconds have passed, so a fresh Prometheus
gets the scrapes that rate() needs). Without a URL the live check is skipped, loudly.

Exit status 0 when every check passed; the last line is "dashboard_queries: N passed, M failed".
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def substitute(expr, rate_interval):
    """Grafana variables -> values a plain Prometheus understands (All = '.*')."""
    expr = expr.replace("$__rate_interval", rate_interval).replace("${__rate_interval}", rate_interval)
    expr = expr.replace("$__interval", "30s").replace("$__range", "1h")
    expr = re.sub(r"\$\{?topk\}?", "10", expr)
    expr = re.sub(r"\$\{?(instance|namespace|pod)\}?", ".*", expr)
    if "$" in expr:
        raise ValueError("unknown Grafana variable left in %r" % expr)
    return expr


def collect(dashboard):
    """[(where, expr, kind)], kind 'panel' (instant query) or 'variable' (series selector)."""
    out = []

    def walk(panels):
        for p in panels:
            walk(p.get("panels", []))
            for t in p.get("targets", []):
                where = "panel %r target %s" % (p.get("title"), t.get("refId"))
                out.append((where, t.get("expr", ""), "panel"))
    walk(dashboard.get("panels", []))
    for v in dashboard.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else q or ""
        m = re.match(r"^\s*label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$", q)
        if not m:
            out.append(("variable %r" % v.get("name"), q, "bad-variable"))
            continue
        out.append(("variable %r (label %s)" % (v.get("name"), m.group(2)), m.group(1), "variable"))
    return out


def documented_metrics(path):
    names, histograms = set(), set()
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^\|\s*`(nodeproc_[a-z0-9_]+)`\s*\|\s*([a-z]+)\s*\|", line)
        if m:
            names.add(m.group(1))
            if m.group(2) == "histogram":
                histograms.add(m.group(1))
    for h in histograms:
        names.update({h + "_bucket", h + "_sum", h + "_count"})
    return names


def prom_get(base, path, params, timeout=10):
    url = base.rstrip("/") + path + "?" + urllib.parse.urlencode(params, doseq=True)
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.load(r)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dashboard", default=os.path.join(ROOT, "helm/nodeproc/files/dashboard.json"))
    ap.add_argument("--prometheus", default=os.environ.get("NODEPROC_PROMETHEUS_URL", ""))
    ap.add_argument("--metrics-md", default=os.path.join(ROOT, "exporters/METRICS.md"))
    ap.add_argument("--promtool", default=shutil.which("promtool") or "")
    ap.add_argument("--wait", type=float, default=90, help="seconds to keep retrying empty queries")
    ap.add_argument("--rate-interval", default="1m", help="value of $__rate_interval")
    args = ap.parse_args()

    passed = failed = 0

    def ok(msg):
        nonlocal passed
        passed += 1
        print("ok    " + msg)

    def bad(msg):
        nonlocal failed
        failed += 1
        print("FAIL  " + msg)

    def finish():
        print("dashboard_queries: %d passed, %d failed" % (passed, failed))
        sys.exit(1 if failed else 0)

    try:
        dashboard = json.load(open(args.dashboard, encoding="utf-8"))
    except (OSError, ValueError) as e:
        bad("read dashboard %s: %s" % (args.dashboard, e))
        finish()
    queries = collect(dashboard)
    panels = [q for q in queries if q[2] == "panel"]
    if len(panels) < 5:
        bad("dashboard has only %d panel queries" % len(panels))
    for where, expr, kind in queries:
        if kind == "bad-variable":
            bad("%s: not a label_values(selector, label) query: %r" % (where, expr))
        elif not expr.strip():
            bad("%s: empty expression" % where)

    # Substitution: no Grafana variable may be left for Prometheus.
    resolved = []
    for where, expr, kind in queries:
        if kind == "bad-variable" or not expr.strip():
            continue
        try:
            resolved.append((where, substitute(expr, args.rate_interval), kind))
        except ValueError as e:
            bad("%s: %s" % (where, e))
    ok("%d expressions extracted (%d panel targets, %d variables)" % (
        len(resolved), len([r for r in resolved if r[2] == "panel"]), len([r for r in resolved if r[2] == "variable"])))

    # Every metric named is documented.
    if os.path.exists(args.metrics_md):
        known = documented_metrics(args.metrics_md)
        unknown = {}
        for where, expr, _ in resolved:
            for name in re.findall(r"\b(nodeproc_[a-z0-9_]+)", expr):
                if name not in known:
                    unknown.setdefault(name, where)
        if not known:
            bad("no metric names found in %s" % args.metrics_md)
        elif unknown:
            for name, where in sorted(unknown.items()):
                bad("%s: metric %s is not in %s" % (where, name, os.path.relpath(args.metrics_md, ROOT)))
        else:
            ok("every metric the dashboard names is documented in %s" % os.path.relpath(args.metrics_md, ROOT))
    else:
        bad("no %s to check metric names against" % args.metrics_md)

    # Syntax: promtool parses each expression as a recording rule.
    if args.promtool:
        with tempfile.TemporaryDirectory() as tmp:
            rules = {"groups": [{"name": "dashboard", "rules": [
                {"record": "dashboard:expr_%d" % i, "expr": expr} for i, (_, expr, _) in enumerate(resolved)]}]}
            path = os.path.join(tmp, "rules.yml")
            with open(path, "w") as f:
                json.dump(rules, f)  # JSON is YAML
            r = subprocess.run([args.promtool, "check", "rules", path], capture_output=True, text=True)
            if r.returncode == 0:
                ok("promtool parses all %d expressions" % len(resolved))
            else:
                bad("promtool check rules:\n      " + (r.stdout + r.stderr).strip().replace("\n", "\n      "))
    else:
        print("skip  PromQL syntax check: no promtool (Debian package prometheus)")

    if not args.prometheus:
        print("SKIP  live check: every expression returning data needs a Prometheus scraping a running agent; "
              "give --prometheus URL or NODEPROC_PROMETHEUS_URL (tests/suites/chart.sh starts one when the agent is built)")
        finish()

    # Live: each expression returns data.
    try:
        prom_get(args.prometheus, "/api/v1/status/buildinfo", {})
    except (urllib.error.URLError, OSError, ValueError) as e:
        bad("Prometheus at %s: %s" % (args.prometheus, e))
        finish()
    deadline = time.time() + args.wait
    pending = list(resolved)
    last_error = {}
    while True:
        still = []
        for where, expr, kind in pending:
            try:
                if kind == "variable":
                    data = prom_get(args.prometheus, "/api/v1/series", {"match[]": expr, "start": time.time() - 600})
                    n = len(data.get("data") or [])
                else:
                    data = prom_get(args.prometheus, "/api/v1/query", {"query": expr})
                    n = len((data.get("data") or {}).get("result") or [])
                if data.get("status") != "success":
                    last_error[where] = "status %s: %s" % (data.get("status"), data.get("error"))
                    still.append((where, expr, kind))
                elif n == 0:
                    last_error[where] = "no data"
                    still.append((where, expr, kind))
                else:
                    ok("%s: %d series  %s" % (where, n, expr))
            except urllib.error.HTTPError as e:
                body = e.read().decode("utf-8", "replace")[:300]
                last_error[where] = "HTTP %d: %s" % (e.code, body)
                still.append((where, expr, kind))
            except (urllib.error.URLError, OSError, ValueError) as e:
                last_error[where] = str(e)
                still.append((where, expr, kind))
        pending = still
        if not pending or time.time() >= deadline:
            break
        time.sleep(3)
    for where, expr, _ in pending:
        bad("%s: %s  %s" % (where, last_error.get(where), expr))
    finish()


if __name__ == "__main__":
    main()
