#include "kube/container_filter.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kube/enrichment.h"
#include "kube/pods_parser.h"
#include "tests/unit/kube/kube_test_util.h"

namespace nodeproc {
namespace {

using ::testing::HasSubstr;

ContainerRef Ref(std::string name, std::string image, std::string ns) {
  ContainerRef c;
  c.container_id = std::string(64, 'a');
  c.pod_uid = "uid-1";
  c.container_name = std::move(name);
  c.image = std::move(image);
  c.pod_namespace = std::move(ns);
  return c;
}

ContainerFilter Make(std::vector<std::string> include, std::vector<std::string> exclude, bool pause = true) {
  absl::StatusOr<ContainerFilter> f = ContainerFilter::Create(include, exclude, pause);
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? *std::move(f) : ContainerFilter();
}

TEST(ContainerFilterTest, RulesAreAnchored) {
  ContainerFilter f = Make({}, {"name:logging"});
  EXPECT_TRUE(f.Excluded(Ref("logging", "x:1", "ns"), nullptr));
  EXPECT_FALSE(f.Excluded(Ref("processing-logging", "x:1", "ns"), nullptr));
  EXPECT_FALSE(f.Excluded(Ref("logging-2", "x:1", "ns"), nullptr));
  ContainerFilter g = Make({}, {"name:.*logging"});
  EXPECT_TRUE(g.Excluded(Ref("processing-logging", "x:1", "ns"), nullptr));
}

TEST(ContainerFilterTest, ImageAndNamespaceRules) {
  ContainerFilter f = Make({}, {"image:docker\\.io/library/nginx:.*", "namespace:kube-.*"});
  EXPECT_TRUE(f.Excluded(Ref("web", "docker.io/library/nginx:1.25", "shop"), nullptr));
  EXPECT_FALSE(f.Excluded(Ref("web", "nginx:1.25", "shop"), nullptr));  // anchored on the whole image
  EXPECT_TRUE(f.Excluded(Ref("proxy", "x:1", "kube-system"), nullptr));
  EXPECT_FALSE(f.Excluded(Ref("proxy", "x:1", "my-kube-system"), nullptr));
}

TEST(ContainerFilterTest, IncludeWinsOverExclude) {
  ContainerFilter f = Make({"name:keep-me", "namespace:prod"}, {"name:.*", "namespace:.*"});
  EXPECT_FALSE(f.Excluded(Ref("keep-me", "x:1", "dev"), nullptr));
  EXPECT_FALSE(f.Excluded(Ref("other", "x:1", "prod"), nullptr));
  EXPECT_TRUE(f.Excluded(Ref("other", "x:1", "dev"), nullptr));
  // Include alone drops nothing.
  ContainerFilter g = Make({"name:only"}, {});
  EXPECT_FALSE(g.Excluded(Ref("other", "x:1", "dev"), nullptr));
}

// RE2: Prometheus' syntax, linear time. A pattern that backtracks exponentially in a
// backtracking engine decides instantly; Perl-only constructs are a start-up error.
TEST(ContainerFilterTest, PatternsAreRe2) {
  ContainerFilter f = Make({}, {"name:(a+)+b", "image:(?i)NGINX:.*"});
  EXPECT_FALSE(f.Excluded(Ref(std::string(100000, 'a') + "c", "x:1", "ns"), nullptr));
  EXPECT_TRUE(f.Excluded(Ref(std::string(1000, 'a') + "b", "x:1", "ns"), nullptr));
  EXPECT_TRUE(f.Excluded(Ref("web", "nginx:1.25", "ns"), nullptr));  // (?i) is RE2
  EXPECT_FALSE(f.Excluded(Ref("web", "my-nginx:1.25", "ns"), nullptr));  // anchored
  for (const char* perl_only : {"name:(?!kube).*", "name:(a)\\1"}) {
    absl::StatusOr<ContainerFilter> bad = ContainerFilter::Create({}, {perl_only});
    ASSERT_FALSE(bad.ok()) << perl_only;
    EXPECT_THAT(std::string(bad.status().message()), HasSubstr("bad regular expression"));
    EXPECT_EQ(std::string(bad.status().message()).find('\n'), std::string::npos);
  }
}

TEST(ContainerFilterTest, UnknownValuesNeverMatch) {
  ContainerFilter f = Make({}, {"name:.*"});
  EXPECT_FALSE(f.Excluded(Ref("", "", ""), nullptr));  // no /pods: name unknown
  EXPECT_TRUE(f.Excluded(Ref("n", "", ""), nullptr));
}

TEST(ContainerFilterTest, HostProcessesAreNeverExcluded) {
  ContainerFilter f = Make({}, {"name:.*", "image:.*", "namespace:.*"});
  EXPECT_FALSE(f.Excluded(ContainerRef{}, nullptr));
}

TEST(ContainerFilterTest, BadRulesAreNamed) {
  struct Bad {
    std::string rule;
    std::string says;
  };
  for (const Bad& b : std::vector<Bad>{{"logging", "expected name:RE"},
                                       {"label:app=x", "unknown field \"label\""},
                                       {"name:", "empty pattern"},
                                       {"name:([a-z", "bad regular expression"},
                                       {"image:*nginx", "bad regular expression"}}) {
    SCOPED_TRACE(b.rule);
    absl::StatusOr<ContainerFilter> f = ContainerFilter::Create({}, {b.rule});
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(f.status().message()), HasSubstr("\"" + b.rule + "\""));
    EXPECT_THAT(std::string(f.status().message()), HasSubstr(b.says));
    EXPECT_FALSE(ContainerFilter::Create({b.rule}, {}).ok());
  }
}

TEST(ContainerFilterTest, PauseImagesExcludedByDefault) {
  ContainerFilter f = Make({}, {});
  for (const char* image :
       {"registry.k8s.io/pause:3.9", "k8s.gcr.io/pause:3.2", "k8s.gcr.io/pause-amd64:3.1",
        "gcr.io/google_containers/pause-amd64:3.0", "gcr.io/google_containers/pause:2.0",
        "docker.io/rancher/mirrored-pause:3.6", "rancher/mirrored-pause:3.7", "rancher/pause:3.1",
        "mcr.microsoft.com/oss/kubernetes/pause:3.6", "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/pause:3.5",
        "openshift/origin-pod:v3.11", "registry.redhat.io/openshift3/ose-pod:v3.11",
        "registry.k8s.io/pause@sha256:7031c1b283388d2c2e09b57badb803c05ebed362dc88d84b480cc47f72a21097",
        "kubernetes/pause", "pause:3.9"}) {
    EXPECT_TRUE(f.Excluded(Ref("", image, ""), nullptr)) << image;
  }
  for (const char* image : {"nginx:1.25", "example.com/pauser:1", "example.com/pause-menu:2", "docker.io/library/busybox"}) {
    EXPECT_FALSE(f.Excluded(Ref("", image, ""), nullptr)) << image;
  }
  ContainerFilter off = Make({}, {}, /*pause=*/false);
  EXPECT_FALSE(off.Excluded(Ref("", "registry.k8s.io/pause:3.9", ""), nullptr));
  ContainerFilter keep = Make({"image:registry\\.k8s\\.io/pause:.*"}, {});
  EXPECT_FALSE(keep.Excluded(Ref("", "registry.k8s.io/pause:3.9", ""), nullptr));
}

TEST(ContainerFilterTest, ExcludeAnnotation) {
  ContainerFilter f = Make({}, {});
  PodInfo pod;
  pod.annotations[ContainerFilter::kExcludeAnnotation] = "true";
  EXPECT_TRUE(f.Excluded(Ref("c", "x:1", "ns"), &pod));
  pod.annotations[ContainerFilter::kExcludeAnnotation] = "false";
  EXPECT_FALSE(f.Excluded(Ref("c", "x:1", "ns"), &pod));
  pod.annotations[ContainerFilter::kExcludeAnnotation] = "true";
  ContainerFilter inc = Make({"name:c"}, {});
  EXPECT_FALSE(inc.Excluded(Ref("c", "x:1", "ns"), &pod));
}

ProcessRecord Proc(int32_t pid, std::string name, std::string container_id, std::string pod_uid) {
  ProcessRecord r;
  r.pid = pid;
  r.name = std::move(name);
  r.container.container_id = std::move(container_id);
  r.container.pod_uid = std::move(pod_uid);
  return r;
}

TEST(ContainerFilterTest, ApplyOverEnrichedProcesses) {
  absl::StatusOr<std::vector<PodInfo>> pods = ParsePods(testing::ReadKubeletFixture("pods-runtimes.json"));
  ASSERT_TRUE(pods.ok());
  const std::string web = "1e7c3a5e-9d1b-4d3c-8c3a-0e2b6b1a7c11";
  std::vector<ProcessRecord> procs = {
      Proc(1, "systemd", "", ""),
      Proc(2, "nginx", "4f1e0b8b1c5bd0a3c6f1b0e0d1e9c3f3a1b2c3d4e5f60718293a4b5c6d7e8f90", web),
      Proc(3, "nginx", "4f1e0b8b1c5bd0a3c6f1b0e0d1e9c3f3a1b2c3d4e5f60718293a4b5c6d7e8f90", web),
      Proc(4, "fluent-bit", std::string(63, 'b') + "2", web),
      Proc(5, "pause", std::string(64, 'f'), web),  // the sandbox: not listed by the kubelet
      Proc(6, "agent", std::string(64, 'a'), "11111111-2222-3333-4444-555555555555"),  // annotated pod
      Proc(7, "app", std::string(64, 'd'), "22222222-3333-4444-5555-666666666666"),
  };
  EnrichProcesses(&procs, &*pods, nullptr);
  ContainerFilter f = Make({}, {"name:logging", "namespace:default"});
  f.Apply(&procs, &*pods);
  std::vector<int32_t> left;
  for (const ProcessRecord& r : procs) left.push_back(r.pid);
  // 1 host, 2-3 nginx, 4 processing-logging (anchoring keeps it); 5 sandbox, 6 annotation and
  // 7 namespace:default are dropped.
  EXPECT_EQ(left, (std::vector<int32_t>{1, 2, 3, 4}));
}

TEST(ContainerFilterTest, ApplySandboxWithoutPodsPermission) {
  std::vector<ProcessRecord> procs = {Proc(1, "pause", std::string(64, 'f'), "u"),
                                      Proc(2, "app", std::string(64, 'e'), "u"), Proc(3, "pause", "", "")};
  ContainerFilter f = Make({}, {});
  f.Apply(&procs, nullptr);
  ASSERT_EQ(procs.size(), 2u);
  EXPECT_EQ(procs[0].pid, 2);
  EXPECT_EQ(procs[1].pid, 3);  // a host process called pause stays
  std::vector<ProcessRecord> keep = {Proc(1, "pause", std::string(64, 'f'), "u")};
  Make({}, {}, false).Apply(&keep, nullptr);
  EXPECT_EQ(keep.size(), 1u);
}

}  // namespace
}  // namespace nodeproc
