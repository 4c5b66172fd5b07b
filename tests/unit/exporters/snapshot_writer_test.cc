#include "exporters/snapshot_writer.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "exporters/csv_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/exporters/csv_test_util.h"

namespace nodeproc {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

const absl::Time kAgentStart = absl::FromUnixSeconds(1795000000);  // 20261118T110640Z

Snapshot MakeSnapshot(absl::Time at, int rows) {
  Snapshot s;
  s.taken_at = at;
  for (int i = 0; i < rows; ++i) {
    ProcessRecord r;
    r.pid = 100 + i;
    r.ppid = 1;
    r.name = i % 2 ? "a) (b" : "worker";
    r.cmdline = absl::StrCat("/bin/worker --id=", i, " --label \"x,y\"\nnext line");
    r.state = ProcessState::kRunning;
    r.rss_bytes = 4096 * static_cast<uint64_t>(i);
    r.start_time_unix = 1794990000;
    s.processes.push_back(r);
  }
  return s;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every file under root (relative paths), sorted.
std::vector<std::string> Tree(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file()) out.push_back(fs::relative(it->path(), root).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

SnapshotWriterOptions Options(const std::string& dir, absl::Time agent_start = kAgentStart) {
  SnapshotWriterOptions o;
  o.dir = dir;
  o.machine_id = "node-1";
  o.agent_start = agent_start;
  return o;
}

TEST(SnapshotWriterTest, WritesAWholeFileInTheContractLayout) {
  testing::TempDir dir;
  SnapshotWriter w(Options(dir.path()));
  std::atomic<bool> cancel{false};
  const Snapshot s = MakeSnapshot(kAgentStart + absl::Seconds(65), 50);
  auto path = w.Write(s, cancel);
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, dir.path() + "/node-1/20261118T110640Z/process/process_20261118T110745Z.csv");
  EXPECT_THAT(Tree(dir.path()), ElementsAre("node-1/20261118T110640Z/process/process_20261118T110745Z.csv"));

  std::string expected(CsvHeader());
  for (const ProcessRecord& r : s.processes) AppendCsvRow(r, s.taken_at, &expected);
  const std::string content = ReadFile(*path);
  EXPECT_EQ(content, expected);
  auto rows = testing::ParseCsvStrict(content);
  ASSERT_TRUE(rows.has_value());
  EXPECT_EQ(rows->size(), 51u);
}

TEST(SnapshotWriterTest, LargeSnapshotIsComplete) {
  testing::TempDir dir;
  SnapshotWriter w(Options(dir.path()));
  std::atomic<bool> cancel{false};
  const Snapshot s = MakeSnapshot(kAgentStart, 5000);  // several buffer flushes
  auto path = w.Write(s, cancel);
  ASSERT_TRUE(path.ok()) << path.status();
  auto rows = testing::ParseCsvStrict(ReadFile(*path));
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 5001u);
  EXPECT_EQ((*rows)[5000][1], "5099");
}

TEST(SnapshotWriterTest, MachineIdCannotEscapeTheFolder) {
  EXPECT_EQ(SnapshotWriter::SanitizeMachineId("../../etc"), ".._.._etc");
  EXPECT_EQ(SnapshotWriter::SanitizeMachineId(".."), "__");
  EXPECT_EQ(SnapshotWriter::SanitizeMachineId("."), "_");
  EXPECT_EQ(SnapshotWriter::SanitizeMachineId(""), "unknown");
  EXPECT_EQ(SnapshotWriter::SanitizeMachineId("ip-10-0-0-1.ec2.internal"), "ip-10-0-0-1.ec2.internal");
  EXPECT_EQ(SnapshotWriter::SanitizeMachineId("a/b\nc"), "a_b_c");

  testing::TempDir dir;
  SnapshotWriterOptions o = Options(dir.path() + "/snaps");
  o.machine_id = "..";
  SnapshotWriter w(o);
  std::atomic<bool> cancel{false};
  auto path = w.Write(MakeSnapshot(kAgentStart, 1), cancel);
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(path->rfind(dir.path() + "/snaps/__/", 0), 0u) << *path;
}

TEST(SnapshotWriterTest, CancelledBeforeTheFirstRowLeavesNothing) {
  testing::TempDir dir;
  SnapshotWriter w(Options(dir.path()));
  std::atomic<bool> cancel{true};
  auto path = w.Write(MakeSnapshot(kAgentStart, 10), cancel);
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.status().code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(Tree(dir.path()), ElementsAre());
}

TEST(SnapshotWriterTest, CancelledMidWriteLeavesNoPartialOrTempFile) {
  testing::TempDir dir;
  ::setenv("NODEPROC_TEST_SNAPSHOT_ROW_DELAY_MS", "1", 1);
  SnapshotWriter w(Options(dir.path()));
  ::unsetenv("NODEPROC_TEST_SNAPSHOT_ROW_DELAY_MS");
  std::atomic<bool> cancel{false};
  std::atomic<bool> saw_temp{false};
  // Cancel as soon as the temp file exists (no timing assumption: we wait for the file).
  std::thread canceller([&] {
    while (!cancel.load()) {
      for (const std::string& f : Tree(dir.path())) {
        if (f.find("/.process_") != std::string::npos && f.size() > 4 && f.substr(f.size() - 4) == ".tmp") {
          saw_temp = true;
          cancel = true;
        }
      }
      std::this_thread::yield();
    }
  });
  auto path = w.Write(MakeSnapshot(kAgentStart, 100000), cancel);  // 100 s if never cancelled
  cancel = true;
  canceller.join();
  EXPECT_TRUE(saw_temp.load());
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.status().code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(Tree(dir.path()), ElementsAre());
}

TEST(SnapshotWriterTest, FolderUnderARegularFileFailsCleanlyEvenForRoot) {
  testing::TempDir dir;
  const std::string blocker = dir.path() + "/not-a-dir";
  std::ofstream(blocker) << "x";
  SnapshotWriter w(Options(blocker + "/snapshots"));
  std::atomic<bool> cancel{false};
  auto path = w.Write(MakeSnapshot(kAgentStart, 3), cancel);
  ASSERT_FALSE(path.ok());
  EXPECT_THAT(std::string(path.status().message()), HasSubstr(blocker));
  EXPECT_THAT(std::string(path.status().message()), HasSubstr("Not a directory"));
  EXPECT_THAT(Tree(dir.path()), ElementsAre("not-a-dir"));
}

TEST(SnapshotWriterTest, ReadOnlyFolderFailsCleanly) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores mode bits (see the ENOTDIR and EROFS tests)";
  testing::TempDir dir;
  std::atomic<bool> cancel{false};
  SnapshotWriter first(Options(dir.path()));
  ASSERT_TRUE(first.Write(MakeSnapshot(kAgentStart, 1), cancel).ok());
  const std::string process_dir = first.process_dir();
  ASSERT_EQ(::chmod(process_dir.c_str(), 0555), 0);
  auto path = first.Write(MakeSnapshot(kAgentStart + absl::Minutes(5), 3), cancel);
  ::chmod(process_dir.c_str(), 0755);
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(path.status().message()), HasSubstr("Permission denied"));
  EXPECT_EQ(Tree(dir.path()).size(), 1u);
}

// A small tmpfs: needs root and CAP_SYS_ADMIN, skipped otherwise.
class TmpfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mount_point_ = dir_.path() + "/mnt";
    fs::create_directories(mount_point_);
    if (::mount("tmpfs", mount_point_.c_str(), "tmpfs", 0, "size=64k") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs here (" << strerror(errno) << "): needs root and CAP_SYS_ADMIN";
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount2(mount_point_.c_str(), MNT_DETACH);
  }
  testing::TempDir dir_;
  std::string mount_point_;
  bool mounted_ = false;
};

TEST_F(TmpfsTest, FullDiskLeavesNoPartialFile) {
  SnapshotWriter w(Options(mount_point_));
  std::atomic<bool> cancel{false};
  auto path = w.Write(MakeSnapshot(kAgentStart, 5000), cancel);  // ~500 KB > 64 KiB
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(path.status().message()), HasSubstr("No space left on device"));
  EXPECT_THAT(std::string(path.status().message()), HasSubstr(mount_point_));
  EXPECT_THAT(Tree(mount_point_), ElementsAre());
  // The space is back: a small snapshot fits.
  auto small = w.Write(MakeSnapshot(kAgentStart + absl::Minutes(5), 5), cancel);
  EXPECT_TRUE(small.ok()) << small.status();
}

TEST_F(TmpfsTest, ReadOnlyFileSystemFailsCleanly) {
  SnapshotWriter w(Options(mount_point_));
  std::atomic<bool> cancel{false};
  ASSERT_TRUE(w.Write(MakeSnapshot(kAgentStart, 1), cancel).ok());
  ASSERT_EQ(::mount("tmpfs", mount_point_.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, "size=64k"), 0) << strerror(errno);
  auto path = w.Write(MakeSnapshot(kAgentStart + absl::Minutes(5), 3), cancel);
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(path.status().message()), HasSubstr("Read-only file system"));
  EXPECT_EQ(Tree(mount_point_).size(), 1u);
}

TEST(SnapshotWriterTest, RetentionKeepsTheNewestFilesAcrossAgentStarts) {
  testing::TempDir dir;
  std::atomic<bool> cancel{false};
  SnapshotWriterOptions o = Options(dir.path());
  o.keep_files = 3;
  o.max_age = absl::InfiniteDuration();
  {
    SnapshotWriter before_restart(o);
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(before_restart.Write(MakeSnapshot(kAgentStart + absl::Minutes(5 * i), 2), cancel).ok());
    }
    EXPECT_EQ(Tree(dir.path()).size(), 3u);
  }
  const absl::Time restart = kAgentStart + absl::Hours(1);
  o.agent_start = restart;
  SnapshotWriter after_restart(o);
  ASSERT_TRUE(after_restart.Write(MakeSnapshot(restart, 2), cancel).ok());
  EXPECT_THAT(Tree(dir.path()),
              ElementsAre("node-1/20261118T110640Z/process/process_20261118T111640Z.csv",
                          "node-1/20261118T110640Z/process/process_20261118T112140Z.csv",
                          "node-1/20261118T120640Z/process/process_20261118T120640Z.csv"));
  ASSERT_TRUE(after_restart.Write(MakeSnapshot(restart + absl::Minutes(5), 2), cancel).ok());
  ASSERT_TRUE(after_restart.Write(MakeSnapshot(restart + absl::Minutes(10), 2), cancel).ok());
  EXPECT_THAT(Tree(dir.path()),
              ElementsAre("node-1/20261118T120640Z/process/process_20261118T120640Z.csv",
                          "node-1/20261118T120640Z/process/process_20261118T121140Z.csv",
                          "node-1/20261118T120640Z/process/process_20261118T121640Z.csv"));
  // The emptied folder of the first run is gone; other machines' folders are not touched.
  EXPECT_FALSE(fs::exists(dir.path() + "/node-1/20261118T110640Z"));
}

TEST(SnapshotWriterTest, RetentionDropsFilesOlderThanMaxAge) {
  testing::TempDir dir;
  std::atomic<bool> cancel{false};
  SnapshotWriterOptions o = Options(dir.path());
  o.keep_files = 0;  // no count limit
  o.max_age = absl::Minutes(30);
  SnapshotWriter w(o);
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(w.Write(MakeSnapshot(kAgentStart + absl::Minutes(10 * i), 1), cancel).ok());
  }
  // At +70 min, files from +40 min on are at most 30 min old.
  EXPECT_THAT(Tree(dir.path()),
              ElementsAre(MatchesRegex(".*process_20261118T114640Z.csv"),
                          MatchesRegex(".*process_20261118T115640Z.csv"),
                          MatchesRegex(".*process_20261118T120640Z.csv"),
                          MatchesRegex(".*process_20261118T121640Z.csv")));
}

TEST(SnapshotWriterTest, RetentionIgnoresFilesThatAreNotSnapshots) {
  testing::TempDir dir;
  std::atomic<bool> cancel{false};
  SnapshotWriterOptions o = Options(dir.path());
  o.keep_files = 1;
  SnapshotWriter w(o);
  ASSERT_TRUE(w.Write(MakeSnapshot(kAgentStart, 1), cancel).ok());
  std::ofstream(w.process_dir() + "/notes.txt") << "mine";
  ASSERT_TRUE(w.Write(MakeSnapshot(kAgentStart + absl::Minutes(5), 1), cancel).ok());
  EXPECT_THAT(Tree(dir.path()), ElementsAre(MatchesRegex(".*/notes.txt"),
                                            MatchesRegex(".*process_20261118T111140Z.csv")));
}

TEST(SnapshotWriterTest, UnownedTempFilesAreRemovedAtStartHoweverYoung) {
  testing::TempDir dir;
  const std::string process_dir = dir.path() + "/node-1/20261101T000000Z/process";
  fs::create_directories(process_dir);
  const std::string old_one = process_dir + "/.process_20261101T000500Z.csv.123.tmp";
  const std::string young = process_dir + "/.process_20261101T001000Z.csv.456.tmp";
  const std::string owned = process_dir + "/.process_20261101T001500Z.csv.789.tmp";
  std::ofstream(old_one) << "partial";
  std::ofstream(young) << "partial";  // written just now by a writer that was killed
  std::ofstream(owned) << "partial";
  struct timeval old_times[2];
  gettimeofday(&old_times[0], nullptr);
  old_times[0].tv_sec -= 120;
  old_times[1] = old_times[0];
  ASSERT_EQ(::utimes(old_one.c_str(), old_times), 0);
  // A live writer holds the lock of its temp file (as AtomicFileWriter does).
  const int lock_fd = ::open(owned.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(lock_fd, 0);
  ASSERT_EQ(::flock(lock_fd, LOCK_EX | LOCK_NB), 0);
  SnapshotWriter w(Options(dir.path()));
  EXPECT_FALSE(fs::exists(old_one));
  EXPECT_FALSE(fs::exists(young));
  EXPECT_TRUE(fs::exists(owned));  // another writer's, still in progress
  ::close(lock_fd);
  SnapshotWriter again(Options(dir.path()));
  EXPECT_FALSE(fs::exists(owned));  // its writer is gone now
}

TEST(SnapshotWriterTest, FilesCsvsFollowTheirProcessCsvThroughRetention) {
  testing::TempDir dir;
  std::atomic<bool> cancel{false};
  SnapshotWriterOptions o = Options(dir.path());
  o.keep_files = 2;  // snapshots, not files: each keeps its files CSV
  o.max_age = absl::InfiniteDuration();
  SnapshotWriter w(o);
  EXPECT_EQ(w.FilesPath(kAgentStart + absl::Minutes(5)),
            w.process_dir() + "/files_20261118T111140Z.csv");
  for (int i = 0; i < 3; ++i) {
    const absl::Time at = kAgentStart + absl::Minutes(5 * i);
    ASSERT_TRUE(w.Write(MakeSnapshot(at, 1), cancel).ok());
    std::ofstream(w.FilesPath(at)) << "files of snapshot " << i << "\n";  // as the agent does
  }
  // An orphan files CSV (its process CSV deleted by hand) and a symlink named like a files CSV
  // pointing outside the snapshot folder: retention removes the link, never its target.
  testing::TempDir outside;
  const std::string target = outside.path() + "/precious.csv";
  std::ofstream(target) << "keep me";
  std::ofstream(w.process_dir() + "/files_20261118T100000Z.csv") << "orphan";
  ASSERT_EQ(::symlink(target.c_str(), (w.process_dir() + "/files_20261118T090000Z.csv").c_str()), 0);
  ASSERT_TRUE(w.Write(MakeSnapshot(kAgentStart + absl::Minutes(15), 1), cancel).ok());
  EXPECT_THAT(Tree(dir.path()),
              ElementsAre("node-1/20261118T110640Z/process/files_20261118T111640Z.csv",
                          "node-1/20261118T110640Z/process/process_20261118T111640Z.csv",
                          "node-1/20261118T110640Z/process/process_20261118T112140Z.csv"));
  EXPECT_FALSE(fs::is_symlink(w.process_dir() + "/files_20261118T090000Z.csv"));
  EXPECT_EQ(ReadFile(target), "keep me");
}

TEST(SnapshotWriterTest, StaleFilesCsvTempFilesAreRemovedAtStart) {
  testing::TempDir dir;
  const std::string process_dir = dir.path() + "/node-1/20261101T000000Z/process";
  fs::create_directories(process_dir);
  const std::string stale = process_dir + "/.files_20261101T000500Z.csv.123.tmp";
  const std::string other = process_dir + "/.notes.txt.123.tmp";  // not ours
  std::ofstream(stale) << "partial";
  std::ofstream(other) << "partial";
  struct timeval old_times[2];
  gettimeofday(&old_times[0], nullptr);
  old_times[0].tv_sec -= 120;
  old_times[1] = old_times[0];
  ASSERT_EQ(::utimes(other.c_str(), old_times), 0);
  SnapshotWriter w(Options(dir.path()));
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(other));
}

}  // namespace
}  // namespace nodeproc
