#include "kube/enrichment.h"

#include <string_view>

#include "absl/container/flat_hash_map.h"

namespace nodeproc {
namespace {

struct PodContainerRef {
  const PodInfo* pod;
  const PodContainer* container;
};

// Names the sandbox process has under the common runtimes' pause images.
bool IsSandboxProcessName(std::string_view name) { return name == "pause" || name == "pod"; }

}  // namespace

void EnrichProcesses(std::vector<ProcessRecord>* processes, const std::vector<PodInfo>* pods,
                     const Summary* summary) {
  if (processes == nullptr) return;
  absl::flat_hash_map<std::string_view, PodContainerRef> by_container_id;
  absl::flat_hash_map<std::string_view, const PodInfo*> pod_by_uid;
  if (pods != nullptr) {
    for (const PodInfo& pod : *pods) {
      if (!pod.uid.empty()) pod_by_uid.emplace(pod.uid, &pod);
      for (const PodContainer& c : pod.containers) {
        if (!c.container_id.empty()) by_container_id.emplace(c.container_id, PodContainerRef{&pod, &c});
      }
    }
  }
  absl::flat_hash_map<std::string_view, const PodStats*> stats_by_uid;
  if (summary != nullptr) {
    for (const PodStats& p : summary->pods) {
      if (!p.uid.empty()) stats_by_uid.emplace(p.uid, &p);
    }
  }

  for (ProcessRecord& r : *processes) {
    ContainerRef& c = r.container;
    if (c.empty()) continue;
    if (!c.container_id.empty()) {
      auto it = by_container_id.find(c.container_id);
      if (it != by_container_id.end()) {
        const PodInfo& pod = *it->second.pod;
        if (c.pod_uid.empty()) c.pod_uid = pod.uid;
        c.pod_namespace = pod.pod_namespace;
        c.pod_name = pod.name;
        c.container_name = it->second.container->name;
        c.image = it->second.container->image;
        continue;
      }
    }
    if (c.pod_uid.empty()) continue;
    if (auto it = pod_by_uid.find(c.pod_uid); it != pod_by_uid.end()) {
      c.pod_namespace = it->second->pod_namespace;
      c.pod_name = it->second->name;
      continue;
    }
    if (auto it = stats_by_uid.find(c.pod_uid); it != stats_by_uid.end()) {
      const PodStats& p = *it->second;
      c.pod_namespace = p.pod_namespace;
      c.pod_name = p.name;
      if (p.containers.size() == 1 && !c.container_id.empty() && !IsSandboxProcessName(r.name)) {
        c.container_name = p.containers.front().name;
      }
    }
  }
}

}  // namespace nodeproc
