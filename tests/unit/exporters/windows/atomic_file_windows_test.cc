// exporters/atomic_file on Windows (core/platform_windows.cc): the temp file is owned by a
// no-share open while it is written, a start-up cleanup removes only unowned leftovers, and
// Commit replaces the target with MoveFileEx.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "exporters/atomic_file.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace nodeproc {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(std::filesystem::u8path(path), std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool Exists(const std::string& path) { return std::filesystem::exists(std::filesystem::u8path(path)); }

size_t Entries(const std::string& dir) {
  const std::filesystem::directory_iterator it(std::filesystem::u8path(dir));
  return static_cast<size_t>(std::distance(begin(it), end(it)));
}

TEST(AtomicFileWindows, LiveWriterOwnsItsTempFileUntilCommit) {
  testing::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string target = dir.path() + "/process.csv";
  AtomicFileWriter w(target);
  ASSERT_TRUE(w.Open().ok());
  ASSERT_TRUE(Exists(w.temp_path()));
  EXPECT_FALSE(RemoveUnownedTempFile(w.temp_path()));  // owned: a cleanup leaves it
  EXPECT_TRUE(Exists(w.temp_path()));
  ASSERT_TRUE(w.Append("a,b\n").ok());
  ASSERT_TRUE(w.Commit().ok());
  EXPECT_EQ(Slurp(target), "a,b\n");
  EXPECT_FALSE(Exists(w.temp_path()));
}

TEST(AtomicFileWindows, SecondWriterOfTheSameTempFileIsRefused) {
  testing::TempDir dir;
  const std::string target = dir.path() + "/process.csv";
  AtomicFileWriter first(target);
  ASSERT_TRUE(first.Open().ok());
  AtomicFileWriter second(target);  // same process: same temp name
  absl::Status s = second.Open();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("cannot lock"), std::string::npos) << s;
  EXPECT_TRUE(first.Append("x\n").ok());
  EXPECT_TRUE(first.Commit().ok());
  EXPECT_EQ(Slurp(target), "x\n");
}

TEST(AtomicFileWindows, UnownedLeftoverIsRemovedAFolderIsNot) {
  testing::TempDir dir;
  const std::string leftover = dir.path() + "/.process.csv.4242.tmp";
  { std::ofstream(std::filesystem::u8path(leftover), std::ios::binary) << "partial"; }
  ASSERT_TRUE(Exists(leftover));
  EXPECT_TRUE(RemoveUnownedTempFile(leftover));
  EXPECT_FALSE(Exists(leftover));
  EXPECT_FALSE(RemoveUnownedTempFile(leftover));  // gone
  const std::string folder = dir.path() + "/.folder.tmp";
  std::filesystem::create_directory(std::filesystem::u8path(folder));
  EXPECT_FALSE(RemoveUnownedTempFile(folder));
  EXPECT_TRUE(Exists(folder));
}

TEST(AtomicFileWindows, CommitReplacesTheTargetAbortLeavesIt) {
  testing::TempDir dir;
  const std::string target = dir.path() + "/process.csv";
  { std::ofstream(std::filesystem::u8path(target), std::ios::binary) << "old\n"; }
  {
    AtomicFileWriter aborted(target);
    ASSERT_TRUE(aborted.Open().ok());
    ASSERT_TRUE(aborted.Append("never\n").ok());
  }  // destroyed without Commit: temp removed, target untouched
  EXPECT_EQ(Slurp(target), "old\n");
  EXPECT_EQ(Entries(dir.path()), 1u);
  const std::atomic<bool> no_cancel{false};
  ASSERT_TRUE(WriteFileAtomically(target, "new\n", no_cancel).ok());
  EXPECT_EQ(Slurp(target), "new\n");
  EXPECT_EQ(Entries(dir.path()), 1u);
}

}  // namespace
}  // namespace nodeproc
