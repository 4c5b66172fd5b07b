#include "kube/pods_parser.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/kube/kube_test_util.h"

namespace nodeproc {
namespace {

using ::nodeproc::testing::ReadKubeletFixture;
using ::testing::HasSubstr;

TEST(PodsParserTest, RecordedMinikubePodList) {
  absl::StatusOr<std::vector<PodInfo>> pods = ParsePods(ReadKubeletFixture("pods.json"));
  ASSERT_TRUE(pods.ok()) << pods.status();
  ASSERT_EQ(pods->size(), 9u);
  const PodInfo& sched = (*pods)[0];
  EXPECT_EQ(sched.name, "kube-scheduler-minikube");
  EXPECT_EQ(sched.uid, "5795d0c442cb997ff93c49feeb9f6386");
  EXPECT_EQ(sched.pod_namespace, "");  // not in this recording
  ASSERT_EQ(sched.containers.size(), 1u);  // spec and status merged by name
  EXPECT_EQ(sched.containers[0].name, "kube-scheduler");
  EXPECT_EQ(sched.containers[0].container_id, "364bd8f13021f326");
  EXPECT_EQ(sched.containers[0].runtime, "");
  EXPECT_FALSE(sched.containers[0].init);

  const PodInfo& hello = (*pods)[1];
  EXPECT_EQ(hello.uid, "42ad382b-ed0b-446d-9aab-3fdce8b4f9e2");
  ASSERT_EQ(hello.containers.size(), 1u);  // status only: still a container
  EXPECT_EQ(hello.containers[0].name, "server");
  EXPECT_EQ(hello.containers[0].container_id, "c3d470faf18eba2b");
  EXPECT_EQ((*pods)[8].name, "etcd-minikube");
  EXPECT_EQ((*pods)[8].containers[0].container_id, "baa7aaedeab79d38");
}

TEST(PodsParserTest, RuntimesInitAndEphemeralContainers) {
  absl::StatusOr<std::vector<PodInfo>> pods = ParsePods(ReadKubeletFixture("pods-runtimes.json"));
  ASSERT_TRUE(pods.ok()) << pods.status();
  ASSERT_EQ(pods->size(), 4u);
  const PodInfo& web = (*pods)[0];
  EXPECT_EQ(web.pod_namespace, "shop");
  EXPECT_EQ(web.name, "web-7d4b9c6f5-x2k8p");
  EXPECT_EQ(web.uid, "1e7c3a5e-9d1b-4d3c-8c3a-0e2b6b1a7c11");
  EXPECT_EQ(web.labels.at("app"), "web");
  EXPECT_EQ(web.labels.size(), 2u);
  EXPECT_EQ(web.annotations.at("kubernetes.io/config.seen"), "2026-11-20T10:00:00.000000000Z");
  ASSERT_EQ(web.containers.size(), 4u);
  const PodContainer& migrate = web.containers[0];
  EXPECT_EQ(migrate.name, "migrate");
  EXPECT_TRUE(migrate.init);
  EXPECT_FALSE(migrate.ephemeral);
  EXPECT_EQ(migrate.runtime, "containerd");
  EXPECT_EQ(migrate.container_id, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1");
  const PodContainer& nginx = web.containers[1];
  EXPECT_EQ(nginx.name, "nginx");
  EXPECT_EQ(nginx.image, "nginx:1.25");  // the spec image, as written
  EXPECT_EQ(nginx.container_id, "4f1e0b8b1c5bd0a3c6f1b0e0d1e9c3f3a1b2c3d4e5f60718293a4b5c6d7e8f90");
  EXPECT_EQ(web.containers[2].name, "processing-logging");
  const PodContainer& dbg = web.containers[3];
  EXPECT_EQ(dbg.name, "debugger-abc12");
  EXPECT_TRUE(dbg.ephemeral);
  EXPECT_FALSE(dbg.init);
  EXPECT_EQ(dbg.container_id, "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc3");

  const PodInfo& agent = (*pods)[1];
  EXPECT_EQ(agent.annotations.at("nodeproc.io/exclude"), "true");
  EXPECT_EQ(agent.containers[0].runtime, "cri-o");
  EXPECT_EQ(agent.containers[0].container_id, std::string(64, 'a'));

  const PodInfo& legacy = (*pods)[2];
  EXPECT_EQ(legacy.containers[0].runtime, "docker");
  EXPECT_EQ(legacy.containers[0].container_id, std::string(64, 'd'));
  EXPECT_TRUE(legacy.labels.empty());

  const PodInfo& pending = (*pods)[3];
  ASSERT_EQ(pending.containers.size(), 1u);
  EXPECT_EQ(pending.containers[0].container_id, "");  // not created yet
  EXPECT_EQ(pending.containers[0].image, "alpine:3.19");
}

TEST(PodsParserTest, SplitContainerId) {
  EXPECT_EQ(SplitContainerId("containerd://abc"), std::make_pair(std::string("containerd"), std::string("abc")));
  EXPECT_EQ(SplitContainerId("cri-o://def"), std::make_pair(std::string("cri-o"), std::string("def")));
  EXPECT_EQ(SplitContainerId("docker://0123"), std::make_pair(std::string("docker"), std::string("0123")));
  EXPECT_EQ(SplitContainerId("plain"), std::make_pair(std::string(""), std::string("plain")));
  EXPECT_EQ(SplitContainerId(""), std::make_pair(std::string(""), std::string("")));
  EXPECT_EQ(SplitContainerId("containerd://"), std::make_pair(std::string("containerd"), std::string("")));
}

TEST(PodsParserTest, StatusImageFillsMissingSpecImage) {
  absl::StatusOr<std::vector<PodInfo>> pods = ParsePods(
      R"({"items":[{"metadata":{"uid":"u"},"status":{"containerStatuses":[
          {"name":"c","image":"docker.io/library/redis:7","containerID":"containerd://0a"}]}}]})");
  ASSERT_TRUE(pods.ok());
  EXPECT_EQ((*pods)[0].containers[0].image, "docker.io/library/redis:7");
}

TEST(PodsParserTest, EmptyListsAndMissingItems) {
  for (const char* ok : {"{}", R"({"items":[]})", R"({"kind":"PodList","items":null})"}) {
    absl::StatusOr<std::vector<PodInfo>> pods = ParsePods(ok);
    ASSERT_TRUE(pods.ok()) << ok;
    EXPECT_TRUE(pods->empty());
  }
}

TEST(PodsParserTest, StatusBodyIsAnError) {
  absl::StatusOr<std::vector<PodInfo>> pods = ParsePods(
      R"json({"kind":"Status","apiVersion":"v1","status":"Failure","message":"Forbidden (user=system:serviceaccount:x:y, verb=get, resource=nodes, subresource=proxy)","code":403})json");
  ASSERT_FALSE(pods.ok());
  EXPECT_EQ(pods.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(pods.status().message()), HasSubstr("subresource=proxy"));
}

TEST(PodsParserTest, MalformedAndTruncated) {
  for (const char* bad : {"", "{", "[", "{\"items\":[{]}", "{\"items\": [} ", "\xff\xfe", "{}{}"}) {
    absl::StatusOr<std::vector<PodInfo>> pods = ParsePods(bad);
    ASSERT_FALSE(pods.ok()) << bad;
    EXPECT_EQ(pods.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(pods.status().message()), HasSubstr("offset"));
  }
  EXPECT_FALSE(ParsePods("[]").ok());
  std::string json = ReadKubeletFixture("pods-runtimes.json");
  size_t end = json.rfind('}');
  for (size_t n = 0; n < end; n += 53) {
    EXPECT_FALSE(ParsePods(std::string_view(json).substr(0, n)).ok()) << n;
  }
}

TEST(PodsParserTest, WrongTypesAreIgnored) {
  absl::StatusOr<std::vector<PodInfo>> pods = ParsePods(R"({"items":[
      1, "x", null,
      {"metadata": {"uid": 5, "name": "n", "labels": {"a": "b", "num": 3, "obj": {}}, "annotations": []},
       "spec": {"containers": [3, {"name": "c", "image": 9}], "initContainers": {}},
       "status": {"containerStatuses": [{"name": "c", "containerID": 42}, {"containerID": "docker://ff"}, "s"]}}
  ]})");
  ASSERT_TRUE(pods.ok()) << pods.status();
  ASSERT_EQ(pods->size(), 1u);
  const PodInfo& p = (*pods)[0];
  EXPECT_EQ(p.uid, "");
  EXPECT_EQ(p.name, "n");
  EXPECT_EQ(p.labels.size(), 1u);
  EXPECT_EQ(p.labels.at("a"), "b");
  EXPECT_TRUE(p.annotations.empty());
  ASSERT_EQ(p.containers.size(), 2u);
  EXPECT_EQ(p.containers[0].name, "c");
  EXPECT_EQ(p.containers[0].image, "");
  EXPECT_EQ(p.containers[0].container_id, "");
  EXPECT_EQ(p.containers[1].name, "");  // a nameless status still carries an id
  EXPECT_EQ(p.containers[1].container_id, "ff");
}

}  // namespace
}  // namespace nodeproc
