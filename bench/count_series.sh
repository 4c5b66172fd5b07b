#!/usr/bin/env bash
# Counts the series of a nodeproc /metrics scrape, in total and per group of families.
# usage: bench/count_series.sh [URL]   (default http://127.0.0.1:9866/metrics)
#        bench/count_series.sh - < scrape.txt
# Extra curl options (auth) via CURL_OPTS, e.g. CURL_OPTS="-u prom:secret".
set -euo pipefail
url="${1:-http://127.0.0.1:9866/metrics}"
if [ "$url" = "-" ]; then
  text="$(cat)"
else
  # shellcheck disable=SC2086
  text="$(curl -fsS ${CURL_OPTS:-} "$url")"
fi
printf '%s\n' "$text" | awk '
  /^#/ || NF == 0 { next }
  {
    name = $0; sub(/[{ ].*/, "", name)
    total++
    group = "self"
    if (name ~ /^nodeproc_process_|^nodeproc_processes/) group = "process"
    else if (name ~ /^nodeproc_container_/) group = "container"
    else if (name ~ /^nodeproc_pod_/) group = "pod"
    else if (name ~ /^nodeproc_node_/) group = "node"
    groups[group]++
    if (name ~ /^nodeproc_process_group_processes$/) { groupsets++ }
    if (name ~ /^nodeproc_process_resident_memory_bytes$/) { sets++ }
  }
  END {
    printf "series_total %d\n", total
    n = split("process container pod node self", order, " ")
    for (i = 1; i <= n; i++) printf "series_%s %d\n", order[i], groups[order[i]] + 0
    printf "process_series_sets %d\n", sets + 0
  }'
