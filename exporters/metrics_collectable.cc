#include "exporters/metrics_collectable.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "core/process_state.h"
#include "core/utf8.h"
#include "exporters/process_accounting.h"

namespace nodeproc {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  return family;
}

void AddSample(MetricFamily& family, Labels labels, double value) {
  ClientMetric metric;
  metric.label = std::move(labels);
  if (family.type == MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
}

template <typename T>
void AddOptional(MetricFamily& family, const Labels& labels, const std::optional<T>& value,
                 double scale = 1.0) {
  if (value.has_value()) AddSample(family, labels, static_cast<double>(*value) * scale);
}

// ---- processes -------------------------------------------------------------------------

constexpr std::array<const char*, 3> kWindows = {"5s", "2m", "1h"};

void RenderProcesses(const Snapshot& snapshot, const MetricsOptions& options,
                     std::vector<MetricFamily>& out) {
  std::shared_ptr<const ProcessSeriesSet> computed = snapshot.process_series;
  if (computed == nullptr) {
    // A one-off snapshot: render it as the first step of an accounting.
    AccountingOptions accounting;
    accounting.per_pid = options.per_pid;
    accounting.max_series = options.max_process_series;
    computed = ProcessAccounting(accounting).Observe(snapshot.taken_at, snapshot.processes);
  }
  const ProcessSeriesSet& set = *computed;

  auto labels_of = [&](const ProcessSeriesKey& key) {
    Labels labels = {{"namespace", key.pod_namespace},
                     {"pod", key.pod},
                     {"container", key.container},
                     {"name", key.name}};
    if (set.per_pid) labels.push_back({"pid", key.pid < 0 ? "" : std::to_string(key.pid)});
    return labels;
  };

  MetricFamily cpu_seconds = Family("nodeproc_process_cpu_seconds_total",
                                    "Cumulative user and system CPU time of the processes.",
                                    MetricType::Counter);
  MetricFamily cpu_usage = Family(
      "nodeproc_process_cpu_usage_ratio",
      "CPU usage of the processes over the window, in cores (CPU seconds per second).",
      MetricType::Gauge);
  MetricFamily rss = Family("nodeproc_process_resident_memory_bytes",
                            "Resident set size of the processes.", MetricType::Gauge);
  MetricFamily vms = Family("nodeproc_process_virtual_memory_bytes",
                            "Virtual memory size of the processes.", MetricType::Gauge);
  MetricFamily threads =
      Family("nodeproc_process_threads", "Threads of the processes.", MetricType::Gauge);
  MetricFamily fds = Family("nodeproc_process_open_fds", "Open file descriptors of the processes.",
                            MetricType::Gauge);
  MetricFamily read_bytes = Family("nodeproc_process_read_bytes_total",
                                   "Bytes the processes read from storage.", MetricType::Counter);
  MetricFamily write_bytes = Family("nodeproc_process_write_bytes_total",
                                    "Bytes the processes wrote to storage.", MetricType::Counter);
  MetricFamily start_time =
      Family("nodeproc_process_start_time_seconds",
             "Start time of the (oldest) process since the Unix epoch.", MetricType::Gauge);
  MetricFamily group_processes = Family("nodeproc_process_group_processes",
                                        "Processes in the series set.", MetricType::Gauge);

  for (const ProcessSeries& agg : set.series) {
    const Labels labels = labels_of(agg.key);
    AddSample(cpu_seconds, labels, agg.cpu_seconds);
    AddOptional(read_bytes, labels, agg.read_bytes);
    AddOptional(write_bytes, labels, agg.write_bytes);
    if (!set.per_pid || agg.fold) {
      AddSample(group_processes, labels, static_cast<double>(agg.processes));
    }
    if (agg.processes == 0) continue;  // members all gone: counters only, until the grace ends
    for (size_t i = 0; i < kWindows.size(); ++i) {
      if (!agg.cpu_pct[i]) continue;
      Labels with_window = labels;
      with_window.push_back({"window", kWindows[i]});
      AddSample(cpu_usage, std::move(with_window), *agg.cpu_pct[i] / 100.0);
    }
    AddSample(rss, labels, agg.rss);
    AddSample(vms, labels, agg.vms);
    AddSample(threads, labels, agg.threads);
    AddOptional(fds, labels, agg.fds);
    AddSample(start_time, labels, agg.start_time);
  }

  // Counts by status, per container.
  std::map<std::tuple<std::string, std::string, std::string, std::string_view>, uint64_t> states;
  for (const ProcessRecord& p : snapshot.processes) {
    ++states[{p.container.pod_namespace, p.container.pod_name, p.container.container_name,
              ProcessStateName(p.state)}];
  }
  MetricFamily by_status =
      Family("nodeproc_processes", "Processes by status.", MetricType::Gauge);
  for (const auto& [key, count] : states) {
    const auto& [ns, pod, container, status] = key;
    AddSample(by_status,
              {{"namespace", ns}, {"pod", pod}, {"container", container},
               {"status", std::string(status)}},
              static_cast<double>(count));
  }

  MetricFamily dropped_family =
      Family("nodeproc_process_series_dropped",
             "Series sets (pids in pid mode, groups in group mode) folded into name=\"other\" "
             "series because of --max-process-series.",
             MetricType::Gauge);
  AddSample(dropped_family, {}, static_cast<double>(set.folded));

  MetricFamily taken_at = Family("nodeproc_snapshot_timestamp_seconds",
                                 "When the rendered scan was taken, since the Unix epoch.",
                                 MetricType::Gauge);
  AddSample(taken_at, {}, absl::ToDoubleSeconds(snapshot.taken_at - absl::UnixEpoch()));

  for (MetricFamily* family : {&cpu_seconds, &cpu_usage, &rss, &vms, &threads, &fds, &read_bytes,
                               &write_bytes, &start_time, &group_processes, &by_status,
                               &dropped_family, &taken_at}) {
    out.push_back(std::move(*family));
  }
}

// ---- loaded packages (deep snapshot, --package-metrics) --------------------------------

void RenderLoadedPackages(const LoadedPackages& loaded, std::vector<MetricFamily>& out) {
  MetricFamily processes = Family(
      "nodeproc_loaded_package_processes",
      "Processes with at least one memory-mapped file of the package, per package and version "
      "(files phase of the latest deep snapshot).",
      MetricType::Gauge);
  std::vector<const LoadedPackage*> sorted;
  sorted.reserve(loaded.packages.size());
  for (const LoadedPackage& p : loaded.packages) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(), [](const LoadedPackage* a, const LoadedPackage* b) {
    return std::tie(a->name, a->version) < std::tie(b->name, b->version);
  });
  for (const LoadedPackage* p : sorted) {
    AddSample(processes, {{"package", p->name}, {"version", p->version}},
              static_cast<double>(p->processes));
  }
  MetricFamily dropped = Family("nodeproc_loaded_package_series_dropped",
                                "Package/version pairs left out of "
                                "nodeproc_loaded_package_processes by its series cap.",
                                MetricType::Gauge);
  AddSample(dropped, {}, static_cast<double>(loaded.dropped_series));
  MetricFamily counted_at = Family("nodeproc_loaded_packages_timestamp_seconds",
                                   "When the deep snapshot whose packages are rendered was "
                                   "taken, since the Unix epoch.",
                                   MetricType::Gauge);
  AddSample(counted_at, {}, absl::ToDoubleSeconds(loaded.counted_at - absl::UnixEpoch()));
  out.push_back(std::move(processes));
  out.push_back(std::move(dropped));
  out.push_back(std::move(counted_at));
}

// ---- kubelet summary -------------------------------------------------------------------

constexpr double kNano = 1e-9;

struct CpuMemFamilies {
  MetricFamily cpu_seconds, cpu_usage, working_set, rss, usage;

  explicit CpuMemFamilies(const std::string& scope, const std::string& what)
      : cpu_seconds(Family("nodeproc_" + scope + "_cpu_usage_seconds_total",
                           "Cumulative CPU time of the " + what + " (kubelet).",
                           MetricType::Counter)),
        cpu_usage(Family("nodeproc_" + scope + "_cpu_usage_ratio",
                         "CPU usage of the " + what + " in cores (kubelet).", MetricType::Gauge)),
        working_set(Family("nodeproc_" + scope + "_memory_working_set_bytes",
                           "Memory working set of the " + what + " (kubelet).",
                           MetricType::Gauge)),
        rss(Family("nodeproc_" + scope + "_memory_rss_bytes",
                   "Anonymous resident memory of the " + what + " (kubelet).", MetricType::Gauge)),
        usage(Family("nodeproc_" + scope + "_memory_usage_bytes",
                     "Total memory usage of the " + what + " (kubelet).", MetricType::Gauge)) {}

  void Add(const Labels& labels, const CpuStats& cpu, const MemoryStats& memory) {
    AddOptional(cpu_seconds, labels, cpu.usage_core_nano_seconds, kNano);
    AddOptional(cpu_usage, labels, cpu.usage_nano_cores, kNano);
    AddOptional(working_set, labels, memory.working_set_bytes);
    AddOptional(rss, labels, memory.rss_bytes);
    AddOptional(usage, labels, memory.usage_bytes);
  }

  void MoveTo(std::vector<MetricFamily>& out) {
    for (MetricFamily* f : {&cpu_seconds, &cpu_usage, &working_set, &rss, &usage}) {
      out.push_back(std::move(*f));
    }
  }
};

struct NetworkFamilies {
  MetricFamily rx_bytes, tx_bytes, rx_errors, tx_errors;

  explicit NetworkFamilies(const std::string& scope)
      : rx_bytes(Family("nodeproc_" + scope + "_network_receive_bytes_total",
                        "Bytes received on the interface (kubelet).", MetricType::Counter)),
        tx_bytes(Family("nodeproc_" + scope + "_network_transmit_bytes_total",
                        "Bytes sent on the interface (kubelet).", MetricType::Counter)),
        rx_errors(Family("nodeproc_" + scope + "_network_receive_errors_total",
                         "Receive errors on the interface (kubelet).", MetricType::Counter)),
        tx_errors(Family("nodeproc_" + scope + "_network_transmit_errors_total",
                         "Transmit errors on the interface (kubelet).", MetricType::Counter)) {}

  void Add(const Labels& base, const std::vector<InterfaceStats>& interfaces) {
    std::vector<const InterfaceStats*> sorted;
    for (const InterfaceStats& i : interfaces) sorted.push_back(&i);
    std::sort(sorted.begin(), sorted.end(),
              [](const InterfaceStats* a, const InterfaceStats* b) { return a->name < b->name; });
    for (const InterfaceStats* i : sorted) {
      Labels labels = base;
      labels.push_back({"interface", i->name});
      AddOptional(rx_bytes, labels, i->rx_bytes);
      AddOptional(tx_bytes, labels, i->tx_bytes);
      AddOptional(rx_errors, labels, i->rx_errors);
      AddOptional(tx_errors, labels, i->tx_errors);
    }
  }

  void MoveTo(std::vector<MetricFamily>& out) {
    for (MetricFamily* f : {&rx_bytes, &tx_bytes, &rx_errors, &tx_errors}) {
      out.push_back(std::move(*f));
    }
  }
};

void RenderSummary(const Summary& summary, const MetricsOptions& options,
                   std::vector<MetricFamily>& out) {
  auto included = [&](const PodStats& pod, const ContainerStats& c) {
    return !options.include_container ||
           options.include_container(pod.pod_namespace, pod.name, c.name);
  };

  std::vector<const PodStats*> pods;
  for (const PodStats& pod : summary.pods) {
    // A pod whose every container is filtered out is dropped as a whole.
    bool any = pod.containers.empty();
    for (const ContainerStats& c : pod.containers) any = any || included(pod, c);
    if (any) pods.push_back(&pod);
  }
  std::sort(pods.begin(), pods.end(), [](const PodStats* a, const PodStats* b) {
    return std::tie(a->pod_namespace, a->name, a->uid) <
           std::tie(b->pod_namespace, b->name, b->uid);
  });

  // Containers.
  CpuMemFamilies container("container", "container");
  MetricFamily rootfs = Family("nodeproc_container_rootfs_used_bytes",
                               "Writable layer usage of the container (kubelet).",
                               MetricType::Gauge);
  MetricFamily logs = Family("nodeproc_container_logs_used_bytes",
                             "Log files usage of the container (kubelet).", MetricType::Gauge);
  for (const PodStats* pod : pods) {
    std::vector<const ContainerStats*> containers;
    for (const ContainerStats& c : pod->containers) {
      if (included(*pod, c)) containers.push_back(&c);
    }
    std::sort(containers.begin(), containers.end(),
              [](const ContainerStats* a, const ContainerStats* b) { return a->name < b->name; });
    for (const ContainerStats* c : containers) {
      const Labels labels = {
          {"namespace", pod->pod_namespace}, {"pod", pod->name}, {"container", c->name}};
      container.Add(labels, c->cpu, c->memory);
      AddOptional(rootfs, labels, c->rootfs.used_bytes);
      AddOptional(logs, labels, c->logs.used_bytes);
    }
  }
  container.MoveTo(out);
  out.push_back(std::move(rootfs));
  out.push_back(std::move(logs));

  // Pods.
  CpuMemFamilies pod_cpu_mem("pod", "pod");
  NetworkFamilies pod_network("pod");
  MetricFamily ephemeral = Family("nodeproc_pod_ephemeral_storage_used_bytes",
                                  "Ephemeral storage used by the pod (kubelet).",
                                  MetricType::Gauge);
  MetricFamily volume_used = Family("nodeproc_pod_volume_used_bytes",
                                    "Bytes used on the pod volume (kubelet).", MetricType::Gauge);
  MetricFamily volume_capacity = Family("nodeproc_pod_volume_capacity_bytes",
                                        "Capacity of the pod volume (kubelet).", MetricType::Gauge);
  MetricFamily volume_inodes = Family("nodeproc_pod_volume_inodes",
                                      "Inodes of the pod volume (kubelet).", MetricType::Gauge);
  MetricFamily volume_inodes_used = Family("nodeproc_pod_volume_inodes_used",
                                           "Inodes used on the pod volume (kubelet).",
                                           MetricType::Gauge);
  for (const PodStats* pod : pods) {
    const Labels labels = {{"namespace", pod->pod_namespace}, {"pod", pod->name}};
    pod_cpu_mem.Add(labels, pod->cpu, pod->memory);
    pod_network.Add(labels, pod->interfaces);
    AddOptional(ephemeral, labels, pod->ephemeral_storage.used_bytes);
    std::vector<const VolumeStats*> volumes;
    for (const VolumeStats& v : pod->volumes) volumes.push_back(&v);
    std::sort(volumes.begin(), volumes.end(),
              [](const VolumeStats* a, const VolumeStats* b) { return a->name < b->name; });
    for (const VolumeStats* v : volumes) {
      Labels with_volume = labels;
      with_volume.push_back({"volume", v->name});
      AddOptional(volume_used, with_volume, v->fs.used_bytes);
      AddOptional(volume_capacity, with_volume, v->fs.capacity_bytes);
      AddOptional(volume_inodes, with_volume, v->fs.inodes);
      AddOptional(volume_inodes_used, with_volume, v->fs.inodes_used);
    }
  }
  pod_cpu_mem.MoveTo(out);
  pod_network.MoveTo(out);
  for (MetricFamily* f :
       {&ephemeral, &volume_used, &volume_capacity, &volume_inodes, &volume_inodes_used}) {
    out.push_back(std::move(*f));
  }

  // Node.
  const NodeStats& node = summary.node;
  const Labels none;
  CpuMemFamilies node_cpu_mem("node", "node");
  node_cpu_mem.Add(none, node.cpu, node.memory);
  node_cpu_mem.MoveTo(out);
  MetricFamily available = Family("nodeproc_node_memory_available_bytes",
                                  "Memory available on the node (kubelet).", MetricType::Gauge);
  AddOptional(available, none, node.memory.available_bytes);
  out.push_back(std::move(available));
  NetworkFamilies node_network("node");
  node_network.Add(none, node.interfaces);
  node_network.MoveTo(out);
  struct FsFamily {
    const char* name;
    const char* help;
    const std::optional<uint64_t>& value;
  };
  for (const FsFamily& f : std::initializer_list<FsFamily>{
           {"nodeproc_node_fs_used_bytes", "Bytes used on the kubelet root filesystem.",
            node.fs.used_bytes},
           {"nodeproc_node_fs_capacity_bytes", "Capacity of the kubelet root filesystem.",
            node.fs.capacity_bytes},
           {"nodeproc_node_fs_available_bytes", "Bytes available on the kubelet root filesystem.",
            node.fs.available_bytes},
           {"nodeproc_node_fs_inodes", "Inodes of the kubelet root filesystem.", node.fs.inodes},
           {"nodeproc_node_fs_inodes_used", "Inodes used on the kubelet root filesystem.",
            node.fs.inodes_used},
           {"nodeproc_node_imagefs_used_bytes", "Bytes used on the container image filesystem.",
            node.runtime_image_fs.used_bytes},
           {"nodeproc_node_imagefs_capacity_bytes", "Capacity of the container image filesystem.",
            node.runtime_image_fs.capacity_bytes},
           {"nodeproc_node_pids", "Running processes on the node (kubelet rlimit.curproc).",
            node.rlimit_cur_proc},
           {"nodeproc_node_pids_limit", "Process limit of the node (kubelet rlimit.maxpid).",
            node.rlimit_max_pid},
       }) {
    MetricFamily family = Family(f.name, f.help, MetricType::Gauge);
    AddOptional(family, none, f.value);
    out.push_back(std::move(family));
  }
}

}  // namespace

std::vector<prometheus::MetricFamily> RenderSnapshotMetrics(const Snapshot& snapshot,
                                                            const MetricsOptions& options) {
  std::vector<MetricFamily> families;
  RenderProcesses(snapshot, options, families);
  if (snapshot.loaded_packages) RenderLoadedPackages(*snapshot.loaded_packages, families);
  if (snapshot.kubelet_summary) RenderSummary(*snapshot.kubelet_summary, options, families);
  // A family without samples says nothing; leave it out of the exposition.
  families.erase(std::remove_if(families.begin(), families.end(),
                                [](const MetricFamily& f) { return f.metric.empty(); }),
                 families.end());
  return families;
}

MetricsCollectable::MetricsCollectable(SnapshotSource source, MetricsOptions options)
    : source_(std::move(source)), options_(std::move(options)) {}

std::vector<prometheus::MetricFamily> MetricsCollectable::Collect() const {
  std::shared_ptr<const Snapshot> snapshot = source_ ? source_() : nullptr;
  if (!snapshot) return {};
  return RenderSnapshotMetrics(*snapshot, options_);
}

}  // namespace nodeproc
