#!/usr/bin/python3
"""Reads, once over every process, the fields nodeproc's full scan reads, with psutil (the
seed tool's approach). Used by bench/compare.sh.

  psutil_scan.py [--repeat=N]   prints "pids=<n>" and, with --repeat, the median loop time.
"""
import sys
import time

import psutil

ATTRS = ["pid", "ppid", "name", "cmdline", "memory_info", "create_time", "status",
         "num_threads", "num_fds", "io_counters", "cpu_times"]


def scan():
    n = 0
    for p in psutil.process_iter():
        try:
            with p.oneshot():
                p.as_dict(attrs=ATTRS)
            n += 1
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            pass
    return n


def main():
    repeat = 1
    for arg in sys.argv[1:]:
        if arg.startswith("--repeat="):
            repeat = max(1, min(1000, int(arg.split("=", 1)[1])))
        else:
            print("usage: psutil_scan.py [--repeat=N]", file=sys.stderr)
            return 2
    times, cpu = [], []
    n = 0
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        n = scan()
        times.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    times.sort()
    cpu.sort()
    out = "pids=%d" % n
    if repeat > 1:
        out += " median_ms=%.3f median_cpu_ms=%.3f" % (times[len(times) // 2], cpu[len(cpu) // 2])
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
