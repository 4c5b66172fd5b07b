#pragma once
// `nodeproc.exe run|snapshot` on Windows: the Linux agent's shared pieces wired to the
// Toolhelp/PSS probe. Shared with Linux: AgentConfig (flags/env), SnapshotPipeline (scan ->
// CPU windows -> command-line privacy), ProcessAccounting (group counters that never go
// back), SnapshotWriter (CSV contract and retention), MetricsCollectable and SelfMetrics (the /metrics contract). Windows-only: the
// probe, the civetweb /metrics server (metrics_server.h) and what is missing: no cgroup ->
// container mapping (no procfs; Windows containers are job objects), no kubelet client, no
// files snapshot. CheckWindowsConfig() rejects the flags that need those, with the reason.
#include <atomic>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "agent/config.h"
#include "agent/snapshot_pipeline.h"
#include "agent/windows/metrics_server.h"
#include "collectors/cpu_windows.h"
#include "collectors/windows/toolhelp_probe.h"
#include "exporters/cmdline_privacy.h"
#include "exporters/metrics_collectable.h"
#include "exporters/process_accounting.h"
#include "exporters/self_metrics.h"
#include "exporters/snapshot_writer.h"

namespace nodeproc::win {

// InvalidArgument naming the first flag set that Windows cannot honour, and why.
absl::Status CheckWindowsConfig(const AgentConfig& config);

class WindowsAgent {
 public:
  WindowsAgent(AgentConfig config, ToolhelpProbe::Options probe_options);
  ~WindowsAgent();
  WindowsAgent(const WindowsAgent&) = delete;
  WindowsAgent& operator=(const WindowsAgent&) = delete;

  absl::Status Init();
  // Serves /metrics, samples CPU and writes CSV snapshots until RequestStop().
  absl::Status Run();
  void RequestStop();  // any thread (the console control handler calls it)

  void SampleOnce();
  absl::StatusOr<std::shared_ptr<const Snapshot>> TakeSnapshot();
  // The latest snapshot, rescanned when older than --scan-interval.
  std::shared_ptr<const Snapshot> SnapshotForScrape();
  absl::Status Ready() const;

 private:
  void Publish(std::shared_ptr<const Snapshot> snap);
  void WriteCsvSnapshot();

  AgentConfig config_;
  ToolhelpProbe probe_;
  CpuWindows windows_;
  std::unique_ptr<CmdlinePrivacy> privacy_;
  std::unique_ptr<SnapshotPipeline> pipeline_;
  absl::Mutex accounting_mu_;  // held across a scan and its accounting step
  std::unique_ptr<ProcessAccounting> accounting_ ABSL_GUARDED_BY(accounting_mu_);
  std::unique_ptr<SnapshotWriter> writer_;
  std::shared_ptr<SelfMetrics> self_metrics_;
  std::shared_ptr<MetricsCollectable> collectable_;
  std::unique_ptr<MetricsServer> server_;

  absl::Notification stop_;
  std::atomic<bool> stop_requested_{false};
  absl::Time started_at_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Snapshot> latest_ ABSL_GUARDED_BY(mu_);
  absl::Mutex scan_mu_;  // one scrape-triggered scan at a time; others share it
};

}  // namespace nodeproc::win
