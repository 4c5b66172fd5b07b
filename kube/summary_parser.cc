#include "kube/summary_parser.h"

#include <utility>

#include "kube/json_filter.h"
#include "kube/json_util.h"
#include "rapidjson/document.h"

namespace nodeproc {
namespace {

using kube_json::ArrayMember;
using kube_json::ObjectMember;
using kube_json::String;
using kube_json::Uint;
using rapidjson::Value;
using kube_json::Cap;
using kube_json::SchemaNode;

// What the readers below look at, and nothing else (kube/json_filter.h).
const SchemaNode& SummarySchema() {
  static const SchemaNode* const root = [] {
    const SchemaNode* leaf = SchemaNode::Leaf();
    auto* cpu = new SchemaNode(SchemaNode::Object({{"usageNanoCores", leaf}, {"usageCoreNanoSeconds", leaf}}));
    auto* memory = new SchemaNode(SchemaNode::Object(
        {{"availableBytes", leaf}, {"usageBytes", leaf}, {"workingSetBytes", leaf},
         {"rssBytes", leaf}, {"pageFaults", leaf}, {"majorPageFaults", leaf}}));
    auto* fs = new SchemaNode(SchemaNode::Object(
        {{"availableBytes", leaf}, {"capacityBytes", leaf}, {"usedBytes", leaf},
         {"inodesFree", leaf}, {"inodes", leaf}, {"inodesUsed", leaf}}));
    auto* volume = new SchemaNode(*fs);
    volume->fields.push_back({"name", leaf});
    auto* interface = new SchemaNode(SchemaNode::Object(
        {{"name", leaf}, {"rxBytes", leaf}, {"rxErrors", leaf}, {"txBytes", leaf}, {"txErrors", leaf}}));
    auto* network = new SchemaNode(*interface);
    network->fields.push_back(
        {"interfaces", new SchemaNode(SchemaNode::Array(interface, Cap::kItems))});
    auto* container = new SchemaNode(SchemaNode::Object(
        {{"name", leaf}, {"cpu", cpu}, {"memory", memory}, {"rootfs", fs}, {"logs", fs}}));
    auto* containers = new SchemaNode(SchemaNode::Array(container, Cap::kContainers));
    auto* node = new SchemaNode(SchemaNode::Object(
        {{"nodeName", leaf}, {"cpu", cpu}, {"memory", memory}, {"network", network}, {"fs", fs},
         {"runtime", new SchemaNode(SchemaNode::Object({{"imageFs", fs}}))},
         {"rlimit", new SchemaNode(SchemaNode::Object({{"maxpid", leaf}, {"curproc", leaf}}))},
         {"systemContainers", containers}}));
    auto* pod = new SchemaNode(SchemaNode::Object(
        {{"podRef", new SchemaNode(SchemaNode::Object({{"uid", leaf}, {"namespace", leaf}, {"name", leaf}}))},
         {"containers", containers}, {"cpu", cpu}, {"memory", memory}, {"network", network},
         {"volume", new SchemaNode(SchemaNode::Array(volume, Cap::kItems))},
         {"ephemeral-storage", fs}}));
    return new SchemaNode(SchemaNode::Object(
        {{"node", node}, {"pods", new SchemaNode(SchemaNode::Array(pod, Cap::kPods))}}));
  }();
  return *root;
}

CpuStats ReadCpu(const Value* v) {
  CpuStats out;
  if (v == nullptr) return out;
  out.usage_nano_cores = Uint(*v, "usageNanoCores");
  out.usage_core_nano_seconds = Uint(*v, "usageCoreNanoSeconds");
  return out;
}

MemoryStats ReadMemory(const Value* v) {
  MemoryStats out;
  if (v == nullptr) return out;
  out.available_bytes = Uint(*v, "availableBytes");
  out.usage_bytes = Uint(*v, "usageBytes");
  out.working_set_bytes = Uint(*v, "workingSetBytes");
  out.rss_bytes = Uint(*v, "rssBytes");
  out.page_faults = Uint(*v, "pageFaults");
  out.major_page_faults = Uint(*v, "majorPageFaults");
  return out;
}

FsStats ReadFs(const Value* v) {
  FsStats out;
  if (v == nullptr) return out;
  out.available_bytes = Uint(*v, "availableBytes");
  out.capacity_bytes = Uint(*v, "capacityBytes");
  out.used_bytes = Uint(*v, "usedBytes");
  out.inodes_free = Uint(*v, "inodesFree");
  out.inodes = Uint(*v, "inodes");
  out.inodes_used = Uint(*v, "inodesUsed");
  return out;
}

InterfaceStats ReadInterface(const Value& v) {
  InterfaceStats out;
  out.name = String(v, "name");
  out.rx_bytes = Uint(v, "rxBytes");
  out.rx_errors = Uint(v, "rxErrors");
  out.tx_bytes = Uint(v, "txBytes");
  out.tx_errors = Uint(v, "txErrors");
  return out;
}

// network: {name, rxBytes, ..., interfaces: [...]}. The top-level counters repeat the default
// interface; old kubelets (before `interfaces`) only have those, so they become one interface.
std::vector<InterfaceStats> ReadNetwork(const Value* v) {
  std::vector<InterfaceStats> out;
  if (v == nullptr) return out;
  if (const Value* list = ArrayMember(*v, "interfaces")) {
    for (const Value& i : list->GetArray()) {
      if (i.IsObject()) out.push_back(ReadInterface(i));
    }
    return out;
  }
  InterfaceStats only = ReadInterface(*v);
  if (!only.name.empty() || only.rx_bytes || only.tx_bytes) out.push_back(std::move(only));
  return out;
}

ContainerStats ReadContainer(const Value& v) {
  ContainerStats out;
  out.name = String(v, "name");
  out.cpu = ReadCpu(ObjectMember(v, "cpu"));
  out.memory = ReadMemory(ObjectMember(v, "memory"));
  out.rootfs = ReadFs(ObjectMember(v, "rootfs"));
  out.logs = ReadFs(ObjectMember(v, "logs"));
  return out;
}

std::vector<ContainerStats> ReadContainers(const Value* list) {
  std::vector<ContainerStats> out;
  if (list == nullptr) return out;
  for (const Value& c : list->GetArray()) {
    if (c.IsObject()) out.push_back(ReadContainer(c));
  }
  return out;
}

NodeStats ReadNode(const Value& v) {
  NodeStats out;
  out.node_name = String(v, "nodeName");
  out.cpu = ReadCpu(ObjectMember(v, "cpu"));
  out.memory = ReadMemory(ObjectMember(v, "memory"));
  out.interfaces = ReadNetwork(ObjectMember(v, "network"));
  out.fs = ReadFs(ObjectMember(v, "fs"));
  if (const Value* runtime = ObjectMember(v, "runtime")) {
    out.runtime_image_fs = ReadFs(ObjectMember(*runtime, "imageFs"));
  }
  if (const Value* rlimit = ObjectMember(v, "rlimit")) {
    out.rlimit_max_pid = Uint(*rlimit, "maxpid");
    out.rlimit_cur_proc = Uint(*rlimit, "curproc");
  }
  out.system_containers = ReadContainers(ArrayMember(v, "systemContainers"));
  return out;
}

PodStats ReadPod(const Value& v) {
  PodStats out;
  if (const Value* ref = ObjectMember(v, "podRef")) {
    out.uid = String(*ref, "uid");
    out.pod_namespace = String(*ref, "namespace");
    out.name = String(*ref, "name");
  }
  out.containers = ReadContainers(ArrayMember(v, "containers"));
  out.cpu = ReadCpu(ObjectMember(v, "cpu"));
  out.memory = ReadMemory(ObjectMember(v, "memory"));
  out.interfaces = ReadNetwork(ObjectMember(v, "network"));
  if (const Value* volumes = ArrayMember(v, "volume")) {
    for (const Value& vol : volumes->GetArray()) {
      if (!vol.IsObject()) continue;
      out.volumes.push_back(VolumeStats{String(vol, "name"), ReadFs(&vol)});
    }
  }
  out.ephemeral_storage = ReadFs(ObjectMember(v, "ephemeral-storage"));
  return out;
}

}  // namespace

absl::StatusOr<Summary> ParseSummary(std::string_view json) {
  KubeletParseDrops drops;
  return ParseSummary(json, KubeletParseLimits{}, &drops);
}

absl::StatusOr<Summary> ParseSummary(std::string_view json, const KubeletParseLimits& limits,
                                     KubeletParseDrops* drops) {
  rapidjson::Document doc;
  if (absl::Status s = kube_json::ParseFiltered(json, "/stats/summary", SummarySchema(), limits,
                                                drops, &doc);
      !s.ok()) {
    return s;
  }
  Summary out;
  if (const Value* node = ObjectMember(doc, "node")) out.node = ReadNode(*node);
  if (const Value* pods = ArrayMember(doc, "pods")) {
    out.pods.reserve(pods->Size());
    for (const Value& p : pods->GetArray()) {
      if (p.IsObject()) out.pods.push_back(ReadPod(p));
    }
  }
  return out;
}

}  // namespace nodeproc
