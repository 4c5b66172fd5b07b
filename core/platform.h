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

// What lstat says of a path without following a final symlink (or reparse point on Windows).
struct PathKind {
  bool exists = false;
  bool is_dir = false;
  bool is_regular = false;
  std::time_t mtime = 0;
};
PathKind StatNoFollow(const std::string& path);

}  // namespace nodeproc::platform
