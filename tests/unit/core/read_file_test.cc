#include "core/read_file.h"

#include <cerrno>
#include <fcntl.h>
#include <string>
#include <unistd.h>

#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace nodeproc {
namespace {

class ReadFileTest : public ::testing::Test {
 protected:
  // Writes `size` patterned bytes to <dir>/f and returns its path.
  std::string FileOf(size_t size) {
    content_.resize(size);
    for (size_t i = 0; i < size; ++i) content_[i] = static_cast<char>('a' + i % 26);
    const std::string path = dir_.path() + "/f";
    const int w = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    EXPECT_GE(w, 0);
    EXPECT_EQ(::write(w, content_.data(), size), static_cast<ssize_t>(size));
    ::close(w);
    return path;
  }

  testing::TempDir dir_;
  std::string content_;
};

TEST_F(ReadFileTest, ReadsPastTheHint) {
  const int fd = ::open(FileOf(100000).c_str(), O_RDONLY);
  std::string out = "old";
  ASSERT_EQ(ReadFdBounded(fd, 1 << 20, OverLimit::kFail, &out, nullptr, 16), 0);
  EXPECT_EQ(out, content_);
  ::close(fd);
}

TEST_F(ReadFileTest, ExactlyTheLimitIsReadOneByteMoreIsTooBig) {
  std::string out;
  ASSERT_EQ(ReadFileAt(AT_FDCWD, FileOf(5000).c_str(), 5000, OverLimit::kFail, &out), 0);
  EXPECT_EQ(out.size(), 5000u);

  out = "stale";
  EXPECT_EQ(ReadFileAt(AT_FDCWD, FileOf(5001).c_str(), 5000, OverLimit::kFail, &out), EFBIG);
  EXPECT_TRUE(out.empty());
}

TEST_F(ReadFileTest, TruncateKeepsThePrefixAndSaysSo) {
  std::string out;
  bool truncated = false;
  ASSERT_EQ(ReadFileAt(AT_FDCWD, FileOf(5001).c_str(), 5000, OverLimit::kTruncate, &out, &truncated), 0);
  EXPECT_TRUE(truncated);
  EXPECT_EQ(out, content_.substr(0, 5000));
  ASSERT_EQ(ReadFileAt(AT_FDCWD, FileOf(5000).c_str(), 5000, OverLimit::kTruncate, &out, &truncated), 0);
  EXPECT_FALSE(truncated);
  EXPECT_EQ(out, content_);
}

TEST_F(ReadFileTest, ReadIsBoundedEvenForAnEndlessFile) {
  // /dev/zero never ends: the reader must stop at the cap, not read forever.
  std::string out;
  bool truncated = false;
  ASSERT_EQ(ReadFileAt(AT_FDCWD, "/dev/zero", 1000, OverLimit::kTruncate, &out, &truncated), 0);
  EXPECT_TRUE(truncated);
  EXPECT_EQ(out, std::string(1000, '\0'));
  EXPECT_LE(out.capacity(), 8192u);
  EXPECT_EQ(ReadFileAt(AT_FDCWD, "/dev/zero", 1000, OverLimit::kFail, &out), EFBIG);
}

TEST_F(ReadFileTest, EmptyFileMissingFileAndReadErrorAreReported) {
  std::string out = "stale";
  ASSERT_EQ(ReadFileAt(AT_FDCWD, FileOf(0).c_str(), 10, OverLimit::kFail, &out), 0);
  EXPECT_TRUE(out.empty());
  out = "stale";
  EXPECT_EQ(ReadFileAt(AT_FDCWD, (dir_.path() + "/nope").c_str(), 10, OverLimit::kFail, &out), ENOENT);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(ReadFileAt(AT_FDCWD, dir_.path().c_str(), 10, OverLimit::kFail, &out), EISDIR);
}

TEST_F(ReadFileTest, ReadWholeFileStatuses) {
  const std::string path = FileOf(10);
  absl::StatusOr<std::string> ok = ReadWholeFile(path, 10);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, content_);
  EXPECT_EQ(ReadWholeFile(path, 9).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ReadWholeFile(dir_.path() + "/nope", 9).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace nodeproc
