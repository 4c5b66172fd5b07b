#include "exporters/probe_metrics.h"

#include <string>

#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace nodeproc {
namespace {

std::string Render(const ProbeMetrics& m) {
  return prometheus::TextSerializer().Serialize(m.Collect());
}

TEST(ProbeMetrics, NamesTheProbe) {
  ProbeMetrics m("procfs", nullptr);
  const std::string text = Render(m);
  EXPECT_NE(text.find("nodeproc_probe_info{probe=\"procfs\"} 1"), std::string::npos) << text;
  EXPECT_EQ(text.find("exit_records_dropped"), std::string::npos) << text;
}

TEST(ProbeMetrics, DropCounterFollowsTheKernelCountAndNeverDecreases) {
  uint64_t kernel = 0;
  ProbeMetrics m("bpf", [&kernel] { return kernel; });
  EXPECT_NE(Render(m).find("nodeproc_bpf_exit_records_dropped_total 0"), std::string::npos);
  kernel = 7;
  EXPECT_NE(Render(m).find("nodeproc_bpf_exit_records_dropped_total 7"), std::string::npos);
  kernel = 3;  // a map read that failed (0) or went backwards must not lower a counter
  EXPECT_NE(Render(m).find("nodeproc_bpf_exit_records_dropped_total 7"), std::string::npos);
  kernel = 12;
  const std::string text = Render(m);
  EXPECT_NE(text.find("nodeproc_bpf_exit_records_dropped_total 12"), std::string::npos) << text;
  EXPECT_NE(text.find("nodeproc_probe_info{probe=\"bpf\"} 1"), std::string::npos) << text;
}

}  // namespace
}  // namespace nodeproc
