#pragma once
// Opening files inside another root filesystem (/proc/<pid>/root or a fixture tree) given an
// fd of that root: openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so ".." and absolute
// symlinks stay inside the root (a container cannot point us at host files). Falls back to
// openat() relative to the root when openat2 is unavailable (kernel < 5.6).
#include <string_view>
#include <sys/stat.h>

namespace nodeproc {

// Returns an fd (caller closes) or -1 with errno set. `path` may be absolute or relative to
// the root. O_CLOEXEC is added.
int OpenInRoot(int root_fd, std::string_view path, int flags);

// stat(2) of `path` inside the root (following symlinks inside the root). 0 or -1 + errno.
int StatInRoot(int root_fd, std::string_view path, struct stat* st);

// Reads a whole regular file (opened with OpenInRoot, O_NONBLOCK so a FIFO cannot block us)
// into `out`, at most `max_bytes`. 0 or -1 + errno (EFBIG when larger, EINVAL when not a
// regular file). `st` (optional) receives its stat.
int ReadFileInRoot(int root_fd, std::string_view path, size_t max_bytes, std::string* out,
                   struct stat* st = nullptr);

}  // namespace nodeproc
