// A record without a numeric uid (Windows) renders the uid as unknown: an empty CSV field,
// JSON null, "-" in the table; Linux records (uid_known) are unchanged.
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "core/snapshot.h"
#include "exporters/csv_format.h"
#include "exporters/snapshot_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace nodeproc {
namespace {

ProcessRecord Record(int32_t pid, uint32_t uid, bool uid_known) {
  ProcessRecord r;
  r.pid = pid;
  r.ppid = 4;
  r.name = "svc.exe";
  r.cmdline = "svc.exe -k";
  r.uid = uid;
  r.uid_known = uid_known;
  r.state = ProcessState::kRunning;
  r.threads = 3;
  return r;
}

TEST(UnknownUidTest, CsvFieldIsEmptyOnlyWhenUnknown) {
  std::string out;
  AppendCsvRow(Record(100, 0, false), absl::FromUnixSeconds(1795000000), &out);
  AppendCsvRow(Record(101, 0, true), absl::FromUnixSeconds(1795000000), &out);
  AppendCsvRow(Record(102, 1000, true), absl::FromUnixSeconds(1795000000), &out);
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  const size_t uid_col = 12;
  ASSERT_EQ(kCsvColumns[uid_col], "uid");
  std::vector<std::string> unknown = absl::StrSplit(lines[0], ',');
  std::vector<std::string> root = absl::StrSplit(lines[1], ',');
  std::vector<std::string> user = absl::StrSplit(lines[2], ',');
  ASSERT_EQ(unknown.size(), kCsvColumns.size());
  EXPECT_EQ(unknown[uid_col], "");
  EXPECT_EQ(root[uid_col], "0");
  EXPECT_EQ(user[uid_col], "1000");
  EXPECT_EQ(unknown[uid_col + 1], "3");  // threads follows, in place
}

TEST(UnknownUidTest, JsonNullAndTableDash) {
  Snapshot snap;
  snap.taken_at = absl::FromUnixSeconds(1795000000);
  snap.processes = {Record(100, 0, false), Record(101, 0, true)};
  const nlohmann::json rows = nlohmann::json::parse(RenderJson(snap));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[0]["uid"].is_null());
  EXPECT_EQ(rows[1]["uid"], 0);
  const std::string table = RenderTable(snap);
  EXPECT_THAT(table, ::testing::ContainsRegex("\n +100 +4 +- running"));
  EXPECT_THAT(table, ::testing::ContainsRegex("\n +101 +4 +0 running"));
}

}  // namespace
}  // namespace nodeproc
