#pragma once
// The uploader's metrics on /metrics (see exporters/METRICS.md, "Snapshot upload"): requests by
// outcome, bytes uploaded, pending files and bytes, age of the oldest pending file, snapshots
// dropped by the spool cap, time of the last success. Rendered from Uploader::Stats() at
// scrape time (a short lock, never a wait for the store).
#include <functional>
#include <vector>

#include "absl/time/time.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "upload/uploader.h"

namespace nodeproc {

class UploadMetrics : public prometheus::Collectable {
 public:
  UploadMetrics(std::function<UploadStats()> stats,
                std::function<absl::Time()> clock = [] { return absl::Now(); });
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::function<UploadStats()> stats_;
  std::function<absl::Time()> clock_;
};

}  // namespace nodeproc
