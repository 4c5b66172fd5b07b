#!/usr/bin/env bash
# Whole-process comparison of nodeproc with the physical floor and the peers, on this machine,
# in one run. For N extra idle processes (100, 1000, 5000) it measures:
#   (a) bench/floor.c: open+read+close of stat, statm, status, io and a readdir of fd per PID
#   (b) `nodeproc snapshot --format=csv --snapshot-wait=0s` (wall and CPU per run)
#   (c) `nodeproc run`: CPU (user+sys ticks of /proc/<pid>/stat) per /metrics scrape, VmRSS,
#       exposition size and series count
#   (d) the same for prometheus-process-exporter (tracking every process) and
#       prometheus-node-exporter (default collectors)
#   (e) a python3-psutil loop reading the same fields once over all processes
# and, at N=1000, the background sampler's CPU with the default 5 s interval (no scrapes).
# Prints a Markdown report and writes it to bench/results/compare-<date>.md.
#
#   bench/compare.sh [--quick] [--nodeproc=PATH] [--bench=PATH] [--out=FILE]
#     --quick      N=100 only, 5 scrapes, 10 s sampler window (under ~1 minute)
#     --nodeproc   the nodeproc binary (default: build/agent/nodeproc, then build-bench/...)
#     --bench      nodeproc_bench, to also run its live-/proc scan under each N (default:
#                  build-bench/bench/nodeproc_bench when built; optional)
# Not run in CI (several minutes); tests/suites/bench_smoke.sh runs --quick.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUICK=0
NODEPROC=""
BENCH_BIN=""
OUT=""
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --nodeproc=*) NODEPROC=${arg#*=} ;;
    --bench=*) BENCH_BIN=${arg#*=} ;;
    --out=*) OUT=${arg#*=} ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

if [ "$QUICK" = 1 ]; then
  NS=(100); SCRAPES=5; RUNS=5; SAMPLER_N=100; SAMPLER_SECS=10; PSUTIL_RUNS=3
else
  NS=(100 1000 5000); SCRAPES=20; RUNS=10; SAMPLER_N=1000; SAMPLER_SECS=60; PSUTIL_RUNS=5
fi
if [ -z "$NODEPROC" ]; then
  for c in "$ROOT/build/agent/nodeproc" "$ROOT/build-bench/agent/nodeproc"; do
    if [ -x "$c" ]; then NODEPROC=$c; break; fi
  done
fi
if [ -z "$BENCH_BIN" ] && [ -x "$ROOT/build-bench/bench/nodeproc_bench" ]; then
  BENCH_BIN="$ROOT/build-bench/bench/nodeproc_bench"
fi
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
HZ=$(getconf CLK_TCK)
DATE=$(date -u +%Y%m%dT%H%M%SZ)
[ -n "$OUT" ] || OUT="$ROOT/bench/results/compare-$DATE.md"
DEADLINE=$(( $(date +%s) + (QUICK ? 120 : 600) ))   # hard stop for the whole run

WORK=$(mktemp -d /tmp/nodeproc-compare.XXXXXX)
RAW="$WORK/raw.tsv"
: >"$RAW"
STARTED=()          # PIDs of long-running processes this script started
SPAWNER_PID=""

log() { echo "compare: $*" >&2; }

stop_spawner() {
  if [ -n "$SPAWNER_PID" ]; then
    exec 7>&-                              # stdin EOF: the spawner kills its children
    kill -TERM "$SPAWNER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SPAWNER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SPAWNER_PID" 2>/dev/null || true
    wait "$SPAWNER_PID" 2>/dev/null || true
    if [ -s "$WORK/sleepers.pids" ]; then   # belt and braces: by PID, never by name
      while read -r p; do kill -KILL "$p" 2>/dev/null || true; done <"$WORK/sleepers.pids"
    fi
    SPAWNER_PID=""
    rm -f "$WORK/sleepers.pids" "$WORK/spawn.fifo"
  fi
}

cleanup() {
  local p
  for p in "${STARTED[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.2
  for p in "${STARTED[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  STARTED=()
  stop_spawner
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

time_left() { [ "$(date +%s)" -lt "$DEADLINE" ]; }
forget() {  # forget PID: drop it from STARTED once it is reaped
  local keep=() p
  for p in "${STARTED[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  STARTED=("${keep[@]}")
}
put() { printf '%s\t%s\n' "$1" "$2" >>"$RAW"; }   # put KEY VALUE

# --- helpers built here ---------------------------------------------------------------------
cc -O2 -o "$WORK/floor" "$ROOT/bench/floor.c" || { log "cannot build floor.c"; exit 1; }
cc -O2 -o "$WORK/spawn" "$ROOT/bench/spawn_sleepers.c" || { log "cannot build spawn_sleepers.c"; exit 1; }

HAVE_HYPERFINE=0; command -v hyperfine >/dev/null && HAVE_HYPERFINE=1
PE=$(command -v prometheus-process-exporter || true)
NE=$(command -v prometheus-node-exporter || true)
HAVE_PSUTIL=0; "$PY" -c 'import psutil' 2>/dev/null && HAVE_PSUTIL=1
HAVE_SNAPSHOT=0; HAVE_RUN=0
if [ -n "$NODEPROC" ] && [ -x "$NODEPROC" ]; then
  "$NODEPROC" snapshot --format=csv --snapshot-wait=0s >/dev/null 2>"$WORK/probe.err" && HAVE_SNAPSHOT=1
  HAVE_RUN=1   # checked when started: it must answer /metrics
else
  log "no nodeproc binary (build it or pass --nodeproc=PATH): its rows are n/a"
fi

cat >"$WORK/pe.yml" <<'EOF'
process_names:
  - name: "{{.Comm}}"
    cmdline:
      - '.+'
EOF

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ticks PID: user+sys CPU ticks of a process (fields 14 and 15 of /proc/PID/stat).
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
count_pids() { ls /proc | grep -c '^[0-9]'; }

# measure NAME CMD...: median wall (ms) and mean user+sys CPU (ms) of a one-shot command.
measure() {
  local name=$1; shift
  if [ "$HAVE_HYPERFINE" = 1 ]; then
    local runs=$RUNS
    [ "$name" = psutil ] && runs=$PSUTIL_RUNS
    if hyperfine -N --style=none --warmup 1 --runs "$runs" --export-json "$WORK/hf.json" \
         -- "$(printf '%q ' "$@")" >/dev/null 2>"$WORK/hf.err"; then
      "$PY" - "$WORK/hf.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("%.3f\t%.3f" % (r["median"] * 1e3, (r["user"] + r["system"]) * 1e3))
EOF
      return
    fi
    log "hyperfine failed for $name: $(tail -2 "$WORK/hf.err")"
    return 1
  fi
  # Fallback: repeat and take the median wall time; CPU from the shell's children times.
  local i t0 t1 walls=()
  for i in $(seq 1 "$RUNS"); do
    t0=$(date +%s%N); "$@" >/dev/null 2>&1 || return 1; t1=$(date +%s%N)
    walls+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.3f\tnan\n", a[int((NR+1)/2)]/1000}'
}

# wait_http URL [PID]: until it answers 200 (15 s max), or PID exits.
wait_http() {
  local i
  for i in $(seq 1 150); do
    curl -fsS --max-time 5 -o /dev/null "$1" 2>/dev/null && return 0
    if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then return 1; fi
    sleep 0.1
  done
  return 1
}

# scrape_agent NAME N CMD...: starts a long-running exporter (its address is in $PORT), scrapes
# it SCRAPES times and records CPU per scrape, RSS, exposition size and series count.
scrape_agent() {
  local name=$1 n=$2; shift 2
  local url="http://127.0.0.1:$PORT/metrics"
  "$@" >"$WORK/$name.log" 2>&1 &
  local pid=$!
  STARTED+=("$pid")
  if ! wait_http "$url" "$pid"; then
    log "$name did not answer $url: $(tail -3 "$WORK/$name.log" | tr '\n' ' ')"
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    return 1
  fi
  curl -fsS --max-time 60 -o /dev/null "$url"; curl -fsS --max-time 60 -o /dev/null "$url"  # warm up
  local t0 t1 w0 w1 i
  t0=$(ticks "$pid"); w0=$(date +%s%N)
  for i in $(seq 1 "$SCRAPES"); do
    curl -fsS --max-time 60 -o "$WORK/$name.prom" "$url" || { log "$name scrape failed"; break; }
  done
  t1=$(ticks "$pid"); w1=$(date +%s%N)
  put "$name.$n.cpu_ms_per_scrape" "$(awk -v a="$t0" -v b="$t1" -v hz="$HZ" -v s="$SCRAPES" 'BEGIN{printf "%.2f", (b-a)*1000/hz/s}')"
  put "$name.$n.wall_ms_per_scrape" "$(awk -v a="$w0" -v b="$w1" -v s="$SCRAPES" 'BEGIN{printf "%.2f", (b-a)/1e6/s}')"
  put "$name.$n.rss_kb" "$(rss_kb "$pid")"
  put "$name.$n.bytes" "$(stat -c %s "$WORK/$name.prom")"
  put "$name.$n.series" "$(grep -cv -e '^#' -e '^$' "$WORK/$name.prom")"
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  forget "$pid"
}

spawn_sleepers() {
  local n=$1
  [ "$n" -le 5000 ] || { log "refusing N=$n > 5000"; return 1; }
  mkfifo "$WORK/spawn.fifo"
  "$WORK/spawn" "$n" "$WORK/sleepers.pids" <"$WORK/spawn.fifo" >"$WORK/spawn.out" &
  SPAWNER_PID=$!
  exec 7>"$WORK/spawn.fifo"
  local i
  for i in $(seq 1 600); do grep -q ready "$WORK/spawn.out" 2>/dev/null && return 0; sleep 0.1; done
  log "spawner not ready"; return 1
}

# --- the run ------------------------------------------------------------------------------------
if [ -n "$BENCH_BIN" ] && [ -x "$BENCH_BIN" ]; then   # summary parse (110 pods x 3 containers)
  if "$BENCH_BIN" --benchmark_filter='BM_ParseSummary' --benchmark_min_time=0.2 \
       --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
       --benchmark_out_format=json --benchmark_out="$WORK/summary.json" >/dev/null 2>&1; then
    "$PY" - "$WORK/summary.json" >>"$RAW" 2>/dev/null <<'EOF'
import json, sys
for b in json.load(open(sys.argv[1])).get("benchmarks", []):
    if b.get("aggregate_name") == "median":
        k = {"ns": 1e-6, "us": 1e-3, "ms": 1.0}[b["time_unit"]]
        name = b["run_name"].replace("BM_ParseSummary", "").lower()
        print("summary.%s.ms\t%.3f\nsummary.%s.cpu_ms\t%.3f" % (name, b["real_time"] * k, name, b["cpu_time"] * k))
EOF
  fi
fi
log "nodeproc=${NODEPROC:-none} process-exporter=${PE:-none} node-exporter=${NE:-none} hyperfine=$HAVE_HYPERFINE psutil=$HAVE_PSUTIL"
for n in "${NS[@]}"; do
  time_left || { log "time budget exhausted before N=$n"; break; }
  spawn_sleepers "$n" || exit 1
  sleep 0.5
  put "pids.$n" "$(count_pids)"
  log "N=$n: $(count_pids) PIDs"

  r=$("$WORK/floor" --repeat=21) && {
    put "floor.$n.inproc_ms" "$(sed -E 's/.*median_ms=([0-9.]+).*/\1/' <<<"$r")"
    put "floor.$n.inproc_cpu_ms" "$(sed -E 's/.*median_cpu_ms=([0-9.]+).*/\1/' <<<"$r")"
  }
  r=$(measure floor "$WORK/floor") && { put "floor.$n.wall_ms" "${r%%$'\t'*}"; put "floor.$n.cpu_ms" "${r##*$'\t'}"; }
  if [ "$HAVE_SNAPSHOT" = 1 ]; then
    r=$(measure nodeproc "$NODEPROC" snapshot --format=csv --snapshot-wait=0s --log-level=error) &&
      { put "snapshot.$n.wall_ms" "${r%%$'\t'*}"; put "snapshot.$n.cpu_ms" "${r##*$'\t'}"; }
    put "snapshot.$n.rows" "$(( $("$NODEPROC" snapshot --format=csv --snapshot-wait=0s --log-level=error 2>/dev/null | wc -l) - 1 ))"
  fi
  if [ "$HAVE_PSUTIL" = 1 ]; then
    r=$("$PY" "$ROOT/bench/psutil_scan.py" --repeat=3) && {
      put "psutil.$n.inproc_ms" "$(sed -E 's/.*median_ms=([0-9.]+).*/\1/' <<<"$r")"
      put "psutil.$n.inproc_cpu_ms" "$(sed -E 's/.*median_cpu_ms=([0-9.]+).*/\1/' <<<"$r")"
    }
    r=$(measure psutil "$PY" "$ROOT/bench/psutil_scan.py") && { put "psutil.$n.wall_ms" "${r%%$'\t'*}"; put "psutil.$n.cpu_ms" "${r##*$'\t'}"; }
  fi
  if [ -n "$BENCH_BIN" ] && [ -x "$BENCH_BIN" ]; then
    # ProcfsProbe::Scan of the live /proc, in-process (median of 5 repetitions), if built.
    if "$BENCH_BIN" --benchmark_filter='BM_ScanLiveProc$' --benchmark_min_time=0.3 \
         --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
         --benchmark_out_format=json --benchmark_out="$WORK/bench.json" >/dev/null 2>&1; then
      r=$("$PY" - "$WORK/bench.json" 2>/dev/null <<'EOF'
import json, sys
for b in json.load(open(sys.argv[1])).get("benchmarks", []):
    if b.get("aggregate_name") == "median":
        k = 1e-6 if b["time_unit"] == "ns" else 1.0
        print("%.3f %.3f" % (b["real_time"] * k, b["cpu_time"] * k))
EOF
)
      [ -n "$r" ] && { put "benchscan.$n.ms" "${r% *}"; put "benchscan.$n.cpu_ms" "${r#* }"; }
    fi
  fi

  if [ "$HAVE_RUN" = 1 ] && time_left; then
    PORT=$(free_port)
    scrape_agent nodeproc "$n" "$NODEPROC" run --listen-address="127.0.0.1:$PORT" --scan-min-interval=0s --log-level=warning
  fi
  # The same with glibc's trim threshold fixed (what mallopt(M_TRIM_THRESHOLD) in main() would
  # do): freed scan buffers go back to the kernel instead of staying in VmRSS.
  if [ "$HAVE_RUN" = 1 ] && [ "$n" -ge 1000 ] && time_left; then
    PORT=$(free_port)
    scrape_agent nodeproc_trim "$n" env MALLOC_TRIM_THRESHOLD_=131072 "$NODEPROC" run \
      --listen-address="127.0.0.1:$PORT" --scan-min-interval=0s --log-level=warning
  fi
  if [ -n "$PE" ] && time_left; then
    PORT=$(free_port)
    scrape_agent process_exporter "$n" "$PE" -config.path="$WORK/pe.yml" -web.listen-address="127.0.0.1:$PORT"
  fi
  if [ -n "$NE" ] && time_left; then
    PORT=$(free_port)
    scrape_agent node_exporter "$n" "$NE" --web.listen-address="127.0.0.1:$PORT"
  fi

  # Background sampler: the agent idle (no scrape) at the default --cpu-sample-interval.
  if [ "$n" = "$SAMPLER_N" ] && [ "$HAVE_RUN" = 1 ] && time_left; then
    PORT=$(free_port)
    "$NODEPROC" run --listen-address="127.0.0.1:$PORT" --log-level=warning >"$WORK/sampler.log" 2>&1 &
    pid=$!
    STARTED+=("$pid")
    if wait_http "http://127.0.0.1:$PORT/metrics" "$pid"; then
      sleep 6   # past start-up and the first scans
      t0=$(ticks "$pid"); w0=$(date +%s%N)
      sleep "$SAMPLER_SECS"
      t1=$(ticks "$pid"); w1=$(date +%s%N)
      put "sampler.$n.pct_core" "$(awk -v a="$t0" -v b="$t1" -v hz="$HZ" -v w0="$w0" -v w1="$w1" 'BEGIN{printf "%.3f", (b-a)/hz/((w1-w0)/1e9)*100}')"
      put "sampler.$n.secs" "$SAMPLER_SECS"
      put "sampler.$n.rss_kb" "$(rss_kb "$pid")"
    else
      log "nodeproc run (sampler) did not come up: $(tail -3 "$WORK/sampler.log" | tr '\n' ' ')"
    fi
    kill -TERM "$pid" 2>/dev/null; sleep 0.3; kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    forget "$pid"
  fi
  stop_spawner
done

# --- the report --------------------------------------------------------------------------------
mkdir -p "$(dirname "$OUT")"
"$PY" "$ROOT/bench/compare_report.py" "$RAW" "$QUICK" "$SCRAPES" >"$WORK/report.md" || exit 1
cp "$WORK/report.md" "$OUT"
cat "$WORK/report.md"
log "written to $OUT"
