#include "core/platform.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace nodeproc::platform {
namespace {

// Same file as the open fd (not replaced or removed since it was opened)?
bool StillNamed(int fd, const std::string& path) {
  struct stat by_fd, by_name;
  return ::fstat(fd, &by_fd) == 0 && ::lstat(path.c_str(), &by_name) == 0 &&
         by_fd.st_dev == by_name.st_dev && by_fd.st_ino == by_name.st_ino;
}

}  // namespace

bool HasProcfs() { return true; }

int64_t ProcessId() { return ::getpid(); }

std::string HostName() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) return "";
  return host;
}

int OpenForRead(const std::string& path) {
  return ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
}

int OpenForReadAt(int dirfd, const char* name) {
  return ::openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
}

int CreateForWrite(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

int SyncFile(int fd) { return ::fsync(fd) == 0 ? 0 : errno; }

int CloseFile(int fd) { return ::close(fd) == 0 ? 0 : errno; }

int RenameOver(const std::string& from, const std::string& to) {
  return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
}

void SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

int RemoveFile(const std::string& path) { return ::unlink(path.c_str()) == 0 ? 0 : errno; }

int RemoveDir(const std::string& path) { return ::rmdir(path.c_str()) == 0 ? 0 : errno; }

int CreateOwned(const std::string& path, bool* locking) {
  *locking = false;
  // Lock, then check the name still is our file: a start-up cleanup of another agent may have
  // locked and removed it between open and flock (then create it again).
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return -1;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      *locking = true;
      errno = err;
      return -1;  // another live writer of the same name
    }
    if (StillNamed(fd, path)) return fd;
    ::close(fd);
  }
  errno = EAGAIN;
  return -1;
}

int RenameOwnedOver(int fd, const std::string& from, const std::string& to) {
  // Renamed while still open and locked: the temp name is never unowned while it exists.
  if (::rename(from.c_str(), to.c_str()) != 0) {
    const int err = errno;
    RemoveOwned(fd, from);
    return err;
  }
  ::close(fd);
  return 0;
}

void RemoveOwned(int fd, const std::string& path) {
  ::unlink(path.c_str());  // still locked: nobody else removes or reuses it meanwhile
  ::close(fd);
}

bool RemoveIfUnowned(const std::string& path) {
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

PathKind StatNoFollow(const std::string& path) {
  PathKind k;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return k;
  k.exists = true;
  k.is_dir = S_ISDIR(st.st_mode);
  k.is_regular = S_ISREG(st.st_mode);
  k.mtime = st.st_mtime;
  return k;
}

}  // namespace nodeproc::platform
