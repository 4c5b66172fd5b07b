#pragma once
// `nodeproc run`: the DaemonSet main loop. Owns the probe, the CPU sampler thread, the kubelet
// cache, the snapshot thread and the HTTP server, and publishes immutable Snapshots.
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

  // Latest snapshot for a scrape: a new full scan when the last is older than
  // --scan-min-interval, else the shared one.
  std::shared_ptr<const Snapshot> SnapshotForScrape();

  // Takes a new snapshot now (used by `nodeproc snapshot` and the CSV thread).
  absl::StatusOr<std::shared_ptr<const Snapshot>> TakeSnapshot();

  // One sampler pass (also used by `nodeproc snapshot` before it scans).
  void SampleOnce();

  // Blocking kubelet refresh (for `nodeproc snapshot`).
  void RefreshKubeletNow();

  absl::Status Ready() const;

 private:
  void SamplerLoop();
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
  std::shared_ptr<MetricsCollectable> collectable_;
  std::unique_ptr<HttpServer> server_;

  absl::Notification stop_;
  std::atomic<bool> stop_requested_{false};
  absl::Time started_at_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const Snapshot> latest_ ABSL_GUARDED_BY(mu_);
  absl::Mutex scan_mu_;  // one scrape-triggered scan at a time; others wait and share it
};

}  // namespace nodeproc
