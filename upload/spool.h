#pragma once
// The upload spool is the snapshot volume itself: every complete process_<ts>.csv and
// files_<ts>.csv of this machine (all agent-start folders) that is not yet in the bucket.
// What was uploaded is remembered in one small state file, <snapshot-dir>/<machine>/.upload-state
// (rewritten atomically after each upload), so the pending set is rebuilt from the volume at
// start: files written while the store was down, or while the agent was stopped, are uploaded
// after a restart, oldest first. The state names its destination (endpoint, bucket, prefix):
// pointing the agent at a new destination uploads the volume's files there too.
//
// Retention interplay (KeepForUpload): retention asks before deleting a snapshot; a pending one
// is kept unless more than `max_pending_snapshots` snapshots are pending, in which case the
// oldest pending ones go (counted in dropped_files and logged).
//
// Load() also removes a state temp file a crash left behind (older than a minute).
// Only regular files are taken (lstat; symlinks planted in the folder are ignored), only with
// names the snapshot writer produces. Thread-safe.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace nodeproc {

struct SpoolEntry {
  std::string path;      // <snapshot-dir>/<relative>
  std::string relative;  // <machine>/<agent start>/process/<name>: the object key's tail
  std::string snapshot;  // "<agent start>/<ts>": a process CSV and its files CSV share it
  absl::Time taken;      // from the name
  uint64_t bytes = 0;
};

struct SpoolStats {
  uint64_t pending_files = 0;
  uint64_t pending_bytes = 0;
  std::optional<absl::Time> oldest_pending;  // snapshot time of the oldest pending file
  uint64_t dropped_files = 0;                // deleted by retention before upload (cap)
};

struct SpoolOptions {
  std::string snapshot_dir;
  std::string machine;      // the machine folder name (already sanitized)
  std::string destination;  // e.g. "https://s3.eu-west-1.amazonaws.com/bucket/prefix"
  int max_pending_snapshots = 2016;
  // Writes a whole file atomically (agent/ passes exporters' WriteFileAtomically).
  std::function<absl::Status(const std::string& path, const std::string& contents)> write_state;
};

class Spool {
 public:
  explicit Spool(SpoolOptions options);

  // Reads the state file (a missing one is an empty state) and scans the volume.
  absl::Status Load();

  // A complete file just written (after its atomic rename). False when it is not a snapshot
  // file of this machine under the snapshot folder, or is already known.
  bool Add(const std::string& path);

  // The oldest pending file.
  std::optional<SpoolEntry> Front() const;

  // `entry` is in the bucket: no longer pending; the state file is rewritten (an error is
  // returned but the entry stays uploaded in memory; at worst it is uploaded again after a
  // restart, to the same key with the same bytes).
  absl::Status MarkUploaded(const SpoolEntry& entry);

  // The file vanished from the volume (deleted by someone else): no longer pending.
  void Forget(const std::string& path);

  // Retention's question before deleting the snapshot whose process CSV is `process_csv`:
  // true keeps it (and its files CSV) for upload.
  bool KeepForUpload(const std::string& process_csv);

  SpoolStats Stats() const;
  std::string state_path() const;

  // "<start>/process/<name>" -> its entry, when the name is a snapshot file's; for tests.
  static std::optional<SpoolEntry> ParseRelative(std::string_view machine_relative);

 private:
  std::string Serialize() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveStaleStateTemps() const;
  std::optional<SpoolEntry> EntryFor(const std::string& path) const;
  static std::string OrderKey(const SpoolEntry& e);

  SpoolOptions options_;
  mutable absl::Mutex mu_;
  std::map<std::string, SpoolEntry> pending_ ABSL_GUARDED_BY(mu_);  // by OrderKey: oldest first
  std::set<std::string> uploaded_ ABSL_GUARDED_BY(mu_);             // machine-relative paths
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace nodeproc
