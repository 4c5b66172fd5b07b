#include "kube/enrichment.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kube/pods_parser.h"
#include "kube/summary_parser.h"
#include "tests/unit/kube/kube_test_util.h"

namespace nodeproc {
namespace {

using ::nodeproc::testing::ReadKubeletFixture;

const std::string kNginxId = "4f1e0b8b1c5bd0a3c6f1b0e0d1e9c3f3a1b2c3d4e5f60718293a4b5c6d7e8f90";
const std::string kWebUid = "1e7c3a5e-9d1b-4d3c-8c3a-0e2b6b1a7c11";

ProcessRecord Proc(int32_t pid, std::string name, std::string container_id, std::string pod_uid) {
  ProcessRecord r;
  r.pid = pid;
  r.name = std::move(name);
  r.container.container_id = std::move(container_id);
  r.container.pod_uid = std::move(pod_uid);
  return r;
}

std::vector<PodInfo> RuntimesPods() {
  absl::StatusOr<std::vector<PodInfo>> pods = ParsePods(ReadKubeletFixture("pods-runtimes.json"));
  EXPECT_TRUE(pods.ok());
  return pods.ok() ? *pods : std::vector<PodInfo>{};
}

Summary MinikubeSummary() {
  absl::StatusOr<Summary> s = ParseSummary(ReadKubeletFixture("stats-summary.json"));
  EXPECT_TRUE(s.ok());
  return s.ok() ? *s : Summary{};
}

TEST(EnrichmentTest, ByContainerIdFromPods) {
  std::vector<PodInfo> pods = RuntimesPods();
  std::vector<ProcessRecord> procs = {Proc(10, "nginx", kNginxId, kWebUid),
                                      Proc(11, "sh", std::string(63, 'c') + "3", "")};  // debug container, uid unknown
  EnrichProcesses(&procs, &pods, nullptr);
  EXPECT_EQ(procs[0].container.pod_namespace, "shop");
  EXPECT_EQ(procs[0].container.pod_name, "web-7d4b9c6f5-x2k8p");
  EXPECT_EQ(procs[0].container.container_name, "nginx");
  EXPECT_EQ(procs[0].container.image, "nginx:1.25");
  EXPECT_EQ(procs[1].container.container_name, "debugger-abc12");
  EXPECT_EQ(procs[1].container.pod_uid, kWebUid);  // filled from /pods
  EXPECT_EQ(procs[1].container.image, "busybox:1.36");
}

TEST(EnrichmentTest, UnknownIdInKnownPodIsPodOnly) {
  std::vector<PodInfo> pods = RuntimesPods();
  // The sandbox (pause) has an id the kubelet does not list.
  std::vector<ProcessRecord> procs = {Proc(20, "pause", std::string(64, 'e'), kWebUid)};
  EnrichProcesses(&procs, &pods, nullptr);
  EXPECT_EQ(procs[0].container.pod_namespace, "shop");
  EXPECT_EQ(procs[0].container.pod_name, "web-7d4b9c6f5-x2k8p");
  EXPECT_EQ(procs[0].container.container_name, "");
  EXPECT_EQ(procs[0].container.image, "");
}

TEST(EnrichmentTest, SummaryOnlyJoinsOnPodUid) {
  Summary summary = MinikubeSummary();
  std::vector<ProcessRecord> procs = {
      Proc(30, "kube-scheduler", std::string(64, '1'), "5795d0c442cb997ff93c49feeb9f6386"),
      Proc(31, "pause", std::string(64, '2'), "5795d0c442cb997ff93c49feeb9f6386"),
      Proc(32, "conmon", "", "42ad382b-ed0b-446d-9aab-3fdce8b4f9e2"),
      Proc(33, "x", std::string(64, '3'), "00000000-0000-0000-0000-000000000000"),
  };
  EnrichProcesses(&procs, nullptr, &summary);
  EXPECT_EQ(procs[0].container.pod_namespace, "kube-system");
  EXPECT_EQ(procs[0].container.pod_name, "kube-scheduler-minikube");
  EXPECT_EQ(procs[0].container.container_name, "kube-scheduler");  // the only container
  EXPECT_EQ(procs[0].container.image, "");
  EXPECT_EQ(procs[1].container.pod_name, "kube-scheduler-minikube");
  EXPECT_EQ(procs[1].container.container_name, "");  // the sandbox is not the app container
  EXPECT_EQ(procs[2].container.pod_namespace, "default");
  EXPECT_EQ(procs[2].container.pod_name, "go-hello-world-5456b4b8cd-99vxc");
  EXPECT_EQ(procs[2].container.container_name, "");  // no container id: not a container
  EXPECT_EQ(procs[3].container.pod_namespace, "");   // unknown pod
  EXPECT_EQ(procs[3].container.container_id, std::string(64, '3'));
}

TEST(EnrichmentTest, SummaryContainerNameOnlyWhenUnambiguous) {
  Summary summary;
  PodStats p;
  p.uid = "u-two";
  p.pod_namespace = "ns";
  p.name = "two";
  p.containers.resize(2);
  p.containers[0].name = "a";
  p.containers[1].name = "b";
  summary.pods.push_back(p);
  std::vector<ProcessRecord> procs = {Proc(1, "a", std::string(64, 'a'), "u-two")};
  EnrichProcesses(&procs, nullptr, &summary);
  EXPECT_EQ(procs[0].container.pod_name, "two");
  EXPECT_EQ(procs[0].container.container_name, "");
}

TEST(EnrichmentTest, PodsWinOverSummary) {
  std::vector<PodInfo> pods = RuntimesPods();
  Summary summary;
  PodStats p;
  p.uid = kWebUid;
  p.pod_namespace = "stale";
  p.name = "stale";
  summary.pods.push_back(p);
  std::vector<ProcessRecord> procs = {Proc(1, "nginx", kNginxId, kWebUid)};
  EnrichProcesses(&procs, &pods, &summary);
  EXPECT_EQ(procs[0].container.pod_namespace, "shop");
}

TEST(EnrichmentTest, HostProcessesAndNoKubeletDataAreLeftAlone) {
  std::vector<PodInfo> pods = RuntimesPods();
  Summary summary = MinikubeSummary();
  std::vector<ProcessRecord> procs = {Proc(1, "systemd", "", ""), Proc(2, "nginx", kNginxId, kWebUid)};
  EnrichProcesses(&procs, &pods, &summary);
  EXPECT_TRUE(procs[0].container.empty());
  EXPECT_EQ(procs[0].container, ContainerRef{});
  // Host-only mode: nothing to join with; the cgroup fields stay.
  std::vector<ProcessRecord> alone = {Proc(2, "nginx", kNginxId, kWebUid)};
  EnrichProcesses(&alone, nullptr, nullptr);
  EXPECT_EQ(alone[0].container.container_id, kNginxId);
  EXPECT_EQ(alone[0].container.pod_uid, kWebUid);
  EXPECT_EQ(alone[0].container.pod_name, "");
  EnrichProcesses(nullptr, &pods, &summary);  // no crash
}

}  // namespace
}  // namespace nodeproc
