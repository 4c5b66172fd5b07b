#pragma once
// Kubelet /stats/summary and /pods data, as plain values (filled by kube/, rendered by
// exporters/). Every field is optional: kubelets of different versions omit different ones.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace nodeproc {

struct CpuStats {
  std::optional<uint64_t> usage_nano_cores;
  std::optional<uint64_t> usage_core_nano_seconds;
};

struct MemoryStats {
  std::optional<uint64_t> available_bytes;
  std::optional<uint64_t> usage_bytes;
  std::optional<uint64_t> working_set_bytes;
  std::optional<uint64_t> rss_bytes;
  std::optional<uint64_t> page_faults;
  std::optional<uint64_t> major_page_faults;
};

struct InterfaceStats {
  std::string name;
  std::optional<uint64_t> rx_bytes;
  std::optional<uint64_t> rx_errors;
  std::optional<uint64_t> tx_bytes;
  std::optional<uint64_t> tx_errors;
};

struct FsStats {
  std::optional<uint64_t> available_bytes;
  std::optional<uint64_t> capacity_bytes;
  std::optional<uint64_t> used_bytes;
  std::optional<uint64_t> inodes_free;
  std::optional<uint64_t> inodes;
  std::optional<uint64_t> inodes_used;
};

struct VolumeStats {
  std::string name;
  FsStats fs;
};

struct ContainerStats {
  std::string name;
  CpuStats cpu;
  MemoryStats memory;
  FsStats rootfs;
  FsStats logs;
};

struct PodStats {
  std::string uid;
  std::string pod_namespace;
  std::string name;
  std::vector<ContainerStats> containers;
  CpuStats cpu;
  MemoryStats memory;
  std::vector<InterfaceStats> interfaces;  // network is per pod (one isolation group)
  std::vector<VolumeStats> volumes;
  FsStats ephemeral_storage;
};

struct NodeStats {
  std::string node_name;
  CpuStats cpu;
  MemoryStats memory;
  std::vector<InterfaceStats> interfaces;
  FsStats fs;
  FsStats runtime_image_fs;
  std::optional<uint64_t> rlimit_max_pid;
  std::optional<uint64_t> rlimit_cur_proc;
  std::vector<ContainerStats> system_containers;
};

struct Summary {
  NodeStats node;
  std::vector<PodStats> pods;
};

// From /pods: what the kubelet says of each pod and container.
struct PodContainer {
  std::string name;
  std::string image;
  std::string container_id;  // without the runtime:// prefix
  std::string runtime;       // containerd, cri-o, docker, ...
  bool init = false;
  bool ephemeral = false;
};

struct PodInfo {
  std::string uid;
  std::string pod_namespace;
  std::string name;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::vector<PodContainer> containers;
};

}  // namespace nodeproc
