// Kubelet /stats/summary parse of 110 pods x 3 containers: nodeproc's RapidJSON parser
// (kube/summary_parser.h) against a reference nlohmann_json parse of the same document into
// the same struct (written here). Target: under 2 ms.
#include <string>
#include <string_view>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "bench/bench_support.h"
#include "core/pod_stats.h"

#if __has_include("kube/summary_parser.h")
#include "kube/summary_parser.h"
#define NODEPROC_BENCH_HAVE_SUMMARY_PARSER 1
#endif

namespace nodeproc::bench {
namespace {

using nlohmann::json;

void U64(const json& j, const char* key, std::optional<uint64_t>* out) {
  auto it = j.find(key);
  if (it != j.end() && it->is_number_unsigned()) *out = it->get<uint64_t>();
}
std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
void Cpu(const json& j, CpuStats* out) {
  auto it = j.find("cpu");
  if (it == j.end() || !it->is_object()) return;
  U64(*it, "usageNanoCores", &out->usage_nano_cores);
  U64(*it, "usageCoreNanoSeconds", &out->usage_core_nano_seconds);
}
void Memory(const json& j, MemoryStats* out) {
  auto it = j.find("memory");
  if (it == j.end() || !it->is_object()) return;
  U64(*it, "availableBytes", &out->available_bytes);
  U64(*it, "usageBytes", &out->usage_bytes);
  U64(*it, "workingSetBytes", &out->working_set_bytes);
  U64(*it, "rssBytes", &out->rss_bytes);
  U64(*it, "pageFaults", &out->page_faults);
  U64(*it, "majorPageFaults", &out->major_page_faults);
}
void Fs(const json& j, FsStats* out) {
  if (!j.is_object()) return;
  U64(j, "availableBytes", &out->available_bytes);
  U64(j, "capacityBytes", &out->capacity_bytes);
  U64(j, "usedBytes", &out->used_bytes);
  U64(j, "inodesFree", &out->inodes_free);
  U64(j, "inodes", &out->inodes);
  U64(j, "inodesUsed", &out->inodes_used);
}
void FsAt(const json& j, const char* key, FsStats* out) {
  auto it = j.find(key);
  if (it != j.end()) Fs(*it, out);
}
void Interfaces(const json& j, std::vector<InterfaceStats>* out) {
  auto net = j.find("network");
  if (net == j.end() || !net->is_object()) return;
  auto ifs = net->find("interfaces");
  if (ifs == net->end() || !ifs->is_array()) return;
  for (const json& i : *ifs) {
    InterfaceStats s;
    s.name = Str(i, "name");
    U64(i, "rxBytes", &s.rx_bytes);
    U64(i, "rxErrors", &s.rx_errors);
    U64(i, "txBytes", &s.tx_bytes);
    U64(i, "txErrors", &s.tx_errors);
    out->push_back(std::move(s));
  }
}
void Containers(const json& j, const char* key, std::vector<ContainerStats>* out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return;
  for (const json& c : *it) {
    ContainerStats s;
    s.name = Str(c, "name");
    Cpu(c, &s.cpu);
    Memory(c, &s.memory);
    FsAt(c, "rootfs", &s.rootfs);
    FsAt(c, "logs", &s.logs);
    out->push_back(std::move(s));
  }
}

// The reference: same document, same struct, nlohmann_json DOM (non-throwing parse).
bool ParseSummaryNlohmann(std::string_view text, Summary* out) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return false;
  *out = Summary();
  if (auto node = doc.find("node"); node != doc.end() && node->is_object()) {
    out->node.node_name = Str(*node, "nodeName");
    Cpu(*node, &out->node.cpu);
    Memory(*node, &out->node.memory);
    Interfaces(*node, &out->node.interfaces);
    FsAt(*node, "fs", &out->node.fs);
    if (auto rt = node->find("runtime"); rt != node->end() && rt->is_object()) {
      FsAt(*rt, "imageFs", &out->node.runtime_image_fs);
    }
    if (auto rl = node->find("rlimit"); rl != node->end() && rl->is_object()) {
      U64(*rl, "maxpid", &out->node.rlimit_max_pid);
      U64(*rl, "curproc", &out->node.rlimit_cur_proc);
    }
    Containers(*node, "systemContainers", &out->node.system_containers);
  }
  if (auto pods = doc.find("pods"); pods != doc.end() && pods->is_array()) {
    out->pods.reserve(pods->size());
    for (const json& p : *pods) {
      PodStats pod;
      if (auto ref = p.find("podRef"); ref != p.end() && ref->is_object()) {
        pod.uid = Str(*ref, "uid");
        pod.pod_namespace = Str(*ref, "namespace");
        pod.name = Str(*ref, "name");
      }
      Containers(p, "containers", &pod.containers);
      Cpu(p, &pod.cpu);
      Memory(p, &pod.memory);
      Interfaces(p, &pod.interfaces);
      if (auto vols = p.find("volume"); vols != p.end() && vols->is_array()) {
        for (const json& v : *vols) {
          VolumeStats vs;
          vs.name = Str(v, "name");
          Fs(v, &vs.fs);
          pod.volumes.push_back(std::move(vs));
        }
      }
      FsAt(p, "ephemeral-storage", &pod.ephemeral_storage);
      out->pods.push_back(std::move(pod));
    }
  }
  return true;
}

const std::string& SummaryDoc() {
  static const std::string* doc = new std::string(GenerateSummaryJson(110, 3));
  return *doc;
}

void BM_ParseSummaryNlohmann(benchmark::State& state) {
  const std::string& doc = SummaryDoc();
  Summary s;
  if (!ParseSummaryNlohmann(doc, &s) || s.pods.size() != 110 || s.pods[0].containers.size() != 3) {
    state.SkipWithError("reference parse of the generated summary failed");
    return;
  }
  for (auto _ : state) {
    bool ok = ParseSummaryNlohmann(doc, &s);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(s.pods.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * doc.size()));
  state.counters["pods"] = static_cast<double>(s.pods.size());
  state.counters["doc_bytes"] = static_cast<double>(doc.size());
}
BENCHMARK(BM_ParseSummaryNlohmann)->Unit(benchmark::kMicrosecond);

#ifdef NODEPROC_BENCH_HAVE_SUMMARY_PARSER
void BM_ParseSummaryRapidJson(benchmark::State& state) {
  const std::string& doc = SummaryDoc();
  Summary reference;
  ParseSummaryNlohmann(doc, &reference);
  auto first = ParseSummary(doc);
  if (!first.ok() || first->pods.size() != reference.pods.size() ||
      first->pods[0].containers.size() != reference.pods[0].containers.size() ||
      first->pods[109].uid != reference.pods[109].uid ||
      first->pods[109].containers[2].memory.working_set_bytes !=
          reference.pods[109].containers[2].memory.working_set_bytes) {
    state.SkipWithError("ParseSummary disagrees with the reference parse");
    return;
  }
  size_t pods = 0;
  for (auto _ : state) {
    auto s = ParseSummary(doc);
    pods = s.ok() ? s->pods.size() : 0;
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * doc.size()));
  state.counters["pods"] = static_cast<double>(pods);
}
BENCHMARK(BM_ParseSummaryRapidJson)->Unit(benchmark::kMicrosecond);
#endif

}  // namespace
}  // namespace nodeproc::bench
