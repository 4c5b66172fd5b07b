#include "exporters/snapshot_format.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "exporters/csv_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/unit/exporters/csv_test_util.h"

namespace nodeproc {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const absl::Time kTaken = absl::FromUnixSeconds(1795000000);  // 2026-11-18 11:06:40 UTC

ProcessRecord Proc(int32_t pid, std::optional<double> cpu5, std::string name, std::string cmd) {
  ProcessRecord r;
  r.pid = pid;
  r.ppid = 1;
  r.uid = 1000;
  r.name = std::move(name);
  r.cmdline = std::move(cmd);
  r.state = ProcessState::kSleeping;
  r.rss_bytes = 48ull << 20;
  r.vms_bytes = 3ull << 30;
  r.threads = 3;
  r.fds = 12;
  r.read_bytes = 100;
  r.write_bytes = 200;
  r.start_time_unix = 1795000000 - 3600;  // same day
  r.cpu.pct_5s = cpu5;
  r.cpu.pct_2m = 1.5;
  r.cpu.pct_1h = 0.25;
  return r;
}

Snapshot Sample() {
  Snapshot s;
  s.taken_at = kTaken;
  s.processes.push_back(Proc(10, 1.0, "idle", "sleep 1000"));
  s.processes.push_back(Proc(20, 250.0, "burn", "stress --cpu 3 --label \"a,b\""));
  ProcessRecord k = Proc(2, std::nullopt, "kthreadd", "");
  k.kernel_thread = true;
  k.fds.reset();
  k.read_bytes.reset();
  k.write_bytes.reset();
  k.cpu = CpuUsage{};
  k.start_time_unix = 1795000000 - 5 * 86400;  // days ago
  s.processes.push_back(k);
  ProcessRecord h = Proc(30, 5.0, "bad\nname", std::string("evil \x1b[31mred\xff\xfe tail\nnext"));
  h.container.container_id = "0123456789abcdef0123";
  h.container.pod_uid = "uid-1";
  h.container.pod_namespace = "kube-system";
  h.container.pod_name = "coredns-abc";
  h.container.container_name = "coredns";
  s.processes.push_back(h);
  return s;
}

TEST(SnapshotFormatTest, CsvIsHeaderPlusContractRows) {
  const Snapshot s = Sample();
  std::string expected(CsvHeader());
  for (const ProcessRecord& r : s.processes) AppendCsvRow(r, s.taken_at, &expected);
  EXPECT_EQ(RenderCsv(s), expected);
  auto rows = testing::ParseCsvStrict(RenderCsv(s));
  ASSERT_TRUE(rows.has_value());
  EXPECT_EQ(rows->size(), 5u);
}

TEST(SnapshotFormatTest, JsonHasTheCsvColumnsWithTypedValues) {
  const std::string text = RenderJson(Sample());
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << text;
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 4u);
  for (const auto& row : j) {
    ASSERT_EQ(row.size(), kCsvColumns.size());
    size_t i = 0;
    for (auto it = row.begin(); it != row.end(); ++it, ++i) EXPECT_EQ(it.key(), kCsvColumns[i]);
  }
  const auto& burn = j[1];
  EXPECT_EQ(burn["pid"], 20);
  EXPECT_TRUE(burn["pid"].is_number_integer());
  EXPECT_EQ(burn["cmdline"], "stress --cpu 3 --label \"a,b\"");
  EXPECT_EQ(burn["rss_kb"], 48 * 1024);
  EXPECT_EQ(burn["vms_kb"], 3 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(burn["cpu_5s"].get<double>(), 250.0);
  EXPECT_DOUBLE_EQ(burn["cpu_1h"].get<double>(), 0.25);
  EXPECT_EQ(burn["status"], "sleeping");
  EXPECT_EQ(burn["fds"], 12);
  EXPECT_EQ(burn["timestamp"], "2026-11-18 11:06:40");
  EXPECT_EQ(burn["create_time"], "2026-11-18 10:06:40");
  EXPECT_EQ(burn["container_id"], "");
  const auto& kernel = j[2];
  EXPECT_TRUE(kernel["cpu_5s"].is_null());
  EXPECT_TRUE(kernel["cpu_2m"].is_null());
  EXPECT_TRUE(kernel["fds"].is_null());
  EXPECT_TRUE(kernel["read_bytes"].is_null());
  EXPECT_TRUE(kernel["write_bytes"].is_null());
  const auto& hostile = j[3];
  EXPECT_EQ(hostile["namespace"], "kube-system");
  EXPECT_EQ(hostile["pod"], "coredns-abc");
  EXPECT_EQ(hostile["container"], "coredns");
  // Invalid UTF-8 is replaced, the rest kept.
  EXPECT_THAT(hostile["cmdline"].get<std::string>(), HasSubstr("red\xef\xbf\xbd\xef\xbf\xbd tail"));
  EXPECT_THAT(hostile["cmdline"].get<std::string>(), HasSubstr("tail\nnext"));
}

TEST(SnapshotFormatTest, JsonOfAnEmptySnapshotIsAnEmptyArray) {
  Snapshot s;
  EXPECT_EQ(RenderJson(s), "[]\n");
}

TEST(SnapshotFormatTest, TableIsSortedByCpuAndReadable) {
  const std::string table = RenderTable(Sample());
  std::vector<std::string> lines = absl::StrSplit(table, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 6u) << table;  // header, 4 processes, footer
  EXPECT_THAT(lines[0], StartsWith("    PID    PPID    UID STATE"));
  for (const char* col : {"CPU5S", "CPU2M", "CPU1H", "RSS", "VMS", "THR", "FDS", "START",
                          "NAMESPACE/POD/CONTAINER", "COMMAND"}) {
    EXPECT_THAT(lines[0], HasSubstr(col));
  }
  // Busiest first; unknown CPU last.
  EXPECT_THAT(lines[1], StartsWith("     20 "));
  EXPECT_THAT(lines[2], StartsWith("     30 "));
  EXPECT_THAT(lines[3], StartsWith("     10 "));
  EXPECT_THAT(lines[4], StartsWith("      2 "));
  EXPECT_THAT(lines[1], HasSubstr(" 250.0 "));
  EXPECT_THAT(lines[1], HasSubstr(" 48.0M "));
  EXPECT_THAT(lines[1], HasSubstr(" 3.0G "));
  EXPECT_THAT(lines[1], HasSubstr(" 10:06:40 "));
  EXPECT_THAT(lines[1], HasSubstr("stress --cpu 3 --label \"a,b\""));
  EXPECT_THAT(lines[2], HasSubstr("kube-system/coredns-abc/coredns"));
  // Control characters and invalid bytes cannot break the table or the terminal.
  EXPECT_THAT(lines[2], HasSubstr("evil ?[31mred\xef\xbf\xbd\xef\xbf\xbd tail?next"));
  EXPECT_EQ(lines[2].find('\x1b'), std::string::npos);
  EXPECT_THAT(lines[4], HasSubstr("[kthreadd]"));
  EXPECT_THAT(lines[4], HasSubstr("Nov13"));
  EXPECT_THAT(lines[4], HasSubstr("     - "));
  EXPECT_EQ(lines[5], "4 processes, snapshot 2026-11-18 11:06:40 UTC");
}

TEST(SnapshotFormatTest, TableTruncatesLongCommandsByCharacters) {
  Snapshot s;
  s.taken_at = kTaken;
  std::string cmd = "java";
  for (int i = 0; i < 100; ++i) cmd += " \xc3\xa9t\xc3\xa9";  // "été", two-byte characters
  s.processes.push_back(Proc(1, 1.0, "java", cmd));
  TableOptions o;
  o.max_command_width = 30;
  const std::string table = RenderTable(s, o);
  std::vector<std::string> lines = absl::StrSplit(table, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  const std::string& row = lines[1];
  ASSERT_GE(row.size(), 3u);
  EXPECT_EQ(row.substr(row.size() - 3), "...");
  const std::string shown = row.substr(row.find("java"));
  size_t points = 0;
  for (char c : shown) points += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  EXPECT_EQ(points, 30u);
  // No header-less host-only POD column when nothing runs in a container.
  EXPECT_EQ(lines[0].find("POD"), std::string::npos);
}

}  // namespace
}  // namespace nodeproc
