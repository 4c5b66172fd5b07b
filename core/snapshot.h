#pragma once
// One immutable view of the node at a moment: what the outputs (CSV, /metrics) render.
// Published by agent/ as std::shared_ptr<const Snapshot>; never modified after publication.
#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "core/loaded_packages.h"
#include "core/pod_stats.h"
#include "core/process_record.h"

namespace nodeproc {

struct Snapshot {
  absl::Time taken_at;
  absl::Duration scan_duration;
  std::vector<ProcessRecord> processes;  // after enrichment and the container filter
  // Latest kubelet data (may be stale, see kubelet_age); null in host-only mode or before
  // the first successful refresh.
  std::shared_ptr<const Summary> kubelet_summary;
  absl::Duration kubelet_age = absl::InfiniteDuration();
  // Loaded packages of the latest deep snapshot (--package-metrics), carried into every later
  // snapshot until the next one; null when off or before the first files phase.
  std::shared_ptr<const LoadedPackages> loaded_packages;
};

}  // namespace nodeproc
