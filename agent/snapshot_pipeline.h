#pragma once
// Builds one immutable Snapshot: full scan -> CPU windows -> cgroup -> kubelet enrichment ->
// container filter -> command-line privacy. Exit records drained from the probe are
// resolved, enriched and filtered the same way (Snapshot::exited). Used by `run` (scrapes and CSV) and `snapshot`.
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "collectors/cpu_windows.h"
#include "collectors/probe.h"
#include "core/snapshot.h"
#include "exporters/cmdline_privacy.h"
#include "exporters/cmdline_privacy_cache.h"
#include "kube/container_filter.h"
#include "kube/container_resolver.h"
#include "kube/kubelet_cache.h"

namespace nodeproc {

struct PipelineParts {
  Probe* probe = nullptr;
  CpuWindows* windows = nullptr;
  ContainerResolver* resolver = nullptr;
  KubeletCache* kubelet = nullptr;  // null in host-only mode
  const ContainerFilter* filter = nullptr;
  const CmdlinePrivacy* privacy = nullptr;
  // --kubelet-max-age: older kubelet data is not used (no pod labels, no kubelet series).
  absl::Duration kubelet_max_age = absl::InfiniteDuration();
};

class SnapshotPipeline {
 public:
  explicit SnapshotPipeline(PipelineParts parts) : parts_(parts), privacy_cache_(parts.privacy) {}

  // One full scan. Serialised: concurrent callers take turns (the probe's buffers are reused).
  // The snapshot is the caller's to complete (the accounting) before it publishes it.
  absl::StatusOr<std::shared_ptr<Snapshot>> Build();

  // Loaded packages of the latest deep snapshot: attached to every snapshot built from now on.
  void SetLoadedPackages(std::shared_ptr<const LoadedPackages> packages);

 private:
  // The kubelet summary without the containers the filter excludes, recomputed only when the
  // cache hands out a new summary.
  std::shared_ptr<const Summary> FilteredSummary(const std::shared_ptr<const Summary>& summary,
                                                 const std::vector<PodInfo>* pods)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Exit records as process records, resolved and enriched like the live ones.
  std::vector<ProcessRecord> ExitedProcesses(const std::vector<ExitRecord>& exits,
                                             const std::vector<PodInfo>* pods,
                                             const Summary* summary) const;

  PipelineParts parts_;
  absl::Mutex mu_;
  std::vector<ProcessRecord> scratch_ ABSL_GUARDED_BY(mu_);
  CmdlinePrivacyCache privacy_cache_ ABSL_GUARDED_BY(mu_);  // per (pid, start time)
  std::vector<ExitRecord> exits_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const Summary> filtered_from_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const std::vector<PodInfo>> filtered_pods_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const Summary> filtered_ ABSL_GUARDED_BY(mu_);
  absl::Mutex packages_mu_;  // not mu_: the files phase must not wait for a scan
  std::shared_ptr<const LoadedPackages> loaded_packages_ ABSL_GUARDED_BY(packages_mu_);
};

}  // namespace nodeproc
