#pragma once
// The one bounded whole-file reader for /proc files, root-filesystem files, token and fixture
// files (every module may include core/). Never reads more than `max_bytes` (+1 to tell
// "exactly max" from "longer") into memory, whatever the file claims or holds; EINTR is retried.
// Buffers are caller-owned so the scan reuses them across PIDs.
#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace nodeproc {

enum class OverLimit {
  kFail,      // more than max_bytes => EFBIG, *out empty
  kTruncate,  // keep the first max_bytes and report *truncated = true
};

// Reads `fd` to EOF into *out (replacing its contents, reusing its capacity). Does not close
// `fd`. Returns 0 or an errno value. `size_hint` sizes the first read (clamped to the cap).
int ReadFdBounded(int fd, size_t max_bytes, OverLimit over, std::string* out,
                  bool* truncated = nullptr, size_t size_hint = 4096);

// openat(dirfd, name, O_RDONLY|O_CLOEXEC|O_NOCTTY) + ReadFdBounded + close. dirfd may be
// AT_FDCWD. Returns 0 or an errno value (ENOENT, EACCES, EFBIG, ...).
int ReadFileAt(int dirfd, const char* name, size_t max_bytes, OverLimit over, std::string* out,
               bool* truncated = nullptr);

// Whole-file convenience for cold paths (token files, fixtures): the contents, or
// NotFound (ENOENT) / ResourceExhausted (over max_bytes) / FailedPrecondition (other errors)
// with a message naming `path` and strerror.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path, size_t max_bytes);

}  // namespace nodeproc
