#pragma once
// The Linux Probe: reads /proc (or any tree shaped like it, e.g. /host/proc or a test fixture).
//
// Hot path: the root is opened once; each PID folder is opened with openat() and its files are
// read with read(2) into buffers reused across PIDs and scans; folders are listed with
// getdents64 into a reused buffer. Kernel threads (PF_KTHREAD in stat) are recognised from
// stat and their cmdline and fd are not read; their io is read where readable.
//
// rss_bytes is VmRSS from status, which is exactly statm's resident * page size (and what ps
// and psutil report), never stat field 24 (an approximation that reads lower). Any other
// Probe (BPF) must report the same: file + anon + shmem resident pages of the mm.
//
// Scan() and SampleCpu() may run concurrently (each has its own buffers); two concurrent
// Scan() calls serialise.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "collectors/probe.h"
#include "collectors/proc_parsers.h"
#include "core/cpu_sample.h"
#include "core/process_record.h"

namespace nodeproc {

class ProcfsProbe : public Probe {
 public:
  // Command lines longer than `max_cmdline_bytes` are cut (never read further) and end with
  // kCmdlineTruncatedMarker (collectors/proc_parsers.h).
  explicit ProcfsProbe(std::string proc_root,
                       size_t max_cmdline_bytes = kDefaultMaxCmdlineBytes);
  ~ProcfsProbe() override;
  ProcfsProbe(const ProcfsProbe&) = delete;
  ProcfsProbe& operator=(const ProcfsProbe&) = delete;

  // Every ProcessRecord field but `cpu` and `container` (left default). A PID whose required
  // files (stat, status, and cmdline for user processes) vanish mid-read is dropped whole.
  // io / fd that cannot be read (permission denied, not present) are unknown (nullopt), never
  // zero; the cause is logged once. Kernel threads: empty cmdline, fds = 0, io when readable.
  // Rows are sorted by pid. Fails only when the root or its "stat" (btime) is unreadable.
  absl::Status Scan(std::vector<ProcessRecord>* out) override;

  // Reads only <root>/<pid>/stat per PID. Rows are sorted by pid.
  absl::Status SampleCpu(std::vector<CpuSample>* out) override;

  const std::string& proc_root() const { return proc_root_; }
  size_t cached_cmdlines_for_test() {
    absl::MutexLock lock(&scan_mu_);
    return cmdlines_.size();
  }

  // For a probe that sees most processes another way (the BPF probe reads /proc only for what
  // the kernel does not hand it): the root's PID listing (sorted), one PID's full record or CPU
  // sample (false when it is gone or unreadable), and the boot time in Unix seconds.
  absl::Status ListPidsInto(std::vector<int32_t>* pids);
  bool ReadOne(int32_t pid, ProcessRecord* out);
  bool SampleOne(int32_t pid, CpuSample* out);
  absl::StatusOr<double> BootTimeUnix();

 private:
  struct Buffers;

  absl::StatusOr<int> RootFd();
  // Boot time in Unix seconds. /proc/stat's btime has whole seconds only; when it agrees with
  // this kernel's CLOCK_REALTIME - CLOCK_BOOTTIME (the live host: containers share the kernel)
  // the precise value is used instead, so start times are not up to 1 s early.
  absl::StatusOr<double> BootTime(int root_fd);
  absl::Status ListPids(int root_fd, Buffers* b);
  // Fills *r for one PID; false when the PID is to be dropped.
  bool ReadProcess(int root_fd, int32_t pid, double btime, Buffers* b, ProcessRecord* r)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(scan_mu_);
  // One PID's stat into *s; false when gone or unparsable.
  bool SampleStat(int root_fd, int32_t pid, double btime, Buffers* b, CpuSample* s);
  // Logs a read problem rate-limited per cause (not per PID per scan).
  void NoteProblem(int cause_bit, const char* file, int err, int32_t pid);
  // After a scan: logs "reads again" for files whose causes failed before but not this scan.
  void NoteRecoveries();

  const std::string proc_root_;
  const size_t max_cmdline_bytes_;
  const long clk_tck_;
  const long page_size_;

  absl::Mutex root_mu_;
  int root_fd_ ABSL_GUARDED_BY(root_mu_) = -1;
  std::optional<double> btime_ ABSL_GUARDED_BY(root_mu_);

  absl::Mutex scan_mu_;
  std::unique_ptr<Buffers> scan_buffers_ ABSL_GUARDED_BY(scan_mu_);
  // Command lines by pid, valid for one (start time, comm); kept only for PIDs of the last scan.
  struct CmdlineEntry {
    uint64_t start_ticks = 0;
    std::string comm;
    std::string args;  // NUL-separated, bounded by max_cmdline_bytes_ (+ the truncation marker)
    uint32_t scan = 0;  // the scan that last saw it; 0 = not filled yet
  };
  absl::flat_hash_map<int32_t, CmdlineEntry> cmdlines_ ABSL_GUARDED_BY(scan_mu_);
  uint32_t scan_number_ ABSL_GUARDED_BY(scan_mu_) = 0;
  absl::Mutex sample_mu_;
  std::unique_ptr<Buffers> sample_buffers_ ABSL_GUARDED_BY(sample_mu_);

  std::atomic<uint32_t> seen_causes_{0};     // causes met since the last scan ended
  std::atomic<uint32_t> failing_causes_{0};  // causes met and not yet recovered
};

}  // namespace nodeproc
