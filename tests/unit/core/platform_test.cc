// core/platform.h: the file calls the snapshot writer relies on, on Linux and (under wine or on
// a node) Windows, where rename-over-an-existing-file and lstat-without-following differ most.
#include "core/platform.h"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace nodeproc::platform {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(PlatformTest, WritesSyncsAndReplacesAnExistingFileAtomically) {
  testing::TempDir dir;
  const std::string target = dir.path() + "/process_x.csv";
  const std::string temp = dir.path() + "/.process_x.csv.1.tmp";
  std::ofstream(target, std::ios::binary) << "old\n";

  const int fd = CreateForWrite(temp);
  ASSERT_GE(fd, 0) << errno;
  // Binary: "\n" stays one byte on Windows too (the CSV contract).
  EXPECT_EQ(WriteAll(fd, "a,b\nc,d\n"), 0);
  EXPECT_EQ(SyncFile(fd), 0);
  EXPECT_EQ(CloseFile(fd), 0);
  ASSERT_EQ(RenameOver(temp, target), 0);  // over an existing file: Windows rename() would fail
  SyncDir(dir.path());
  EXPECT_EQ(Read(target), "a,b\nc,d\n");
  EXPECT_FALSE(StatNoFollow(temp).exists);
}

TEST(PlatformTest, StatNoFollowTellsFilesFromFoldersAndMissing) {
  testing::TempDir dir;
  const std::string file = dir.path() + "/f";
  std::ofstream(file) << "x";
  const PathKind f = StatNoFollow(file);
  EXPECT_TRUE(f.exists && f.is_regular && !f.is_dir);
  EXPECT_GT(f.mtime, 1600000000);  // a real time (2020+), not 1601 or 0
  const PathKind d = StatNoFollow(dir.path());
  EXPECT_TRUE(d.exists && d.is_dir && !d.is_regular);
  EXPECT_FALSE(StatNoFollow(dir.path() + "/missing").exists);
}

TEST(PlatformTest, ErrorsAreErrnoValues) {
  testing::TempDir dir;
  EXPECT_EQ(RemoveFile(dir.path() + "/missing"), ENOENT);
  EXPECT_EQ(CreateForWrite(dir.path() + "/no/such/folder/f"), -1);
  const std::string sub = dir.path() + "/sub";
  std::filesystem::create_directory(sub);
  std::ofstream(sub + "/f") << "x";
  EXPECT_NE(RemoveDir(sub), 0);  // not empty: kept
  EXPECT_TRUE(StatNoFollow(sub).is_dir);
  EXPECT_EQ(RemoveFile(sub + "/f"), 0);
  EXPECT_EQ(RemoveDir(sub), 0);
  EXPECT_FALSE(StatNoFollow(sub).exists);
}

TEST(PlatformTest, HostAndProcess) {
  EXPECT_GT(ProcessId(), 0);
  EXPECT_FALSE(HostName().empty());
}

}  // namespace
}  // namespace nodeproc::platform
