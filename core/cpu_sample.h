#pragma once
// What the cheap sampler pass reads per PID from /proc/<pid>/stat only.
#include <cstdint>

namespace nodeproc {

struct CpuSample {
  int32_t pid = 0;
  uint64_t start_ticks = 0;    // identity with pid: detects PID reuse
  double start_time_unix = 0;  // seconds since the epoch
  double cpu_seconds = 0;      // cumulative user + system
};

}  // namespace nodeproc
