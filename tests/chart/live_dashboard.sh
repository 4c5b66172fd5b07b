#!/usr/bin/env bash
# Runs the built agent and a real Prometheus on loopback, then checks that every PromQL
# expression of the Grafana dashboard returns data (tests/chart/check_dashboard_queries.py).
#   tests/chart/live_dashboard.sh AGENT_BINARY WORK_DIR
#   tests/chart/live_dashboard.sh --fake WORK_DIR   (tests/chart/fake_exporter.py instead of the agent:
#                                                   proves the queries and the checker, not the agent)
# The agent reads this machine's /proc, writes snapshots every 2s into WORK_DIR, and takes its
# kubelet data from a fixture folder (stats/summary.json + pods.json, found under tests/fixtures;
# NODEPROC_KUBELET_FIXTURE_DIR overrides) so container, pod and kubelet-cache series exist.
# Exit: 0 every query returned data, 1 a failure, 3 the agent has no `run` command yet.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
AGENT=${1:?agent binary}
WORK=${2:?work dir}
mkdir -p "$WORK/snapshots" "$WORK/prom"
PIDS=()
trap 'for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() {  # wait_http URL SECONDS
  local i
  for ((i = 0; i < $2 * 5; i++)); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.2; done
  return 1
}

fixture=${NODEPROC_KUBELET_FIXTURE_DIR:-}
if [ "$AGENT" = --fake ]; then
  fixture=none
elif [ -z "$fixture" ]; then
  f=$(find "$ROOT/tests/fixtures" -path '*/stats/summary.json' 2>/dev/null | sort | head -1)
  if [ -n "$f" ]; then
    fixture=$(dirname "$(dirname "$f")")
  else
    # Else assemble the layout --kubelet-fixture-dir reads from any summary + pods JSON fixtures.
    s=$(find "$ROOT/tests/fixtures" -name '*summary*.json' ! -name '*second*' 2>/dev/null | sort | head -1)
    p=$(find "$ROOT/tests/fixtures" -name 'pods.json' 2>/dev/null | sort | head -1)
    [ -n "$p" ] || p=$(find "$ROOT/tests/fixtures" -name '*pods*.json' 2>/dev/null | sort | head -1)
    if [ -n "$s" ] && [ -n "$p" ]; then
      fixture=$WORK/kubelet
      mkdir -p "$fixture/stats"
      cp "$s" "$fixture/stats/summary.json"
      cp "$p" "$fixture/pods.json"
    fi
  fi
fi
kubelet_args=()
if [ "$fixture" = none ]; then
  :
elif [ -n "$fixture" ]; then
  kubelet_args=(--kubelet-fixture-dir="$fixture")
  echo "kubelet fixture: $fixture"
else
  echo "no kubelet fixture (stats/summary.json) under tests/fixtures: container and kubelet queries will have no data"
fi

APORT=$(free_port)
if [ "$AGENT" = --fake ]; then
  python3 "$ROOT/tests/chart/fake_exporter.py" "$APORT" >"$WORK/agent.log" 2>&1 &
else
"$AGENT" run --proc-root=/proc --listen-address=127.0.0.1:"$APORT" --snapshot-dir="$WORK/snapshots" \
  --snapshot-interval=2s --snapshot-retention=20 --cpu-sample-interval=1s --scan-interval=500ms \
  --machine-id=live-check "${kubelet_args[@]+"${kubelet_args[@]}"}" >"$WORK/agent.log" 2>&1 &
fi
PIDS+=($!)
sleep 1
if ! kill -0 "${PIDS[0]}" 2>/dev/null && grep -q '^usage: nodeproc run|snapshot|version' "$WORK/agent.log"; then
  echo "the agent has no 'run' command yet (it printed its usage)"; exit 3
fi
if ! wait_http "http://127.0.0.1:$APORT/metrics" 20; then
  echo "agent did not serve /metrics on 127.0.0.1:$APORT:"; tail -20 "$WORK/agent.log"; exit 1
fi
echo "agent: http://127.0.0.1:$APORT/metrics ($(curl -fsS "http://127.0.0.1:$APORT/metrics" | grep -c '^nodeproc_') nodeproc_ samples)"

PPORT=$(free_port)
cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 2s
  evaluation_interval: 2s
scrape_configs:
  - job_name: nodeproc
    static_configs:
      - targets: ["127.0.0.1:$APORT"]
EOF
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
  --web.listen-address=127.0.0.1:"$PPORT" >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
if ! wait_http "http://127.0.0.1:$PPORT/-/ready" 30; then
  echo "prometheus did not become ready:"; tail -20 "$WORK/prometheus.log"; exit 1
fi
# rate()/increase() need two samples inside their window: give Prometheus a few scrapes.
python3 "$ROOT/tests/chart/check_dashboard_queries.py" --prometheus "http://127.0.0.1:$PPORT" \
  --dashboard "$ROOT/helm/nodeproc/files/dashboard.json" --rate-interval 20s --wait 60
rc=$?
if [ $rc -ne 0 ]; then
  echo "--- agent log (tail)"; tail -15 "$WORK/agent.log"
  echo "--- nodeproc_ series names exposed:"; curl -fsS "http://127.0.0.1:$APORT/metrics" | grep -o '^nodeproc_[a-z0-9_]*' | sort -u | tr '\n' ' '; echo
fi
exit $rc
