#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "exporters/self_metrics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"
#include "tests/support/temp_dir.h"

namespace nodeproc {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Render(const SelfMetrics& m) {
  return prometheus::TextSerializer().Serialize(m.Collect());
}

TEST(SelfMetricsTest, FreshAgentExposesBuildInfoEmptyHistogramsAndZeroSnapshots) {
  SelfMetrics m("1.2.3", "abcdef0");
  const std::string text = Render(m);
  EXPECT_THAT(text, HasSubstr("nodeproc_build_info{version=\"1.2.3\",commit=\"abcdef0\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_scan_duration_seconds_count 0\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_sampler_duration_seconds_bucket{le=\"+Inf\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_snapshots_total{result=\"failure\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_snapshots_total{result=\"success\"} 0\n"));
  // Nothing known yet: absent rather than a misleading 0.
  EXPECT_THAT(text, Not(HasSubstr("nodeproc_kubelet_cache_age_seconds")));
  EXPECT_THAT(text, Not(HasSubstr("nodeproc_snapshot_last_success_timestamp_seconds")));
  EXPECT_THAT(text, Not(HasSubstr("nodeproc_scan_processes")));
  EXPECT_THAT(text, Not(HasSubstr("nodeproc_kubelet_requests_total")));
  EXPECT_THAT(text, Not(HasSubstr("nodeproc_files_snapshot")));  // --snapshot-files is off
}

TEST(SelfMetricsTest, FilesSnapshotFamiliesOnceEnabled) {
  SelfMetrics m("v", "c");
  m.EnableFilesSnapshotMetrics();
  std::string text = Render(m);
  EXPECT_THAT(text, HasSubstr("nodeproc_files_snapshot_duration_seconds_count 0\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_files_snapshot_rows_total 0\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_files_snapshots_total{result=\"success\"} 0\n"));
  m.RecordFilesSnapshotSuccess(absl::Seconds(20), 1500);  // le 30
  m.RecordFilesSnapshotSuccess(absl::Milliseconds(400), 25);  // le 0.5
  m.RecordFilesSnapshotFailure();
  text = Render(m);
  EXPECT_THAT(text, HasSubstr("nodeproc_files_snapshot_duration_seconds_bucket{le=\"0.5\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_files_snapshot_duration_seconds_bucket{le=\"10\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_files_snapshot_duration_seconds_bucket{le=\"30\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_files_snapshot_duration_seconds_count 2\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_files_snapshot_rows_total 1525\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_files_snapshots_total{result=\"success\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_files_snapshots_total{result=\"failure\"} 1\n"));
  // The process scan histogram keeps its own buckets.
  EXPECT_THAT(text, Not(HasSubstr("nodeproc_scan_duration_seconds_bucket{le=\"30\"}")));
}

TEST(SelfMetricsTest, HistogramBucketsAreCumulative) {
  SelfMetrics m("v", "c");
  m.ObserveScanDuration(absl::Milliseconds(3));    // le 0.005
  m.ObserveScanDuration(absl::Milliseconds(5));    // le 0.005 (bounds are inclusive)
  m.ObserveScanDuration(absl::Milliseconds(200));  // le 0.25
  m.ObserveScanDuration(absl::Seconds(60));        // +Inf only
  const std::string text = Render(m);
  EXPECT_THAT(text, HasSubstr("nodeproc_scan_duration_seconds_bucket{le=\"0.0025\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_scan_duration_seconds_bucket{le=\"0.005\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_scan_duration_seconds_bucket{le=\"0.1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_scan_duration_seconds_bucket{le=\"0.25\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_scan_duration_seconds_bucket{le=\"10\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_scan_duration_seconds_bucket{le=\"+Inf\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_scan_duration_seconds_count 4\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_scan_duration_seconds_sum 60.208"));
  EXPECT_THAT(text, HasSubstr("nodeproc_sampler_duration_seconds_count 0\n"));
}

TEST(SelfMetricsTest, KubeletOutcomesAgeAndSnapshots) {
  absl::Time now = absl::FromUnixSeconds(1800000000);
  SelfMetrics m("v", "c", [&] { return now; });
  m.SetKubeletRequestCounts({{"summary:200", 5}, {"pods:403", 1}, {"summary:timeout", 2},
                             {"weird", 3}});
  m.SetKubeletCacheAge(absl::Seconds(2));
  m.SetProcessesSeen(321);
  m.RecordSnapshotFailure();
  m.RecordSnapshotSuccess(absl::FromUnixSeconds(1799999990));
  m.RecordSnapshotSuccess(absl::FromUnixSeconds(1799999995));
  now += absl::Seconds(3);  // the age keeps growing between updates
  const std::string text = Render(m);
  EXPECT_THAT(text, HasSubstr("nodeproc_kubelet_requests_total{endpoint=\"pods\",code=\"403\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_kubelet_requests_total{endpoint=\"summary\",code=\"200\"} 5\n"));
  EXPECT_THAT(text,
              HasSubstr("nodeproc_kubelet_requests_total{endpoint=\"summary\",code=\"timeout\"} 2\n"));
  EXPECT_THAT(text,
              HasSubstr("nodeproc_kubelet_requests_total{endpoint=\"weird\",code=\"unknown\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_kubelet_cache_age_seconds 5\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_scan_processes 321\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_snapshots_total{result=\"failure\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_snapshots_total{result=\"success\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_snapshot_last_success_timestamp_seconds 1799999995\n"));

  // A new map replaces the old one (the kube client owns the cumulative counts).
  m.SetKubeletRequestCounts({{"summary:200", 6}});
  const std::string next = Render(m);
  EXPECT_THAT(next, HasSubstr("{endpoint=\"summary\",code=\"200\"} 6\n"));
  EXPECT_THAT(next, Not(HasSubstr("code=\"403\"")));
}

TEST(SelfMetricsTest, KubeletDroppedCountsAreCountersByEndpointAndKind) {
  SelfMetrics m("v", "c");
  EXPECT_THAT(Render(m), Not(HasSubstr("nodeproc_kubelet_dropped_total")));  // nothing dropped yet
  m.SetKubeletDroppedCounts({{"summary:pod", 120}, {"pods:container", 3}});
  std::string text = Render(m);
  EXPECT_THAT(text, HasSubstr("# TYPE nodeproc_kubelet_dropped_total counter\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_kubelet_dropped_total{endpoint=\"summary\",kind=\"pod\"} 120\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_kubelet_dropped_total{endpoint=\"pods\",kind=\"container\"} 3\n"));
  m.SetKubeletDroppedCounts({{"summary:pod", 240}, {"pods:container", 3}});
  EXPECT_THAT(Render(m), HasSubstr("{endpoint=\"summary\",kind=\"pod\"} 240\n"));
}

TEST(SelfMetricsTest, ConcurrentUpdatesAreAllCounted) {
  SelfMetrics m("v", "c");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m] {
      for (int i = 0; i < 1000; ++i) {
        m.ObserveSamplerDuration(absl::Milliseconds(1));
        m.RecordSnapshotFailure();
        if (i % 100 == 0) m.Collect();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const std::string text = Render(m);
  EXPECT_THAT(text, HasSubstr("nodeproc_sampler_duration_seconds_count 4000\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_snapshots_total{result=\"failure\"} 4000\n"));
}

TEST(SelfMetricsTest, PromtoolCheckMetricsIsSilent) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool not installed (Debian package prometheus)";
  }
  SelfMetrics m("1.0.0", "deadbeef");
  m.ObserveScanDuration(absl::Milliseconds(12));
  m.SetKubeletRequestCounts({{"summary:200", 1}});
  m.SetKubeletDroppedCounts({{"summary:pod", 1}});
  m.SetKubeletCacheAge(absl::Seconds(1));
  m.SetProcessesSeen(10);
  m.RecordSnapshotSuccess(absl::Now());
  m.RecordFilesSnapshotSuccess(absl::Seconds(3), 1200);
  testing::TempDir dir;
  const std::string in = dir.path() + "/self.txt";
  const std::string out = dir.path() + "/promtool.out";
  {
    std::ofstream file(in);
    file << Render(m);
  }
  const int rc = std::system(("promtool check metrics < " + in + " > " + out + " 2>&1").c_str());
  std::ifstream result(out);
  const std::string verdict((std::istreambuf_iterator<char>(result)),
                            std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(verdict, "");
}

}  // namespace
}  // namespace nodeproc
