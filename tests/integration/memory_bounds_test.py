#!/usr/bin/env python3
"""Memory stays bounded under hostile inputs (issue 15 item 4), on the running agent: 100
processes with 1.8 MB command lines, and a 50 MB kubelet body of tiny array elements. Asserts
the agent's VmHWM stays well under the chart's 256 MiB limit, that command lines are cut at
--max-cmdline-bytes with the documented marker, and that the CSV is bounded by the cap.
The whole set of cases (also 100k pods, 100k fake PIDs) is bench/memory_bounds.py.
"""
import os
import sys
import unittest

ROOT = os.environ.get("NODEPROC_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import memory_bounds  # noqa: E402

BIN = os.environ.get("NODEPROC_BINARY") or os.path.join(ROOT, "build", "agent", "nodeproc")
# Before the caps these inputs reached 360 MiB and 827 MiB. Generous against noise, far below
# the old figures and the chart's limit.
MAX_HWM_MIB = 160
# Under ASan (tests/suites/sanitizers.sh) VmHWM is the sanitizer's shadow and quarantine memory,
# not the agent's: the bound is asserted by the plain ctest run; the other checks run in both.
SANITIZED = bool(os.environ.get("NODEPROC_SANITIZED"))


def check_hwm(test, hwm_mib):
    if SANITIZED:
        print(f"note: VmHWM {hwm_mib:.1f} MiB not asserted under ASan", flush=True)
    else:
        test.assertLess(hwm_mib, MAX_HWM_MIB)


class MemoryBoundsTest(unittest.TestCase):
    def test_long_command_lines_are_cut_and_memory_stays_bounded(self):
        cap = 4096
        r = memory_bounds.case_cmdline(BIN, processes=100, cmdline_bytes=1_800_000, max_cmdline_bytes=cap)
        hwm_mib = r["vm_hwm_kib"] / 1024
        print(f"cmdline: VmHWM {hwm_mib:.1f} MiB, CSV {r['csv_bytes']} bytes, {r['csv_rows']} rows, "
              f"{r['truncated_cmdlines']} cut", flush=True)
        check_hwm(self, hwm_mib)
        self.assertGreaterEqual(r["truncated_cmdlines"], 100, "the 100 long command lines end with the marker")
        marker = len(memory_bounds.TRUNCATED.encode())
        self.assertLessEqual(r["longest_cmdline"], cap + marker)
        # RFC 4180 may double quotes: 2 x cap per field, plus the other columns.
        self.assertLessEqual(r["csv_bytes"], r["csv_rows"] * (2 * cap + 512))
        self.assertTrue("nodeproc_scan_processes" in r["metrics"], "no scan metrics")

    def test_kubelet_body_of_tiny_elements_is_parsed_in_bounded_memory(self):
        r = memory_bounds.case_body(BIN, body_bytes=50_000_000)
        hwm_mib = r["vm_hwm_kib"] / 1024
        print(f"body: VmHWM {hwm_mib:.1f} MiB for a {r['body_bytes']} byte body", flush=True)
        check_hwm(self, hwm_mib)
        # Both bodies were read and parsed (valid JSON; their elements are not pods), so the
        # figure covers the parse.
        for endpoint in ("summary", "pods"):
            self.assertTrue(f'nodeproc_kubelet_requests_total{{endpoint="{endpoint}",code="ok"}}' in r["metrics"],
                            f"no successful {endpoint} request in /metrics")


if __name__ == "__main__":
    unittest.main()
