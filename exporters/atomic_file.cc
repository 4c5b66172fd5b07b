#include "exporters/atomic_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace nodeproc {
namespace {

constexpr size_t kChunk = 64 * 1024;

absl::Status Errno(int err, std::string_view what, const std::string& path) {
  return FileErrorStatus(err, what, path);
}

// Same file as the open fd (not replaced or removed since it was opened)?
bool StillNamed(int fd, const std::string& path) {
  struct stat by_fd, by_name;
  return ::fstat(fd, &by_fd) == 0 && ::lstat(path.c_str(), &by_name) == 0 &&
         by_fd.st_dev == by_name.st_dev && by_fd.st_ino == by_name.st_ino;
}

}  // namespace

absl::Status FileErrorStatus(int err, std::string_view what, std::string_view path) {
  std::string msg = absl::StrCat(absl::string_view(what.data(), what.size()), " ",
                                 absl::string_view(path.data(), path.size()), ": ",
                                 std::strerror(err));
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(msg);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(msg);
    case ENOENT:
    case ENOTDIR:
      return absl::FailedPreconditionError(msg);
    default:
      return absl::InternalError(msg);
  }
}

bool RemoveUnownedTempFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return false;
  struct stat st;
  bool removed = false;
  // Under the lock, and only if the name still is that file: a writer that created a new file
  // under the same name meanwhile owns that one.
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ::flock(fd, LOCK_EX | LOCK_NB) == 0 &&
      StillNamed(fd, path)) {
    removed = ::unlink(path.c_str()) == 0;
  }
  ::close(fd);  // drops the lock
  return removed;
}

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  const size_t slash = path_.rfind('/');
  dir_ = slash == std::string::npos ? "." : (slash == 0 ? "/" : path_.substr(0, slash));
  const std::string name = slash == std::string::npos ? path_ : path_.substr(slash + 1);
  temp_ = absl::StrCat(dir_, "/.", name, ".", ::getpid(), ".tmp");
}

AtomicFileWriter::~AtomicFileWriter() { Abort(); }

absl::Status AtomicFileWriter::Open() {
  Abort();
  // Lock, then check the name still is our file: a start-up cleanup of another agent may have
  // locked and removed it between open and flock (then create it again).
  for (int attempt = 0; attempt < 5; ++attempt) {
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd_ < 0) return Errno(errno, "cannot create", temp_);
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd_);
      fd_ = -1;
      return Errno(err, "cannot lock", temp_);  // another live writer of the same name
    }
    if (StillNamed(fd_, temp_)) {
      buf_.reserve(kChunk + 4096);
      return absl::OkStatus();
    }
    ::close(fd_);
    fd_ = -1;
  }
  return Errno(EAGAIN, "cannot create", temp_);
}

void AtomicFileWriter::Abort() {
  if (fd_ < 0) return;
  ::unlink(temp_.c_str());  // still locked: nobody else removes or reuses it meanwhile
  ::close(fd_);
  fd_ = -1;
  buf_.clear();
}

absl::Status AtomicFileWriter::Fail(absl::Status status) {
  Abort();
  return status;
}

absl::Status AtomicFileWriter::Flush() {
  std::string_view data = buf_;
  while (!data.empty()) {
    const ssize_t w = ::write(fd_, data.data(), std::min(kChunk, data.size()));
    if (w < 0) {
      if (errno == EINTR) continue;
      return Fail(Errno(errno, "cannot write", temp_));
    }
    if (w == 0) return Fail(Errno(EIO, "cannot write", temp_));
    data.remove_prefix(static_cast<size_t>(w));
  }
  buf_.clear();
  return absl::OkStatus();
}

absl::Status AtomicFileWriter::Append(std::string_view data) {
  if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat("not open: ", temp_));
  buf_.append(data);
  return buf_.size() >= kChunk ? Flush() : absl::OkStatus();
}

absl::Status AtomicFileWriter::Commit() {
  if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat("not open: ", temp_));
  if (absl::Status s = Flush(); !s.ok()) return s;
  if (::fsync(fd_) != 0) return Fail(Errno(errno, "cannot fsync", temp_));
  // Renamed while still open and locked: the temp name is never unowned while it exists.
  if (::rename(temp_.c_str(), path_.c_str()) != 0) return Fail(Errno(errno, "cannot rename to", path_));
  const int fd = fd_;
  fd_ = -1;
  buf_.clear();
  ::close(fd);  // the data is already fsynced and in place
  const int dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view contents,
                                 const std::atomic<bool>& cancel) {
  AtomicFileWriter writer(path);
  if (absl::Status s = writer.Open(); !s.ok()) return s;
  while (!contents.empty()) {
    if (cancel.load(std::memory_order_relaxed)) {
      writer.Abort();
      return absl::CancelledError("write cancelled");
    }
    const size_t n = std::min(kChunk, contents.size());
    if (absl::Status s = writer.Append(contents.substr(0, n)); !s.ok()) return s;
    contents.remove_prefix(n);
  }
  if (cancel.load(std::memory_order_relaxed)) {
    writer.Abort();
    return absl::CancelledError("write cancelled");
  }
  return writer.Commit();
}

}  // namespace nodeproc
