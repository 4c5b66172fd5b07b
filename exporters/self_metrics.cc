#include "exporters/self_metrics.h"

#include <algorithm>
#include <utility>

namespace nodeproc {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;

double UnixSeconds(absl::Time t) { return absl::ToDoubleSeconds(t - absl::UnixEpoch()); }
double Seconds(absl::Duration d) { return std::max(0.0, absl::ToDoubleSeconds(d)); }

// prometheus-cpp keeps labels sorted by name; the exposition keeps the documented order
// (exporters/METRICS.md) for the families with two labels.
void OrderLabels(MetricFamily& family, const std::string& first) {
  for (ClientMetric& m : family.metric) {
    std::stable_partition(m.label.begin(), m.label.end(),
                          [&](const ClientMetric::Label& l) { return l.name == first; });
  }
}

}  // namespace

const std::vector<double>& SelfMetrics::DurationBuckets() {
  static const std::vector<double> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                               0.25,  0.5,    1,     2.5,  5,     10};
  return kBuckets;
}

const std::vector<double>& SelfMetrics::FilesDurationBuckets() {
  static const std::vector<double> kBuckets = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
  return kBuckets;
}

SelfMetrics::SelfMetrics(std::string version, std::string commit,
                         std::function<absl::Time()> clock)
    : version_(std::move(version)),
      commit_(std::move(commit)),
      clock_(std::move(clock)),
      registry_(std::make_shared<prometheus::Registry>()) {
  // Families in exposition order.
  prometheus::BuildGauge()
      .Name("nodeproc_build_info")
      .Help("Build of the running agent (always 1).")
      .Register(*registry_)
      .Add({{"version", version_}, {"commit", commit_}})
      .Set(1);
  scan_ = &prometheus::BuildHistogram()
               .Name("nodeproc_scan_duration_seconds")
               .Help("Duration of a full process scan.")
               .Register(*registry_)
               .Add({}, DurationBuckets());
  sampler_ = &prometheus::BuildHistogram()
                  .Name("nodeproc_sampler_duration_seconds")
                  .Help("Duration of one CPU sampler pass.")
                  .Register(*registry_)
                  .Add({}, DurationBuckets());
  processes_seen_family_ = &prometheus::BuildGauge()
                                .Name("nodeproc_scan_processes")
                                .Help("Processes seen by the last full scan.")
                                .Register(*registry_);
  kubelet_requests_family_ = &prometheus::BuildCounter()
                                  .Name("nodeproc_kubelet_requests_total")
                                  .Help("Kubelet requests by endpoint and outcome.")
                                  .Register(*registry_);
  kubelet_dropped_family_ =
      &prometheus::BuildCounter()
           .Name("nodeproc_kubelet_dropped_total")
           .Help("Kubelet response data dropped by the parse limits, by endpoint and kind.")
           .Register(*registry_);
  kubelet_age_family_ = &prometheus::BuildGauge()
                             .Name("nodeproc_kubelet_cache_age_seconds")
                             .Help("Age of the kubelet data being served.")
                             .Register(*registry_);
  auto& snapshots = prometheus::BuildCounter()
                        .Name("nodeproc_snapshots_total")
                        .Help("CSV snapshots by result.")
                        .Register(*registry_);
  snapshot_failures_ = &snapshots.Add({{"result", "failure"}});
  snapshot_successes_ = &snapshots.Add({{"result", "success"}});
  last_snapshot_family_ =
      &prometheus::BuildGauge()
           .Name("nodeproc_snapshot_last_success_timestamp_seconds")
           .Help("When the last CSV snapshot was written, since the Unix epoch.")
           .Register(*registry_);
  files_duration_family_ =
      &prometheus::BuildHistogram()
           .Name("nodeproc_files_snapshot_duration_seconds")
           .Help("Duration of the files phase of a deep snapshot (open and mapped files of every "
                 "process, with their packages).")
           .Register(*registry_);
  files_rows_family_ = &prometheus::BuildCounter()
                            .Name("nodeproc_files_snapshot_rows_total")
                            .Help("File rows written to files CSV snapshots.")
                            .Register(*registry_);
  files_results_family_ = &prometheus::BuildCounter()
                               .Name("nodeproc_files_snapshots_total")
                               .Help("Files CSV snapshots by result.")
                               .Register(*registry_);
}

void SelfMetrics::ObserveScanDuration(absl::Duration d) { scan_->Observe(Seconds(d)); }

void SelfMetrics::ObserveSamplerDuration(absl::Duration d) { sampler_->Observe(Seconds(d)); }

void SelfMetrics::SetProcessesSeen(uint64_t count) {
  absl::MutexLock lock(&mu_);
  if (processes_seen_ == nullptr) processes_seen_ = &processes_seen_family_->Add({});
  processes_seen_->Set(static_cast<double>(count));
}

void SelfMetrics::SetCounterFamily(prometheus::Family<prometheus::Counter>& family,
                                   std::map<std::string, prometheus::Counter*>& series,
                                   const std::map<std::string, uint64_t>& counts, const char* la,
                                   const char* lb, const char* missing_b) {
  for (auto it = series.begin(); it != series.end();) {
    auto c = counts.find(it->first);
    if (c == counts.end() || static_cast<double>(c->second) < it->second->Value()) {
      family.Remove(it->second);
      it = series.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [key, count] : counts) {
    prometheus::Counter*& counter = series[key];
    if (counter == nullptr) {
      const size_t colon = key.rfind(':');
      counter = &family.Add({{la, colon == std::string::npos ? key : key.substr(0, colon)},
                             {lb, colon == std::string::npos ? missing_b : key.substr(colon + 1)}});
    }
    const double delta = static_cast<double>(count) - counter->Value();
    if (delta > 0) counter->Increment(delta);
  }
}

void SelfMetrics::SetKubeletRequestCounts(const std::map<std::string, uint64_t>& counts) {
  absl::MutexLock lock(&mu_);
  SetCounterFamily(*kubelet_requests_family_, kubelet_requests_, counts, "endpoint", "code",
                   "unknown");
}

void SelfMetrics::SetKubeletDroppedCounts(const std::map<std::string, uint64_t>& counts) {
  absl::MutexLock lock(&mu_);
  SetCounterFamily(*kubelet_dropped_family_, kubelet_dropped_, counts, "endpoint", "kind",
                   "unknown");
}

void SelfMetrics::SetKubeletCacheAge(absl::Duration age) { SetKubeletDataTime(clock_() - age); }

void SelfMetrics::SetKubeletDataTime(absl::Time fetched_at) {
  absl::MutexLock lock(&mu_);
  if (kubelet_age_ == nullptr) kubelet_age_ = &kubelet_age_family_->Add({});
  kubelet_data_time_ = fetched_at;
}

void SelfMetrics::RecordSnapshotSuccess(absl::Time written_at) {
  absl::MutexLock lock(&mu_);
  snapshot_successes_->Increment();
  if (last_snapshot_ == nullptr) last_snapshot_ = &last_snapshot_family_->Add({});
  last_snapshot_->Set(UnixSeconds(written_at));
}

void SelfMetrics::RecordSnapshotFailure() { snapshot_failures_->Increment(); }

void SelfMetrics::EnableFilesSnapshotMetrics() {
  absl::MutexLock lock(&mu_);
  if (files_duration_ != nullptr) return;
  files_duration_ = &files_duration_family_->Add({}, FilesDurationBuckets());
  files_rows_ = &files_rows_family_->Add({});
  files_failures_ = &files_results_family_->Add({{"result", "failure"}});
  files_successes_ = &files_results_family_->Add({{"result", "success"}});
}

void SelfMetrics::RecordFilesSnapshotSuccess(absl::Duration duration, uint64_t rows) {
  EnableFilesSnapshotMetrics();
  absl::MutexLock lock(&mu_);
  files_duration_->Observe(Seconds(duration));
  files_rows_->Increment(static_cast<double>(rows));
  files_successes_->Increment();
}

void SelfMetrics::RecordFilesSnapshotFailure() {
  EnableFilesSnapshotMetrics();
  absl::MutexLock lock(&mu_);
  files_failures_->Increment();
}

std::vector<prometheus::MetricFamily> SelfMetrics::Collect() const {
  const absl::Time now = clock_();
  {
    absl::MutexLock lock(&mu_);
    // The age keeps growing between updates: computed at each scrape.
    if (kubelet_age_ != nullptr && kubelet_data_time_) {
      kubelet_age_->Set(Seconds(now - *kubelet_data_time_));
    }
  }
  std::vector<MetricFamily> families = registry_->Collect();
  std::vector<MetricFamily> out;
  out.reserve(families.size());
  for (MetricFamily& f : families) {
    if (f.metric.empty()) continue;  // nothing known yet: absent rather than a misleading 0
    if (f.name == "nodeproc_build_info") OrderLabels(f, "version");
    if (f.name == "nodeproc_kubelet_requests_total" || f.name == "nodeproc_kubelet_dropped_total") {
      OrderLabels(f, "endpoint");
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace nodeproc
