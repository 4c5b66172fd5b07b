#pragma once
// Pure conversions from the raw kernel values the BPF probe reads (collectors/bpf/records.h) to
// what /proc prints, so the BPF probe reports exactly what the procfs probe does. Built on every
// Linux machine (with or without the BPF toolchain) and unit-tested without a kernel.
#include <cstdint>

#include "collectors/bpf/records.h"

namespace nodeproc {

struct AdjustedCputime {
  uint64_t utime_ns = 0;
  uint64_t stime_ns = 0;
};

// The kernel's cputime_adjust() (kernel/sched/cputime.c): the tick-sampled utime/stime split
// scaled to the precise runtime, never below what was printed before (prev_cputime). This is
// what /proc/<pid>/stat prints for a thread group (before the division into clock ticks).
AdjustedCputime AdjustCputime(const np_group_sum& sum);

// utime + stime in clock ticks exactly as fields 14 and 15 of /proc/<pid>/stat (each field is
// floored to ticks separately, then summed, as the procfs probe does).
uint64_t ProcCpuTicks(const np_group_sum& sum, long clk_tck);

// The precise final CPU of a thread group (exit records): what cputime_adjust would return in
// total, in seconds (not rounded to ticks).
double ExactCpuSeconds(const np_group_sum& sum);

// /proc's starttime: start_boottime in clock ticks (nsec_to_clock_t).
uint64_t StartTicks(uint64_t start_boottime_ns, long clk_tck);

// The state letter of /proc/<pid>/stat from a task's __state and exit_state
// (task_state_index(): R S D T t X Z P I).
char StateLetter(uint32_t state, uint32_t exit_state);

}  // namespace nodeproc
