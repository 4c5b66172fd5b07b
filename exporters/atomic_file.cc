#include "exporters/atomic_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/platform.h"

namespace nodeproc {
namespace {

constexpr size_t kChunk = 64 * 1024;

absl::Status Errno(int err, std::string_view what, const std::string& path) {
  return FileErrorStatus(err, what, path);
}

}  // namespace

absl::Status FileErrorStatus(int err, std::string_view what, std::string_view path) {
  std::string msg = absl::StrCat(absl::string_view(what.data(), what.size()), " ",
                                 absl::string_view(path.data(), path.size()), ": ",
                                 std::strerror(err));
  switch (err) {
    case ENOSPC:
#ifdef EDQUOT  // not in mingw-w64's errno.h
    case EDQUOT:
#endif
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

bool RemoveUnownedTempFile(const std::string& path) { return platform::RemoveIfUnowned(path); }

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  const size_t slash = path_.rfind('/');
  dir_ = slash == std::string::npos ? "." : (slash == 0 ? "/" : path_.substr(0, slash));
  const std::string name = slash == std::string::npos ? path_ : path_.substr(slash + 1);
  temp_ = absl::StrCat(dir_, "/.", name, ".", platform::ProcessId(), ".tmp");
}

AtomicFileWriter::~AtomicFileWriter() { Abort(); }

absl::Status AtomicFileWriter::Open() {
  Abort();
  bool locking = false;
  fd_ = platform::CreateOwned(temp_, &locking);
  if (fd_ < 0) return Errno(errno, locking ? "cannot lock" : "cannot create", temp_);
  buf_.reserve(kChunk + 4096);
  return absl::OkStatus();
}

void AtomicFileWriter::Abort() {
  if (fd_ < 0) return;
  platform::RemoveOwned(fd_, temp_);
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
    const size_t n = std::min(kChunk, data.size());
    if (const int err = platform::WriteAll(fd_, data.substr(0, n)); err != 0) {
      return Fail(Errno(err, "cannot write", temp_));
    }
    data.remove_prefix(n);
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
  if (const int err = platform::SyncFile(fd_); err != 0) return Fail(Errno(err, "cannot fsync", temp_));
  const int fd = fd_;
  fd_ = -1;
  buf_.clear();
  // The data is already fsynced; the temp file is removed when the rename fails.
  if (const int err = platform::RenameOwnedOver(fd, temp_, path_); err != 0) {
    return Errno(err, "cannot rename to", path_);
  }
  platform::SyncDir(dir_);
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
