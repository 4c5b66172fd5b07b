#pragma once
// /proc/<pid>/cgroup -> container id and pod uid. Pure: no I/O.
//
// Every line is `hierarchy-ID:controllers:path` (cgroup v1), or `0::path` (v2). The path is
// read component by component; the innermost container id and the innermost pod uid win, so
// nested runtimes (kind: a kubelet inside a docker container) yield the inner container.
// Understood forms (cgroupfs and systemd drivers):
//   /kubepods/burstable/pod<uid>/<id>          /kubepods/pod<uid>/<id> (guaranteed)
//   /kubepods/besteffort/pod<uid>/crio-<id>
//   /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<u_i_d>.slice/
//       cri-containerd-<id>.scope | crio-<id>.scope | docker-<id>.scope | libpod-<id>.scope
//   /system.slice/containerd.service/kubepods-...-pod<u_i_d>.slice:cri-containerd:<id>
//   /docker/<id>, /system.slice/docker-<id>.scope, /actions_job/<id>, /lxc/<id>
// `crio-conmon-<id>` is the conmon monitor, not the container: it yields the pod uid only.
// Host processes (/, /init.scope, /user.slice/..., /system.slice/sshd.service) yield nullopt.
#include <optional>
#include <string>
#include <string_view>

namespace nodeproc {

struct CgroupIdentity {
  std::string container_id;  // lower-case hex, no runtime prefix; empty when only the pod is known
  std::string pod_uid;       // with dashes (systemd's underscores converted); may be empty
  std::string runtime;       // "containerd", "cri-o", "docker", "podman" or "" when unknown

  bool operator==(const CgroupIdentity&) const = default;
};

// nullopt when no line names a container or a pod (host process, empty or garbage input).
std::optional<CgroupIdentity> ParseCgroupFile(std::string_view proc_pid_cgroup_content);

// One cgroup path (the third field of a line). Exposed for tests and the resolver.
std::optional<CgroupIdentity> ParseCgroupPath(std::string_view path);

}  // namespace nodeproc
