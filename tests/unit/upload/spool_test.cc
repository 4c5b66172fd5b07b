#include "upload/spool.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/support/temp_dir.h"

namespace nodeproc {
namespace {

namespace fs = std::filesystem;

class SpoolTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& start, const std::string& name, size_t bytes = 10) {
    const fs::path dir = fs::path(tmp_.path()) / "node-1" / start / "process";
    fs::create_directories(dir);
    std::ofstream(dir / name) << std::string(bytes, 'x');
    return (dir / name).string();
  }

  SpoolOptions Options(int max_pending = 100) {
    SpoolOptions o;
    o.snapshot_dir = tmp_.path();
    o.machine = "node-1";
    o.destination = "http://127.0.0.1:1/snaps/p";
    o.max_pending_snapshots = max_pending;
    o.write_state = [this](const std::string& path, const std::string& contents) {
      ++state_writes_;
      std::ofstream(path, std::ios::trunc) << contents;
      return absl::OkStatus();
    };
    return o;
  }

  std::vector<std::string> Drain(Spool& s) {
    std::vector<std::string> order;
    while (auto e = s.Front()) {
      order.push_back(e->relative);
      EXPECT_TRUE(s.MarkUploaded(*e).ok());
    }
    return order;
  }

  testing::TempDir tmp_;
  int state_writes_ = 0;
};

TEST_F(SpoolTest, RebuildsThePendingSetFromTheVolumeOldestFirst) {
  Write("20261130T070000Z", "process_20261130T070500Z.csv", 100);
  Write("20261130T070000Z", "files_20261130T070500Z.csv", 50);
  Write("20261130T070000Z", "process_20261130T070000Z.csv", 7);
  Write("20261130T080000Z", "process_20261130T080000Z.csv");
  // Not snapshot files: temp files, other names, bad dates, other machines.
  Write("20261130T070000Z", ".process_20261130T071000Z.csv.123.tmp");
  Write("20261130T070000Z", "process_20261130T071000Z.csv.bak");
  Write("20261130T070000Z", "process_20261399T071000Z.csv");
  Write("20261130T070000Z", "notes.txt");
  fs::create_directories(fs::path(tmp_.path()) / "node-2" / "s" / "process");
  std::ofstream(fs::path(tmp_.path()) / "node-2" / "s" / "process" / "process_20261130T070000Z.csv") << "x";

  Spool s(Options());
  ASSERT_TRUE(s.Load().ok());
  SpoolStats st = s.Stats();
  EXPECT_EQ(st.pending_files, 4u);
  EXPECT_EQ(st.pending_bytes, 167u);
  ASSERT_TRUE(st.oldest_pending.has_value());
  EXPECT_EQ(absl::FormatTime("%H%M%S", *st.oldest_pending, absl::UTCTimeZone()), "070000");
  EXPECT_EQ(Drain(s), (std::vector<std::string>{
                          "node-1/20261130T070000Z/process/process_20261130T070000Z.csv",
                          "node-1/20261130T070000Z/process/process_20261130T070500Z.csv",
                          "node-1/20261130T070000Z/process/files_20261130T070500Z.csv",
                          "node-1/20261130T080000Z/process/process_20261130T080000Z.csv"}));
  EXPECT_EQ(s.Stats().pending_files, 0u);
  EXPECT_EQ(state_writes_, 4);
}

TEST_F(SpoolTest, UploadedFilesStayUploadedAcrossRestartsAndNewOnesArePending) {
  Write("20261130T070000Z", "process_20261130T070000Z.csv");
  Write("20261130T070000Z", "process_20261130T070500Z.csv");
  {
    Spool s(Options());
    ASSERT_TRUE(s.Load().ok());
    auto e = s.Front();
    ASSERT_TRUE(e);
    ASSERT_TRUE(s.MarkUploaded(*e).ok());
  }
  // "Restart": the second file is still pending, plus one written since.
  Write("20261130T090000Z", "process_20261130T090000Z.csv");
  Spool s(Options());
  ASSERT_TRUE(s.Load().ok());
  EXPECT_EQ(Drain(s), (std::vector<std::string>{
                          "node-1/20261130T070000Z/process/process_20261130T070500Z.csv",
                          "node-1/20261130T090000Z/process/process_20261130T090000Z.csv"}));
  // A new destination gets everything again.
  SpoolOptions other = Options();
  other.destination = "https://s3.eu-west-1.amazonaws.com/other";
  Spool moved(other);
  ASSERT_TRUE(moved.Load().ok());
  EXPECT_EQ(moved.Stats().pending_files, 3u);
}

TEST_F(SpoolTest, AddTakesOnlyCompleteSnapshotFilesOfThisMachineOnce) {
  Spool s(Options());
  ASSERT_TRUE(s.Load().ok());
  const std::string p = Write("20261130T070000Z", "process_20261130T070000Z.csv");
  EXPECT_TRUE(s.Add(p));
  EXPECT_FALSE(s.Add(p));  // already pending
  EXPECT_TRUE(s.Add(Write("20261130T070000Z", "files_20261130T070000Z.csv")));
  EXPECT_FALSE(s.Add(tmp_.path() + "/node-1/20261130T070000Z/process/process_20261130T070100Z.csv"));  // missing
  EXPECT_FALSE(s.Add(Write("20261130T070000Z", ".process_20261130T070200Z.csv.9.tmp")));
  EXPECT_FALSE(s.Add("/etc/passwd"));
  // A symlink planted in the folder is never uploaded (it could point anywhere).
  const std::string link = tmp_.path() + "/node-1/20261130T070000Z/process/process_20261130T070300Z.csv";
  ASSERT_EQ(::symlink("/etc/hostname", link.c_str()), 0);
  EXPECT_FALSE(s.Add(link));
  Spool rebuilt(Options());
  ASSERT_TRUE(rebuilt.Load().ok());
  EXPECT_EQ(rebuilt.Stats().pending_files, 2u);
  auto e = s.Front();
  ASSERT_TRUE(s.MarkUploaded(*e).ok());
  EXPECT_FALSE(s.Add(p));  // uploaded: not again
}

TEST_F(SpoolTest, RetentionKeepsPendingSnapshotsUpToTheCapThenDropsTheOldestCounted) {
  std::vector<std::string> process;
  for (int i = 0; i < 5; ++i) {
    process.push_back(Write("20261130T070000Z", "process_20261130T07000" + std::to_string(i) + "Z.csv"));
    Write("20261130T070000Z", "files_20261130T07000" + std::to_string(i) + "Z.csv");
  }
  Spool s(Options(/*max_pending=*/3));
  ASSERT_TRUE(s.Load().ok());
  EXPECT_EQ(s.Stats().pending_files, 10u);
  // The three newest pending snapshots are held; the two oldest are over the cap.
  EXPECT_TRUE(s.KeepForUpload(process[4]));
  EXPECT_TRUE(s.KeepForUpload(process[2]));
  EXPECT_FALSE(s.KeepForUpload(process[1]));
  EXPECT_EQ(s.Stats().dropped_files, 2u);  // its process and files CSV
  EXPECT_EQ(s.Stats().pending_files, 8u);
  EXPECT_FALSE(s.KeepForUpload(process[0]));
  EXPECT_EQ(s.Stats().dropped_files, 4u);
  // Uploaded snapshots are never held.
  while (auto e = s.Front()) {
    if (e->relative.find("070002") == std::string::npos) break;
    ASSERT_TRUE(s.MarkUploaded(*e).ok());
  }
  EXPECT_FALSE(s.KeepForUpload(process[2]));
  EXPECT_EQ(s.Stats().dropped_files, 4u);  // not a drop: it was uploaded
  EXPECT_TRUE(s.KeepForUpload(process[3]));
}

TEST_F(SpoolTest, LoadRemovesAStaleStateTempFileButNotAFreshOne) {
  const fs::path machine = fs::path(tmp_.path()) / "node-1";
  fs::create_directories(machine);
  std::ofstream(machine / "..upload-state.111.tmp") << "partial";
  std::ofstream(machine / "..upload-state.222.tmp") << "in progress";
  const absl::Time old = absl::Now() - absl::Minutes(5);
  struct timespec times[2] = {{absl::ToTimeT(old), 0}, {absl::ToTimeT(old), 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (machine / "..upload-state.111.tmp").c_str(), times, 0), 0);
  Spool s(Options());
  ASSERT_TRUE(s.Load().ok());
  EXPECT_FALSE(fs::exists(machine / "..upload-state.111.tmp"));
  EXPECT_TRUE(fs::exists(machine / "..upload-state.222.tmp"));
}

TEST_F(SpoolTest, ACorruptOrForeignStateFileMeansEverythingIsPending) {
  Write("20261130T070000Z", "process_20261130T070000Z.csv");
  fs::create_directories(fs::path(tmp_.path()) / "node-1");
  std::ofstream(fs::path(tmp_.path()) / "node-1" / ".upload-state")
      << "\xff\xfe garbage\n20261130T070000Z/process/process_20261130T070000Z.csv\n";
  Spool s(Options());
  ASSERT_TRUE(s.Load().ok());
  EXPECT_EQ(s.Stats().pending_files, 1u);
}

}  // namespace
}  // namespace nodeproc
