#include "upload/upload_metrics.h"

#include <gtest/gtest.h>

#include <map>

#include "prometheus/text_serializer.h"

namespace nodeproc {
namespace {

TEST(UploadMetricsTest, RendersEveryOutcomeAndTheSpool) {
  UploadStats s;
  s.requests = {{"success", 3}, {"server_error", 2}};
  s.bytes_uploaded = 4096;
  s.spool.pending_files = 2;
  s.spool.pending_bytes = 300;
  s.spool.dropped_files = 1;
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  s.spool.oldest_pending = now - absl::Seconds(90);
  s.last_success = now - absl::Seconds(5);
  UploadMetrics m([&] { return s; }, [&] { return now; });
  const std::string text = prometheus::TextSerializer().Serialize(m.Collect());
  for (const char* line : {"nodeproc_upload_requests_total{outcome=\"success\"} 3",
                           "nodeproc_upload_requests_total{outcome=\"server_error\"} 2",
                           "nodeproc_upload_requests_total{outcome=\"no_bucket\"} 0",
                           "nodeproc_upload_requests_total{outcome=\"auth_error\"} 0",
                           "nodeproc_upload_bytes_total 4096", "nodeproc_upload_pending_files 2",
                           "nodeproc_upload_pending_bytes 300", "nodeproc_upload_oldest_pending_age_seconds 90",
                           "nodeproc_upload_dropped_files_total 1",
                           "nodeproc_upload_last_success_timestamp_seconds 1799999995"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
  s.spool.oldest_pending.reset();
  s.last_success.reset();
  const std::string idle = prometheus::TextSerializer().Serialize(m.Collect());
  EXPECT_NE(idle.find("nodeproc_upload_oldest_pending_age_seconds 0"), std::string::npos);
  EXPECT_EQ(idle.find("nodeproc_upload_last_success_timestamp_seconds"), std::string::npos);
}

}  // namespace
}  // namespace nodeproc
