// SnapshotWriter's contract layout and retention through core/platform only: compiled into the
// Linux unit tests and the Windows build's (under wine), so both platforms write the same files.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/time/time.h"
#include "exporters/csv_format.h"
#include "exporters/snapshot_writer.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace nodeproc {
namespace {

namespace fs = std::filesystem;

Snapshot At(absl::Time t) {
  Snapshot s;
  s.taken_at = t;
  ProcessRecord r;
  r.pid = 42;
  r.ppid = 1;
  r.name = "svc.exe";
  r.cmdline = "svc.exe --flag";
  s.processes.push_back(r);
  return s;
}

TEST(SnapshotWriterContractTest, WritesTheContractLayoutAndKeepsTheNewest) {
  testing::TempDir dir;
  const absl::Time start = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z
  SnapshotWriterOptions o;
  o.dir = dir.path();
  o.machine_id = "node/a";
  o.agent_start = start;
  o.keep_files = 2;
  o.max_age = absl::InfiniteDuration();
  SnapshotWriter writer(o);
  std::atomic<bool> cancel{false};
  std::string last;
  for (int i = 0; i < 3; ++i) {
    auto path = writer.Write(At(start + absl::Seconds(10 * i)), cancel);
    ASSERT_TRUE(path.ok()) << path.status();
    last = *path;
  }
  const fs::path process_dir = fs::path(dir.path()) / "node_a" / "20260101T000000Z" / "process";
  EXPECT_EQ(fs::path(last), process_dir / "process_20260101T000020Z.csv");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(process_dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"process_20260101T000010Z.csv", "process_20260101T000020Z.csv"}));
  std::ifstream in(last, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  const std::string text = content.str();
  EXPECT_EQ(text.substr(0, CsvHeader().size()), CsvHeader());
  EXPECT_EQ(text.find('\r'), std::string::npos);  // "\n" line ends on Windows too
  EXPECT_NE(text.find("svc.exe --flag"), std::string::npos);
}

TEST(SnapshotWriterContractTest, MachineIdIsOnePathComponentOnEveryPlatform) {
  EXPECT_EQ(SnapshotWriter::SanitizeMachineId(".."), "__");
  EXPECT_EQ(SnapshotWriter::SanitizeMachineId("..."), "___");
  EXPECT_EQ(SnapshotWriter::SanitizeMachineId("C:\\node"), "C__node");
  EXPECT_EQ(SnapshotWriter::SanitizeMachineId(""), "unknown");
}

}  // namespace
}  // namespace nodeproc
