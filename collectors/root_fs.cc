#include "collectors/root_fs.h"

#include "core/read_file.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string>
#include <sys/syscall.h>
#include <unistd.h>

namespace nodeproc {
namespace {

bool openat2_unavailable = false;  // set once ENOSYS was seen (benign race: idempotent)

}  // namespace

int OpenInRoot(int root_fd, std::string_view path, int flags) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  const std::string rel = path.empty() ? std::string(".") : std::string(path);
  flags |= O_CLOEXEC;
#ifdef SYS_openat2
  if (!__atomic_load_n(&openat2_unavailable, __ATOMIC_RELAXED)) {
    struct open_how how = {};
    how.flags = static_cast<uint64_t>(flags);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const long fd = ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof(how));
    if (fd >= 0 || errno != ENOSYS) return static_cast<int>(fd);
    __atomic_store_n(&openat2_unavailable, true, __ATOMIC_RELAXED);
  }
#endif
  return ::openat(root_fd, rel.c_str(), flags);
}

int StatInRoot(int root_fd, std::string_view path, struct stat* st) {
  const int fd = OpenInRoot(root_fd, path, O_PATH);
  if (fd < 0) return -1;
  const int rc = ::fstat(fd, st);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return rc;
}

int ReadFileInRoot(int root_fd, std::string_view path, size_t max_bytes, std::string* out,
                   struct stat* st_out) {
  out->clear();
  const int fd = OpenInRoot(root_fd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return -1;
  struct stat st;
  const bool stat_ok = ::fstat(fd, &st) == 0;
  if (!stat_ok || !S_ISREG(st.st_mode)) {
    const int err = stat_ok ? EINVAL : errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    errno = EFBIG;
    return -1;
  }
  if (st_out != nullptr) *st_out = st;
  const int err = ReadFdBounded(fd, max_bytes, OverLimit::kFail, out, nullptr,
                                static_cast<size_t>(st.st_size) + 1);
  ::close(fd);
  if (err != 0) {
    errno = err;
    return -1;
  }
  return 0;
}

}  // namespace nodeproc
