#pragma once
// Health of the background scanner and of the kubelet data it used, on /metrics: snapshot age,
// last successful scan, scans by outcome, a running scan's age and whether it is stuck, and
// whether kubelet data was too old to be used. Built on prometheus-cpp's own Registry; the
// values are read from the agent through `state` at each Collect() (see exporters/METRICS.md).
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace nodeproc {

struct ScannerState {
  absl::Time now;
  absl::Time snapshot_taken_at = absl::InfinitePast();  // of the snapshot /metrics renders
  absl::Time last_success = absl::InfinitePast();
  absl::Time scan_started_at = absl::InfinitePast();    // of the scan running now, if any
  uint64_t scans_succeeded = 0;
  uint64_t scans_failed = 0;
  absl::Duration deadline = absl::Seconds(30);           // --scan-deadline
  bool kubelet_enabled = false;
  bool kubelet_stale = false;                            // the rendered snapshot dropped old data
  absl::Time kubelet_fetched_at = absl::InfinitePast();  // kubelet data the snapshot renders
};

class ScannerMetrics : public prometheus::Collectable {
 public:
  explicit ScannerMetrics(std::function<ScannerState()> state);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const std::function<ScannerState()> state_;
  std::shared_ptr<prometheus::Registry> registry_;
  mutable absl::Mutex mu_;  // one Collect at a time updates the registry
  prometheus::Family<prometheus::Gauge>* snapshot_age_;
  prometheus::Family<prometheus::Gauge>* last_success_;
  prometheus::Counter* succeeded_;
  prometheus::Counter* failed_;
  prometheus::Gauge* running_;
  prometheus::Gauge* stuck_;
  prometheus::Gauge* deadline_;
  prometheus::Family<prometheus::Gauge>* kubelet_stale_;
  prometheus::Family<prometheus::Gauge>* kubelet_age_;
  mutable uint64_t succeeded_seen_ ABSL_GUARDED_BY(mu_) = 0;
  mutable uint64_t failed_seen_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace nodeproc
