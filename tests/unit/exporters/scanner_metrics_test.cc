// ScannerMetrics: snapshot age, scanner health and kubelet staleness from the agent's state.
#include "exporters/scanner_metrics.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace nodeproc {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

std::string Render(const ScannerMetrics& m) {
  return prometheus::TextSerializer().Serialize(m.Collect());
}

TEST(ScannerMetricsTest, NothingButHealthBeforeTheFirstScan) {
  ScannerState state;
  state.now = kNow;
  ScannerMetrics m([&] { return state; });
  const std::string text = Render(m);
  EXPECT_THAT(text, Not(HasSubstr("nodeproc_snapshot_age_seconds")));
  EXPECT_THAT(text, Not(HasSubstr("nodeproc_scanner_last_success_timestamp_seconds")));
  EXPECT_THAT(text, Not(HasSubstr("nodeproc_kubelet_")));  // host-only
  EXPECT_THAT(text, HasSubstr("nodeproc_scanner_stuck 0\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_scanner_scans_total{outcome=\"success\"} 0\n"));
}

TEST(ScannerMetricsTest, AgeCountersAndStuckScan) {
  ScannerState state;
  state.now = kNow;
  state.snapshot_taken_at = kNow - absl::Seconds(3);
  state.last_success = kNow - absl::Seconds(3);
  state.scans_succeeded = 7;
  state.scans_failed = 1;
  state.deadline = absl::Seconds(30);
  state.scan_started_at = kNow - absl::Seconds(10);
  ScannerMetrics m([&] { return state; });
  std::string text = Render(m);
  EXPECT_THAT(text, HasSubstr("nodeproc_snapshot_age_seconds 3\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_scanner_scans_total{outcome=\"success\"} 7\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_scanner_scans_total{outcome=\"error\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_scanner_scan_running_seconds 10\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_scanner_stuck 0\n"));
  // The same scan, 31 s in: stuck; the snapshot keeps aging.
  state.now = kNow + absl::Seconds(21);
  text = Render(m);
  EXPECT_THAT(text, HasSubstr("nodeproc_scanner_stuck 1\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_snapshot_age_seconds 24\n"));
  // It ends: counters go on from where they were.
  state.scan_started_at = absl::InfinitePast();
  state.scans_succeeded = 8;
  text = Render(m);
  EXPECT_THAT(text, HasSubstr("nodeproc_scanner_stuck 0\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_scanner_scan_running_seconds 0\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_scanner_scans_total{outcome=\"success\"} 8\n"));
}

TEST(ScannerMetricsTest, KubeletAgePresentExactlyWhenDataIsRendered) {
  ScannerState state;
  state.now = kNow;
  state.snapshot_taken_at = kNow;
  state.kubelet_enabled = true;
  ScannerMetrics m([&] { return state; });
  // Start-up: kubelet configured, no data yet.
  std::string text = Render(m);
  EXPECT_THAT(text, Not(HasSubstr("nodeproc_kubelet_cache_age_seconds")));
  EXPECT_THAT(text, HasSubstr("nodeproc_kubelet_data_stale 0\n"));
  state.kubelet_fetched_at = kNow - absl::Seconds(2);
  text = Render(m);
  EXPECT_THAT(text, HasSubstr("nodeproc_kubelet_cache_age_seconds 2\n"));
  // Past the maximum age the snapshot carries none: the age goes, stale says why.
  state.kubelet_fetched_at = absl::InfinitePast();
  state.kubelet_stale = true;
  text = Render(m);
  EXPECT_THAT(text, Not(HasSubstr("nodeproc_kubelet_cache_age_seconds")));
  EXPECT_THAT(text, HasSubstr("nodeproc_kubelet_data_stale 1\n"));
}

}  // namespace
}  // namespace nodeproc
