#pragma once
// Which probe the agent runs (nodeproc_probe_info{probe="bpf"|"procfs"} 1) and, for the BPF
// probe, the exit records the kernel dropped because the ring buffer was full
// (nodeproc_bpf_exit_records_dropped_total). A small Collectable of its own, next to SelfMetrics.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace nodeproc {

class ProbeMetrics : public prometheus::Collectable {
 public:
  // `exit_records_dropped` reads the probe's cumulative drop count (null: the probe sees no
  // exits, and the counter is not exported).
  ProbeMetrics(const std::string& probe, std::function<uint64_t()> exit_records_dropped);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::function<uint64_t()> exit_records_dropped_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Counter* dropped_ = nullptr;
  mutable absl::Mutex mu_;
  mutable uint64_t dropped_seen_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace nodeproc
