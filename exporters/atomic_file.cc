#include "exporters/atomic_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace nodeproc {
namespace {

constexpr size_t kChunk = 64 * 1024;

absl::Status Errno(int err, std::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(absl::string_view(what.data(), what.size()), " ", path,
                                          ": ", std::strerror(err)));
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  const size_t slash = path_.rfind('/');
  dir_ = slash == std::string::npos ? "." : (slash == 0 ? "/" : path_.substr(0, slash));
  const std::string name = slash == std::string::npos ? path_ : path_.substr(slash + 1);
  temp_ = absl::StrCat(dir_, "/.", name, ".", ::getpid(), ".tmp");
}

AtomicFileWriter::~AtomicFileWriter() { Abort(); }

absl::Status AtomicFileWriter::Open() {
  Abort();
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return Errno(errno, "cannot create", temp_);
  buf_.reserve(kChunk + 4096);
  return absl::OkStatus();
}

void AtomicFileWriter::Abort() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  ::unlink(temp_.c_str());
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
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp_.c_str());
    return Errno(err, "cannot close", temp_);
  }
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp_.c_str());
    return Errno(err, "cannot rename to", path_);
  }
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
