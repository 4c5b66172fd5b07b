#pragma once
// A source of process data for one host. Linux reads procfs (ProcfsProbe); Windows nodes will
// use Toolhelp32 + PSS. The rest of the agent (CPU windows, CSV, metrics) only sees this.
#include <vector>

#include "absl/status/status.h"
#include "core/cpu_sample.h"
#include "core/exit_record.h"
#include "core/process_record.h"

namespace nodeproc {

class Probe {
 public:
  virtual ~Probe() = default;

  // Full scan: every field of ProcessRecord but `cpu` and `container`. Processes that vanish
  // mid-read are skipped whole, never half-filled. Replaces *out (its capacity is reused).
  // `args` (the NUL-separated argument vector) is filled when the probe has it, so secrets are
  // scrubbed before the join; `rss_bytes` is statm's resident set (= VmRSS).
  virtual absl::Status Scan(std::vector<ProcessRecord>* out) = 0;

  // Cheap pass for the CPU sampler: identity and cumulative CPU only (Linux: stat only).
  virtual absl::Status SampleCpu(std::vector<CpuSample>* out) = 0;

  // Processes that exited since the last call (oldest first), for probes that see exits (BPF);
  // replaces *out. Probes that cannot see exits leave it empty.
  virtual void DrainExits(std::vector<ExitRecord>* out) { out->clear(); }
};

}  // namespace nodeproc
