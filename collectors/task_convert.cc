#include "collectors/task_convert.h"

namespace nodeproc {
namespace {

// include/linux/sched.h
constexpr uint32_t kTaskReport = 0x7f;  // RUNNING..PARKED, EXIT_DEAD, EXIT_ZOMBIE
constexpr uint32_t kTaskUninterruptible = 0x2;
constexpr uint32_t kTaskNoload = 0x400;
constexpr uint32_t kTaskIdle = kTaskUninterruptible | kTaskNoload;
constexpr uint32_t kTaskRtlockWait = 0x1000;
constexpr uint32_t kTaskFrozen = 0x8000;
constexpr uint32_t kTaskReportIdle = kTaskReport + 1;

int Fls(uint32_t x) { return x == 0 ? 0 : 32 - __builtin_clz(x); }

uint64_t NsPerTick(long clk_tck) {
  return clk_tck > 0 ? 1000000000ull / static_cast<uint64_t>(clk_tck) : 10000000ull;
}

}  // namespace

AdjustedCputime AdjustCputime(const np_group_sum& sum) {
  const uint64_t rtime = sum.runtime_ns;
  AdjustedCputime prev{sum.prev_utime_ns, sum.prev_stime_ns};
  if (prev.stime_ns + prev.utime_ns >= rtime) return prev;
  uint64_t stime = sum.stime_ns;
  uint64_t utime = sum.utime_ns;
  if (stime == 0) {
    utime = rtime;
  } else if (utime == 0) {
    stime = rtime;
  } else {
    stime = static_cast<uint64_t>(static_cast<unsigned __int128>(stime) * rtime /
                                  (static_cast<unsigned __int128>(stime) + utime));
    if (stime > rtime) stime = rtime;
  }
  if (stime < prev.stime_ns) stime = prev.stime_ns;
  utime = rtime - stime;
  if (utime < prev.utime_ns) {
    utime = prev.utime_ns;
    stime = rtime - utime;
  }
  return {utime, stime};
}

uint64_t ProcCpuTicks(const np_group_sum& sum, long clk_tck) {
  const AdjustedCputime a = AdjustCputime(sum);
  const uint64_t tick = NsPerTick(clk_tck);
  return a.utime_ns / tick + a.stime_ns / tick;
}

double ExactCpuSeconds(const np_group_sum& sum) {
  const AdjustedCputime a = AdjustCputime(sum);
  return static_cast<double>(a.utime_ns + a.stime_ns) * 1e-9;
}

uint64_t StartTicks(uint64_t start_boottime_ns, long clk_tck) {
  return start_boottime_ns / NsPerTick(clk_tck);
}

char StateLetter(uint32_t state, uint32_t exit_state) {
  static constexpr char kLetters[] = "RSDTtXZPI";
  uint32_t report = (state | exit_state) & kTaskReport;
  if ((state & kTaskIdle) == kTaskIdle) report = kTaskReportIdle;
  if ((state & kTaskRtlockWait) != 0 || (state & kTaskFrozen) != 0) report = kTaskUninterruptible;
  const int index = Fls(report);
  return index < static_cast<int>(sizeof(kLetters) - 1) ? kLetters[index] : '?';
}

}  // namespace nodeproc
