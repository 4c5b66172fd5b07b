// CPU of the probe alone per full scan (no pipeline: no container resolution, privacy, CPU
// windows): Probe::Scan, or Probe::SampleCpu with --sample, of the BPF or the procfs probe,
// PASSES warm passes after WARM ones. For bench/bpf_compare.py (--probe-pass).
//
//   nodeproc_probe_pass --probe=bpf|procfs [--passes=20] [--sample]
// Prints "processes=<n> us_per_process=<cpu us per process per pass>".
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "collectors/bpf/bpf_probe.h"
#include "collectors/procfs_probe.h"

namespace {

double CpuSeconds() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  std::string which = "bpf";
  int passes = 20;
  bool sample = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--probe=", 8)) which = argv[i] + 8;
    else if (!std::strncmp(argv[i], "--passes=", 9)) passes = std::max(1, std::atoi(argv[i] + 9));
    else if (!std::strcmp(argv[i], "--sample")) sample = true;
  }
  std::unique_ptr<nodeproc::Probe> probe;
  if (which == "bpf") {
    auto bpf = nodeproc::BpfProbe::Create("/proc");
    if (!bpf.ok()) {
      std::fprintf(stderr, "%s\n", bpf.status().ToString().c_str());
      return 1;
    }
    probe = *std::move(bpf);
  } else {
    probe = std::make_unique<nodeproc::ProcfsProbe>("/proc");
  }
  std::vector<nodeproc::ProcessRecord> records;
  std::vector<nodeproc::CpuSample> samples;
  auto pass = [&] { return sample ? probe->SampleCpu(&samples) : probe->Scan(&records); };
  for (int i = 0; i < 2; ++i) (void)pass();  // warm: caches, buffers
  const double start = CpuSeconds();
  for (int i = 0; i < passes; ++i) (void)pass();
  const double cpu = (CpuSeconds() - start) / passes;
  const size_t n = sample ? samples.size() : records.size();
  std::printf("processes=%zu us_per_process=%.3f\n", n, n ? cpu / static_cast<double>(n) * 1e6 : 0.0);
  return 0;
}
