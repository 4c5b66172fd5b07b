#pragma once
// The files phase of a deep snapshot (`run --snapshot-files`): for every process row of a
// Snapshot (already enriched and filtered; kernel threads skipped), its open and mapped files
// (collectors/open_files.h) with their owning package (collectors/package_resolver.h), written
// as files_<ts>.csv (exporters/files_csv.h) through a temp file, fsync and rename, row by row
// so memory stays bounded. Optionally counts loaded packages for the metric.
// A process that exited since the scan, or whose PID now names another process (start time
// differs), is skipped. Cancellation (shutdown) is checked before each process: the temp file
// is removed and no files CSV appears.
// Not thread-safe: one snapshot thread.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "collectors/open_files.h"
#include "collectors/package_resolver.h"
#include "core/loaded_packages.h"
#include "core/snapshot.h"
#include "exporters/loaded_packages.h"

namespace nodeproc {

struct FilesSnapshotOptions {
  std::string proc_root = "/proc";
  size_t max_files_per_process = kDefaultMaxFilesPerProcess;
  bool count_packages = false;  // --package-metrics
  size_t max_package_series = kMaxLoadedPackageSeries;
};

struct FilesSnapshotResult {
  std::string path;
  uint64_t processes = 0;      // processes whose files were read
  uint64_t skipped = 0;        // exited (or PID reused) since the scan
  uint64_t rows = 0;           // file rows written
  uint64_t dropped_files = 0;  // left out by --max-files-per-process sampling
  absl::Duration duration;
  std::shared_ptr<const LoadedPackages> packages;  // null unless count_packages
};

class FilesSnapshot {
 public:
  // Reads the test hook NODEPROC_TEST_FILES_PROCESS_DELAY_MS (sleep per process, so tests can
  // interrupt the files phase).
  explicit FilesSnapshot(FilesSnapshotOptions options);

  // Writes `path` (its folder must exist). CancelledError when `cancel` became true; otherwise
  // an error naming the path and the cause.
  absl::StatusOr<FilesSnapshotResult> Write(const Snapshot& snapshot, const std::string& path,
                                            const std::atomic<bool>& cancel);

  // Package indexes built so far (one per root filesystem and database version).
  uint64_t package_index_loads() const { return resolver_.loads(); }

 private:
  // Whether `pid` still is the process of the scan (same start time).
  bool SameProcess(int32_t pid, uint64_t start_ticks);

  FilesSnapshotOptions options_;
  OpenFilesCollector collector_;
  PackageResolver resolver_;
  std::string stat_buf_;
  int process_delay_ms_ = 0;
};

}  // namespace nodeproc
