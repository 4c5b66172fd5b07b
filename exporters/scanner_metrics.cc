#include "exporters/scanner_metrics.h"

#include <algorithm>
#include <utility>

namespace nodeproc {
namespace {

double UnixSeconds(absl::Time t) { return absl::ToDoubleSeconds(t - absl::UnixEpoch()); }

// A gauge of `family` with no labels that exists only while `present`.
void SetOrRemove(prometheus::Family<prometheus::Gauge>* family, bool present, double value) {
  if (present) {
    family->Add({}).Set(value);
  } else if (family->Has({})) {
    family->Remove(&family->Add({}));
  }
}

}  // namespace

ScannerMetrics::ScannerMetrics(std::function<ScannerState()> state)
    : state_(std::move(state)), registry_(std::make_shared<prometheus::Registry>()) {
  snapshot_age_ = &prometheus::BuildGauge()
                       .Name("nodeproc_snapshot_age_seconds")
                       .Help("Age of the snapshot /metrics renders (scrapes never scan).")
                       .Register(*registry_);
  last_success_ = &prometheus::BuildGauge()
                       .Name("nodeproc_scanner_last_success_timestamp_seconds")
                       .Help("When the last successful full scan finished, since the Unix epoch.")
                       .Register(*registry_);
  auto& scans = prometheus::BuildCounter()
                    .Name("nodeproc_scanner_scans_total")
                    .Help("Full scans of the background scanner, by outcome.")
                    .Register(*registry_);
  succeeded_ = &scans.Add({{"outcome", "success"}});
  failed_ = &scans.Add({{"outcome", "error"}});
  running_ = &prometheus::BuildGauge()
                  .Name("nodeproc_scanner_scan_running_seconds")
                  .Help("How long the full scan in progress has been running; 0 between scans.")
                  .Register(*registry_)
                  .Add({});
  stuck_ = &prometheus::BuildGauge()
                .Name("nodeproc_scanner_stuck")
                .Help("1 while the scan in progress has run longer than --scan-deadline.")
                .Register(*registry_)
                .Add({});
  deadline_ = &prometheus::BuildGauge()
                   .Name("nodeproc_scanner_deadline_seconds")
                   .Help("--scan-deadline: a scan running longer is reported stuck.")
                   .Register(*registry_)
                   .Add({});
  kubelet_stale_ = &prometheus::BuildGauge()
                        .Name("nodeproc_kubelet_data_stale")
                        .Help("1 when the last kubelet data is older than --kubelet-max-age and "
                              "is no longer used (no pod labels, no kubelet series).")
                        .Register(*registry_);
  kubelet_age_ = &prometheus::BuildGauge()
                      .Name("nodeproc_kubelet_cache_age_seconds")
                      .Help("Age of the kubelet data rendered now; absent when none is rendered.")
                      .Register(*registry_);
}

std::vector<prometheus::MetricFamily> ScannerMetrics::Collect() const {
  const ScannerState s = state_();
  absl::MutexLock lock(&mu_);
  const bool have_snapshot = s.snapshot_taken_at != absl::InfinitePast();
  SetOrRemove(snapshot_age_, have_snapshot,
              std::max(0.0, absl::ToDoubleSeconds(s.now - s.snapshot_taken_at)));
  SetOrRemove(last_success_, s.last_success != absl::InfinitePast(), UnixSeconds(s.last_success));
  if (s.scans_succeeded > succeeded_seen_) {
    succeeded_->Increment(static_cast<double>(s.scans_succeeded - succeeded_seen_));
    succeeded_seen_ = s.scans_succeeded;
  }
  if (s.scans_failed > failed_seen_) {
    failed_->Increment(static_cast<double>(s.scans_failed - failed_seen_));
    failed_seen_ = s.scans_failed;
  }
  const bool running = s.scan_started_at != absl::InfinitePast();
  const absl::Duration running_for = running ? s.now - s.scan_started_at : absl::ZeroDuration();
  running_->Set(std::max(0.0, absl::ToDoubleSeconds(running_for)));
  stuck_->Set(running && running_for > s.deadline ? 1 : 0);
  deadline_->Set(absl::ToDoubleSeconds(s.deadline));
  SetOrRemove(kubelet_stale_, s.kubelet_enabled, s.kubelet_stale ? 1 : 0);
  SetOrRemove(kubelet_age_, s.kubelet_enabled && s.kubelet_fetched_at != absl::InfinitePast(),
              std::max(0.0, absl::ToDoubleSeconds(s.now - s.kubelet_fetched_at)));
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  std::erase_if(families, [](const prometheus::MetricFamily& f) { return f.metric.empty(); });
  return families;
}

}  // namespace nodeproc
