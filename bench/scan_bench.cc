// Probing: a full scan (ProcfsProbe::Scan) of a synthetic /proc tree of N processes and of the
// live /proc, the sampler's cheap pass (SampleCpu), and the CPU-window update for N PIDs.
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "absl/time/time.h"
#include "bench/bench_support.h"
#include "core/cpu_sample.h"
#include "core/process_record.h"

#if __has_include("collectors/procfs_probe.h")
#include "collectors/procfs_probe.h"
#define NODEPROC_BENCH_HAVE_PROBE 1
#endif
#if __has_include("collectors/cpu_windows.h")
#include "collectors/cpu_windows.h"
#define NODEPROC_BENCH_HAVE_CPU_WINDOWS 1
#endif

namespace nodeproc::bench {
namespace {

#ifdef NODEPROC_BENCH_HAVE_PROBE
// Full scan of a generated tree: N process folders with 8 fds each.
void BM_ScanSyntheticTree(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  SyntheticProcTree tree(n, 8);
  ProcfsProbe probe(tree.proc_root());
  std::vector<ProcessRecord> out;
  if (absl::Status s = probe.Scan(&out); !s.ok() || static_cast<int>(out.size()) != n) {
    state.SkipWithError("scan of the synthetic tree failed or missed processes");
    return;
  }
  for (auto _ : state) {
    absl::Status s = probe.Scan(&out);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * n);
  state.counters["pids"] = static_cast<double>(out.size());
}
BENCHMARK(BM_ScanSyntheticTree)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

// Full scan of this machine's /proc (what `nodeproc snapshot` and a scrape pay).
void BM_ScanLiveProc(benchmark::State& state) {
  ProcfsProbe probe("/proc");
  std::vector<ProcessRecord> out;
  if (absl::Status s = probe.Scan(&out); !s.ok()) {
    state.SkipWithError("scan of /proc failed");
    return;
  }
  for (auto _ : state) {
    absl::Status s = probe.Scan(&out);
    benchmark::DoNotOptimize(s);
  }
  state.counters["pids"] = static_cast<double>(out.size());
}
BENCHMARK(BM_ScanLiveProc)->Unit(benchmark::kMillisecond);

// The sampler's pass over the live /proc: stat only.
void BM_SampleCpuLiveProc(benchmark::State& state) {
  ProcfsProbe probe("/proc");
  std::vector<CpuSample> out;
  if (absl::Status s = probe.SampleCpu(&out); !s.ok()) {
    state.SkipWithError("SampleCpu of /proc failed");
    return;
  }
  for (auto _ : state) {
    absl::Status s = probe.SampleCpu(&out);
    benchmark::DoNotOptimize(s);
  }
  state.counters["pids"] = static_cast<double>(out.size());
}
BENCHMARK(BM_SampleCpuLiveProc)->Unit(benchmark::kMillisecond);
#endif

#ifdef NODEPROC_BENCH_HAVE_CPU_WINDOWS
// One sampler tick: feed N samples (5 s apart, CPU advancing) into the windows. After the
// warm-up the windows hold an hour of checkpoints, so eviction costs are included.
void BM_CpuWindowsObserve(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::vector<CpuSample> samples(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    samples[i].pid = 1000 + i;
    samples[i].start_ticks = 100 + static_cast<uint64_t>(i);
    samples[i].start_time_unix = 1'795'000'000.0;
    samples[i].cpu_seconds = 1.0 * i;
  }
  CpuWindows windows;
  absl::Time now = absl::FromUnixSeconds(1'795'000'000 + 10'000);
  auto tick = [&] {
    now += absl::Seconds(5);
    for (int i = 0; i < n; ++i) samples[i].cpu_seconds += 0.01 * (i % 7);
    windows.Observe(now, samples);
  };
  for (int i = 0; i < 3600 / 5 + 10; ++i) tick();  // an hour and a bit of history
  for (auto _ : state) tick();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * n);
}
BENCHMARK(BM_CpuWindowsObserve)->Arg(1000)->Arg(5000)->Unit(benchmark::kMicrosecond);

// What a full scan adds: the three window values of every process.
void BM_CpuWindowsUsage(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::vector<CpuSample> samples(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    samples[i].pid = 1000 + i;
    samples[i].start_ticks = 100 + static_cast<uint64_t>(i);
    samples[i].start_time_unix = 1'795'000'000.0;
  }
  CpuWindows windows;
  absl::Time now = absl::FromUnixSeconds(1'795'000'000 + 10'000);
  for (int t = 0; t < 3600 / 5 + 10; ++t) {
    now += absl::Seconds(5);
    for (int i = 0; i < n; ++i) samples[i].cpu_seconds += 0.01 * (i % 7);
    windows.Observe(now, samples);
  }
  for (auto _ : state) {
    for (const CpuSample& s : samples) {
      CpuUsage u = windows.Usage(s.pid, s.start_ticks, s.start_time_unix, s.cpu_seconds, now);
      benchmark::DoNotOptimize(u);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * n);
}
BENCHMARK(BM_CpuWindowsUsage)->Arg(1000)->Arg(5000)->Unit(benchmark::kMicrosecond);
#endif

}  // namespace
}  // namespace nodeproc::bench
