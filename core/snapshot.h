#pragma once
// One immutable view of the node at a moment: what the outputs (CSV, /metrics) render.
// Published by agent/ as std::shared_ptr<const Snapshot>; never modified after publication.
#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "core/loaded_packages.h"
#include "core/pod_stats.h"
#include "core/process_record.h"
#include "core/process_series.h"

namespace nodeproc {

struct Snapshot {
  absl::Time taken_at;
  absl::Duration scan_duration;
  std::vector<ProcessRecord> processes;  // after enrichment and the container filter
  // Processes that exited since the previous scan, from the probe's exit records (final
  // counters; container resolved from the record's cgroup path, enriched and filtered like the
  // live ones). Empty for probes that cannot see exits (procfs).
  std::vector<ProcessRecord> exited;
  // Latest kubelet data (at most --kubelet-max-age old, see kubelet_age); null in host-only
  // mode, before the first successful refresh and once the data is older than the maximum age.
  std::shared_ptr<const Summary> kubelet_summary;
  absl::Duration kubelet_age = absl::InfiniteDuration();
  absl::Time kubelet_fetched_at = absl::InfinitePast();  // of kubelet_summary
  // The kubelet data was older than --kubelet-max-age at this scan: it was not used (no pod
  // labels, no kubelet series).
  bool kubelet_stale = false;
  // Process series sets with their accumulated counters (the scanner's accounting); null for a
  // one-off snapshot, which /metrics renders as a first accounting step.
  std::shared_ptr<const ProcessSeriesSet> process_series;
  // Loaded packages of the latest deep snapshot (--package-metrics), carried into every later
  // snapshot until the next one; null when off or before the first files phase.
  std::shared_ptr<const LoadedPackages> loaded_packages;
};

}  // namespace nodeproc
