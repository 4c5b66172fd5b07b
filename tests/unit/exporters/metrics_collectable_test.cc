#include "exporters/metrics_collectable.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "exporters/process_accounting.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"
#include "tests/support/temp_dir.h"

namespace nodeproc {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

ProcessRecord Process(int32_t pid, std::string name, double cpu_seconds, uint64_t rss) {
  ProcessRecord p;
  p.pid = pid;
  p.ppid = 1;
  p.name = std::move(name);
  p.state = ProcessState::kSleeping;
  p.cpu_seconds = cpu_seconds;
  p.rss_bytes = rss;
  p.vms_bytes = rss * 4;
  p.threads = 1;
  p.start_time_unix = 1700000000 + pid;
  return p;
}

ProcessRecord InContainer(ProcessRecord p) {
  p.container.container_id = "abc123";
  p.container.pod_uid = "uid-1";
  p.container.pod_namespace = "default";
  p.container.pod_name = "web-0";
  p.container.container_name = "nginx";
  return p;
}

// Two host processes named "sshd" (one group), one container process, a one-pod summary.
std::shared_ptr<Snapshot> SmallSnapshot() {
  auto snap = std::make_shared<Snapshot>();
  snap->taken_at = absl::FromUnixSeconds(1800000000);

  ProcessRecord a = Process(100, "sshd", 1.5, 1000);
  a.fds = 5;
  a.read_bytes = 100;
  a.write_bytes = 10;
  a.cpu.pct_5s = 10;
  a.cpu.pct_2m = 20;
  ProcessRecord b = Process(200, "sshd", 2.5, 3000);
  b.fds = 7;  // io unreadable for this one
  b.state = ProcessState::kRunning;
  b.cpu.pct_5s = 30;
  ProcessRecord c = InContainer(Process(300, "nginx", 4, 2048));
  c.threads = 4;
  c.cpu.pct_5s = 150;
  c.cpu.pct_2m = 50;
  c.cpu.pct_1h = 25;
  snap->processes = {a, b, c};

  auto summary = std::make_shared<Summary>();
  summary->node.node_name = "node-1";
  summary->node.cpu.usage_nano_cores = 500000000;
  summary->node.memory.working_set_bytes = 4096;
  summary->node.rlimit_max_pid = 4194304;
  PodStats pod;
  pod.uid = "uid-1";
  pod.pod_namespace = "default";
  pod.name = "web-0";
  pod.cpu.usage_core_nano_seconds = 3000000000;
  pod.memory.working_set_bytes = 8192;
  pod.interfaces.push_back({"eth0", 10, 1, 20, 2});
  pod.volumes.push_back({"data", FsStats{std::nullopt, 1000, 100, std::nullopt, 50, 5}});
  pod.ephemeral_storage.used_bytes = 600;
  ContainerStats container;
  container.name = "nginx";
  container.cpu.usage_core_nano_seconds = 2500000000;
  container.cpu.usage_nano_cores = 250000000;
  container.memory.working_set_bytes = 2048;
  container.memory.rss_bytes = 1024;
  container.memory.usage_bytes = 4096;
  container.rootfs.used_bytes = 300;
  pod.containers.push_back(container);
  summary->pods.push_back(pod);
  snap->kubelet_summary = summary;
  snap->kubelet_age = absl::Seconds(2);
  return snap;
}

std::string Render(const Snapshot& snap, const MetricsOptions& options) {
  return prometheus::TextSerializer().Serialize(RenderSnapshotMetrics(snap, options));
}

constexpr char kGroupExposition[] = R"(# HELP nodeproc_process_cpu_seconds_total Cumulative user and system CPU time of the processes.
# TYPE nodeproc_process_cpu_seconds_total counter
nodeproc_process_cpu_seconds_total{namespace="",pod="",container="",name="sshd"} 4
nodeproc_process_cpu_seconds_total{namespace="default",pod="web-0",container="nginx",name="nginx"} 4
# HELP nodeproc_process_cpu_usage_ratio CPU usage of the processes over the window, in cores (CPU seconds per second).
# TYPE nodeproc_process_cpu_usage_ratio gauge
nodeproc_process_cpu_usage_ratio{namespace="",pod="",container="",name="sshd",window="5s"} 0.4
nodeproc_process_cpu_usage_ratio{namespace="",pod="",container="",name="sshd",window="2m"} 0.2
nodeproc_process_cpu_usage_ratio{namespace="default",pod="web-0",container="nginx",name="nginx",window="5s"} 1.5
nodeproc_process_cpu_usage_ratio{namespace="default",pod="web-0",container="nginx",name="nginx",window="2m"} 0.5
nodeproc_process_cpu_usage_ratio{namespace="default",pod="web-0",container="nginx",name="nginx",window="1h"} 0.25
# HELP nodeproc_process_resident_memory_bytes Resident set size of the processes.
# TYPE nodeproc_process_resident_memory_bytes gauge
nodeproc_process_resident_memory_bytes{namespace="",pod="",container="",name="sshd"} 4000
nodeproc_process_resident_memory_bytes{namespace="default",pod="web-0",container="nginx",name="nginx"} 2048
# HELP nodeproc_process_virtual_memory_bytes Virtual memory size of the processes.
# TYPE nodeproc_process_virtual_memory_bytes gauge
nodeproc_process_virtual_memory_bytes{namespace="",pod="",container="",name="sshd"} 16000
nodeproc_process_virtual_memory_bytes{namespace="default",pod="web-0",container="nginx",name="nginx"} 8192
# HELP nodeproc_process_threads Threads of the processes.
# TYPE nodeproc_process_threads gauge
nodeproc_process_threads{namespace="",pod="",container="",name="sshd"} 2
nodeproc_process_threads{namespace="default",pod="web-0",container="nginx",name="nginx"} 4
# HELP nodeproc_process_open_fds Open file descriptors of the processes.
# TYPE nodeproc_process_open_fds gauge
nodeproc_process_open_fds{namespace="",pod="",container="",name="sshd"} 12
# HELP nodeproc_process_read_bytes_total Bytes the processes read from storage.
# TYPE nodeproc_process_read_bytes_total counter
nodeproc_process_read_bytes_total{namespace="",pod="",container="",name="sshd"} 100
# HELP nodeproc_process_write_bytes_total Bytes the processes wrote to storage.
# TYPE nodeproc_process_write_bytes_total counter
nodeproc_process_write_bytes_total{namespace="",pod="",container="",name="sshd"} 10
# HELP nodeproc_process_start_time_seconds Start time of the (oldest) process since the Unix epoch.
# TYPE nodeproc_process_start_time_seconds gauge
nodeproc_process_start_time_seconds{namespace="",pod="",container="",name="sshd"} 1700000100
nodeproc_process_start_time_seconds{namespace="default",pod="web-0",container="nginx",name="nginx"} 1700000300
# HELP nodeproc_process_group_processes Processes in the series set.
# TYPE nodeproc_process_group_processes gauge
nodeproc_process_group_processes{namespace="",pod="",container="",name="sshd"} 2
nodeproc_process_group_processes{namespace="default",pod="web-0",container="nginx",name="nginx"} 1
# HELP nodeproc_processes Processes by status.
# TYPE nodeproc_processes gauge
nodeproc_processes{namespace="",pod="",container="",status="running"} 1
nodeproc_processes{namespace="",pod="",container="",status="sleeping"} 1
nodeproc_processes{namespace="default",pod="web-0",container="nginx",status="sleeping"} 1
# HELP nodeproc_process_series_dropped Series sets (pids in pid mode, groups in group mode) folded into name="other" series because of --max-process-series.
# TYPE nodeproc_process_series_dropped gauge
nodeproc_process_series_dropped 0
# HELP nodeproc_snapshot_timestamp_seconds When the rendered scan was taken, since the Unix epoch.
# TYPE nodeproc_snapshot_timestamp_seconds gauge
nodeproc_snapshot_timestamp_seconds 1800000000
# HELP nodeproc_container_cpu_usage_seconds_total Cumulative CPU time of the container (kubelet).
# TYPE nodeproc_container_cpu_usage_seconds_total counter
nodeproc_container_cpu_usage_seconds_total{namespace="default",pod="web-0",container="nginx"} 2.5
# HELP nodeproc_container_cpu_usage_ratio CPU usage of the container in cores (kubelet).
# TYPE nodeproc_container_cpu_usage_ratio gauge
nodeproc_container_cpu_usage_ratio{namespace="default",pod="web-0",container="nginx"} 0.25
# HELP nodeproc_container_memory_working_set_bytes Memory working set of the container (kubelet).
# TYPE nodeproc_container_memory_working_set_bytes gauge
nodeproc_container_memory_working_set_bytes{namespace="default",pod="web-0",container="nginx"} 2048
# HELP nodeproc_container_memory_rss_bytes Anonymous resident memory of the container (kubelet).
# TYPE nodeproc_container_memory_rss_bytes gauge
nodeproc_container_memory_rss_bytes{namespace="default",pod="web-0",container="nginx"} 1024
# HELP nodeproc_container_memory_usage_bytes Total memory usage of the container (kubelet).
# TYPE nodeproc_container_memory_usage_bytes gauge
nodeproc_container_memory_usage_bytes{namespace="default",pod="web-0",container="nginx"} 4096
# HELP nodeproc_container_rootfs_used_bytes Writable layer usage of the container (kubelet).
# TYPE nodeproc_container_rootfs_used_bytes gauge
nodeproc_container_rootfs_used_bytes{namespace="default",pod="web-0",container="nginx"} 300
# HELP nodeproc_pod_cpu_usage_seconds_total Cumulative CPU time of the pod (kubelet).
# TYPE nodeproc_pod_cpu_usage_seconds_total counter
nodeproc_pod_cpu_usage_seconds_total{namespace="default",pod="web-0"} 3
# HELP nodeproc_pod_memory_working_set_bytes Memory working set of the pod (kubelet).
# TYPE nodeproc_pod_memory_working_set_bytes gauge
nodeproc_pod_memory_working_set_bytes{namespace="default",pod="web-0"} 8192
# HELP nodeproc_pod_network_receive_bytes_total Bytes received on the interface (kubelet).
# TYPE nodeproc_pod_network_receive_bytes_total counter
nodeproc_pod_network_receive_bytes_total{namespace="default",pod="web-0",interface="eth0"} 10
# HELP nodeproc_pod_network_transmit_bytes_total Bytes sent on the interface (kubelet).
# TYPE nodeproc_pod_network_transmit_bytes_total counter
nodeproc_pod_network_transmit_bytes_total{namespace="default",pod="web-0",interface="eth0"} 20
# HELP nodeproc_pod_network_receive_errors_total Receive errors on the interface (kubelet).
# TYPE nodeproc_pod_network_receive_errors_total counter
nodeproc_pod_network_receive_errors_total{namespace="default",pod="web-0",interface="eth0"} 1
# HELP nodeproc_pod_network_transmit_errors_total Transmit errors on the interface (kubelet).
# TYPE nodeproc_pod_network_transmit_errors_total counter
nodeproc_pod_network_transmit_errors_total{namespace="default",pod="web-0",interface="eth0"} 2
# HELP nodeproc_pod_ephemeral_storage_used_bytes Ephemeral storage used by the pod (kubelet).
# TYPE nodeproc_pod_ephemeral_storage_used_bytes gauge
nodeproc_pod_ephemeral_storage_used_bytes{namespace="default",pod="web-0"} 600
# HELP nodeproc_pod_volume_used_bytes Bytes used on the pod volume (kubelet).
# TYPE nodeproc_pod_volume_used_bytes gauge
nodeproc_pod_volume_used_bytes{namespace="default",pod="web-0",volume="data"} 100
# HELP nodeproc_pod_volume_capacity_bytes Capacity of the pod volume (kubelet).
# TYPE nodeproc_pod_volume_capacity_bytes gauge
nodeproc_pod_volume_capacity_bytes{namespace="default",pod="web-0",volume="data"} 1000
# HELP nodeproc_pod_volume_inodes Inodes of the pod volume (kubelet).
# TYPE nodeproc_pod_volume_inodes gauge
nodeproc_pod_volume_inodes{namespace="default",pod="web-0",volume="data"} 50
# HELP nodeproc_pod_volume_inodes_used Inodes used on the pod volume (kubelet).
# TYPE nodeproc_pod_volume_inodes_used gauge
nodeproc_pod_volume_inodes_used{namespace="default",pod="web-0",volume="data"} 5
# HELP nodeproc_node_cpu_usage_ratio CPU usage of the node in cores (kubelet).
# TYPE nodeproc_node_cpu_usage_ratio gauge
nodeproc_node_cpu_usage_ratio 0.5
# HELP nodeproc_node_memory_working_set_bytes Memory working set of the node (kubelet).
# TYPE nodeproc_node_memory_working_set_bytes gauge
nodeproc_node_memory_working_set_bytes 4096
# HELP nodeproc_node_pids_limit Process limit of the node (kubelet rlimit.maxpid).
# TYPE nodeproc_node_pids_limit gauge
nodeproc_node_pids_limit 4194304
)";

TEST(MetricsCollectableTest, GroupModeExactExposition) {
  const std::string text = Render(*SmallSnapshot(), MetricsOptions{});
  EXPECT_EQ(text, kGroupExposition);
}

TEST(MetricsCollectableTest, CollectableUsesTheSourceAndRendersNothingWithoutSnapshot) {
  std::shared_ptr<const Snapshot> current;
  int calls = 0;
  MetricsCollectable collectable(
      [&] {
        ++calls;
        return current;
      },
      MetricsOptions{});
  EXPECT_TRUE(collectable.Collect().empty());
  current = SmallSnapshot();
  EXPECT_EQ(prometheus::TextSerializer().Serialize(collectable.Collect()), kGroupExposition);
  EXPECT_EQ(calls, 2);
}

TEST(MetricsCollectableTest, ExitedProcessesAndGonePodsLeaveNoSeries) {
  auto snap = SmallSnapshot();
  std::shared_ptr<const Snapshot> current = snap;
  MetricsCollectable collectable([&] { return current; }, MetricsOptions{});
  const std::string before = prometheus::TextSerializer().Serialize(collectable.Collect());
  ASSERT_THAT(before, HasSubstr("name=\"nginx\""));
  ASSERT_THAT(before, HasSubstr("pod=\"web-0\""));

  // The container process exits and the pod goes away; one sshd exits too.
  auto next = std::make_shared<Snapshot>(*snap);
  next->processes = {snap->processes[0]};
  next->kubelet_summary = std::make_shared<Summary>();
  current = next;
  const std::string after = prometheus::TextSerializer().Serialize(collectable.Collect());
  EXPECT_THAT(after, Not(HasSubstr("nginx")));
  EXPECT_THAT(after, Not(HasSubstr("web-0")));
  EXPECT_THAT(after, HasSubstr(
      "nodeproc_process_group_processes{namespace=\"\",pod=\"\",container=\"\",name=\"sshd\"} 1\n"));
  EXPECT_THAT(after, HasSubstr(
      "nodeproc_process_resident_memory_bytes{namespace=\"\",pod=\"\",container=\"\",name=\"sshd\"} 1000\n"));
  EXPECT_THAT(after, Not(HasSubstr("status=\"running\"")));
}

TEST(MetricsCollectableTest, PidModeCapsFoldsIntoOtherPerPodAndCountsDropped) {
  auto snap = std::make_shared<Snapshot>();
  snap->taken_at = absl::FromUnixSeconds(1800000000);
  // Ranked by 2m CPU, then RSS: 3 (cpu 90), 1 (cpu 50), then 2 and 4 by RSS.
  ProcessRecord p1 = InContainer(Process(1, "worker", 10, 100));
  p1.cpu.pct_2m = 50;
  ProcessRecord p2 = InContainer(Process(2, "worker", 20, 500));
  ProcessRecord p3 = Process(3, "busy", 30, 10);
  p3.cpu.pct_2m = 90;
  ProcessRecord p4 = Process(4, "idle", 40, 300);
  ProcessRecord p5 = Process(5, "tiny", 50, 5);
  snap->processes = {p1, p2, p3, p4, p5};

  MetricsOptions options;
  options.per_pid = true;
  options.max_process_series = 3;  // keeps 3, 1, 2; folds 4 and 5 (host) into one "other"
  const std::string text = Render(*snap, options);
  EXPECT_THAT(text, HasSubstr("nodeproc_process_resident_memory_bytes{namespace=\"\",pod=\"\","
                              "container=\"\",name=\"busy\",pid=\"3\"} 10\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_process_resident_memory_bytes{namespace=\"default\","
                              "pod=\"web-0\",container=\"nginx\",name=\"worker\",pid=\"1\"} 100\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_process_resident_memory_bytes{namespace=\"default\","
                              "pod=\"web-0\",container=\"nginx\",name=\"worker\",pid=\"2\"} 500\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_process_resident_memory_bytes{namespace=\"\",pod=\"\","
                              "container=\"\",name=\"other\",pid=\"\"} 305\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_process_cpu_seconds_total{namespace=\"\",pod=\"\","
                              "container=\"\",name=\"other\",pid=\"\"} 90\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_process_group_processes{namespace=\"\",pod=\"\","
                              "container=\"\",name=\"other\",pid=\"\"} 2\n"));
  EXPECT_THAT(text, Not(HasSubstr("name=\"idle\"")));
  EXPECT_THAT(text, Not(HasSubstr("name=\"tiny\"")));
  // group_processes only on the fold in pid mode.
  EXPECT_THAT(text, Not(HasSubstr("nodeproc_process_group_processes{namespace=\"\",pod=\"\","
                                  "container=\"\",name=\"busy\"")));
  EXPECT_THAT(text, HasSubstr("nodeproc_process_series_dropped 2\n"));

  // A cap of 1 keeps only pid 3 and folds the pod's two workers into the pod's own "other".
  options.max_process_series = 1;
  const std::string one = Render(*snap, options);
  EXPECT_THAT(one, HasSubstr("nodeproc_process_group_processes{namespace=\"default\","
                             "pod=\"web-0\",container=\"\",name=\"other\",pid=\"\"} 2\n"));
  EXPECT_THAT(one, HasSubstr("nodeproc_process_group_processes{namespace=\"\",pod=\"\","
                             "container=\"\",name=\"other\",pid=\"\"} 2\n"));
  EXPECT_THAT(one, HasSubstr("nodeproc_process_series_dropped 4\n"));

  // Without a binding cap nothing is folded.
  options.max_process_series = 100;
  const std::string all = Render(*snap, options);
  EXPECT_THAT(all, Not(HasSubstr("name=\"other\",pid")));
  EXPECT_THAT(all, HasSubstr("nodeproc_process_series_dropped 0\n"));
  EXPECT_THAT(all, HasSubstr("name=\"tiny\",pid=\"5\""));
}

TEST(MetricsCollectableTest, ContainerFilterDropsKubeletSeries) {
  MetricsOptions options;
  options.include_container = [](std::string_view, std::string_view, std::string_view c) {
    return c != "nginx";
  };
  const std::string text = Render(*SmallSnapshot(), options);
  EXPECT_THAT(text, Not(HasSubstr("nodeproc_container_")));
  // Its pod had no other container: gone as a whole.
  EXPECT_THAT(text, Not(HasSubstr("nodeproc_pod_")));
  EXPECT_THAT(text, HasSubstr("nodeproc_node_cpu_usage_ratio 0.5\n"));
}

TEST(MetricsCollectableTest, GroupModeFoldsKernelThreadInstancesByPrefix) {
  Snapshot snap;
  snap.taken_at = absl::FromUnixSeconds(1800000000);
  ProcessRecord k1 = Process(2, "kworker/0:1H-kblockd", 0, 0);
  k1.kernel_thread = true;
  ProcessRecord k2 = Process(3, "kworker/u4:2", 0, 0);
  k2.kernel_thread = true;
  ProcessRecord k3 = Process(4, "ksoftirqd/1", 0, 0);
  k3.kernel_thread = true;
  ProcessRecord user = Process(5, "a/b", 0, 0);  // a user process keeps its whole name
  snap.processes = {k1, k2, k3, user};
  const std::string text = Render(snap, MetricsOptions{});
  EXPECT_THAT(text, HasSubstr("nodeproc_process_group_processes{namespace=\"\",pod=\"\","
                              "container=\"\",name=\"kworker\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_process_group_processes{namespace=\"\",pod=\"\","
                              "container=\"\",name=\"ksoftirqd\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("name=\"a/b\"} 1\n"));
  // pid mode keeps the full name.
  MetricsOptions pid;
  pid.per_pid = true;
  EXPECT_THAT(Render(snap, pid), HasSubstr("name=\"kworker/u4:2\",pid=\"3\""));
}

TEST(MetricsCollectableTest, LabelValuesAreEscaped) {
  Snapshot snap;
  snap.taken_at = absl::FromUnixSeconds(1800000000);
  snap.processes = {Process(7, "we\"ird\\ (x)", 1, 1)};
  const std::string text = Render(snap, MetricsOptions{});
  EXPECT_THAT(text, HasSubstr("name=\"we\\\"ird\\\\ (x)\"} 1\n"));
}

std::shared_ptr<const LoadedPackages> SomeLoadedPackages() {
  auto loaded = std::make_shared<LoadedPackages>();
  loaded->counted_at = absl::FromUnixSeconds(1799999700);
  loaded->packages = {{"libc6", "2.36-9+deb12u4", 40}, {"zlib1g", "1:1.2.13", 12}, {"libssl3", "", 2}};
  loaded->dropped_series = 3;
  return loaded;
}

TEST(MetricsCollectableTest, LoadedPackagesOnlyWhenCounted) {
  auto snap = std::make_shared<Snapshot>(*SmallSnapshot());
  EXPECT_THAT(Render(*snap, MetricsOptions{}), Not(HasSubstr("nodeproc_loaded_package")));
  snap->loaded_packages = SomeLoadedPackages();
  const std::string text = Render(*snap, MetricsOptions{});
  EXPECT_THAT(text, HasSubstr("# TYPE nodeproc_loaded_package_processes gauge\n"
                              "nodeproc_loaded_package_processes{package=\"libc6\",version=\"2.36-9+deb12u4\"} 40\n"
                              "nodeproc_loaded_package_processes{package=\"libssl3\",version=\"\"} 2\n"
                              "nodeproc_loaded_package_processes{package=\"zlib1g\",version=\"1:1.2.13\"} 12\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_loaded_package_series_dropped 3\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_loaded_packages_timestamp_seconds 1799999700\n"));
}

// promtool (Debian package `prometheus`) must have nothing to say about the exposition.
TEST(MetricsCollectableTest, PromtoolCheckMetricsIsSilent) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool not installed (Debian package prometheus)";
  }
  MetricsOptions pid_options;
  pid_options.per_pid = true;
  pid_options.max_process_series = 1;
  for (const MetricsOptions& options : {MetricsOptions{}, pid_options}) {
    testing::TempDir dir;
    const std::string in = dir.path() + "/metrics.txt";
    const std::string out = dir.path() + "/promtool.out";
    {
      auto snap = std::make_shared<Snapshot>(*SmallSnapshot());
      snap->loaded_packages = SomeLoadedPackages();
      std::ofstream file(in);
      file << Render(*snap, options);
    }
    const int rc = std::system(("promtool check metrics < " + in + " > " + out + " 2>&1").c_str());
    std::ifstream result(out);
    const std::string verdict((std::istreambuf_iterator<char>(result)),
                              std::istreambuf_iterator<char>());
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(verdict, "") << "per_pid=" << options.per_pid;
  }
}

}  // namespace
}  // namespace nodeproc

namespace nodeproc {
namespace {

// The scanner's accounting rendered: a group whose only member exited keeps its counter (no
// gauges) until its grace period ends; the survivor's group keeps the exited member's CPU.
TEST(MetricsCollectableTest, RendersAccumulatedCountersOfGroupsWithExitedMembers) {
  ProcessAccounting accounting({});
  Snapshot first;
  first.taken_at = absl::FromUnixSeconds(1800000000);
  first.processes = {Process(1, "npburner", 2.0, 100), Process(2, "npburner", 2.5, 100),
                     Process(3, "oneshot", 1.0, 100)};
  first.process_series = accounting.Observe(first.taken_at, first.processes);
  EXPECT_THAT(Render(first, MetricsOptions{}),
              HasSubstr("nodeproc_process_cpu_seconds_total{namespace=\"\",pod=\"\",container=\"\","
                        "name=\"npburner\"} 4.5\n"));
  Snapshot second;
  second.taken_at = first.taken_at + absl::Seconds(5);
  second.processes = {Process(1, "npburner", 2.25, 100)};
  second.process_series = accounting.Observe(second.taken_at, second.processes);
  const std::string text = Render(second, MetricsOptions{});
  // 4.5 -> 4.75, never 4.5 -> 2.25.
  EXPECT_THAT(text, HasSubstr("nodeproc_process_cpu_seconds_total{namespace=\"\",pod=\"\",container=\"\","
                              "name=\"npburner\"} 4.75\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_process_cpu_seconds_total{namespace=\"\",pod=\"\",container=\"\","
                              "name=\"oneshot\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("nodeproc_process_group_processes{namespace=\"\",pod=\"\",container=\"\","
                              "name=\"oneshot\"} 0\n"));
  EXPECT_THAT(text, Not(HasSubstr("nodeproc_process_resident_memory_bytes{namespace=\"\",pod=\"\","
                                  "container=\"\",name=\"oneshot\"}")));
}

}  // namespace
}  // namespace nodeproc
