#include "collectors/read_fd.h"

#include <algorithm>
#include <cerrno>
#include <unistd.h>

namespace nodeproc {

int ReadToEndAndClose(int fd, size_t max_bytes, size_t size_hint, std::string* out) {
  // One byte more than allowed tells "exactly max_bytes" from "longer".
  const size_t cap = max_bytes == static_cast<size_t>(-1) ? max_bytes : max_bytes + 1;
  out->resize(std::clamp<size_t>(size_hint, 1, cap));
  size_t used = 0;
  int err = 0;
  while (true) {
    if (used == out->size()) {
      if (used >= cap) {
        err = EFBIG;
        break;
      }
      out->resize(std::min(cap, out->size() * 2 + 4096));
    }
    const ssize_t n = ::read(fd, out->data() + used, out->size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  if (err == 0 && used > max_bytes) err = EFBIG;
  ::close(fd);
  if (err != 0) {
    out->clear();
    errno = err;
    return -1;
  }
  out->resize(used);
  return 0;
}

}  // namespace nodeproc
