#!/usr/bin/env python3
"""Sums up a ctest run from its JUnit file (ctest --output-junit FILE), skips counted apart.

    python3 tests/support/ctest_summary.py FILE LABEL

A ctest test counts once: passed, failed, or skipped (GTEST_SKIP, via the tests'
SKIP_REGULAR_EXPRESSION, or not run). A Python unittest file is one ctest test; each case it
skipped is counted and named too, and a file whose every case was skipped does not count as
passed. Prints one "skipped: NAME: REASON" line per skip, then
"LABEL: N passed, M failed, K skipped" last. Exit status 1 when the file cannot be read.
"""
import re
import sys
import xml.etree.ElementTree as ET

PY_SKIP = re.compile(r"^(test\w*) \([\w.]+\)(?: \.\.\.|\n.*?\.\.\.)? skipped (.*)$", re.M)
PY_RAN = re.compile(r"^Ran (\d+) tests?", re.M)


def gtest_reason(out):
    m = re.search(r": Skipped\n(.*)", out)
    return m.group(1).strip() if m and m.group(1).strip() else "skipped"


def main():
    path, label = sys.argv[1], sys.argv[2]
    try:
        cases = ET.parse(path).getroot().iter("testcase")
    except (OSError, ET.ParseError) as e:
        print("%s: cannot read the ctest JUnit file %s: %s" % (label, path, e))
        return 1
    passed = failed = 0
    skips = []
    for case in cases:
        name = case.get("name")
        out = case.findtext("system-out") or ""
        if case.find("skipped") is not None or case.get("status") in ("notrun", "disabled"):
            skips.append((name, gtest_reason(out)))
            continue
        if case.find("failure") is not None or case.find("error") is not None or case.get("status") == "fail":
            failed += 1
            continue
        py_skips = [(name + ": " + m.group(1), m.group(2).strip().strip("'\"")) for m in PY_SKIP.finditer(out)]
        ran = PY_RAN.search(out)
        if not (py_skips and ran and int(ran.group(1)) == len(py_skips)):
            passed += 1  # else nothing of it ran: its cases count as skipped, the file not as passed
        skips += py_skips
    for name, reason in skips:
        print("skipped: %s: %s" % (name, reason))
    print("%s: %d passed, %d failed, %d skipped" % (label, passed, failed, len(skips)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
