#include "agent/probe_selection.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "collectors/bpf/bpf_config.h"
#include "collectors/procfs_probe.h"
#include "core/absl_compat.h"
#include "core/log.h"
#if NODEPROC_HAVE_BPF
#include "collectors/bpf/bpf_probe.h"
#endif

namespace nodeproc {
namespace {

// The BPF probe, or why not.
absl::StatusOr<SelectedProbe> TryBpf(const std::string& proc_root, size_t max_cmdline_bytes) {
#if NODEPROC_HAVE_BPF
  BpfProbeOptions options;
  options.max_cmdline_bytes = max_cmdline_bytes;
  auto bpf = BpfProbe::Create(proc_root, options);
  if (!bpf.ok()) return bpf.status();
  SelectedProbe s;
  BpfProbe* raw = bpf->get();
  s.exit_records_dropped = [raw] { return raw->ExitRecordsDropped(); };
  s.probe = *std::move(bpf);
  s.name = "bpf";
  return s;
#else
  (void)proc_root;
  (void)max_cmdline_bytes;
  return absl::UnimplementedError("this build has no BPF probe (built without clang/bpftool/libbpf)");
#endif
}

}  // namespace

bool BpfProbeBuilt() {
#if NODEPROC_HAVE_BPF
  return true;
#else
  return false;
#endif
}

absl::StatusOr<SelectedProbe> SelectProbe(const std::string& mode, const std::string& proc_root,
                                          size_t max_cmdline_bytes) {
  if (mode == "bpf" || mode == "auto") {
    auto bpf = TryBpf(proc_root, max_cmdline_bytes);
    if (bpf.ok()) return bpf;
    if (mode == "bpf") {
      return absl::FailedPreconditionError(
          absl::StrCat("--probe=bpf: BPF probe unavailable: ", bpf.status().message()));
    }
    SelectedProbe s;
    s.probe = std::make_unique<ProcfsProbe>(proc_root, max_cmdline_bytes);
    s.name = "procfs";
    s.bpf_unavailable = std::string(ToStd(bpf.status().message()));
    return s;
  } else if (mode != "procfs") {
    return absl::InvalidArgumentError(
        absl::StrCat("--probe=", mode, ": expected auto, bpf or procfs"));
  }
  SelectedProbe s;
  s.probe = std::make_unique<ProcfsProbe>(proc_root, max_cmdline_bytes);
  s.name = "procfs";
  return s;
}

void LogProbeChoice(const std::string& name, const std::string& bpf_unavailable,
                    const std::string& proc_root) {
  if (!bpf_unavailable.empty()) {
    LogInfo("process probe: procfs (BPF probe unavailable)", {{"reason", bpf_unavailable}});
  } else {
    LogInfo(absl::StrCat("process probe: ", name), {{"proc_root", proc_root}});
  }
}

}  // namespace nodeproc
