#pragma once
// The Windows Probe: a Toolhelp32 snapshot lists every process (pid, parent pid, thread
// count, exe name); each is then opened with PROCESS_QUERY_LIMITED_INFORMATION (plus
// PROCESS_VM_READ when allowed) for GetProcessTimes, GetProcessMemoryInfo,
// GetProcessHandleCount and GetProcessIoCounters, and its command line is read once per
// process instance (NtQueryInformationProcess ProcessCommandLineInformation, else the PEB) and
// kept in a cache keyed by PID (and creation time, against PID reuse).
//
// A call that fails leaves its fields unknown (logged once per call and cause, not per PID);
// a process that exits between the Toolhelp list and its open is skipped whole. With
// `pss_detail`, every Scan also captures each process with PSS (handles and threads
// walked) and keeps the detail (PssDetails()); without PSS (old Windows, wine) that is logged
// once and the scan is Toolhelp-only. Windows build only.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "collectors/probe.h"
#include "collectors/windows/pss_snapshot.h"
#include "collectors/windows/win_convert.h"

namespace nodeproc::win {

class ToolhelpProbe : public Probe {
 public:
  struct Options {
    bool pss_detail = false;  // PSS capture + handle and thread walks per process on Scan
  };

  // One process as Toolhelp32 lists it.
  struct Entry {
    uint32_t pid = 0;
    uint32_t ppid = 0;
    uint32_t threads = 0;
    std::string exe_name;  // UTF-8
  };

  ToolhelpProbe() : ToolhelpProbe(Options()) {}
  explicit ToolhelpProbe(Options options);

  // Every ProcessRecord field but `cpu` and `container`; rows sorted by pid.
  absl::Status Scan(std::vector<ProcessRecord>* out) override;
  // Toolhelp list + GetProcessTimes only; rows sorted by pid.
  absl::Status SampleCpu(std::vector<CpuSample>* out) override;

  // The Toolhelp32 snapshot of all processes, keyed by PID.
  absl::StatusOr<std::map<uint32_t, Entry>> ProcessesByPID();
  // The counters of the listed processes; processes gone since the list are absent. With
  // `full` false, only the CPU times are read (the sampler's cheap pass).
  std::vector<RawProcess> StatsForPIDs(const std::map<uint32_t, Entry>& processes, bool full);

  // True under wine (ntdll exports wine_get_version): its I/O counters and handle counts are
  // stub zeros, reported unknown instead.
  static bool UnderWine();

  // PSS detail of the last Scan (pss_detail only), by PID.
  std::map<uint32_t, PssProcessDetail> PssDetails() const;
  // Command lines held by the cache (for tests).
  size_t CachedCommandLines() const;

 private:
  struct CachedProcess {
    uint64_t creation_time = 0;
    std::optional<std::string> cmdline;
  };

  // The command line of an opened process, from the cache when the same instance was seen.
  std::optional<std::string> CommandLine(uint32_t pid, void* handle, uint64_t creation_time);

  const Options options_;
  mutable std::mutex mu_;  // cache_ and pss_
  std::unordered_map<uint32_t, CachedProcess> cache_;
  std::map<uint32_t, PssProcessDetail> pss_;
  std::mutex scan_mu_;  // one Scan at a time
};

}  // namespace nodeproc::win
