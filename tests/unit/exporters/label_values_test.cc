// Label values leave the agent as valid UTF-8 (exporters/label_values.h, core/utf8.h), and a
// scrape never holds two identical series because of the replacement.
#include "exporters/label_values.h"

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

const std::string R = "\xef\xbf\xbd";

prometheus::ClientMetric Sample(std::string pod, double v) {
  prometheus::ClientMetric m;
  m.label = {{"namespace", "ns"}, {"pod", std::move(pod)}};
  m.gauge.value = v;
  return m;
}

TEST(LabelValuesTest, ReplacesInvalidBytesAndDropsSeriesThatBecomeDuplicates) {
  prometheus::MetricFamily f;
  f.name = "nodeproc_pod_x";
  f.help = "x";
  f.type = prometheus::MetricType::Gauge;
  f.metric = {Sample("a\xff", 1), Sample("ok", 2), Sample("a\xfe", 3), Sample(std::string("n\0ul", 4), 4)};
  std::vector<prometheus::MetricFamily> families = {f};
  EXPECT_EQ(MakeLabelValuesValid(&families), 1u);
  ASSERT_EQ(families[0].metric.size(), 3u);
  EXPECT_EQ(families[0].metric[0].label[1].value, "a" + R);
  EXPECT_EQ(families[0].metric[0].gauge.value, 1);  // the first is kept
  EXPECT_EQ(families[0].metric[1].label[1].value, "ok");
  EXPECT_EQ(families[0].metric[2].label[1].value, "n" + R + "ul");
}

TEST(LabelValuesTest, CleanFamiliesAreUntouched) {
  prometheus::MetricFamily f;
  f.name = "nodeproc_pod_x";
  f.type = prometheus::MetricType::Gauge;
  f.metric = {Sample("caf\xc3\xa9", 1), Sample("caf\xc3\xa9", 2)};  // duplicates we did not make
  std::vector<prometheus::MetricFamily> families = {f};
  EXPECT_EQ(MakeLabelValuesValid(&families), 0u);
  EXPECT_EQ(families[0].metric.size(), 2u);
}

TEST(LabelValuesTest, ProcessGroupsAreKeyedByTheReplacedName) {
  // Two processes whose names differ only in invalid bytes are one group (sums), not two
  // series with the same labels.
  Snapshot snap;
  for (auto [pid, name] : {std::pair{10, "bad\xff\xfe"}, std::pair{11, "bad\xfe\xff"}}) {
    ProcessRecord p;
    p.pid = pid;
    p.name = name;
    p.cpu_seconds = 1.5;
    p.rss_bytes = 1000;
    p.start_time_unix = 1700000000;
    snap.processes.push_back(p);
  }
  std::vector<prometheus::MetricFamily> families = RenderSnapshotMetrics(snap, MetricsOptions{});
  EXPECT_EQ(MakeLabelValuesValid(&families), 0u);
  const std::string text = prometheus::TextSerializer().Serialize(families);
  EXPECT_THAT(text, HasSubstr("nodeproc_process_resident_memory_bytes{namespace=\"\",pod=\"\",container=\"\",name=\"bad" + R + R + "\"} 2000"));
  EXPECT_THAT(text, HasSubstr("nodeproc_process_cpu_seconds_total{namespace=\"\",pod=\"\",container=\"\",name=\"bad" + R + R + "\"} 3"));
  EXPECT_THAT(text, Not(HasSubstr("\xff")));
}

}  // namespace
}  // namespace nodeproc
