// Outputs: Prometheus text exposition of ~10k series (prometheus::TextSerializer over the
// MetricsCollectable's families, and over hand-built families as a library baseline), and
// CSV formatting of 5k rows.
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_support.h"
#include "core/snapshot.h"

#if __has_include("exporters/metrics_collectable.h")
#include "exporters/metrics_collectable.h"
#define NODEPROC_BENCH_HAVE_COLLECTABLE 1
#endif
#if __has_include("exporters/csv_format.h")
#include "exporters/csv_format.h"
#define NODEPROC_BENCH_HAVE_CSV 1
#endif

namespace nodeproc::bench {
namespace {

size_t CountSeries(const std::vector<prometheus::MetricFamily>& families) {
  size_t n = 0;
  for (const auto& f : families) {
    for (const auto& m : f.metric) {
      if (f.type == prometheus::MetricType::Histogram) {
        n += m.histogram.bucket.size() + 2;
      } else if (f.type == prometheus::MetricType::Summary) {
        n += m.summary.quantile.size() + 2;
      } else {
        n += 1;
      }
    }
  }
  return n;
}

// Library baseline: 10 gauge families x 1000 label sets (namespace, pod, container, name).
void BM_TextSerialize10kSeriesBaseline(benchmark::State& state) {
  std::vector<prometheus::MetricFamily> families;
  for (int f = 0; f < 10; ++f) {
    prometheus::MetricFamily fam;
    fam.name = absl::StrCat("nodeproc_bench_metric_", f, "_bytes");
    fam.help = "A made-up per-process metric.";
    fam.type = prometheus::MetricType::Gauge;
    for (int i = 0; i < 1000; ++i) {
      prometheus::ClientMetric m;
      m.label = {{"container", absl::StrCat("container-", i % 3)},
                 {"name", absl::StrCat("proc-", i % 50)},
                 {"namespace", absl::StrCat("team-", i % 7)},
                 {"pod", absl::StrCat("app-", i / 3, "-7d9f8c6b5-x2x4q")}};
      m.gauge.value = 12345.0 * i + f;
      fam.metric.push_back(std::move(m));
    }
    families.push_back(std::move(fam));
  }
  prometheus::TextSerializer serializer;
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out = serializer.Serialize(families);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["series"] = static_cast<double>(CountSeries(families));
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_TextSerialize10kSeriesBaseline)->Unit(benchmark::kMillisecond);

#ifdef NODEPROC_BENCH_HAVE_COLLECTABLE
std::shared_ptr<const Snapshot> MakeSnapshot(int processes) {
  auto snap = std::make_shared<Snapshot>();
  snap->taken_at = absl::Now();
  snap->scan_duration = absl::Milliseconds(12);
  snap->processes = GenerateProcesses(processes);
  snap->kubelet_summary = std::make_shared<const Summary>(GenerateSummary(110, 3));
  snap->kubelet_age = absl::Seconds(3);
  return snap;
}

// The agent's /metrics path: Collect() on the collectable, then the text serializer. Per-PID
// mode over N processes; the series count is reported (the arg is chosen for ~10k series).
void BM_CollectAndSerialize(benchmark::State& state, bool per_pid) {
  auto snap = MakeSnapshot(static_cast<int>(state.range(0)));
  MetricsOptions options;
  options.per_pid = per_pid;
  options.max_process_series = 100000;
  MetricsCollectable collectable([snap] { return snap; }, options);
  prometheus::TextSerializer serializer;
  size_t series = 0, bytes = 0;
  for (auto _ : state) {
    std::vector<prometheus::MetricFamily> families = collectable.Collect();
    std::string out = serializer.Serialize(families);
    series = CountSeries(families);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["series"] = static_cast<double>(series);
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK_CAPTURE(BM_CollectAndSerialize, per_pid, true)->Arg(730)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_CollectAndSerialize, grouped, false)->Arg(5000)->Unit(benchmark::kMillisecond);
#endif

#ifdef NODEPROC_BENCH_HAVE_CSV
void BM_CsvFormat5kRows(benchmark::State& state) {
  const std::vector<ProcessRecord> rows = GenerateProcesses(5000);
  const absl::Time at = absl::FromUnixSeconds(1795000000);
  std::string out;
  for (auto _ : state) {
    out.clear();
    out.append(CsvHeader());
    for (const ProcessRecord& r : rows) AppendCsvRow(r, at, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows.size()));
  state.counters["bytes"] = static_cast<double>(out.size());
}
BENCHMARK(BM_CsvFormat5kRows)->Unit(benchmark::kMillisecond);
#endif

}  // namespace
}  // namespace nodeproc::bench
