#pragma once
// Uploads complete snapshot files to an S3-compatible bucket from its own thread, so neither
// scans nor scrapes ever wait for the store. The agent hands over each file after its atomic
// write succeeded (Enqueue); files of earlier runs come from the volume (Spool::Load). Files
// go oldest first, one at a time; a failure is retried, still in order, after an exponential
// backoff with jitter (head of line: nothing newer overtakes it, so the bucket fills in time
// order). Shutdown cancels an upload in flight: the file stays pending for the next start.
// Logs are rate-limited per cause (outcome + S3 error code): at most one line a minute each.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "upload/backoff.h"
#include "upload/s3_client.h"
#include "upload/spool.h"

namespace nodeproc {

struct UploaderOptions {
  S3ClientOptions s3;
  SpoolOptions spool;  // destination is filled in from s3.target
  absl::Duration backoff_initial = absl::Seconds(1);
  absl::Duration backoff_max = absl::Minutes(5);
};

struct UploadStats {
  std::map<std::string, uint64_t> requests;  // by outcome name (only outcomes seen)
  uint64_t bytes_uploaded = 0;
  SpoolStats spool;
  std::optional<absl::Time> last_success;
};

class Uploader {
 public:
  // Loads the spool. Reads the test hook NODEPROC_TEST_UPLOAD_MAX_SEND_BPS (bytes per second),
  // so tests can stop the agent in the middle of an upload.
  static absl::StatusOr<std::unique_ptr<Uploader>> Create(UploaderOptions options);
  ~Uploader();  // Stop()

  void Start();
  // Cancels an upload in flight and joins the thread (idempotent).
  void Stop();

  // A complete snapshot file (process or files CSV) was just written.
  void Enqueue(const std::string& path);

  // Retention's hook (SnapshotWriterOptions::keep_for_upload).
  bool KeepForUpload(const std::string& process_csv) { return spool_.KeepForUpload(process_csv); }

  UploadStats Stats() const;

 private:
  explicit Uploader(UploaderOptions options);
  void Loop();
  // One attempt at `entry`; returns its outcome.
  UploadOutcome UploadOne(const SpoolEntry& entry);
  void LogRateLimited(const std::string& cause, std::string_view message, const std::string& key,
                      const std::string& detail);

  UploaderOptions options_;
  Spool spool_;
  S3Client client_;
  Backoff backoff_;
  std::thread thread_;
  std::atomic<bool> cancel_{false};  // read by the transfer's progress callback

  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, uint64_t> requests_ ABSL_GUARDED_BY(mu_);
  uint64_t bytes_uploaded_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<absl::Time> last_success_ ABSL_GUARDED_BY(mu_);
  struct LogState {
    absl::Time last = absl::InfinitePast();
    uint64_t suppressed = 0;
  };
  std::map<std::string, LogState> log_state_ ABSL_GUARDED_BY(mu_);
  bool failing_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace nodeproc
