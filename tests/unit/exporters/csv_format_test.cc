#include "exporters/csv_format.h"

#include "core/absl_compat.h"
#include "core/utf8.h"

#include <stdio.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/exporters/csv_test_util.h"

namespace nodeproc {
namespace {

using ::testing::ElementsAre;

const absl::Time kTaken = absl::FromUnixSeconds(1795000000);  // 2026-11-18 11:06:40 UTC

ProcessRecord PlainRecord() {
  ProcessRecord r;
  r.pid = 1234;
  r.ppid = 1;
  r.name = "nginx";
  r.cmdline = "nginx -g daemon off;";
  r.uid = 101;
  r.state = ProcessState::kSleeping;
  r.vms_bytes = 10 * 1024 * 1024 + 1023;  // KiB rounds down
  r.rss_bytes = 2048;
  r.threads = 4;
  r.fds = 17;
  r.read_bytes = 4096;
  r.write_bytes = 0;
  r.start_time_unix = 1794999000.75;
  r.cpu.pct_5s = 12.345;
  r.cpu.pct_2m = 250.0;
  r.cpu.pct_1h = 0.004;
  r.container.container_id = "abc123";
  r.container.pod_uid = "uid-1";
  r.container.pod_namespace = "web";
  r.container.pod_name = "nginx-7d";
  r.container.container_name = "nginx";
  return r;
}

// Fields a shell or a hostile process could put in comm and cmdline.
std::vector<ProcessRecord> HostileRecords() {
  std::vector<ProcessRecord> rows;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a) (b", "python3 -c print(1) arg,with,commas"},
      {"q\"uote", "say \"hi\", \"there\""},
      {"nl", "line1\nline2\r\nline3\r"},
      {"bin\xff\xfe", std::string("non-utf8 \xc3\x28 \xff end")},
      {"", ""},
      {",", "\""},
      {"sp ace ", " leading and trailing "},
  };
  for (const auto& [name, cmd] : cases) {
    ProcessRecord r = PlainRecord();
    r.pid = static_cast<int32_t>(rows.size() + 10);
    r.name = name;
    r.cmdline = cmd;
    r.container.pod_name = "pod,with\"quote";
    rows.push_back(r);
  }
  return rows;
}

TEST(CsvFormatTest, HeaderIsTheContractLine) {
  EXPECT_EQ(CsvHeader(),
            "timestamp,pid,name,cmdline,vms_kb,rss_kb,create_time,cpu_5s,cpu_2m,cpu_1h,status,"
            "ppid,uid,threads,fds,read_bytes,write_bytes,container_id,pod_uid,namespace,pod,"
            "container\n");
  std::string joined;
  for (std::string_view c : kCsvColumns) absl::StrAppend(&joined, joined.empty() ? "" : ",", ToAbsl(c));
  EXPECT_EQ(joined + "\n", CsvHeader());
}

TEST(CsvFormatTest, PlainRowHasEveryFieldInContractFormat) {
  std::string out;
  AppendCsvRow(PlainRecord(), kTaken, &out);
  EXPECT_EQ(out,
            "2026-11-18 11:06:40,1234,nginx,nginx -g daemon off;,10240,2,2026-11-18 10:50:00,"
            "12.35,250.00,0.00,sleeping,1,101,4,17,4096,0,abc123,uid-1,web,nginx-7d,nginx\n");
}

TEST(CsvFormatTest, UnknownValuesAreEmptyNotZero) {
  ProcessRecord r = PlainRecord();
  r.fds.reset();
  r.read_bytes.reset();
  r.write_bytes.reset();
  r.cpu = CpuUsage{};
  r.container = ContainerRef{};
  r.state = ProcessState::kZombie;
  r.start_time_unix = 0;
  std::string out;
  AppendCsvRow(r, kTaken, &out);
  auto rows = testing::ParseCsvStrict(out);
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 1u);
  const auto& f = (*rows)[0];
  ASSERT_EQ(f.size(), kCsvColumns.size());
  EXPECT_EQ(f[6], "");
  EXPECT_EQ(f[7], "");
  EXPECT_EQ(f[8], "");
  EXPECT_EQ(f[9], "");
  EXPECT_EQ(f[10], "zombie");
  EXPECT_EQ(f[14], "");
  EXPECT_EQ(f[15], "");
  EXPECT_EQ(f[16], "");
  EXPECT_THAT(std::vector<std::string>(f.begin() + 17, f.end()), ElementsAre("", "", "", "", ""));
}

TEST(CsvFormatTest, QuotesOnlyWhatNeedsQuoting) {
  std::string out;
  AppendCsvField("plain text", &out);
  AppendCsvField("|", &out);
  AppendCsvField("a,b", &out);
  AppendCsvField("|", &out);
  AppendCsvField("say \"hi\"", &out);
  AppendCsvField("|", &out);
  AppendCsvField("two\nlines", &out);
  AppendCsvField("|", &out);
  AppendCsvField("cr\r", &out);
  EXPECT_EQ(out, "plain text|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|\"cr\r\"");
}

TEST(CsvFormatTest, HostileRowsRoundTripThroughAStrictReader) {
  const std::vector<ProcessRecord> records = HostileRecords();
  std::string out(CsvHeader());
  for (const ProcessRecord& r : records) AppendCsvRow(r, kTaken, &out);
  auto rows = testing::ParseCsvStrict(out);
  ASSERT_TRUE(rows.has_value()) << out;
  ASSERT_EQ(rows->size(), records.size() + 1);
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& f = (*rows)[i + 1];
    ASSERT_EQ(f.size(), kCsvColumns.size()) << i;
    EXPECT_EQ(f[1], std::to_string(records[i].pid));
    EXPECT_EQ(f[2], ToValidUtf8(records[i].name));
    EXPECT_EQ(f[3], ToValidUtf8(records[i].cmdline));
    EXPECT_EQ(f[20], "pod,with\"quote");
  }
}

// The same rows read by Python's csv module (the reader the integration tests and users use).
TEST(CsvFormatTest, HostileRowsRoundTripThroughPythonCsv) {
  if (system("python3 -c 'import csv' >/dev/null 2>&1") != 0) GTEST_SKIP() << "python3 not available";
  const std::vector<ProcessRecord> records = HostileRecords();
  std::string out(CsvHeader());
  for (const ProcessRecord& r : records) AppendCsvRow(r, kTaken, &out);
  testing::TempDir dir;
  const std::string path = dir.path() + "/rows.csv";
  std::ofstream(path, std::ios::binary) << out;
  // Decoded as strict UTF-8 (errors="strict": any invalid byte fails the read); each field
  // comes back as the hex of its UTF-8 bytes.
  const std::string cmd = absl::StrCat(
      "python3 -c 'import csv,sys\n"
      "with open(sys.argv[1], newline=\"\", encoding=\"utf-8\", errors=\"strict\") as f:\n"
      "  for row in csv.reader(f, strict=True):\n"
      "    print(\",\".join(x.encode(\"utf-8\").hex() for x in row))' ",
      path);
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string result;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) result.append(buf, n);
  ASSERT_EQ(pclose(p), 0) << result;
  std::vector<std::string> lines = absl::StrSplit(result, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), records.size() + 1);
  auto unhex = [](std::string_view h) {
    std::string s;
    for (size_t i = 0; i + 1 < h.size(); i += 2) s.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
    return s;
  };
  std::vector<std::string> header = absl::StrSplit(lines[0], ',');
  ASSERT_EQ(header.size(), kCsvColumns.size());
  for (size_t c = 0; c < header.size(); ++c) EXPECT_EQ(unhex(header[c]), kCsvColumns[c]);
  for (size_t i = 0; i < records.size(); ++i) {
    std::vector<std::string> f = absl::StrSplit(lines[i + 1], ',');
    ASSERT_EQ(f.size(), kCsvColumns.size()) << i;
    EXPECT_EQ(unhex(f[0]), "2026-11-18 11:06:40");
    EXPECT_EQ(unhex(f[2]), ToValidUtf8(records[i].name)) << i;
    EXPECT_EQ(unhex(f[3]), ToValidUtf8(records[i].cmdline)) << i;
    EXPECT_EQ(unhex(f[20]), "pod,with\"quote");
  }
}

TEST(CsvFormatTest, FieldsAreValidUtf8) {
  std::string out;
  AppendCsvField("bad\xff\xfe", &out);
  out.push_back('|');
  AppendCsvField(std::string("a,\0b\xc3", 5), &out);
  EXPECT_EQ(out, "bad\xef\xbf\xbd\xef\xbf\xbd|\"a,\xef\xbf\xbd" "b\xef\xbf\xbd\"");
}

TEST(CsvFormatTest, TimesAreUtcWholeSeconds) {
  std::string out;
  AppendCsvTime(absl::FromUnixSeconds(0), &out);
  out.push_back('|');
  AppendCsvTime(absl::FromUnixMillis(1795000000999), &out);
  EXPECT_EQ(out, "1970-01-01 00:00:00|2026-11-18 11:06:40");
}

}  // namespace
}  // namespace nodeproc
