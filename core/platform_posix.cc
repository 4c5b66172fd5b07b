#include "core/platform.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace nodeproc::platform {

bool HasProcfs() { return true; }

int64_t ProcessId() { return ::getpid(); }

std::string HostName() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) return "";
  return host;
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
