#pragma once
// One process as seen by a full scan: a plain value, filled by a Probe, enriched by kube/,
// rendered by exporters/.
#include <cstdint>
#include <optional>
#include <string>

#include "core/container_ref.h"
#include "core/cpu_usage.h"
#include "core/process_state.h"

namespace nodeproc {

struct ProcessRecord {
  int32_t pid = 0;
  int32_t ppid = 0;
  std::string name;     // comm (may hold spaces and parentheses)
  std::string cmdline;  // arguments joined by single spaces; empty for kernel threads
  // The argument vector as read (/proc/<pid>/cmdline: NUL-separated, trailing NULs dropped)
  // when the probe has one: the privacy step scrubs it before joining (a value holding spaces
  // is masked whole), sets `cmdline` from it and clears it. Empty otherwise.
  std::string args;
  uint32_t uid = 0;     // real uid
  bool uid_known = true;  // false on Windows (no numeric uid): the CSV field is empty
  ProcessState state = ProcessState::kUnknown;
  bool kernel_thread = false;  // PF_KTHREAD

  uint64_t vms_bytes = 0;
  uint64_t rss_bytes = 0;
  uint32_t threads = 0;
  std::optional<uint32_t> fds;            // unknown when /proc/<pid>/fd is not readable
  std::optional<uint64_t> read_bytes;     // unknown when /proc/<pid>/io is not readable
  std::optional<uint64_t> write_bytes;

  uint64_t start_ticks = 0;        // stat starttime (clock ticks after boot): pid + this = identity
  double start_time_unix = 0;      // seconds since the epoch (btime + start_ticks / CLK_TCK)
  double cpu_seconds = 0;          // cumulative user + system CPU time

  CpuUsage cpu;                    // windows, filled from the sampler's CpuWindows
  ContainerRef container;          // filled by enrichment (kube/)
};

}  // namespace nodeproc
