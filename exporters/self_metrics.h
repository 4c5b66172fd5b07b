#pragma once
// The agent's own health on /metrics: scan and sampler durations, processes seen, kubelet
// request outcomes and data age, CSV snapshot results, build info. The agent calls the
// setters from any thread; Collect() renders the current values (see exporters/METRICS.md).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace nodeproc {

class SelfMetrics : public prometheus::Collectable {
 public:
  // `clock` gives "now" for the kubelet cache age (tests inject a fixed one).
  SelfMetrics(std::string version, std::string commit,
              std::function<absl::Time()> clock = [] { return absl::Now(); });

  void ObserveScanDuration(absl::Duration d);     // one full scan
  void ObserveSamplerDuration(absl::Duration d);  // one CPU sampler pass
  void SetProcessesSeen(uint64_t count);          // processes of the last full scan

  // Cumulative kubelet request outcomes, keyed "endpoint:code" (e.g. {"summary:200", 5},
  // {"pods:403", 1}, {"summary:timeout", 2}); replaces what was set before. A key without ':'
  // is an endpoint with code "unknown".
  void SetKubeletRequestCounts(const std::map<std::string, uint64_t>& counts);
  // Cumulative kubelet data dropped by the parse limits, keyed "endpoint:kind"
  // ({"summary:pod", 120}); replaces what was set before (KubeletCacheStats::dropped).
  void SetKubeletDroppedCounts(const std::map<std::string, uint64_t>& counts);
  // Age of the kubelet data served, as of now; the exported age keeps growing from there
  // until the next call. SetKubeletDataTime is the same given the fetch time.
  void SetKubeletCacheAge(absl::Duration age);
  void SetKubeletDataTime(absl::Time fetched_at);

  void RecordSnapshotSuccess(absl::Time written_at);
  void RecordSnapshotFailure();

  // Deep snapshot files phase (--snapshot-files): its families are rendered only once enabled.
  void EnableFilesSnapshotMetrics();
  void RecordFilesSnapshotSuccess(absl::Duration duration, uint64_t rows);
  void RecordFilesSnapshotFailure();

  std::vector<prometheus::MetricFamily> Collect() const override;

  // Upper bounds of the duration histograms, in seconds.
  static const std::vector<double>& DurationBuckets();
  // Upper bounds of the files phase histogram (it reads every process's files: seconds).
  static const std::vector<double>& FilesDurationBuckets();

 private:
  // Replaces the series of a counter family by `counts` ("<a>:<b>" keys, labels la/lb);
  // a series whose count went down or whose key went away is removed and re-added.
  void SetCounterFamily(prometheus::Family<prometheus::Counter>& family,
                        std::map<std::string, prometheus::Counter*>& series,
                        const std::map<std::string, uint64_t>& counts, const char* la,
                        const char* lb, const char* missing_b) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string version_;
  const std::string commit_;
  const std::function<absl::Time()> clock_;
  // Every family lives in this registry (prometheus-cpp's own metrics and histograms); a family
  // without series yet is left out of Collect().
  const std::shared_ptr<prometheus::Registry> registry_;

  mutable absl::Mutex mu_;
  prometheus::Histogram* scan_;
  prometheus::Histogram* sampler_;
  prometheus::Family<prometheus::Gauge>* processes_seen_family_;
  prometheus::Gauge* processes_seen_ ABSL_GUARDED_BY(mu_) = nullptr;
  prometheus::Family<prometheus::Counter>* kubelet_requests_family_;
  std::map<std::string, prometheus::Counter*> kubelet_requests_ ABSL_GUARDED_BY(mu_);
  prometheus::Family<prometheus::Counter>* kubelet_dropped_family_;
  std::map<std::string, prometheus::Counter*> kubelet_dropped_ ABSL_GUARDED_BY(mu_);
  prometheus::Family<prometheus::Gauge>* kubelet_age_family_;
  prometheus::Gauge* kubelet_age_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::optional<absl::Time> kubelet_data_time_ ABSL_GUARDED_BY(mu_);
  prometheus::Counter* snapshot_successes_;
  prometheus::Counter* snapshot_failures_;
  prometheus::Family<prometheus::Gauge>* last_snapshot_family_;
  prometheus::Gauge* last_snapshot_ ABSL_GUARDED_BY(mu_) = nullptr;
  prometheus::Family<prometheus::Histogram>* files_duration_family_;
  prometheus::Family<prometheus::Counter>* files_rows_family_;
  prometheus::Family<prometheus::Counter>* files_results_family_;
  prometheus::Histogram* files_duration_ ABSL_GUARDED_BY(mu_) = nullptr;
  prometheus::Counter* files_rows_ ABSL_GUARDED_BY(mu_) = nullptr;
  prometheus::Counter* files_successes_ ABSL_GUARDED_BY(mu_) = nullptr;
  prometheus::Counter* files_failures_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace nodeproc
