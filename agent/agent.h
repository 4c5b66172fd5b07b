#pragma once
// `nodeproc run`: the DaemonSet main loop. Owns the probe, the CPU sampler thread, the kubelet
// cache, the scanner thread, the CSV snapshot thread and the HTTP server. The scanner alone makes
// full scans, on its cadence (--scan-interval) and when the CSV thread asks for a fresh one; it
// runs the accounting and publishes immutable Snapshots. A scrape renders the latest one and
// never scans; a watchdog reports a scan that runs past --scan-deadline.
#include <atomic>
#include <memory>
#include <optional>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "agent/config.h"
#include "agent/files_snapshot.h"
#include "agent/snapshot_pipeline.h"
#include "collectors/cpu_windows.h"
#include "collectors/probe.h"
#include "exporters/cmdline_privacy.h"
#include "exporters/http_server.h"
#include "exporters/metrics_collectable.h"
#include "exporters/process_accounting.h"
#include "exporters/scanner_metrics.h"
#include "exporters/probe_metrics.h"
#include "exporters/self_metrics.h"
#include "exporters/snapshot_writer.h"
#include "kube/container_filter.h"
#include "kube/container_resolver.h"
#include "kube/kubelet_cache.h"
#include "kube/kubelet_source.h"
#include "upload/uploader.h"

namespace nodeproc {

class Agent {
 public:
  explicit Agent(AgentConfig config);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Builds every part; a bad rule, key or address is an error here, before any thread starts.
  absl::Status Init();

  // Starts the threads and the server; returns when RequestStop() was called, after a clean
  // shutdown (an in-flight snapshot is cancelled and dropped, never left partial).
  absl::Status Run();

  // Safe from any thread (the signal thread calls it).
  void RequestStop();

  // Latest published snapshot (null before the first scan). Never scans.
  std::shared_ptr<const Snapshot> SnapshotForScrape();

  // Takes a new snapshot now, without the accounting (`nodeproc snapshot`).
  absl::StatusOr<std::shared_ptr<const Snapshot>> TakeSnapshot();

  // Asks the scanner for a scan started after now and waits for it, at most `timeout`.
  absl::StatusOr<std::shared_ptr<const Snapshot>> FreshSnapshot(absl::Duration timeout);

  // One sampler pass (also used by `nodeproc snapshot` before it scans).
  void SampleOnce();

  // Blocking kubelet refresh (for `nodeproc snapshot`).
  void RefreshKubeletNow();

  absl::Status Ready() const;

  // The one line saying which process probe runs (Run() logs it; one-shot commands call it).
  void LogProbeChoice() const;

 private:
  void SamplerLoop();
  void ScannerLoop();
  void ScanOnce();  // one scanner pass: scan, accounting, publish
  void CheckScanner();  // watchdog: reports (rate-limited) a scan past --scan-deadline
  ScannerState CurrentScannerState() const;
  void SnapshotLoop();
  void WriteCsvSnapshot();
  // The files phase of a deep snapshot, after its process CSV `process_csv` was written.
  void WriteFilesSnapshot(const Snapshot& snapshot, const std::string& process_csv);
  // Hands new loaded-package counts to the pipeline (later snapshots) and to the latest one.
  void AttachLoadedPackages(std::shared_ptr<const LoadedPackages> packages);
  void Publish(std::shared_ptr<const Snapshot> snap);
  void UpdateKubeletMetrics();

  AgentConfig config_;
  std::unique_ptr<Probe> probe_;
  CpuWindows windows_;
  std::unique_ptr<ContainerResolver> resolver_;
  std::unique_ptr<KubeletSource> kubelet_source_;
  std::unique_ptr<KubeletCache> kubelet_;
  std::optional<ContainerFilter> filter_;
  std::optional<CmdlinePrivacy> privacy_;
  std::unique_ptr<SnapshotPipeline> pipeline_;
  std::unique_ptr<SnapshotWriter> writer_;
  std::unique_ptr<FilesSnapshot> files_;  // --snapshot-files
  std::shared_ptr<Uploader> uploader_;     // --upload-bucket
  std::shared_ptr<prometheus::Collectable> upload_metrics_;  // the server holds a weak_ptr
  std::shared_ptr<SelfMetrics> self_metrics_;
  std::shared_ptr<ProbeMetrics> probe_metrics_;  // which probe; BPF exit-record drops
  std::string probe_name_;
  std::string bpf_unavailable_;  // why --probe=auto fell back to procfs
  std::shared_ptr<MetricsCollectable> collectable_;
  std::shared_ptr<ScannerMetrics> scanner_metrics_;
  std::unique_ptr<ProcessAccounting> accounting_;  // the scanner's (only it calls Observe)
  std::unique_ptr<HttpServer> server_;

  absl::Notification stop_;
  std::atomic<bool> stop_requested_{false};
  absl::Time started_at_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const Snapshot> latest_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const Snapshot> rendered_ ABSL_GUARDED_BY(mu_);  // by the last /metrics

  // Scanner state, for the watchdog, the health metrics and /readyz.
  mutable absl::Mutex scanner_mu_;
  bool scan_requested_ ABSL_GUARDED_BY(scanner_mu_) = false;
  bool scanner_stopping_ ABSL_GUARDED_BY(scanner_mu_) = false;
  bool scanner_done_ ABSL_GUARDED_BY(scanner_mu_) = false;  // the scanner thread returned
  absl::Time scan_started_at_ ABSL_GUARDED_BY(scanner_mu_) = absl::InfinitePast();
  absl::Time last_scan_success_ ABSL_GUARDED_BY(scanner_mu_) = absl::InfinitePast();
  uint64_t scans_succeeded_ ABSL_GUARDED_BY(scanner_mu_) = 0;
  uint64_t scans_failed_ ABSL_GUARDED_BY(scanner_mu_) = 0;
  absl::Time stuck_logged_at_ ABSL_GUARDED_BY(scanner_mu_) = absl::InfinitePast();
  bool stuck_reported_ ABSL_GUARDED_BY(scanner_mu_) = false;
};

}  // namespace nodeproc
