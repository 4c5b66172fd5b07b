#pragma once
// The BPF probe (Linux, CO-RE): one pass of a BPF task iterator reads every thread group's
// fields from the kernel (collectors/bpf/nodeproc.bpf.c), instead of 4-5 /proc files per PID;
// a sched_process_free program pushes each ended thread group's final CPU and I/O through a
// ring buffer (DrainExits), so processes that live less than a scan are still accounted.
//
// Every field equals what the procfs probe reports for the same process (the conversions are
// in collectors/task_convert.h). What only /proc has is read from <proc_root>: the command line
// (once per pid, start time and execve), full kernel-thread names (once per pid and start time;
// a workqueue worker keeps the name it had then, while /proc's suffix follows the work it
// runs), and every field of a process that
// <proc_root> lists but the kernel pass did not see (it started after the pass, or is hidden
// from BPF). <proc_root> is listed only when its process count (collectors/proc_listing.h)
// says the pass may have missed one; at such a scan, a process the pass saw but the listing
// does not show (it just ended) is not reported.
//
// SampleCpu() reports the processes of the kernel pass plus those the last Scan() read from
// /proc (it does not list <proc_root>: that would cost as much as the pass).
// Scan(), SampleCpu() and DrainExits() may run concurrently.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "collectors/bpf/records.h"
#include "collectors/probe.h"
#include "collectors/proc_listing.h"
#include "collectors/procfs_probe.h"

struct nodeproc_bpf;
struct ring_buffer;

namespace nodeproc {

struct BpfProbeOptions {
  size_t exit_ring_bytes = 2u << 20;  // ~3000 exit records between two drains
  size_t max_cmdline_bytes = 4096;     // --max-cmdline-bytes, as for the procfs probe
};

class BpfProbe : public Probe {
 public:
  // Loads and attaches the programs. The error says why in one line (no BTF, missing
  // CAP_BPF/CAP_PERFMON, verifier or attach failure, <proc_root> in another pid namespace).
  static absl::StatusOr<std::unique_ptr<BpfProbe>> Create(std::string proc_root,
                                                          BpfProbeOptions options = {});
  ~BpfProbe() override;
  BpfProbe(const BpfProbe&) = delete;
  BpfProbe& operator=(const BpfProbe&) = delete;

  absl::Status Scan(std::vector<ProcessRecord>* out) override;
  absl::Status SampleCpu(std::vector<CpuSample>* out) override;
  void DrainExits(std::vector<ExitRecord>* out) override;

  // Exit records lost because the ring buffer was full (a counter; never decreases).
  uint64_t ExitRecordsDropped() const;
  // Processes of the last Scan() read from /proc because the kernel pass did not see them.
  std::vector<int32_t> last_scan_from_procfs() const;
  // Scans that listed <proc_root>, and scans that did not need to.
  uint64_t proc_listings() const;
  uint64_t proc_listings_skipped() const;

 private:
  struct Pass;
  struct CachedText {
    uint64_t start_boottime_ns = 0;
    uint64_t exec_id = 0;
    std::string args;        // NUL-separated command line, bounded (ArgsFromRawCmdline)
    std::string name;        // full kernel-thread name ("" = use comm)
    uint32_t generation = 0;
  };

  BpfProbe(std::string proc_root, nodeproc_bpf* skel, size_t max_cmdline_bytes);
  // One iterator pass into *pass (records sorted by tgid).
  absl::Status RunPass(Pass* pass);
  // The /proc-only values of one process (cached); false when the process is gone.
  bool FillFromProc(const np_task& t, ProcessRecord* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(scan_mu_);
  // st_nlink of <proc_root>: a constant plus the kernel's process count (-1 when unreadable).
  int64_t ProcLinks() const;
  void ToRecord(const np_task& t, double btime, ProcessRecord* r) const;

  const std::string proc_root_;
  const size_t max_cmdline_bytes_;
  const long clk_tck_;
  const long page_size_;
  nodeproc_bpf* skel_;
  ring_buffer* exits_ = nullptr;
  ProcfsProbe procfs_;  // /proc listing, boot time, and processes the pass did not see

  mutable absl::Mutex scan_mu_;
  std::unique_ptr<Pass> scan_pass_ ABSL_GUARDED_BY(scan_mu_);
  absl::flat_hash_map<int32_t, CachedText> text_cache_ ABSL_GUARDED_BY(scan_mu_);
  uint32_t generation_ ABSL_GUARDED_BY(scan_mu_) = 0;
  ProcListingPolicy listing_ ABSL_GUARDED_BY(scan_mu_);
  std::string read_buf_ ABSL_GUARDED_BY(scan_mu_);
  absl::Mutex sample_mu_;
  std::unique_ptr<Pass> sample_pass_ ABSL_GUARDED_BY(sample_mu_);
  absl::Mutex exits_mu_;
  std::vector<ExitRecord>* drain_out_ ABSL_GUARDED_BY(exits_mu_) = nullptr;
  mutable absl::Mutex from_procfs_mu_;
  std::vector<int32_t> last_scan_from_procfs_ ABSL_GUARDED_BY(from_procfs_mu_);

  friend int OnExitRecord(void* ctx, void* data, size_t size);
};

}  // namespace nodeproc
