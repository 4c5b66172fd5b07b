// Line parsers of the hot path: /proc/<pid>/stat, status, statm, io, cmdline, and the cgroup
// file that maps a process to its container.
#include <string>

#include <benchmark/benchmark.h>

#include "bench/bench_support.h"

#if __has_include("collectors/proc_parsers.h")
#include "collectors/proc_parsers.h"
#define NODEPROC_BENCH_HAVE_PROC_PARSERS 1
#endif
#if __has_include("kube/cgroup_parser.h")
#include "kube/cgroup_parser.h"
#define NODEPROC_BENCH_HAVE_CGROUP_PARSER 1
#endif

namespace nodeproc::bench {
namespace {

#ifdef NODEPROC_BENCH_HAVE_PROC_PARSERS
void BM_ParseProcStat(benchmark::State& state) {
  const std::string line = SampleStatLine(4242);
  if (auto s = ParseProcStat(line); !s.ok() || s->pid != 4242 || s->comm != "my (weird) cmd") {
    state.SkipWithError("ParseProcStat rejected the sample line");
    return;
  }
  for (auto _ : state) {
    auto s = ParseProcStat(line);
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * line.size()));
}
BENCHMARK(BM_ParseProcStat);

void BM_ParseProcStatus(benchmark::State& state) {
  const std::string text = SampleStatus(4242);
  if (auto s = ParseProcStatus(text); !s.ok() || s->real_uid != 1000) {
    state.SkipWithError("ParseProcStatus rejected the sample file");
    return;
  }
  for (auto _ : state) {
    auto s = ParseProcStatus(text);
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseProcStatus);

void BM_ParseProcStatm(benchmark::State& state) {
  const std::string text = SampleStatm();
  if (auto s = ParseProcStatm(text); !s.ok() || s->resident_pages != 51345) {
    state.SkipWithError("ParseProcStatm rejected the sample line");
    return;
  }
  for (auto _ : state) {
    auto s = ParseProcStatm(text);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_ParseProcStatm);

void BM_ParseProcIo(benchmark::State& state) {
  const std::string text = SampleIo();
  if (auto s = ParseProcIo(text); !s.ok() || s->read_bytes != 152076288) {
    state.SkipWithError("ParseProcIo rejected the sample file");
    return;
  }
  for (auto _ : state) {
    auto s = ParseProcIo(text);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_ParseProcIo);

void BM_JoinCmdline(benchmark::State& state) {
  static const char kRaw[] = "java\0-Xmx2g\0-XX:+UseG1GC\0-jar\0/opt/app/service.jar\0--spring.profiles.active=prod";
  const std::string raw(kRaw, sizeof kRaw);  // NUL-separated, with the final NUL
  std::string out;
  for (auto _ : state) {
    out.clear();
    JoinCmdline(raw, &out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_JoinCmdline);
#endif

#ifdef NODEPROC_BENCH_HAVE_CGROUP_PARSER
void BM_ParseCgroupFileV2(benchmark::State& state) {
  const std::string text = SampleCgroupV2();
  if (auto r = ParseCgroupFile(text); !r.has_value() || r->container_id.size() != 64 || r->pod_uid.empty()) {
    state.SkipWithError("ParseCgroupFile did not find the container and pod");
    return;
  }
  for (auto _ : state) {
    auto r = ParseCgroupFile(text);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseCgroupFileV2);

void BM_ParseCgroupFileV1(benchmark::State& state) {
  const std::string text = SampleCgroupV1();
  if (auto r = ParseCgroupFile(text); !r.has_value() || r->container_id.size() != 64 || r->pod_uid.empty()) {
    state.SkipWithError("ParseCgroupFile did not find the container and pod");
    return;
  }
  for (auto _ : state) {
    auto r = ParseCgroupFile(text);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseCgroupFileV1);
#endif

}  // namespace
}  // namespace nodeproc::bench
