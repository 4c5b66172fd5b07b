#include "agent/snapshot_pipeline.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/clock.h"
#include "kube/cgroup_parser.h"
#include "kube/enrichment.h"

namespace nodeproc {

std::shared_ptr<const Summary> SnapshotPipeline::FilteredSummary(
    const std::shared_ptr<const Summary>& summary, const std::vector<PodInfo>* pods) {
  if (summary == nullptr || parts_.filter == nullptr) return summary;
  if (summary == filtered_from_ && pods == filtered_pods_.get()) return filtered_;
  absl::flat_hash_map<std::string_view, const PodInfo*> pods_by_uid;
  if (pods != nullptr) {
    for (const PodInfo& p : *pods) pods_by_uid[p.uid] = &p;
  }
  auto out = std::make_shared<Summary>(*summary);
  absl::flat_hash_set<std::string> all_excluded;  // uids of pods left with no container
  for (PodStats& pod : out->pods) {
    const bool had_containers = !pod.containers.empty();
    const PodInfo* info = nullptr;
    if (auto it = pods_by_uid.find(pod.uid); it != pods_by_uid.end()) info = it->second;
    std::erase_if(pod.containers, [&](const ContainerStats& c) {
      ContainerRef ref;
      ref.pod_uid = pod.uid;
      ref.pod_namespace = pod.pod_namespace;
      ref.pod_name = pod.name;
      ref.container_name = c.name;
      if (info != nullptr) {
        for (const PodContainer& pc : info->containers) {
          if (pc.name == c.name) {
            ref.image = pc.image;
            ref.container_id = pc.container_id;
          }
        }
      }
      return parts_.filter->Excluded(ref, info);
    });
    if (had_containers && pod.containers.empty()) all_excluded.insert(pod.uid);
  }
  // A pod whose every container is excluded is dropped as a whole (its nodeproc_pod_* series
  // would describe only excluded containers).
  std::erase_if(out->pods, [&](const PodStats& pod) {
    return pod.containers.empty() && all_excluded.contains(pod.uid);
  });
  filtered_from_ = summary;
  filtered_ = out;
  return out;
}

std::vector<ProcessRecord> SnapshotPipeline::ExitedProcesses(const std::vector<ExitRecord>& exits,
                                                            const std::vector<PodInfo>* pods,
                                                            const Summary* summary) const {
  std::vector<ProcessRecord> out;
  out.reserve(exits.size());
  for (const ExitRecord& e : exits) {
    ProcessRecord r;
    r.pid = e.pid;
    r.ppid = e.ppid;
    r.name = e.name;
    r.uid = e.uid;
    r.state = ProcessState::kDead;
    r.start_ticks = e.start_ticks;
    r.cpu_seconds = e.cpu_seconds;
    r.read_bytes = e.read_bytes;
    r.write_bytes = e.write_bytes;
    if (std::optional<CgroupIdentity> id = ParseCgroupPath(e.cgroup_path)) {
      r.container.container_id = id->container_id;
      r.container.pod_uid = id->pod_uid;
    }
    out.push_back(std::move(r));
  }
  EnrichProcesses(&out, pods, summary);
  if (parts_.filter != nullptr) parts_.filter->Apply(&out, pods);
  return out;
}

void SnapshotPipeline::SetLoadedPackages(std::shared_ptr<const LoadedPackages> packages) {
  absl::MutexLock lock(&packages_mu_);
  loaded_packages_ = std::move(packages);
}

absl::StatusOr<std::shared_ptr<Snapshot>> SnapshotPipeline::Build() {
  absl::MutexLock lock(&mu_);
  const absl::Time start = absl::Now();
  // Exits first: a process that exits after this drain and before the scan reads it is in
  // the next drain, and the accounting still knows what the scans counted of it.
  parts_.probe->DrainExits(&exits_);
  if (absl::Status s = parts_.probe->Scan(&scratch_); !s.ok()) return s;
  const absl::Time now = absl::Now();

  auto snap = std::make_shared<Snapshot>();
  snap->taken_at = now;

  absl::flat_hash_set<int32_t> live;
  live.reserve(scratch_.size());
  for (ProcessRecord& r : scratch_) {
    live.insert(r.pid);
    if (parts_.windows != nullptr) {
      r.cpu = parts_.windows->Usage(r.pid, r.start_ticks, r.start_time_unix, r.cpu_seconds, now);
    }
    if (parts_.resolver != nullptr && !r.kernel_thread) {
      r.container = parts_.resolver->Resolve(r.pid, r.start_ticks);
    }
  }
  if (parts_.resolver != nullptr) parts_.resolver->Retain(live);

  const std::vector<PodInfo>* pods = nullptr;
  const Summary* summary = nullptr;
  KubeletCache::View view;
  if (parts_.kubelet != nullptr) {
    view = parts_.kubelet->Get();
    if (view.summary != nullptr && now - view.summary_fetched_at > parts_.kubelet_max_age) {
      // Too old to describe the node: pods deleted since would keep their labels and series.
      snap->kubelet_stale = true;
      view.summary = nullptr;
    }
    if (view.pods != nullptr && now - view.pods_fetched_at > parts_.kubelet_max_age) {
      snap->kubelet_stale = true;
      view.pods = nullptr;
    }
    pods = view.pods.get();
    summary = view.summary.get();
    snap->kubelet_summary = FilteredSummary(view.summary, pods);
    filtered_pods_ = view.pods;
    if (view.summary != nullptr) {
      snap->kubelet_age = now - view.summary_fetched_at;
      snap->kubelet_fetched_at = view.summary_fetched_at;
    }
  }
  EnrichProcesses(&scratch_, pods, summary);
  if (parts_.filter != nullptr) parts_.filter->Apply(&scratch_, pods);
  snap->exited = ExitedProcesses(exits_, pods, summary);
  for (ProcessRecord& r : scratch_) {
    if (parts_.privacy != nullptr && (!r.args.empty() || !r.cmdline.empty())) {
      r.cmdline = privacy_cache_.Get(r.pid, r.start_ticks, r.args, r.cmdline);
    }
    std::string().swap(r.args);  // the snapshot keeps only the joined, scrubbed form
  }
  if (parts_.privacy != nullptr) privacy_cache_.EndScan();
  const size_t n = scratch_.size();
  snap->processes = std::move(scratch_);
  scratch_.clear();
  scratch_.reserve(n + n / 8);  // the next scan fills it without regrowing
  {
    absl::MutexLock packages_lock(&packages_mu_);
    snap->loaded_packages = loaded_packages_;
  }
  snap->scan_duration = absl::Now() - start;
  return snap;
}

}  // namespace nodeproc
