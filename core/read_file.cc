#include "core/read_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/platform.h"

namespace nodeproc {

int ReadFdBounded(int fd, size_t max_bytes, OverLimit over, std::string* out, bool* truncated,
                  size_t size_hint) {
  if (truncated != nullptr) *truncated = false;
  // One byte more than allowed tells "exactly max_bytes" from "longer"; saturate at SIZE_MAX.
  const size_t cap = max_bytes == static_cast<size_t>(-1) ? max_bytes : max_bytes + 1;
  // resize() keeps the capacity of a reused buffer: no allocation once it is warm.
  out->resize(std::clamp<size_t>(std::max(size_hint, out->capacity()), 1, cap));
  size_t used = 0;
  int err = 0;
  for (;;) {
    if (used == out->size()) {
      if (used >= cap) break;
      out->resize(std::min(cap, out->size() * 2 + 4096));
    }
    const ssize_t n = ::read(fd, out->data() + used, out->size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  if (err == 0 && used > max_bytes) {
    if (over == OverLimit::kFail) {
      err = EFBIG;
    } else {
      used = max_bytes;
      if (truncated != nullptr) *truncated = true;
    }
  }
  if (err != 0) {
    out->clear();
    return err;
  }
  out->resize(used);
  return 0;
}

int ReadFileAt(int dirfd, const char* name, size_t max_bytes, OverLimit over, std::string* out,
               bool* truncated) {
  const int fd = platform::OpenForReadAt(dirfd, name);
  if (fd < 0) {
    const int err = errno;
    out->clear();
    if (truncated != nullptr) *truncated = false;
    return err;
  }
  const int err = ReadFdBounded(fd, max_bytes, over, out, truncated);
  ::close(fd);
  return err;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, size_t max_bytes) {
  std::string out;
  int err = 0;
  const int fd = platform::OpenForRead(path);
  if (fd < 0) {
    err = errno;
  } else {
    // Sized from fstat (one allocation for a big fixture), still bounded by max_bytes.
    struct stat st;
    const size_t hint = ::fstat(fd, &st) == 0 && st.st_size > 0
                            ? std::min<size_t>(static_cast<size_t>(st.st_size), max_bytes) + 1
                            : 4096;
    err = ReadFdBounded(fd, max_bytes, OverLimit::kFail, &out, nullptr, hint);
    ::close(fd);
  }
  if (err == 0) return out;
  if (err == EFBIG) {
    return absl::ResourceExhaustedError(
        absl::StrCat(path, ": larger than ", max_bytes, " bytes"));
  }
  std::string msg = absl::StrCat(path, ": ", ::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(msg);
  return absl::FailedPreconditionError(msg);
}

}  // namespace nodeproc
