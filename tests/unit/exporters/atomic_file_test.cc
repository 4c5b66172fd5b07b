#include "exporters/atomic_file.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace nodeproc {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(AtomicFileTest, WritesReplacesAndLeavesNoTemp) {
  nodeproc::testing::TempDir dir;
  const std::string path = dir.path() + "/files_20261122T220000Z.csv";
  std::atomic<bool> cancel{false};
  std::string big(300 * 1024, 'x');  // several chunks
  ASSERT_TRUE(WriteFileAtomically(path, big, cancel).ok());
  EXPECT_EQ(Read(path), big);
  ASSERT_TRUE(WriteFileAtomically(path, "new\n", cancel).ok());
  EXPECT_EQ(Read(path), "new\n");
  EXPECT_EQ(testing::ListDir(dir.path()), std::vector<std::string>{"files_20261122T220000Z.csv"});
}

TEST(AtomicFileTest, CancelledLeavesTargetUntouched) {
  nodeproc::testing::TempDir dir;
  const std::string path = dir.path() + "/f.csv";
  std::atomic<bool> cancel{false};
  ASSERT_TRUE(WriteFileAtomically(path, "old\n", cancel).ok());
  cancel = true;
  const absl::Status s = WriteFileAtomically(path, std::string(200 * 1024, 'y'), cancel);
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(Read(path), "old\n");
  EXPECT_EQ(testing::ListDir(dir.path()), std::vector<std::string>{"f.csv"});
}

TEST(AtomicFileTest, MissingFolderIsAnErrorNamingThePath) {
  std::atomic<bool> cancel{false};
  const absl::Status s = WriteFileAtomically("/nonexistent-dir/x/f.csv", "a", cancel);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("/nonexistent-dir/x"), std::string::npos) << s;
  EXPECT_NE(std::string(s.message()).find("No such file"), std::string::npos) << s;
}

TEST(AtomicFileWriterTest, StreamsChunksAndCommits) {
  nodeproc::testing::TempDir dir;
  const std::string path = dir.path() + "/files_20261122T220000Z.csv";
  AtomicFileWriter writer(path);
  ASSERT_TRUE(writer.Open().ok());
  EXPECT_EQ(writer.temp_path(), dir.path() + "/.files_20261122T220000Z.csv." + std::to_string(::getpid()) + ".tmp");
  std::string expected;
  for (int i = 0; i < 5000; ++i) {  // ~190 KiB: several flushes before the commit
    const std::string row = "row " + std::to_string(i) + ",some,fields,here\n";
    ASSERT_TRUE(writer.Append(row).ok());
    expected += row;
  }
  // Flushed chunks sit in the temp file only; the target does not exist yet.
  EXPECT_EQ(testing::ListDir(dir.path()), std::vector<std::string>{".files_20261122T220000Z.csv." + std::to_string(::getpid()) + ".tmp"});
  ASSERT_TRUE(writer.Commit().ok());
  EXPECT_EQ(Read(path), expected);
  EXPECT_EQ(testing::ListDir(dir.path()), std::vector<std::string>{"files_20261122T220000Z.csv"});
}

TEST(AtomicFileWriterTest, DestroyedWithoutCommitLeavesNothing) {
  nodeproc::testing::TempDir dir;
  {
    AtomicFileWriter writer(dir.path() + "/f.csv");
    ASSERT_TRUE(writer.Open().ok());
    ASSERT_TRUE(writer.Append(std::string(200 * 1024, 'z')).ok());
    EXPECT_EQ(testing::ListDir(dir.path()).size(), 1u);  // the temp file
  }
  EXPECT_TRUE(testing::ListDir(dir.path()).empty());
  AtomicFileWriter aborted(dir.path() + "/g.csv");
  ASSERT_TRUE(aborted.Open().ok());
  aborted.Abort();
  EXPECT_TRUE(testing::ListDir(dir.path()).empty());
  EXPECT_FALSE(aborted.Commit().ok());  // nothing left to commit
  EXPECT_FALSE(aborted.Append("x").ok());
}

}  // namespace
}  // namespace nodeproc

namespace nodeproc {
namespace {

TEST(AtomicFileWriterTest, TempFileIsOwnedWhileWrittenAndUnownedOnesGo) {
  nodeproc::testing::TempDir dir;
  AtomicFileWriter writer(dir.path() + "/f.csv");
  ASSERT_TRUE(writer.Open().ok());
  ASSERT_TRUE(writer.Append("partial").ok());
  // A live writer's temp file is never removed, whatever its age.
  EXPECT_FALSE(RemoveUnownedTempFile(writer.temp_path()));
  EXPECT_EQ(testing::ListDir(dir.path()).size(), 1u);
  ASSERT_TRUE(writer.Commit().ok());

  // A file nobody holds (its writer was killed) goes at once.
  const std::string orphan = dir.path() + "/.g.csv.1.tmp";
  { std::ofstream(orphan) << "partial"; }
  EXPECT_TRUE(RemoveUnownedTempFile(orphan));
  EXPECT_EQ(testing::ListDir(dir.path()), std::vector<std::string>{"f.csv"});
  // Neither a missing path nor a folder is removed.
  EXPECT_FALSE(RemoveUnownedTempFile(orphan));
  EXPECT_FALSE(RemoveUnownedTempFile(dir.path()));
}

}  // namespace
}  // namespace nodeproc
