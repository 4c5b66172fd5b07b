#pragma once
// Writes a whole file atomically, the way SnapshotWriter writes process_<ts>.csv: the contents
// go to "<dir>/.<name>.<pid>.tmp" (so SnapshotWriter's stale-temp cleanup also removes ours),
// which is fsynced and renamed over <dir>/<name>, then the folder is fsynced. A reader sees a
// whole file or none. On any error, or when `cancel` becomes true (checked between 64 KiB
// chunks), the temp file is unlinked and the target is left untouched.
#include <atomic>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace nodeproc {

// CancelledError on cancellation; otherwise an error naming the path and strerror.
absl::Status WriteFileAtomically(const std::string& path, std::string_view contents,
                                 const std::atomic<bool>& cancel);

}  // namespace nodeproc
