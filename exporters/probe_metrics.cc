#include "exporters/probe_metrics.h"

#include <utility>

#include "prometheus/gauge.h"

namespace nodeproc {

ProbeMetrics::ProbeMetrics(const std::string& probe, std::function<uint64_t()> exit_records_dropped)
    : exit_records_dropped_(std::move(exit_records_dropped)),
      registry_(std::make_shared<prometheus::Registry>()) {
  prometheus::BuildGauge()
      .Name("nodeproc_probe_info")
      .Help("The process probe in use: bpf (kernel task iterator) or procfs; always 1")
      .Register(*registry_)
      .Add({{"probe", probe}})
      .Set(1);
  if (exit_records_dropped_) {
    dropped_ = &prometheus::BuildCounter()
                    .Name("nodeproc_bpf_exit_records_dropped_total")
                    .Help("Exit records the kernel could not queue (ring buffer full); their CPU "
                          "is missing from the group counters")
                    .Register(*registry_)
                    .Add({});
  }
}

std::vector<prometheus::MetricFamily> ProbeMetrics::Collect() const {
  if (dropped_ != nullptr) {
    absl::MutexLock lock(&mu_);
    const uint64_t now = exit_records_dropped_();
    if (now > dropped_seen_) {  // the kernel counter only grows; a counter never decreases
      dropped_->Increment(static_cast<double>(now - dropped_seen_));
      dropped_seen_ = now;
    }
  }
  return registry_->Collect();
}

}  // namespace nodeproc
