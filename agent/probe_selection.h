#pragma once
// --probe=auto|bpf|procfs: which Probe the agent (and `nodeproc scan`) runs.
//   auto    the BPF probe when this build has it and the kernel and capabilities allow (BTF,
//           CAP_BPF + CAP_PERFMON, the programs load), else procfs, with one log line saying why.
//   bpf     the BPF probe, or a start-up error saying in one line why it is unavailable.
//   procfs  the procfs probe.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "collectors/probe.h"

namespace nodeproc {

struct SelectedProbe {
  std::unique_ptr<Probe> probe;
  std::string name;                              // "bpf" or "procfs"
  std::function<uint64_t()> exit_records_dropped;  // null unless the probe sees exits
  std::string bpf_unavailable;                   // auto fell back to procfs: why ("" otherwise)
};

// Builds the probe; logs nothing (so a later configuration error stays the only output line).
// `max_cmdline_bytes`: --max-cmdline-bytes, the cap of every command line either probe reads.
absl::StatusOr<SelectedProbe> SelectProbe(const std::string& mode, const std::string& proc_root,
                                          size_t max_cmdline_bytes);

// The one log line saying which probe runs (and, after a fallback, why not BPF).
void LogProbeChoice(const std::string& name, const std::string& bpf_unavailable,
                    const std::string& proc_root);

// True when this build includes the BPF probe.
bool BpfProbeBuilt();

}  // namespace nodeproc
