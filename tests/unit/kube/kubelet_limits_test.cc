// The streaming kubelet parse (kube/json_filter.h) keeps what the limits allow, counts what it
// drops, and answers like a whole-document parse on every shape a hostile body can take.
#include <string>

#include "gtest/gtest.h"
#include "kube/pods_parser.h"
#include "kube/summary_parser.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace nodeproc {
namespace {

std::string Pods(int n, int containers = 1) {
  std::string out = R"({"node":{"nodeName":"n"},"pods":[)";
  for (int i = 0; i < n; ++i) {
    if (i > 0) out += ",";
    out += R"({"podRef":{"name":"p)" + std::to_string(i) + R"(","uid":"u"},"containers":[)";
    for (int c = 0; c < containers; ++c) {
      if (c > 0) out += ",";
      out += R"({"name":"c)" + std::to_string(c) + R"(","cpu":{"usageNanoCores":1}})";
    }
    out += "]}";
  }
  return out + "]}";
}

TEST(KubeletLimitsTest, PodsAndContainersPastTheCapsAreDroppedAndCounted) {
  KubeletParseLimits limits;
  limits.max_pods = 3;
  limits.max_containers = 2;
  KubeletParseDrops drops;
  absl::StatusOr<Summary> s = ParseSummary(Pods(5, 4), limits, &drops);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->pods.size(), 3u);
  EXPECT_EQ(s->pods[0].name, "p0");
  EXPECT_EQ(s->pods[2].name, "p2");
  ASSERT_EQ(s->pods[1].containers.size(), 2u);
  EXPECT_EQ(s->pods[1].containers[1].name, "c1");
  EXPECT_EQ(s->pods[1].containers[1].cpu.usage_nano_cores, 1u);
  EXPECT_EQ(drops.pods, 2u);
  EXPECT_EQ(drops.containers, 3u * 2u);  // only kept pods are read
  EXPECT_EQ(drops.items + drops.strings, 0u);

  KubeletParseDrops none;
  ASSERT_TRUE(ParseSummary(Pods(3, 2), limits, &none).ok());
  EXPECT_EQ(none.total(), 0u);
}

TEST(KubeletLimitsTest, KeptBytesBudgetStopsNewPods) {
  KubeletParseLimits limits;
  limits.max_kept_bytes = 2000;
  KubeletParseDrops drops;
  absl::StatusOr<Summary> s = ParseSummary(Pods(200), limits, &drops);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_GT(s->pods.size(), 0u);
  EXPECT_LT(s->pods.size(), 200u);
  EXPECT_EQ(drops.pods, 200u - s->pods.size());
}

TEST(KubeletLimitsTest, TinyElementsCostNothingAndAreNotPods) {
  std::string body = R"({"pods":[)";
  for (int i = 0; i < 200000; ++i) body += i ? ",[]" : "[]";
  body += R"(],"node":{"nodeName":"n","junk":[[[[1]]]]}})";
  KubeletParseDrops drops;
  absl::StatusOr<Summary> s = ParseSummary(body, KubeletParseLimits{}, &drops);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->pods.empty());
  EXPECT_EQ(s->node.node_name, "n");
  EXPECT_EQ(drops.total(), 0u);  // not objects: skipped like the reader always did
}

TEST(KubeletLimitsTest, FirstOfARepeatedMemberIsTheAnswerLikeFindMember) {
  // A whole-document parse keeps both and FindMember answers the first.
  absl::StatusOr<Summary> s = ParseSummary(
      R"({"pods": 5, "pods": [{"podRef":{"name":"x"}}],
          "node": {"nodeName": "first", "nodeName": "second", "cpu": [1], "cpu": {"usageNanoCores": 7}}})");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->pods.empty());
  EXPECT_EQ(s->node.node_name, "first");
  EXPECT_FALSE(s->node.cpu.usage_nano_cores.has_value());  // the first "cpu" is not an object
}

TEST(KubeletLimitsTest, WrongShapesReadAsAbsent) {
  absl::StatusOr<Summary> s = ParseSummary(
      R"({"node": {"nodeName": {"a": 1}, "memory": {"usageBytes": [1, 2], "rssBytes": 9}},
          "pods": [1, "x", null, {"podRef": [], "containers": {"name": "c"}, "cpu": {"usageNanoCores": "3"}}]})");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->node.node_name, "");
  EXPECT_FALSE(s->node.memory.usage_bytes.has_value());
  EXPECT_EQ(s->node.memory.rss_bytes, 9u);
  ASSERT_EQ(s->pods.size(), 1u);
  EXPECT_EQ(s->pods[0].name, "");
  EXPECT_TRUE(s->pods[0].containers.empty());
  EXPECT_FALSE(s->pods[0].cpu.usage_nano_cores.has_value());
}

TEST(KubeletLimitsTest, LongStringsAndBigMapsAreCapped) {
  KubeletParseLimits limits;
  limits.max_string_bytes = 20;
  limits.max_items = 2;
  KubeletParseDrops drops;
  const std::string body = R"({"kind":"PodList","items":[{"metadata":{"name":"0123456789abcdefXXXXX","uid":"u",
      "labels":{"a":"1","b":"2","c":"3"},
      "annotations":{"nodeproc.io/exclude":"true","long":"0123456789abcdefXXXXX","n":5}}}]})";
  absl::StatusOr<std::vector<PodInfo>> pods = ParsePods(body, limits, &drops);
  ASSERT_TRUE(pods.ok()) << pods.status();
  ASSERT_EQ(pods->size(), 1u);
  EXPECT_EQ((*pods)[0].name, "");  // over the string cap: absent
  EXPECT_EQ((*pods)[0].uid, "u");
  EXPECT_EQ((*pods)[0].labels.size(), 2u);
  EXPECT_EQ((*pods)[0].annotations.size(), 1u);
  EXPECT_EQ((*pods)[0].annotations.at("nodeproc.io/exclude"), "true");
  EXPECT_EQ(drops.strings, 2u);
  EXPECT_EQ(drops.items, 1u);
}

TEST(KubeletLimitsTest, ErrorsAreTheReadersWithTheirOffsets) {
  for (const char* bad : {R"({"pods": [{"podRef": }]})", R"({"pods": [1, 2)", "", "{\"a\":tru}",
                          R"({"node": {"nodeName": "x\u12"}})"}) {
    rapidjson::Document whole;  // what a whole-document parse says
    whole.Parse<rapidjson::kParseIterativeFlag>(bad);
    ASSERT_TRUE(whole.HasParseError()) << bad;
    absl::StatusOr<Summary> s = ParseSummary(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(std::string(s.status().message()),
              "malformed /stats/summary JSON at offset " + std::to_string(whole.GetErrorOffset()) +
                  ": " + rapidjson::GetParseError_En(whole.GetParseError()));
  }
  EXPECT_EQ(ParseSummary("[1]").status().message(), "/stats/summary JSON is not an object");
  EXPECT_EQ(ParsePods("7").status().message(), "/pods JSON is not an object");
  EXPECT_FALSE(ParseSummary(R"({} x)").ok());  // trailing garbage
  std::string deep(100000, '[');
  EXPECT_FALSE(ParseSummary(R"({"x":)" + deep).ok());  // no stack overflow
}

}  // namespace
}  // namespace nodeproc
