#pragma once
// Writes a Snapshot as a CSV file in the contract layout (DESIGN.md):
//   <dir>/<machine-id>/<agent-start YYYYMMDDTHHMMSSZ>/process/process_<taken YYYYMMDDTHHMMSSZ>.csv
// Atomic (exporters/atomic_file.h): rows go to ".process_<ts>.csv.<pid>.tmp" in the same
// folder, locked by its writer, fsynced and renamed, then the folder is fsynced. A reader sees a
// whole file or none; on any error or cancellation the temp file is unlinked. After each successful write, retention keeps at most
// `keep_files` newest snapshots of the machine (all agent-start folders) and drops those older
// than `max_age` (measured from the snapshot just written), removing emptied old folders.
// The files CSV of a deep snapshot (files_<ts>.csv, written by the agent next to
// process_<ts>.csv in the same process/ folder, see FilesPath) follows its process CSV: it is
// kept exactly as long as process_<same ts>.csv (a files CSV without one goes too), so
// `keep_files` counts snapshots, not files.
// Not thread-safe: one writer thread.
#include <atomic>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/snapshot.h"

namespace nodeproc {

struct SnapshotWriterOptions {
  std::string dir;         // --snapshot-dir
  std::string machine_id;  // sanitized into one path component
  absl::Time agent_start;
  int keep_files = 288;                        // <= 0: no count limit
  absl::Duration max_age = absl::Hours(168);   // InfiniteDuration (or <= 0): no age limit
  // Asked before retention deletes a snapshot (given its process CSV): true keeps it and its
  // files CSV (the uploader holds snapshots not yet uploaded; upload/spool.h). Not counted in
  // keep_files. Empty: retention alone decides.
  std::function<bool(const std::string& process_csv)> keep_for_upload;
  // Called with the final path once a process CSV is complete (renamed), before retention runs
  // (so the uploader counts it among the pending snapshots retention asks about).
  std::function<void(const std::string& process_csv)> on_written;
};

class SnapshotWriter {
 public:
  // Removes temp files left by a killed writer, however young: those whose writer's lock is
  // free (a live writer's are kept). Reads the test hook
  // NODEPROC_TEST_SNAPSHOT_ROW_DELAY_MS (sleep per row, so tests can interrupt a write).
  explicit SnapshotWriter(SnapshotWriterOptions options);

  // Returns the path written. CancelledError when `cancel` became true during the write;
  // otherwise an error naming the path and the cause (strerror), e.g. "No space left on device".
  absl::StatusOr<std::string> Write(const Snapshot& snapshot, const std::atomic<bool>& cancel);

  // <dir>/<machine-id>/<agent-start>/process
  const std::string& process_dir() const { return process_dir_; }
  // <process_dir>/files_<taken YYYYMMDDTHHMMSSZ>.csv: the deep snapshot's files CSV.
  std::string FilesPath(absl::Time taken_at) const;

  // A machine id usable as one path component: [A-Za-z0-9._-] kept, the rest '_', never
  // empty, "." or "..".
  static std::string SanitizeMachineId(std::string_view id);
  // YYYYMMDDTHHMMSSZ (UTC).
  static std::string CompactTime(absl::Time t);

 private:
  void ApplyRetention(absl::Time now, const std::string& just_written);
  void RemoveStaleTempFiles();

  SnapshotWriterOptions options_;
  std::string machine_dir_;
  std::string process_dir_;
  int row_delay_ms_ = 0;
};

}  // namespace nodeproc
