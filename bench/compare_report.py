#!/usr/bin/python3
"""Renders bench/compare.sh's raw results (KEY<TAB>VALUE lines) as a Markdown report.

  compare_report.py RAW.tsv QUICK SCRAPES
"""
import datetime
import os
import platform
import re
import sys


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = "%.1f GiB" % (kb / 1048576)
    except (OSError, ValueError, IndexError):
        pass
    return "%d x %s, %s RAM, Linux %s" % (os.cpu_count() or 0, model, mem, platform.release())


def main():
    raw_path, quick, scrapes = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])
    v = {}
    with open(raw_path) as f:
        for line in f:
            k, _, val = line.rstrip("\n").partition("\t")
            try:
                v[k] = float(val)
            except ValueError:
                pass
    ns = sorted({int(m.group(1)) for k in v for m in [re.match(r"pids\.(\d+)$", k)] if m})

    def g(key):
        return v.get(key)

    def fmt(x, digits=1):
        if x is None:
            return "n/a"
        return ("%." + str(digits) + "f") % x

    def ratio(a, b):
        if a is None or b is None or b == 0:
            return "n/a"
        return "%.2fx" % (a / b)

    def mib(kb):
        return None if kb is None else kb / 1024

    out = []
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out.append("# nodeproc comparison (%s)%s" % (now, " — quick" if quick else ""))
    out.append("")
    out.append("Machine: %s. N = extra idle processes spawned; PIDs = all processes during the run." % machine())
    out.append("")
    out.append("## One-shot scan of every process")
    out.append("")
    out.append("Whole processes (hyperfine: wall median, user+sys CPU mean per run, start-up included):")
    out.append("")
    out.append("| N | PIDs | floor.c wall ms | CPU ms | nodeproc snapshot wall ms | CPU ms | CPU vs floor | psutil wall ms | CPU ms | CPU vs floor | CPU psutil/nodeproc |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in ns:
        fw, fc = g("floor.%d.wall_ms" % n), g("floor.%d.cpu_ms" % n)
        sw, sc = g("snapshot.%d.wall_ms" % n), g("snapshot.%d.cpu_ms" % n)
        pw, pc = g("psutil.%d.wall_ms" % n), g("psutil.%d.cpu_ms" % n)
        out.append("| %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            n, g("pids.%d" % n) or 0, fmt(fw, 2), fmt(fc, 2), fmt(sw, 2), fmt(sc, 2), ratio(sc, fc),
            fmt(pw), fmt(pc), ratio(pc, fc), ratio(pc, sc)))
    out.append("")
    out.append("In-process scan loop only (median; nodeproc: ProcfsProbe::Scan in nodeproc_bench "
               "BM_ScanLiveProc, which also reads cmdline; psutil: the loop without interpreter start-up):")
    out.append("")
    out.append("| N | floor.c wall ms | CPU ms | ProcfsProbe::Scan wall ms | CPU ms | CPU vs floor | psutil wall ms | CPU ms | CPU vs floor |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for n in ns:
        fi, fic = g("floor.%d.inproc_ms" % n), g("floor.%d.inproc_cpu_ms" % n)
        b, bc = g("benchscan.%d.ms" % n), g("benchscan.%d.cpu_ms" % n)
        pi, pic = g("psutil.%d.inproc_ms" % n), g("psutil.%d.inproc_cpu_ms" % n)
        out.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            n, fmt(fi, 2), fmt(fic, 2), fmt(b, 2), fmt(bc, 2), ratio(bc, fic), fmt(pi), fmt(pic), ratio(pic, fic)))
    out.append("")
    out.append("## Long-running exporters: CPU per /metrics scrape (%d scrapes, user+sys ticks), RSS, exposition" % scrapes)
    out.append("")
    out.append("| N | agent | CPU ms/scrape | wall ms/scrape | VmRSS MiB | exposition bytes | series | CPU vs nodeproc |")
    out.append("|---|---|---|---|---|---|---|---|")
    names = [("nodeproc", "nodeproc run --scan-min-interval=0s"),
             ("nodeproc_trim", "nodeproc run, MALLOC_TRIM_THRESHOLD_=131072"),
             ("process_exporter", "process-exporter (all processes)"),
             ("node_exporter", "node-exporter (defaults)")]
    for n in ns:
        base = g("nodeproc.%d.cpu_ms_per_scrape" % n)
        for key, label in names:
            c = g("%s.%d.cpu_ms_per_scrape" % (key, n))
            if c is None and g("%s.%d.rss_kb" % (key, n)) is None:
                continue
            out.append("| %d | %s | %s | %s | %s | %s | %s | %s |" % (
                n, label, fmt(c, 2), fmt(g("%s.%d.wall_ms_per_scrape" % (key, n)), 1),
                fmt(mib(g("%s.%d.rss_kb" % (key, n)))), fmt(g("%s.%d.bytes" % (key, n)), 0),
                fmt(g("%s.%d.series" % (key, n)), 0), ratio(c, base)))
    sampler = [(int(m.group(1)), v[k]) for k in v for m in [re.match(r"sampler\.(\d+)\.pct_core$", k)] if m]
    out.append("")
    out.append("## Background sampler (agent idle, default --cpu-sample-interval=5s, no scrapes)")
    out.append("")
    if sampler:
        for n, pct in sampler:
            out.append("- N=%d: %.3f%% of one core over %d s (VmRSS %s MiB)" % (
                n, pct, g("sampler.%d.secs" % n) or 0, fmt(mib(g("sampler.%d.rss_kb" % n)))))
    else:
        out.append("- n/a")

    # Targets of issue 6.
    out.append("")
    out.append("## Targets")
    out.append("")

    def verdict(ok):
        return "n/a" if ok is None else ("met" if ok else "MISSED")

    rows = []
    # Full scan within 1.5x of the floor, in CPU time (steady on a shared machine): in-process
    # ProcfsProbe::Scan vs floor.c's scan when nodeproc_bench ran, and whole processes.
    for n in ns:
        bc, fic = g("benchscan.%d.cpu_ms" % n), g("floor.%d.inproc_cpu_ms" % n)
        sc, fc = g("snapshot.%d.cpu_ms" % n), g("floor.%d.cpu_ms" % n)
        if bc is not None and fic:
            rows.append(("full scan CPU <= 1.5x floor (in-process), N=%d" % n,
                         "%s ms vs %s ms (%s)" % (fmt(bc, 2), fmt(fic, 2), ratio(bc, fic)), verdict(bc / fic <= 1.5)))
        if sc is not None and fc:
            rows.append(("snapshot process CPU <= 1.5x floor process, N=%d" % n,
                         "%s ms vs %s ms (%s)" % (fmt(sc, 2), fmt(fc, 2), ratio(sc, fc)), verdict(sc / fc <= 1.5)))
    for n in ns:
        if n < 1000:
            continue
        a, p = g("nodeproc.%d.cpu_ms_per_scrape" % n), g("process_exporter.%d.cpu_ms_per_scrape" % n)
        ok = None if a is None or p is None else (a * 3 <= p)
        rows.append(("scrape CPU >= 3x lower than process-exporter, N=%d" % n,
                     "%s ms vs %s ms (%s)" % (fmt(a, 2), fmt(p, 2), ratio(p, a)), verdict(ok)))
    for n, pct in sampler:
        rows.append(("background sampler < 0.5%% of a core, N=%d" % n, "%.3f%%" % pct, verdict(pct < 0.5)))
    if 5000 in ns:
        r = g("nodeproc.5000.rss_kb")
        rows.append(("RSS < 25 MiB at N=5000", "%s MiB" % fmt(mib(r)), verdict(None if r is None else r < 25 * 1024)))
        r = g("nodeproc_trim.5000.rss_kb")
        if r is not None:
            rows.append(("RSS < 25 MiB at N=5000, glibc trim threshold fixed (proposed fix)", "%s MiB" % fmt(mib(r)),
                         verdict(r < 25 * 1024)))
    for impl in ("rapidjson", "nlohmann"):
        c = g("summary.%s.cpu_ms" % impl)
        if c is not None:
            label = "nodeproc ParseSummary (RapidJSON)" if impl == "rapidjson" else "reference nlohmann_json parse"
            rows.append(("summary parse of 110 pods x 3 < 2 ms: %s" % label,
                         "%s ms CPU (%s ms wall)" % (fmt(c, 3), fmt(g("summary.%s.ms" % impl), 3)),
                         verdict(c < 2.0) if impl == "rapidjson" else "(reference)"))
    out.append("| target | measured | verdict |")
    out.append("|---|---|---|")
    for t, m, ok in rows:
        out.append("| %s | %s | %s |" % (t, m, ok))
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
