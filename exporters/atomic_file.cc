#include "exporters/atomic_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace nodeproc {
namespace {

absl::Status Errno(int err, std::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(absl::string_view(what.data(), what.size()), " ", path,
                                          ": ", std::strerror(err)));
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, std::string_view contents,
                                 const std::atomic<bool>& cancel) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string temp = absl::StrCat(dir, "/.", name, ".", ::getpid(), ".tmp");
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno(errno, "cannot create", temp);
  auto fail = [&](absl::Status s) {
    ::close(fd);
    ::unlink(temp.c_str());
    return s;
  };
  constexpr size_t kChunk = 64 * 1024;
  size_t done = 0;
  while (done < contents.size()) {
    if (cancel.load(std::memory_order_relaxed)) return fail(absl::CancelledError("write cancelled"));
    const size_t n = std::min(kChunk, contents.size() - done);
    const ssize_t w = ::write(fd, contents.data() + done, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return fail(Errno(errno, "cannot write", temp));
    }
    done += static_cast<size_t>(w);
  }
  if (cancel.load(std::memory_order_relaxed)) return fail(absl::CancelledError("write cancelled"));
  if (::fsync(fd) != 0) return fail(Errno(errno, "cannot fsync", temp));
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return Errno(err, "cannot close", temp);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return Errno(err, "cannot rename to", path);
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

}  // namespace nodeproc
