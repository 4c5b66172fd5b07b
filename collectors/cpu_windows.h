#pragma once
// Per-PID CPU utilisation over 5 s, 2 min and 1 h, from the cheap sampler's cumulative CPU
// readings. Percent of one core (may exceed 100). For a window W:
//   - a checkpoint at or before now - W exists: (cpu_now - cpu_at(now - W)) / W, cpu_at
//     interpolating linearly between the two checkpoints around now - W;
//   - else, a process younger than W: its exact lifetime average cpu_now / age;
//   - else, a process watched for less than W: (cpu_now - cpu_first) / (now - first_seen);
//   - else (watched span zero, or never watched and older than W): unknown.
// Memory per PID is bounded: three small rings of coarse checkpoints (see PidHistory in the
// .cc for the byte count), never a per-second history for an hour.
// Thread-safe: the sampler calls Observe while full scans call Usage.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/cpu_sample.h"
#include "core/cpu_usage.h"

namespace nodeproc {

class CpuWindows {
 public:
  static constexpr absl::Duration kWindow5s = absl::Seconds(5);
  static constexpr absl::Duration kWindow2m = absl::Minutes(2);
  static constexpr absl::Duration kWindow1h = absl::Hours(1);

  CpuWindows();
  ~CpuWindows();
  CpuWindows(const CpuWindows&) = delete;
  CpuWindows& operator=(const CpuWindows&) = delete;

  // One sampler pass: every live PID's cumulative CPU at `now`. A tracked PID absent from
  // `samples` has exited and is forgotten; a PID whose start_ticks changed was reused and
  // starts afresh.
  void Observe(absl::Time now, const std::vector<CpuSample>& samples);

  // The three windows of one process seen by a full scan at `now` with `cpu_seconds_now`.
  CpuUsage Usage(int32_t pid, uint64_t start_ticks, double start_time_unix,
                 double cpu_seconds_now, absl::Time now) const;

  // PIDs with history (for tests and a self metric).
  size_t TrackedPids() const;
  // Checkpoints held for one PID (0 when untracked): the memory bound, for tests.
  size_t CheckpointCount(int32_t pid) const;
  // Bytes of history kept per tracked PID (the fixed size of its record).
  static size_t BytesPerPid();

  struct PidHistory;  // defined in the .cc

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<int32_t, std::unique_ptr<PidHistory>> pids_ ABSL_GUARDED_BY(mu_);
  uint64_t pass_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace nodeproc
