#pragma once
// Which container (and pod) a process belongs to. All fields empty for host processes.
#include <string>

namespace nodeproc {

struct ContainerRef {
  std::string container_id;    // runtime id, 64 hex chars usually, without the runtime prefix
  std::string pod_uid;         // from the cgroup path or the kubelet
  std::string pod_namespace;   // from the kubelet
  std::string pod_name;        // from the kubelet
  std::string container_name;  // from the kubelet
  std::string image;           // from the kubelet /pods, when allowed

  bool empty() const { return container_id.empty() && pod_uid.empty(); }
  bool operator==(const ContainerRef&) const = default;
};

}  // namespace nodeproc
