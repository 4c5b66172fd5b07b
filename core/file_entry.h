#pragma once
// Files a process has open or memory-mapped (the "deep snapshot"): core value types filled by
// OpenFilesCollector (paths + stat) and PackageResolver (owning package), rendered by
// exporters/files_csv.h.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nodeproc {

struct FileEntry {
  enum class Kind { kOpen, kMapped, kBoth };

  std::string path;      // as the process sees it (inside its root), without " (deleted)"
  Kind kind = Kind::kOpen;
  bool deleted = false;  // the kernel marked the path " (deleted)"
  // From stat(2) of the file inside the process's root; unknown when it could not be stat'ed.
  std::optional<uint64_t> size;
  std::optional<uint64_t> inode;
  std::optional<uint32_t> mode;  // full st_mode (type + permission bits)
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  std::optional<int64_t> mtime;  // seconds since the epoch
  // Owning package (dpkg or apk of the process's root filesystem); empty when unowned/unknown.
  std::string package;
  std::string package_version;

  bool operator==(const FileEntry&) const = default;
};

struct ProcessFiles {
  int32_t pid = 0;
  std::vector<FileEntry> files;  // sorted by (path, deleted), one entry per (path, deleted)
  uint32_t dropped = 0;          // regular files left out by sampling (max_files_per_process)
  // Open descriptors that are not regular files, counted by kind.
  uint32_t sockets = 0;
  uint32_t pipes = 0;
  uint32_t anon = 0;   // anon_inode:[eventfd], [eventpoll], inotify, ...
  uint32_t other = 0;  // devices, directories, anything else that is not a regular file
  bool fds_readable = true;   // false: <pid>/fd could not be listed (e.g. EACCES)
  bool maps_readable = true;  // false: <pid>/maps could not be read
};

// 64-bit FNV-1a: stable across runs and builds (used for deterministic sampling and for the
// package index keys). `seed` lets a caller hash a concatenation without building it.
inline constexpr uint64_t kFnvOffset = 14695981039346656037ull;
inline uint64_t StablePathHash(std::string_view s, uint64_t seed = kFnvOffset) {
  uint64_t h = seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace nodeproc
