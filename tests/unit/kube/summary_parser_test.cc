#include "kube/summary_parser.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/kube/kube_test_util.h"

namespace nodeproc {
namespace {

using ::nodeproc::testing::ReadKubeletFixture;
using ::testing::HasSubstr;

const PodStats* FindPod(const Summary& s, const std::string& name) {
  for (const PodStats& p : s.pods) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

TEST(SummaryParserTest, NodeFromRecordedMinikube) {
  absl::StatusOr<Summary> s = ParseSummary(ReadKubeletFixture("stats-summary.json"));
  ASSERT_TRUE(s.ok()) << s.status();
  const NodeStats& n = s->node;
  EXPECT_EQ(n.node_name, "minikube");
  EXPECT_EQ(n.cpu.usage_nano_cores, 165737329u);
  EXPECT_EQ(n.cpu.usage_core_nano_seconds, 263475389988u);
  EXPECT_EQ(n.memory.available_bytes, 2620624896u);
  EXPECT_EQ(n.memory.usage_bytes, 3608727552u);
  EXPECT_EQ(n.memory.working_set_bytes, 1234567890u);
  EXPECT_EQ(n.memory.rss_bytes, 607125504u);
  EXPECT_EQ(n.memory.page_faults, 12345u);
  EXPECT_EQ(n.memory.major_page_faults, 12u);
  ASSERT_EQ(n.interfaces.size(), 2u);
  EXPECT_EQ(n.interfaces[0].name, "eth0");
  EXPECT_EQ(n.interfaces[0].rx_bytes, 948305524u);
  EXPECT_EQ(n.interfaces[0].tx_bytes, 12542266u);
  EXPECT_EQ(n.interfaces[0].rx_errors, 0u);
  EXPECT_EQ(n.interfaces[1].name, "sit0");
  EXPECT_EQ(n.fs.available_bytes, 13717454848u);
  EXPECT_EQ(n.fs.capacity_bytes, 17361125376u);
  EXPECT_EQ(n.fs.used_bytes, 2626973696u);
  EXPECT_EQ(n.fs.inodes_free, 9725586u);
  EXPECT_EQ(n.fs.inodes, 9768928u);
  EXPECT_EQ(n.fs.inodes_used, 43342u);
  EXPECT_EQ(n.runtime_image_fs.used_bytes, 5698399516u);
  EXPECT_EQ(n.rlimit_max_pid, 32768u);
  EXPECT_EQ(n.rlimit_cur_proc, 438u);
  ASSERT_EQ(n.system_containers.size(), 3u);
  EXPECT_EQ(n.system_containers[0].name, "kubelet");
  EXPECT_EQ(n.system_containers[0].cpu.usage_core_nano_seconds, 30950306756u);
  EXPECT_FALSE(n.system_containers[0].memory.available_bytes.has_value());  // absent in the file
  EXPECT_EQ(n.system_containers[2].name, "pods");
  EXPECT_EQ(n.system_containers[2].memory.available_bytes, 3640328192u);
}

TEST(SummaryParserTest, PodsFromRecordedMinikube) {
  absl::StatusOr<Summary> s = ParseSummary(ReadKubeletFixture("stats-summary.json"));
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->pods.size(), 9u);

  const PodStats* sched = FindPod(*s, "kube-scheduler-minikube");
  ASSERT_NE(sched, nullptr);
  EXPECT_EQ(sched->pod_namespace, "kube-system");
  EXPECT_EQ(sched->uid, "5795d0c442cb997ff93c49feeb9f6386");
  ASSERT_EQ(sched->containers.size(), 1u);
  const ContainerStats& c = sched->containers[0];
  EXPECT_EQ(c.name, "kube-scheduler");
  EXPECT_EQ(c.cpu.usage_nano_cores, 3438625u);
  EXPECT_EQ(c.cpu.usage_core_nano_seconds, 4560175707u);
  EXPECT_EQ(c.memory.working_set_bytes, 11640832u);
  EXPECT_EQ(c.memory.page_faults, 7260u);
  EXPECT_EQ(c.rootfs.used_bytes, 12288u);
  EXPECT_EQ(c.rootfs.inodes_used, 4u);
  EXPECT_EQ(c.logs.used_bytes, 36864u);
  EXPECT_EQ(sched->cpu.usage_core_nano_seconds, 4553997785u);
  EXPECT_EQ(sched->memory.usage_bytes, 14290944u);
  ASSERT_EQ(sched->interfaces.size(), 2u);
  EXPECT_EQ(sched->interfaces[0].rx_bytes, 948305362u);
  EXPECT_TRUE(sched->volumes.empty());
  EXPECT_EQ(sched->ephemeral_storage.used_bytes, 49152u);

  const PodStats* hello = FindPod(*s, "go-hello-world-5456b4b8cd-99vxc");
  ASSERT_NE(hello, nullptr);
  EXPECT_EQ(hello->pod_namespace, "default");
  EXPECT_EQ(hello->containers[0].cpu.usage_nano_cores, 0u);  // zero is a value, not "absent"
  ASSERT_EQ(hello->volumes.size(), 1u);
  EXPECT_EQ(hello->volumes[0].name, "default-token-wgfsl");
  EXPECT_EQ(hello->volumes[0].fs.capacity_bytes, 2015715328u);
  EXPECT_EQ(hello->volumes[0].fs.inodes_used, 9u);

  const PodStats* coredns = FindPod(*s, "coredns-66bff467f8-szddj");
  ASSERT_NE(coredns, nullptr);
  EXPECT_EQ(coredns->memory.available_bytes, 171323392u);
  ASSERT_EQ(coredns->volumes.size(), 2u);
  EXPECT_EQ(coredns->volumes[1].name, "coredns-token-dzc5t");
  ASSERT_EQ(coredns->interfaces.size(), 2u);
  EXPECT_EQ(coredns->interfaces[1].name, "eth0");
  EXPECT_EQ(coredns->interfaces[1].tx_bytes, 120484u);
}

TEST(SummaryParserTest, SecondScrapeCountersMoveAndVolumeWithoutMetrics) {
  absl::StatusOr<Summary> first = ParseSummary(ReadKubeletFixture("stats-summary.json"));
  absl::StatusOr<Summary> second = ParseSummary(ReadKubeletFixture("stats-summary-second-scrape.json"));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->node.cpu.usage_core_nano_seconds, 265475389988u);
  EXPECT_GT(*second->node.cpu.usage_core_nano_seconds, *first->node.cpu.usage_core_nano_seconds);
  const PodStats* hello = FindPod(*second, "go-hello-world-5456b4b8cd-99vxc");
  ASSERT_NE(hello, nullptr);
  ASSERT_EQ(hello->volumes.size(), 2u);
  EXPECT_EQ(hello->volumes[1].name, "test-missing-metrics");
  EXPECT_FALSE(hello->volumes[1].fs.used_bytes.has_value());
  EXPECT_FALSE(hello->volumes[1].fs.capacity_bytes.has_value());
  EXPECT_EQ(hello->containers[0].memory.available_bytes, 171589632u);
}

TEST(SummaryParserTest, EmptyObjectIsAnEmptySummary) {
  absl::StatusOr<Summary> s = ParseSummary("{}");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->pods.empty());
  EXPECT_EQ(s->node.node_name, "");
  EXPECT_FALSE(s->node.cpu.usage_nano_cores.has_value());
}

TEST(SummaryParserTest, MalformedInputIsInvalidArgumentWithOffset) {
  for (const char* bad : {"", "   ", "{", "{\"node\":", "{\"node\": {\"cpu\": {\"usageNanoCores\": 1,}}}",
                          "[1,2", "nul", "{} trailing", "{\"a\":\"\\u12\"}"}) {
    SCOPED_TRACE(bad);
    absl::StatusOr<Summary> s = ParseSummary(bad);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(s.status().message()), HasSubstr("offset"));
  }
}

TEST(SummaryParserTest, NonObjectDocumentIsInvalidArgument) {
  for (const char* bad : {"[]", "42", "\"x\"", "null", "true"}) {
    absl::StatusOr<Summary> s = ParseSummary(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(SummaryParserTest, TruncatedFixtureNeverCrashesAndFails) {
  std::string json = ReadKubeletFixture("stats-summary.json");
  // Every prefix that cuts the document is an error (the closing brace is the last byte before
  // the newline); stepping keeps the test fast.
  size_t end = json.rfind('}');
  for (size_t n = 0; n < end; n += 97) {
    absl::StatusOr<Summary> s = ParseSummary(std::string_view(json).substr(0, n));
    EXPECT_FALSE(s.ok()) << "prefix of " << n << " bytes parsed";
  }
}

TEST(SummaryParserTest, WrongTypesAreIgnored) {
  const char* json = R"({
    "node": {"nodeName": 7, "cpu": {"usageNanoCores": "12", "usageCoreNanoSeconds": -5},
             "memory": [1, 2], "network": {"interfaces": "eth0"}, "fs": {"usedBytes": 1.5, "inodes": 10.0},
             "rlimit": {"maxpid": true, "curproc": 99}, "systemContainers": {"name": "kubelet"},
             "runtime": "containerd"},
    "pods": [
      "not a pod", 3, null,
      {"podRef": "x", "containers": [7, {"name": ["a"], "cpu": {"usageNanoCores": 18446744073709551615}}],
       "volume": [{"name": "v", "usedBytes": 1e30}], "ephemeral-storage": 5, "network": null},
      {"podRef": {"uid": "u1", "namespace": "ns", "name": "p"}, "containers": "nope"}
    ]
  })";
  absl::StatusOr<Summary> s = ParseSummary(json);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->node.node_name, "");
  EXPECT_FALSE(s->node.cpu.usage_nano_cores.has_value());
  EXPECT_FALSE(s->node.cpu.usage_core_nano_seconds.has_value());
  EXPECT_FALSE(s->node.memory.usage_bytes.has_value());
  EXPECT_TRUE(s->node.interfaces.empty());
  EXPECT_FALSE(s->node.fs.used_bytes.has_value());  // 1.5 is not a count
  EXPECT_EQ(s->node.fs.inodes, 10u);                 // 10.0 is
  EXPECT_FALSE(s->node.rlimit_max_pid.has_value());
  EXPECT_EQ(s->node.rlimit_cur_proc, 99u);
  EXPECT_TRUE(s->node.system_containers.empty());
  ASSERT_EQ(s->pods.size(), 2u);
  EXPECT_EQ(s->pods[0].uid, "");
  ASSERT_EQ(s->pods[0].containers.size(), 1u);
  EXPECT_EQ(s->pods[0].containers[0].name, "");
  EXPECT_EQ(s->pods[0].containers[0].cpu.usage_nano_cores, 18446744073709551615u);
  ASSERT_EQ(s->pods[0].volumes.size(), 1u);
  EXPECT_FALSE(s->pods[0].volumes[0].fs.used_bytes.has_value());  // 1e30 does not fit
  EXPECT_EQ(s->pods[1].uid, "u1");
  EXPECT_EQ(s->pods[1].pod_namespace, "ns");
  EXPECT_TRUE(s->pods[1].containers.empty());
}

TEST(SummaryParserTest, OldKubeletNetworkWithoutInterfacesList) {
  absl::StatusOr<Summary> s =
      ParseSummary(R"({"pods":[{"podRef":{"uid":"u"},"network":{"name":"eth0","rxBytes":10,"txBytes":20}}]})");
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->pods[0].interfaces.size(), 1u);
  EXPECT_EQ(s->pods[0].interfaces[0].name, "eth0");
  EXPECT_EQ(s->pods[0].interfaces[0].rx_bytes, 10u);
  EXPECT_EQ(s->pods[0].interfaces[0].tx_bytes, 20u);
}

TEST(SummaryParserTest, DeepNestingDoesNotExhaustTheStack) {
  std::string deep = "{\"node\":" + std::string(200000, '[') + std::string(200000, ']') + "}";
  absl::StatusOr<Summary> s = ParseSummary(deep);
  ASSERT_TRUE(s.ok()) << s.status();  // valid JSON; node is not an object so it is ignored
  std::string open(300000, '[');
  EXPECT_FALSE(ParseSummary(open).ok());
}

}  // namespace
}  // namespace nodeproc
