#pragma once
// The agent's own health on /metrics: scan and sampler durations, processes seen, kubelet
// request outcomes and data age, CSV snapshot results, build info. The agent calls the
// setters from any thread; Collect() renders the current values (see exporters/METRICS.md).
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

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
  struct Histogram {
    std::vector<uint64_t> counts;  // per bucket (not cumulative), +Inf last
    uint64_t count = 0;
    double sum = 0;
  };
  static void Observe(Histogram& h, absl::Duration d,
                      const std::vector<double>& bounds = DurationBuckets());

  const std::string version_;
  const std::string commit_;
  const std::function<absl::Time()> clock_;

  mutable absl::Mutex mu_;
  Histogram scan_ ABSL_GUARDED_BY(mu_);
  Histogram sampler_ ABSL_GUARDED_BY(mu_);
  std::optional<uint64_t> processes_seen_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> kubelet_requests_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Time> kubelet_data_time_ ABSL_GUARDED_BY(mu_);
  uint64_t snapshot_successes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t snapshot_failures_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<absl::Time> last_snapshot_ ABSL_GUARDED_BY(mu_);
  bool files_enabled_ ABSL_GUARDED_BY(mu_) = false;
  Histogram files_duration_ ABSL_GUARDED_BY(mu_);
  uint64_t files_rows_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t files_successes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t files_failures_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace nodeproc
