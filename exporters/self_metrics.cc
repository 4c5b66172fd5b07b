#include "exporters/self_metrics.h"

#include <algorithm>
#include <utility>

namespace nodeproc {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  return family;
}

double UnixSeconds(absl::Time t) { return absl::ToDoubleSeconds(t - absl::UnixEpoch()); }

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
    : version_(std::move(version)), commit_(std::move(commit)), clock_(std::move(clock)) {
  scan_.counts.assign(DurationBuckets().size() + 1, 0);
  sampler_.counts.assign(DurationBuckets().size() + 1, 0);
  files_duration_.counts.assign(FilesDurationBuckets().size() + 1, 0);
}

void SelfMetrics::Observe(Histogram& h, absl::Duration d, const std::vector<double>& bounds) {
  const double seconds = std::max(0.0, absl::ToDoubleSeconds(d));
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin());
  ++h.counts[bucket];
  ++h.count;
  h.sum += seconds;
}

void SelfMetrics::ObserveScanDuration(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  Observe(scan_, d);
}

void SelfMetrics::ObserveSamplerDuration(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  Observe(sampler_, d);
}

void SelfMetrics::SetProcessesSeen(uint64_t count) {
  absl::MutexLock lock(&mu_);
  processes_seen_ = count;
}

void SelfMetrics::SetKubeletRequestCounts(const std::map<std::string, uint64_t>& counts) {
  absl::MutexLock lock(&mu_);
  kubelet_requests_ = counts;
}

void SelfMetrics::SetKubeletCacheAge(absl::Duration age) { SetKubeletDataTime(clock_() - age); }

void SelfMetrics::SetKubeletDataTime(absl::Time fetched_at) {
  absl::MutexLock lock(&mu_);
  kubelet_data_time_ = fetched_at;
}

void SelfMetrics::RecordSnapshotSuccess(absl::Time written_at) {
  absl::MutexLock lock(&mu_);
  ++snapshot_successes_;
  last_snapshot_ = written_at;
}

void SelfMetrics::RecordSnapshotFailure() {
  absl::MutexLock lock(&mu_);
  ++snapshot_failures_;
}

void SelfMetrics::EnableFilesSnapshotMetrics() {
  absl::MutexLock lock(&mu_);
  files_enabled_ = true;
}

void SelfMetrics::RecordFilesSnapshotSuccess(absl::Duration duration, uint64_t rows) {
  absl::MutexLock lock(&mu_);
  files_enabled_ = true;
  Observe(files_duration_, duration, FilesDurationBuckets());
  files_rows_ += rows;
  ++files_successes_;
}

void SelfMetrics::RecordFilesSnapshotFailure() {
  absl::MutexLock lock(&mu_);
  files_enabled_ = true;
  ++files_failures_;
}

std::vector<prometheus::MetricFamily> SelfMetrics::Collect() const {
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  std::vector<MetricFamily> out;

  MetricFamily build = Family("nodeproc_build_info",
                              "Build of the running agent (always 1).", MetricType::Gauge);
  ClientMetric info;
  info.label = {{"version", version_}, {"commit", commit_}};
  info.gauge.value = 1;
  build.metric.push_back(std::move(info));
  out.push_back(std::move(build));

  auto histogram = [&](const char* name, const char* help, const Histogram& h,
                       const std::vector<double>& bounds = DurationBuckets()) {
    MetricFamily family = Family(name, help, MetricType::Histogram);
    ClientMetric metric;
    metric.histogram.sample_count = h.count;
    metric.histogram.sample_sum = h.sum;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds.size(); ++i) {
      cumulative += h.counts[i];
      metric.histogram.bucket.push_back({cumulative, bounds[i]});
    }
    // The serializer adds the +Inf bucket from sample_count.
    family.metric.push_back(std::move(metric));
    out.push_back(std::move(family));
  };
  histogram("nodeproc_scan_duration_seconds", "Duration of a full process scan.", scan_);
  histogram("nodeproc_sampler_duration_seconds", "Duration of one CPU sampler pass.", sampler_);

  if (processes_seen_) {
    MetricFamily seen = Family("nodeproc_scan_processes",
                               "Processes seen by the last full scan.", MetricType::Gauge);
    ClientMetric metric;
    metric.gauge.value = static_cast<double>(*processes_seen_);
    seen.metric.push_back(std::move(metric));
    out.push_back(std::move(seen));
  }

  if (!kubelet_requests_.empty()) {
    MetricFamily requests = Family("nodeproc_kubelet_requests_total",
                                   "Kubelet requests by endpoint and outcome.",
                                   MetricType::Counter);
    for (const auto& [key, count] : kubelet_requests_) {
      const size_t colon = key.rfind(':');
      ClientMetric metric;
      metric.label = {{"endpoint", colon == std::string::npos ? key : key.substr(0, colon)},
                      {"code", colon == std::string::npos ? "unknown" : key.substr(colon + 1)}};
      metric.counter.value = static_cast<double>(count);
      requests.metric.push_back(std::move(metric));
    }
    out.push_back(std::move(requests));
  }

  if (kubelet_data_time_) {
    MetricFamily age = Family("nodeproc_kubelet_cache_age_seconds",
                              "Age of the kubelet data being served.", MetricType::Gauge);
    ClientMetric metric;
    metric.gauge.value = std::max(0.0, absl::ToDoubleSeconds(now - *kubelet_data_time_));
    age.metric.push_back(std::move(metric));
    out.push_back(std::move(age));
  }

  MetricFamily snapshots =
      Family("nodeproc_snapshots_total", "CSV snapshots by result.", MetricType::Counter);
  for (const auto& [result, count] :
       {std::pair<const char*, uint64_t>{"failure", snapshot_failures_},
        std::pair<const char*, uint64_t>{"success", snapshot_successes_}}) {
    ClientMetric metric;
    metric.label = {{"result", result}};
    metric.counter.value = static_cast<double>(count);
    snapshots.metric.push_back(std::move(metric));
  }
  out.push_back(std::move(snapshots));

  if (last_snapshot_) {
    MetricFamily last = Family("nodeproc_snapshot_last_success_timestamp_seconds",
                               "When the last CSV snapshot was written, since the Unix epoch.",
                               MetricType::Gauge);
    ClientMetric metric;
    metric.gauge.value = UnixSeconds(*last_snapshot_);
    last.metric.push_back(std::move(metric));
    out.push_back(std::move(last));
  }

  if (files_enabled_) {
    histogram("nodeproc_files_snapshot_duration_seconds",
              "Duration of the files phase of a deep snapshot (open and mapped files of every "
              "process, with their packages).",
              files_duration_, FilesDurationBuckets());
    MetricFamily rows = Family("nodeproc_files_snapshot_rows_total",
                               "File rows written to files CSV snapshots.", MetricType::Counter);
    ClientMetric rows_metric;
    rows_metric.counter.value = static_cast<double>(files_rows_);
    rows.metric.push_back(std::move(rows_metric));
    out.push_back(std::move(rows));
    MetricFamily results = Family("nodeproc_files_snapshots_total",
                                  "Files CSV snapshots by result.", MetricType::Counter);
    for (const auto& [result, count] :
         {std::pair<const char*, uint64_t>{"failure", files_failures_},
          std::pair<const char*, uint64_t>{"success", files_successes_}}) {
      ClientMetric metric;
      metric.label = {{"result", result}};
      metric.counter.value = static_cast<double>(count);
      results.metric.push_back(std::move(metric));
    }
    out.push_back(std::move(results));
  }
  return out;
}

}  // namespace nodeproc
