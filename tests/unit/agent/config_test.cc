#include "agent/config.h"

#include <stdlib.h>

#include <fstream>

#include "absl/flags/flag.h"
#include "agent/flags.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace nodeproc {
namespace {

TEST(RetentionTest, ParsesCountAgeAndBoth) {
  int keep = -1;
  absl::Duration age;
  ASSERT_TRUE(ParseRetention("288", &keep, &age).ok());
  EXPECT_EQ(keep, 288);
  EXPECT_EQ(age, absl::InfiniteDuration());
  ASSERT_TRUE(ParseRetention("72h", &keep, &age).ok());
  EXPECT_EQ(keep, 0);
  EXPECT_EQ(age, absl::Hours(72));
  ASSERT_TRUE(ParseRetention("10, 30m", &keep, &age).ok());
  EXPECT_EQ(keep, 10);
  EXPECT_EQ(age, absl::Minutes(30));
  absl::Status bad = ParseRetention("forever", &keep, &age);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("snapshot-retention"), absl::string_view::npos);
  EXPECT_FALSE(ParseRetention("-3", &keep, &age).ok());
}

TEST(MachineIdTest, FlagThenNodeNameThenMachineIdFile) {
  testing::TempDir etc;
  std::ofstream(etc.path() + "/machine-id") << "abc123\n";
  ::unsetenv("NODE_NAME");
  EXPECT_EQ(ResolveMachineId("given", etc.path()), "given");
  EXPECT_EQ(ResolveMachineId("", etc.path()), "abc123");
  ::setenv("NODE_NAME", "node-7", 1);
  EXPECT_EQ(ResolveMachineId("", etc.path()), "node-7");
  ::unsetenv("NODE_NAME");
}

TEST(ParseFlagsTest, EnvThenCommandLineDashesAndRepeatableFlags) {
  ::setenv("NODEPROC_SNAPSHOT_INTERVAL", "42s", 1);
  ::setenv("NODEPROC_LOG_LEVEL", "debug", 1);
  ::setenv("NODEPROC_CONTAINER_EXCLUDE", "name:a\nimage:b.*", 1);
  std::vector<std::string> storage = {"nodeproc", "--log-level=warning", "--process-metrics=pid",
                                      "--container-include", "namespace:kube-.*",
                                      "--container-include=name:x,y", "--max_process_series=7"};
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  RepeatedFlags repeated;
  auto rest = ParseFlags(static_cast<int>(argv.size()), argv.data(), &repeated);
  ::unsetenv("NODEPROC_SNAPSHOT_INTERVAL");
  ::unsetenv("NODEPROC_LOG_LEVEL");
  ::unsetenv("NODEPROC_CONTAINER_EXCLUDE");
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_TRUE(rest->empty());
  EXPECT_EQ(absl::GetFlag(FLAGS_snapshot_interval), absl::Seconds(42));  // from env
  EXPECT_EQ(absl::GetFlag(FLAGS_log_level), "warning");                  // cli beats env
  EXPECT_EQ(absl::GetFlag(FLAGS_process_metrics), "pid");
  EXPECT_EQ(absl::GetFlag(FLAGS_max_process_series), 7);
  EXPECT_EQ(repeated.container_include,
            (std::vector<std::string>{"namespace:kube-.*", "name:x,y"}));  // commas kept
  EXPECT_EQ(repeated.container_exclude, (std::vector<std::string>{"name:a", "image:b.*"}));

  auto config = ConfigFromFlags(repeated);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->process_metrics_per_pid);
  EXPECT_EQ(config->max_process_series, 7);
  EXPECT_EQ(config->snapshot_interval, absl::Seconds(42));

  absl::SetFlag(&FLAGS_process_metrics, "sometimes");
  auto bad = ConfigFromFlags(repeated);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--process-metrics=sometimes"), absl::string_view::npos);
  absl::SetFlag(&FLAGS_process_metrics, "group");

  absl::SetFlag(&FLAGS_proc_root, "/nonexistent/proc");
  bad = ConfigFromFlags(repeated);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--proc-root"), absl::string_view::npos);
  absl::SetFlag(&FLAGS_proc_root, "/proc");
}

TEST(ParseFlagsTest, DeepSnapshotFlagsFromEnvAndTheirChecks) {
  ::setenv("NODEPROC_SNAPSHOT_FILES", "true", 1);
  ::setenv("NODEPROC_MAX_FILES_PER_PROCESS", "64", 1);
  std::vector<std::string> storage = {"nodeproc", "--package-metrics", "--snapshot-dir=/tmp"};
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  RepeatedFlags repeated;
  auto rest = ParseFlags(static_cast<int>(argv.size()), argv.data(), &repeated);
  ::unsetenv("NODEPROC_SNAPSHOT_FILES");
  ::unsetenv("NODEPROC_MAX_FILES_PER_PROCESS");
  ASSERT_TRUE(rest.ok()) << rest.status();
  auto config = ConfigFromFlags(repeated);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->snapshot_files);
  EXPECT_EQ(config->max_files_per_process, 64);
  EXPECT_TRUE(config->package_metrics);

  auto expect_error = [&](std::string_view needle) {
    auto bad = ConfigFromFlags(repeated);
    ASSERT_FALSE(bad.ok()) << needle;
    EXPECT_NE(std::string(bad.status().message()).find(needle), std::string::npos) << bad.status();
  };
  absl::SetFlag(&FLAGS_max_files_per_process, 0);
  expect_error("--max-files-per-process=0");
  absl::SetFlag(&FLAGS_max_files_per_process, -5);
  expect_error("--max-files-per-process=-5");
  absl::SetFlag(&FLAGS_max_files_per_process, 128);
  absl::SetFlag(&FLAGS_snapshot_files, false);
  expect_error("--package-metrics needs --snapshot-files");
  absl::SetFlag(&FLAGS_package_metrics, false);
  EXPECT_TRUE(ConfigFromFlags(repeated).ok());
  absl::SetFlag(&FLAGS_snapshot_files, true);
  absl::SetFlag(&FLAGS_snapshot_dir, "");
  expect_error("--snapshot-files needs --snapshot-dir");
  absl::SetFlag(&FLAGS_snapshot_files, false);  // defaults again
  EXPECT_TRUE(ConfigFromFlags(repeated).ok());
}

TEST(ParseFlagsTest, ScannerAndAccountingFlags) {
  RepeatedFlags repeated;
  auto config = ConfigFromFlags(repeated);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->scan_interval, absl::Seconds(5));
  EXPECT_EQ(config->scan_deadline, absl::Seconds(30));
  EXPECT_EQ(config->kubelet_max_age, absl::Seconds(60));
  EXPECT_EQ(config->process_series_grace, absl::Minutes(5));

  // The deprecated alias sets the scanner's cadence, at least 250ms.
  absl::SetFlag(&FLAGS_scan_min_interval, absl::Seconds(2));
  EXPECT_EQ(ConfigFromFlags(repeated)->scan_interval, absl::Seconds(2));
  absl::SetFlag(&FLAGS_scan_min_interval, absl::ZeroDuration());
  EXPECT_EQ(ConfigFromFlags(repeated)->scan_interval, absl::Milliseconds(250));
  absl::SetFlag(&FLAGS_scan_min_interval, absl::InfiniteDuration());

  auto expect_error = [&](std::string_view needle) {
    auto bad = ConfigFromFlags(repeated);
    ASSERT_FALSE(bad.ok()) << needle;
    EXPECT_NE(std::string(bad.status().message()).find(needle), std::string::npos) << bad.status();
  };
  absl::SetFlag(&FLAGS_scan_interval, absl::Milliseconds(10));
  expect_error("--scan-interval");
  absl::SetFlag(&FLAGS_scan_interval, absl::Seconds(5));
  absl::SetFlag(&FLAGS_scan_deadline, absl::ZeroDuration());
  expect_error("--scan-deadline");
  absl::SetFlag(&FLAGS_scan_deadline, absl::Seconds(30));
  absl::SetFlag(&FLAGS_kubelet_max_age, absl::Seconds(1));  // under the 10s validity window
  expect_error("--kubelet-max-age");
  absl::SetFlag(&FLAGS_kubelet_max_age, absl::Seconds(60));
  absl::SetFlag(&FLAGS_process_series_grace, absl::Seconds(-1));
  expect_error("--process-series-grace");
  absl::SetFlag(&FLAGS_process_series_grace, absl::Minutes(5));
  EXPECT_TRUE(ConfigFromFlags(repeated).ok());
}

TEST(ParseFlagsTest, BadEnvValueIsOneClearError) {
  ::setenv("NODEPROC_CPU_SAMPLE_INTERVAL", "soon", 1);
  std::vector<std::string> storage = {"nodeproc"};
  std::vector<char*> argv = {storage[0].data()};
  RepeatedFlags repeated;
  auto rest = ParseFlags(1, argv.data(), &repeated);
  ::unsetenv("NODEPROC_CPU_SAMPLE_INTERVAL");
  ASSERT_FALSE(rest.ok());
  EXPECT_NE(rest.status().message().find("NODEPROC_CPU_SAMPLE_INTERVAL"), absl::string_view::npos);
}

}  // namespace
}  // namespace nodeproc
