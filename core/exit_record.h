#pragma once
// A process (thread group) that exited, as reported by a probe that sees exits (the BPF probe's
// ring buffer). The accounting folds its final CPU and I/O into the group counters, so processes
// that lived less than a scan are still counted. Identity is (pid, start_ticks), as for a
// ProcessRecord; the cgroup path lets kube/ resolve the container the same way as for live ones.
#include <cstdint>
#include <string>

namespace nodeproc {

struct ExitRecord {
  int32_t pid = 0;              // tgid
  int32_t ppid = 0;
  uint64_t start_ticks = 0;     // same unit as ProcessRecord::start_ticks (clock ticks after boot)
  std::string name;             // comm at exit
  uint32_t uid = 0;
  std::string cgroup_path;      // v2 path of the thread group's cgroup ("" when unknown)
  uint64_t cgroup_id = 0;       // kernfs id of that cgroup (0 when unknown)
  double cpu_seconds = 0;       // final cumulative user + system CPU of the whole thread group
  uint64_t read_bytes = 0;      // final storage I/O of the thread group
  uint64_t write_bytes = 0;
  double exit_time_unix = 0;    // seconds since the epoch (BPF: when the reaped process was freed)
};

}  // namespace nodeproc
