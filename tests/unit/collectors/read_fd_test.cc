#include "collectors/read_fd.h"

#include <cerrno>
#include <fcntl.h>
#include <string>
#include <unistd.h>

#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace nodeproc {
namespace {

class ReadFdTest : public ::testing::Test {
 protected:
  // Writes `size` patterned bytes and returns an fd open on them.
  int OpenFileOf(size_t size) {
    content_.resize(size);
    for (size_t i = 0; i < size; ++i) content_[i] = static_cast<char>('a' + i % 26);
    const std::string path = dir_.path() + "/f";
    const int w = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    EXPECT_GE(w, 0);
    EXPECT_EQ(::write(w, content_.data(), size), static_cast<ssize_t>(size));
    ::close(w);
    return ::open(path.c_str(), O_RDONLY);
  }
  static bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

  testing::TempDir dir_;
  std::string content_;
};

TEST_F(ReadFdTest, ReadsPastTheHintAndClosesTheFd) {
  const int fd = OpenFileOf(100000);
  std::string out = "old";
  ASSERT_EQ(ReadToEndAndClose(fd, 1 << 20, 16, &out), 0);
  EXPECT_EQ(out, content_);
  EXPECT_FALSE(IsOpen(fd));
}

TEST_F(ReadFdTest, ExactlyTheLimitIsReadOneByteMoreIsTooBig) {
  const int exact = OpenFileOf(5000);
  std::string out;
  ASSERT_EQ(ReadToEndAndClose(exact, 5000, 1, &out), 0);
  EXPECT_EQ(out.size(), 5000u);

  const int over = OpenFileOf(5001);
  out = "stale";
  errno = 0;
  EXPECT_EQ(ReadToEndAndClose(over, 5000, 5002, &out), -1);
  EXPECT_EQ(errno, EFBIG);
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(IsOpen(over));
}

TEST_F(ReadFdTest, EmptyFileAndReadErrorAreReported) {
  std::string out = "stale";
  ASSERT_EQ(ReadToEndAndClose(OpenFileOf(0), 10, 0, &out), 0);
  EXPECT_TRUE(out.empty());

  const int dirfd = ::open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(dirfd, 0);
  errno = 0;
  EXPECT_EQ(ReadToEndAndClose(dirfd, 10, 4, &out), -1);
  EXPECT_EQ(errno, EISDIR);
  EXPECT_FALSE(IsOpen(dirfd));
}

}  // namespace
}  // namespace nodeproc
