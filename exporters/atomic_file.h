#pragma once
// The one atomic file writer (process and files CSV snapshots): the contents go to
// "<dir>/.<name>.<pid>.tmp", which is fsynced and renamed over <dir>/<name>, then the folder is
// fsynced. A reader sees a whole file or none. On any error, on cancellation, or when a writer
// is destroyed without Commit(), the temp file is unlinked and the target is left untouched.
//
// Ownership: the writer holds an exclusive flock(2) on its temp file from creation until it is
// renamed or removed. A temp file whose lock is free has no live writer (its writer was killed:
// the kernel drops the lock with the process), so RemoveUnownedTempFile() can remove it at
// start-up however young it is, and never removes one being written.
#include <atomic>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace nodeproc {

// Streaming form, for contents produced piece by piece (the files CSV of a deep snapshot):
// Append() buffers and writes in 64 KiB chunks, so memory stays bounded.
// Not thread-safe.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();  // Abort() unless committed
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  // Creates the temp file. An error names the path and strerror.
  absl::Status Open();
  absl::Status Append(std::string_view data);
  // Writes what is buffered, fsyncs, renames over the target, fsyncs the folder.
  absl::Status Commit();
  // Closes and unlinks the temp file (idempotent).
  void Abort();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_; }

 private:
  absl::Status Flush();
  absl::Status Fail(absl::Status status);

  std::string path_;
  std::string dir_;
  std::string temp_;
  std::string buf_;
  int fd_ = -1;
};

// Removes `path` if it is a regular file no live writer owns (its flock is free). Returns true
// when removed; false when owned, gone, not a regular file or not removable.
bool RemoveUnownedTempFile(const std::string& path);

// errno -> status: ENOSPC/EDQUOT ResourceExhausted, EACCES/EPERM/EROFS PermissionDenied,
// ENOENT/ENOTDIR FailedPrecondition, else Internal; the message is "<what> <path>: strerror".
absl::Status FileErrorStatus(int err, std::string_view what, std::string_view path);

// One-shot form. CancelledError when `cancel` became true (checked between 64 KiB chunks);
// otherwise an error naming the path and strerror.
absl::Status WriteFileAtomically(const std::string& path, std::string_view contents,
                                 const std::atomic<bool>& cancel);

}  // namespace nodeproc
