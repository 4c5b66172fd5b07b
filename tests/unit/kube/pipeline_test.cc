// The kube half of a scan as the agent wires it, over a fixture proc tree and recorded kubelet
// data: cgroup -> container id + pod uid (resolver), then names (enrichment), then the filter.
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kube/container_filter.h"
#include "kube/container_resolver.h"
#include "kube/enrichment.h"
#include "kube/pods_parser.h"
#include "kube/summary_parser.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/kube/kube_test_util.h"

namespace nodeproc {
namespace {

using ::nodeproc::testing::ReadKubeletFixture;

const std::string kWebUid = "1e7c3a5e-9d1b-4d3c-8c3a-0e2b6b1a7c11";
const std::string kNginx = "4f1e0b8b1c5bd0a3c6f1b0e0d1e9c3f3a1b2c3d4e5f60718293a4b5c6d7e8f90";
const std::string kLogger = std::string(63, 'b') + "2";
const std::string kSandbox = std::string(64, '9');

struct Fixture {
  testing::TempDir tmp;
  std::vector<ProcessRecord> procs;

  void Add(int32_t pid, const std::string& name, const std::string& cgroup) {
    std::string dir = tmp.path() + "/" + std::to_string(pid);
    mkdir(dir.c_str(), 0755);
    std::ofstream(dir + "/cgroup") << cgroup;
    ProcessRecord r;
    r.pid = pid;
    r.name = name;
    r.start_ticks = 1000 + static_cast<uint64_t>(pid);
    procs.push_back(r);
  }

  void Resolve() {
    ContainerResolver resolver(tmp.path());
    for (ProcessRecord& r : procs) r.container = resolver.Resolve(r.pid, r.start_ticks);
  }
};

std::string SystemdScope(const std::string& uid, const std::string& id) {
  std::string u = uid;
  for (char& c : u) {
    if (c == '-') c = '_';
  }
  return "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + u + ".slice/cri-containerd-" + id +
         ".scope\n";
}

TEST(KubePipelineTest, PodsPermissionGivesNamesAndFilterDropsRows) {
  Fixture f;
  f.Add(1, "systemd", "0::/init.scope\n");
  f.Add(200, "nginx", SystemdScope(kWebUid, kNginx));
  f.Add(201, "nginx", SystemdScope(kWebUid, kNginx));
  f.Add(202, "fluent-bit", SystemdScope(kWebUid, kLogger));
  f.Add(203, "pause", SystemdScope(kWebUid, kSandbox));
  f.Resolve();
  absl::StatusOr<std::vector<PodInfo>> pods = ParsePods(ReadKubeletFixture("pods-runtimes.json"));
  ASSERT_TRUE(pods.ok());
  EnrichProcesses(&f.procs, &*pods, nullptr);

  EXPECT_TRUE(f.procs[0].container.empty());
  EXPECT_EQ(f.procs[1].container.pod_namespace, "shop");
  EXPECT_EQ(f.procs[1].container.pod_name, "web-7d4b9c6f5-x2k8p");
  EXPECT_EQ(f.procs[1].container.container_name, "nginx");
  EXPECT_EQ(f.procs[3].container.container_name, "processing-logging");
  EXPECT_EQ(f.procs[4].container.pod_name, "web-7d4b9c6f5-x2k8p");
  EXPECT_EQ(f.procs[4].container.container_name, "");

  absl::StatusOr<ContainerFilter> filter = ContainerFilter::Create({}, {"name:nginx"});
  ASSERT_TRUE(filter.ok());
  filter->Apply(&f.procs, &*pods);
  std::vector<int32_t> left;
  for (const ProcessRecord& r : f.procs) left.push_back(r.pid);
  EXPECT_EQ(left, (std::vector<int32_t>{1, 202}));  // nginx by rule, pause by default
}

TEST(KubePipelineTest, StatsOnlyPermissionStillNamesNamespaceAndPod) {
  Fixture f;
  // Static pod (config-hash uid) from the recorded minikube summary, cgroupfs driver.
  f.Add(300, "kube-scheduler",
        "12:pids:/kubepods/burstable/pod5795d0c442cb997ff93c49feeb9f6386/" + std::string(64, '5') + "\n");
  f.Add(301, "server", SystemdScope("42ad382b-ed0b-446d-9aab-3fdce8b4f9e2", std::string(64, '6')));
  f.Resolve();
  absl::StatusOr<Summary> summary = ParseSummary(ReadKubeletFixture("stats-summary.json"));
  ASSERT_TRUE(summary.ok());
  EnrichProcesses(&f.procs, nullptr, &*summary);
  EXPECT_EQ(f.procs[0].container.pod_namespace, "kube-system");
  EXPECT_EQ(f.procs[0].container.pod_name, "kube-scheduler-minikube");
  EXPECT_EQ(f.procs[0].container.container_name, "kube-scheduler");
  EXPECT_EQ(f.procs[1].container.pod_namespace, "default");
  EXPECT_EQ(f.procs[1].container.pod_name, "go-hello-world-5456b4b8cd-99vxc");
  EXPECT_EQ(f.procs[1].container.container_name, "server");

  absl::StatusOr<ContainerFilter> filter = ContainerFilter::Create({}, {"namespace:kube-system"});
  ASSERT_TRUE(filter.ok());
  filter->Apply(&f.procs, nullptr);
  ASSERT_EQ(f.procs.size(), 1u);
  EXPECT_EQ(f.procs[0].pid, 301);
}

}  // namespace
}  // namespace nodeproc
