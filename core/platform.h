#pragma once
// The few operating-system calls that differ between Linux and Windows, behind one seam:
// core/platform_posix.cc (Linux) and core/platform_windows.cc (the mingw-w64 build). Shared
// code (config, snapshot writer, atomic files) calls these instead of #ifdef-ing POSIX calls.
// Errors are errno values (Windows errors are mapped to the nearest errno).
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace nodeproc::platform {

// True where a procfs is read (Linux): --proc-root is checked only there.
bool HasProcfs();

// This process's id.
int64_t ProcessId();

// The host name, or "" when unknown.
std::string HostName();

// Opens a file for reading; returns an fd, or -1 with errno set.
int OpenForRead(const std::string& path);
// The same relative to the folder `dirfd` (openat(2); Windows has no folder fds: `dirfd` is
// ignored there and `name` is a whole path).
int OpenForReadAt(int dirfd, const char* name);
// Creates (truncating) a file for writing; returns an fd, or -1 with errno set.
int CreateForWrite(const std::string& path);
// Writes all of `data` (short writes, EINTR retried); 0 or an errno.
int WriteAll(int fd, std::string_view data);
// Flushes the file's data to the disk (fsync); 0 or an errno.
int SyncFile(int fd);
// Closes an fd; 0 or an errno.
int CloseFile(int fd);
// Renames `from` over `to` atomically, replacing `to` (rename(2); MoveFileEx with
// MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH on Windows); 0 or an errno.
int RenameOver(const std::string& from, const std::string& to);
// Makes a rename in `dir` durable (fsync of the folder; nothing to do on Windows).
void SyncDir(const std::string& dir);
// Removes a file; 0 or an errno.
int RemoveFile(const std::string& path);
// Removes an empty folder; 0 or an errno.
int RemoveDir(const std::string& path);

// Owned files (exporters/atomic_file.h's temp files): a file is owned by the process that
// created it for as long as that process has it open, so a start-up cleanup can tell a dead
// writer's leftover from a file being written. Linux: an exclusive flock(2); Windows: an open
// that shares nothing. The system drops either with the process, however it dies.
// Creates (truncating) `path`, not following a final symlink, and owns it; returns an fd, or -1
// with errno set (EWOULDBLOCK or EACCES: another live writer owns it). `*locking` tells whether
// the failing step was taking ownership (true) or creating (false).
int CreateOwned(const std::string& path, bool* locking);
// Renames the owned file over `to` and closes fd (Linux: renamed while still locked; Windows:
// closed first, an open that shares nothing cannot be renamed). On failure the file is removed
// too. 0 or an errno; fd is closed either way.
int RenameOwnedOver(int fd, const std::string& from, const std::string& to);
// Removes the owned file and closes fd (Linux: removed while still locked).
void RemoveOwned(int fd, const std::string& path);
// Removes `path` if it is a regular file no live writer owns. True when removed; false when
// owned, gone, not a regular file or not removable.
bool RemoveIfUnowned(const std::string& path);

// What lstat says of a path without following a final symlink (or reparse point on Windows).
struct PathKind {
  bool exists = false;
  bool is_dir = false;
  bool is_regular = false;
  std::time_t mtime = 0;
};
PathKind StatNoFollow(const std::string& path);

}  // namespace nodeproc::platform
