#include "upload/upload_metrics.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/time/clock.h"

namespace nodeproc {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Every outcome is always rendered (0 until seen), so rate() works from the first failure.
constexpr UploadOutcome kOutcomes[] = {
    UploadOutcome::kSuccess,     UploadOutcome::kAuthError,    UploadOutcome::kNoBucket,
    UploadOutcome::kIntegrityError, UploadOutcome::kClientError, UploadOutcome::kServerError,
    UploadOutcome::kNetworkError, UploadOutcome::kLocalError};

MetricFamily One(std::string name, std::string help, MetricType type, double value) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  ClientMetric m;
  if (type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
  return f;
}

}  // namespace

UploadMetrics::UploadMetrics(std::function<UploadStats()> stats, std::function<absl::Time()> clock)
    : stats_(std::move(stats)), clock_(std::move(clock)) {}

std::vector<MetricFamily> UploadMetrics::Collect() const {
  const UploadStats s = stats_();
  const absl::Time now = clock_();
  std::vector<MetricFamily> out;

  MetricFamily requests;
  requests.name = "nodeproc_upload_requests_total";
  requests.help = "Snapshot file uploads to object storage, by outcome.";
  requests.type = MetricType::Counter;
  for (UploadOutcome o : kOutcomes) {
    ClientMetric m;
    const std::string name(OutcomeName(o));
    m.label = {{"outcome", name}};
    auto it = s.requests.find(name);
    m.counter.value = it == s.requests.end() ? 0 : static_cast<double>(it->second);
    requests.metric.push_back(std::move(m));
  }
  out.push_back(std::move(requests));
  out.push_back(One("nodeproc_upload_bytes_total", "Bytes of snapshot files uploaded (successful uploads).",
                    MetricType::Counter, static_cast<double>(s.bytes_uploaded)));
  out.push_back(One("nodeproc_upload_pending_files", "Complete snapshot files not yet uploaded.",
                    MetricType::Gauge, static_cast<double>(s.spool.pending_files)));
  out.push_back(One("nodeproc_upload_pending_bytes", "Bytes of the snapshot files not yet uploaded.",
                    MetricType::Gauge, static_cast<double>(s.spool.pending_bytes)));
  const double oldest = s.spool.oldest_pending
                            ? std::max(0.0, absl::ToDoubleSeconds(now - *s.spool.oldest_pending))
                            : 0.0;
  out.push_back(One("nodeproc_upload_oldest_pending_age_seconds",
                    "Age of the oldest snapshot file not yet uploaded (0 when none is pending).",
                    MetricType::Gauge, oldest));
  out.push_back(One("nodeproc_upload_dropped_files_total",
                    "Snapshot files deleted by retention before they were uploaded (spool cap).",
                    MetricType::Counter, static_cast<double>(s.spool.dropped_files)));
  if (s.last_success) {
    out.push_back(One("nodeproc_upload_last_success_timestamp_seconds",
                      "Unix time of the last successful upload.", MetricType::Gauge,
                      absl::ToDoubleSeconds(*s.last_success - absl::UnixEpoch())));
  }
  return out;
}

}  // namespace nodeproc
