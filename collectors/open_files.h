#pragma once
// Files one process has open (<proc>/<pid>/fd) or memory-mapped (<proc>/<pid>/maps).
//  - fd: readlinkat of each entry. Targets starting with '/' are paths; "socket:[..]",
//    "pipe:[..]", "anon_inode:..." are counted by kind; anything else (and paths that stat as
//    non-regular: devices, directories; paths under /dev/ except /dev/shm/) counts as other.
//  - maps: file-backed mappings only (pseudo entries [heap], [stack], [vdso], anonymous
//    mappings, /memfd:, /SYSV shared memory are skipped), deduplicated by path.
//  - The two are merged by path (kind open/mapped/both), sorted by path.
//  - Sampling when more than `max_files_per_process` regular files: deterministic. Priority
//    1) mapped shared objects (name contains ".so"), 2) other mapped files (the executable,
//    mmapped data), 3) files only open; within a priority, ascending 64-bit FNV-1a hash of the
//    path (stable across runs and independent of fd numbers). `dropped` counts the rest.
//  - Stat of each kept file: through the process's root (<proc>/<pid>/root, openat2
//    RESOLVE_IN_ROOT), so container paths resolve inside the container. A deleted open file is
//    stat'ed through its fd (<pid>/fd/N); a deleted mapping keeps only the inode from maps.
//  - Errors: a vanished PID (no fd dir and no maps) is NotFound; EACCES etc. are logged once
//    per cause (LogOnce) and the readable part is returned (fds_readable/maps_readable false).
// Not thread-safe (reuses buffers): one collector per thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/file_entry.h"

namespace nodeproc {

inline constexpr size_t kDefaultMaxFilesPerProcess = 128;

// What an fd symlink points at.
enum class FdTargetKind { kPath, kSocket, kPipe, kAnon, kOther };
FdTargetKind ClassifyFdTarget(std::string_view target);

// One file-backed line of /proc/<pid>/maps.
struct MapsFile {
  std::string_view path;  // " (deleted)" removed
  bool deleted = false;
  uint64_t inode = 0;
};
// Parses one maps line; nullopt for anonymous/pseudo mappings and malformed lines.
std::optional<MapsFile> ParseMapsLine(std::string_view line);

// Strips a trailing " (deleted)"; returns whether it was there.
bool StripDeletedSuffix(std::string_view* path);

// Keeps at most `max` entries by the sampling rule above (then sorted by path); returns how
// many were dropped. `max` == 0 means no limit.
uint32_t SampleFiles(std::vector<FileEntry>* files, size_t max);

class OpenFilesCollector {
 public:
  explicit OpenFilesCollector(std::string proc_root,
                              size_t max_files_per_process = kDefaultMaxFilesPerProcess);

  absl::StatusOr<ProcessFiles> Collect(int32_t pid);

  size_t max_files_per_process() const { return max_files_; }

 private:
  const std::string proc_root_;
  const size_t max_files_;
  std::string buf_;  // maps contents, reused
};

}  // namespace nodeproc
