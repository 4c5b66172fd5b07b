// SnapshotPipeline as the scanner uses it, over a fake probe and a kubelet cache fed by fake
// parsers: kubelet data past --kubelet-max-age is not used, a pod whose every container is
// excluded is dropped as a whole, exit records are resolved and enriched like live processes.
#include "agent/snapshot_pipeline.h"

#include <string>
#include <vector>

#include "exporters/metrics_collectable.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace nodeproc {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kWebUid = "1e7c3a5e-9d1b-4d3c-8c3a-0e2b6b1a7c11";
const std::string kSysUid = "2e7c3a5e-9d1b-4d3c-8c3a-0e2b6b1a7c22";
const std::string kWebId = std::string(64, 'a');

std::string CgroupPath(const std::string& uid, const std::string& id) {
  return "/kubepods/burstable/pod" + uid + "/" + id;
}

class FakeProbe : public Probe {
 public:
  absl::Status Scan(std::vector<ProcessRecord>* out) override {
    *out = live;
    return absl::OkStatus();
  }
  absl::Status SampleCpu(std::vector<CpuSample>* out) override {
    out->clear();
    return absl::OkStatus();
  }
  void DrainExits(std::vector<ExitRecord>* out) override {
    *out = exits;
    exits.clear();
  }
  std::vector<ProcessRecord> live;
  std::vector<ExitRecord> exits;
};

class NullSource : public KubeletSource {
 public:
  absl::StatusOr<std::string> Fetch(std::string_view) override { return std::string("{}"); }
};

Summary TwoPods() {
  Summary s;
  PodStats web;
  web.uid = kWebUid;
  web.pod_namespace = "shop";
  web.name = "web";
  web.containers.push_back(ContainerStats{.name = "nginx"});
  web.memory.working_set_bytes = 100;
  PodStats sys;
  sys.uid = kSysUid;
  sys.pod_namespace = "kube-system";
  sys.name = "coredns";
  sys.containers.push_back(ContainerStats{.name = "coredns"});
  sys.containers.push_back(ContainerStats{.name = "sidecar"});
  sys.memory.working_set_bytes = 200;
  s.pods = {web, sys};
  return s;
}

struct World {
  FakeProbe probe;
  NullSource source;
  absl::Time kubelet_clock = absl::Now();
  std::unique_ptr<KubeletCache> cache;
  ContainerFilter filter;

  explicit World(std::vector<std::string> exclude = {}) {
    auto f = ContainerFilter::Create({}, exclude);
    EXPECT_TRUE(f.ok()) << f.status();
    filter = *std::move(f);
    KubeletCacheOptions options;
    options.background = false;
    options.fetch_pods = false;
    options.parse_summary = [](std::string_view) -> absl::StatusOr<Summary> { return TwoPods(); };
    options.now = [this] { return kubelet_clock; };
    cache = std::make_unique<KubeletCache>(&source, options);
    ProcessRecord p;
    p.pid = 10;
    p.start_ticks = 5;
    p.name = "nginx";
    p.cpu_seconds = 1;
    p.container.container_id = kWebId;
    p.container.pod_uid = kWebUid;
    probe.live = {p};
  }

  absl::StatusOr<std::shared_ptr<Snapshot>> Build(absl::Duration max_age) {
    cache->RefreshNow();
    PipelineParts parts;
    parts.probe = &probe;
    parts.kubelet = cache.get();
    parts.filter = &filter;
    parts.kubelet_max_age = max_age;
    SnapshotPipeline pipeline(parts);
    return pipeline.Build();
  }
};

TEST(SnapshotPipelineTest, KubeletDataPastMaxAgeIsNotUsed) {
  World fresh;
  auto snap = fresh.Build(absl::Seconds(60));
  ASSERT_TRUE(snap.ok()) << snap.status();
  ASSERT_NE((*snap)->kubelet_summary, nullptr);
  EXPECT_FALSE((*snap)->kubelet_stale);
  EXPECT_EQ((*snap)->processes.at(0).container.pod_name, "web");

  World old;
  old.kubelet_clock = absl::Now() - absl::Seconds(61);  // the last success was 61 s ago
  auto stale = old.Build(absl::Seconds(60));
  ASSERT_TRUE(stale.ok()) << stale.status();
  EXPECT_EQ((*stale)->kubelet_summary, nullptr);
  EXPECT_TRUE((*stale)->kubelet_stale);
  EXPECT_EQ((*stale)->kubelet_fetched_at, absl::InfinitePast());
  // The pod uid and container id come from the cgroup (not the kubelet) and stay; the names go.
  const ProcessRecord& p = (*stale)->processes.at(0);
  EXPECT_EQ(p.container.pod_uid, kWebUid);
  EXPECT_EQ(p.container.pod_name, "");
  EXPECT_EQ(p.container.pod_namespace, "");
  const std::string text =
      prometheus::TextSerializer().Serialize(RenderSnapshotMetrics(**stale, MetricsOptions{}));
  EXPECT_THAT(text, Not(HasSubstr("nodeproc_pod_")));
  EXPECT_THAT(text, Not(HasSubstr("pod=\"web\"")));
}

TEST(SnapshotPipelineTest, PodWhoseEveryContainerIsExcludedIsDroppedWhole) {
  World world({"namespace:kube-system"});
  auto snap = world.Build(absl::InfiniteDuration());
  ASSERT_TRUE(snap.ok()) << snap.status();
  ASSERT_NE((*snap)->kubelet_summary, nullptr);
  ASSERT_EQ((*snap)->kubelet_summary->pods.size(), 1u);
  EXPECT_EQ((*snap)->kubelet_summary->pods[0].name, "web");
  const std::string text =
      prometheus::TextSerializer().Serialize(RenderSnapshotMetrics(**snap, MetricsOptions{}));
  EXPECT_THAT(text, HasSubstr("nodeproc_pod_memory_working_set_bytes{namespace=\"shop\",pod=\"web\"} 100"));
  EXPECT_THAT(text, Not(HasSubstr("coredns")));
  EXPECT_THAT(text, Not(HasSubstr("kube-system")));

  // Only one container excluded: the pod stays, with the other one.
  World partial({"name:sidecar"});
  auto kept = partial.Build(absl::InfiniteDuration());
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ((*kept)->kubelet_summary->pods.size(), 2u);
  EXPECT_EQ((*kept)->kubelet_summary->pods[1].containers.size(), 1u);
}

TEST(SnapshotPipelineTest, ExitRecordsAreResolvedAndEnrichedLikeLiveProcesses) {
  World world;
  ExitRecord in_pod;
  in_pod.pid = 77;
  in_pod.start_ticks = 900;
  in_pod.name = "curl";
  in_pod.cgroup_path = CgroupPath(kWebUid, kWebId);
  in_pod.cpu_seconds = 0.25;
  in_pod.read_bytes = 4096;
  ExitRecord host;
  host.pid = 78;
  host.name = "cron";
  host.cgroup_path = "/system.slice/cron.service";
  host.cpu_seconds = 0.5;
  ExitRecord excluded;
  excluded.pid = 79;
  excluded.name = "dns";
  excluded.cgroup_path = CgroupPath(kSysUid, std::string(64, 'b'));
  world.probe.exits = {in_pod, host, excluded};
  world.filter = *ContainerFilter::Create({}, {"namespace:kube-system"});
  auto snap = world.Build(absl::InfiniteDuration());
  ASSERT_TRUE(snap.ok()) << snap.status();
  const auto& exited = (*snap)->exited;
  ASSERT_EQ(exited.size(), 2u);  // the kube-system one is filtered like a live process
  EXPECT_EQ(exited[0].pid, 77);
  EXPECT_EQ(exited[0].container.pod_uid, kWebUid);
  EXPECT_EQ(exited[0].container.pod_namespace, "shop");
  EXPECT_EQ(exited[0].container.pod_name, "web");
  EXPECT_EQ(exited[0].start_ticks, 900u);
  EXPECT_DOUBLE_EQ(exited[0].cpu_seconds, 0.25);
  EXPECT_EQ(exited[0].read_bytes, 4096u);
  EXPECT_TRUE(exited[1].container.empty());
  // The procfs probe yields none: the default DrainExits clears.
  std::vector<ExitRecord> none = {in_pod};
  struct Plain : Probe {
    absl::Status Scan(std::vector<ProcessRecord>*) override { return absl::OkStatus(); }
    absl::Status SampleCpu(std::vector<CpuSample>*) override { return absl::OkStatus(); }
  } plain;
  plain.DrainExits(&none);
  EXPECT_TRUE(none.empty());
}

}  // namespace
}  // namespace nodeproc
