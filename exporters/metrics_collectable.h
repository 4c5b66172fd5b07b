#pragma once
// The /metrics view of one Snapshot: process, container, pod and node families, rendered at
// scrape time from the latest immutable Snapshot the agent hands over. No /proc or kubelet
// I/O happens here. The metric contract is exporters/METRICS.md.
#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "core/snapshot.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace nodeproc {

struct MetricsOptions {
  // --process-metrics=pid: one series set per process (label `pid`), capped by
  // max_process_series; false (default) is group mode (namespace/pod/container/name).
  bool per_pid = false;
  // --max-process-series: processes rendered with their own pid in pid mode; the rest are
  // folded into one name="other" series set per pod.
  size_t max_process_series = 2000;
  // Kubelet containers to render (the container filter), by namespace/pod/container. Null
  // renders all. Process records are expected to be filtered already by the agent.
  std::function<bool(std::string_view pod_namespace, std::string_view pod,
                     std::string_view container)>
      include_container;
};

// Pure rendering of one snapshot, in a fixed family order; series inside a family are sorted
// by their labels (pid numerically).
std::vector<prometheus::MetricFamily> RenderSnapshotMetrics(const Snapshot& snapshot,
                                                            const MetricsOptions& options);

using SnapshotSource = std::function<std::shared_ptr<const Snapshot>()>;

// A prometheus::Collectable over the agent's snapshot source. The source is called once per
// Collect() (the agent rate-limits full scans behind it); a null snapshot renders nothing.
class MetricsCollectable : public prometheus::Collectable {
 public:
  MetricsCollectable(SnapshotSource source, MetricsOptions options);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  SnapshotSource source_;
  MetricsOptions options_;
};

}  // namespace nodeproc
