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
absl::StatusOr<SelectedProbe> TryBpf(const std::string& proc_root) {
#if NODEPROC_HAVE_BPF
  auto bpf = BpfProbe::Create(proc_root);
  if (!bpf.ok()) return bpf.status();
  SelectedProbe s;
  BpfProbe* raw = bpf->get();
  s.exit_records_dropped = [raw] { return raw->ExitRecordsDropped(); };
  s.probe = *std::move(bpf);
  s.name = "bpf";
  return s;
#else
  (void)proc_root;
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

absl::StatusOr<SelectedProbe> SelectProbe(const std::string& mode, const std::string& proc_root) {
  if (mode == "bpf" || mode == "auto") {
    auto bpf = TryBpf(proc_root);
    if (bpf.ok()) {
      LogInfo("process probe: bpf", {{"proc_root", proc_root}});
      return bpf;
    }
    if (mode == "bpf") {
      return absl::FailedPreconditionError(
          absl::StrCat("--probe=bpf: BPF probe unavailable: ", bpf.status().message()));
    }
    LogInfo("process probe: procfs (BPF probe unavailable)",
            {{"reason", ToStd(bpf.status().message())}});
  } else if (mode != "procfs") {
    return absl::InvalidArgumentError(
        absl::StrCat("--probe=", mode, ": expected auto, bpf or procfs"));
  }
  SelectedProbe s;
  s.probe = std::make_unique<ProcfsProbe>(proc_root);
  s.name = "procfs";
  if (mode == "procfs") LogInfo("process probe: procfs", {{"proc_root", proc_root}});
  return s;
}

}  // namespace nodeproc
