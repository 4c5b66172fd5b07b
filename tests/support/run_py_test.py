#!/usr/bin/env python3
"""Runs one tests/integration/*_test.py for ctest: exit 0 when every test in it ran and passed,
1 on a failure or error, 77 (ctest: skipped) when any test was skipped (unittest.SkipTest,
skipIf, ...): skipped is not passed, and the summary counts it. The file runs as __main__,
as it would alone; its unittest.main() call is the one that reports.

  run_py_test.py FILE [ARGS...]
"""
import os
import runpy
import sys
import unittest

_real_main = unittest.main


def _main(*args, **kwargs):
    kwargs["exit"] = False
    result = _real_main(*args, **kwargs).result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.skipped:
        print(f"SKIPPED: {len(result.skipped)} skipped ({result.testsRun} tests ran):", flush=True)
        for test, reason in result.skipped:
            print(f"  {test.id()}: {reason}", flush=True)
        sys.exit(77)
    sys.exit(0)


if __name__ == "__main__":
    unittest.main = _main
    sys.argv = sys.argv[1:]
    sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))  # as `python3 FILE` does
    runpy.run_path(sys.argv[0], run_name="__main__")
