#pragma once
// Reading a whole file from an open fd, bounded: the one read loop of the collectors' file
// readers (/proc/<pid>/maps, package databases inside a root filesystem).
#include <cstddef>
#include <string>

namespace nodeproc {

// Reads `fd` to EOF into *out (replacing it) and closes `fd`, whatever happens. More than
// `max_bytes` fails with EFBIG; `size_hint` sizes the first read. 0, or -1 with errno set
// (and *out empty). EINTR is retried.
int ReadToEndAndClose(int fd, size_t max_bytes, size_t size_hint, std::string* out);

}  // namespace nodeproc
