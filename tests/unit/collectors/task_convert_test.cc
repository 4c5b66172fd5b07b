#include "collectors/task_convert.h"

#include "gtest/gtest.h"

namespace nodeproc {
namespace {

constexpr uint64_t kMs = 1000000;

np_group_sum Sum(uint64_t utime, uint64_t stime, uint64_t runtime, uint64_t prev_u = 0,
                 uint64_t prev_s = 0) {
  np_group_sum s{};
  s.utime_ns = utime;
  s.stime_ns = stime;
  s.runtime_ns = runtime;
  s.prev_utime_ns = prev_u;
  s.prev_stime_ns = prev_s;
  return s;
}

TEST(AdjustCputime, ScalesTheTickSplitToTheRuntime) {
  // 3 ticks user, 1 tick system (4 ms ticks) but 100 ms of runtime: 75 / 25.
  AdjustedCputime a = AdjustCputime(Sum(12 * kMs, 4 * kMs, 100 * kMs));
  EXPECT_EQ(a.utime_ns, 75 * kMs);
  EXPECT_EQ(a.stime_ns, 25 * kMs);
}

TEST(AdjustCputime, AllUserOrAllSystemWhenOneSideHasNoTicks) {
  AdjustedCputime a = AdjustCputime(Sum(0, 0, 7 * kMs));
  EXPECT_EQ(a.utime_ns, 7 * kMs);  // stime == 0: everything is user time
  EXPECT_EQ(a.stime_ns, 0u);
  a = AdjustCputime(Sum(0, 8 * kMs, 7 * kMs));
  EXPECT_EQ(a.utime_ns, 0u);
  EXPECT_EQ(a.stime_ns, 7 * kMs);
}

TEST(AdjustCputime, NeverBelowWhatWasPrintedBefore) {
  // The runtime did not grow past what /proc printed last time: the previous values stand.
  AdjustedCputime a = AdjustCputime(Sum(10 * kMs, 10 * kMs, 30 * kMs, 20 * kMs, 15 * kMs));
  EXPECT_EQ(a.utime_ns, 20 * kMs);
  EXPECT_EQ(a.stime_ns, 15 * kMs);
  // The split would lower stime below its previous value: stime is kept, utime takes the rest.
  a = AdjustCputime(Sum(90 * kMs, 10 * kMs, 100 * kMs, 40 * kMs, 30 * kMs));
  EXPECT_EQ(a.stime_ns, 30 * kMs);
  EXPECT_EQ(a.utime_ns, 70 * kMs);
  // ... and utime below its previous value: utime is kept.
  a = AdjustCputime(Sum(10 * kMs, 90 * kMs, 100 * kMs, 60 * kMs, 20 * kMs));
  EXPECT_EQ(a.utime_ns, 60 * kMs);
  EXPECT_EQ(a.stime_ns, 40 * kMs);
}

TEST(AdjustCputime, NoOverflowWithLargeValues) {
  const uint64_t year = 365ull * 24 * 3600 * 1000 * kMs;  // 3.15e16 ns
  AdjustedCputime a = AdjustCputime(Sum(year, year, 2 * year));
  EXPECT_EQ(a.utime_ns, year);
  EXPECT_EQ(a.stime_ns, year);
}

TEST(ProcCpuTicks, FloorsEachFieldSeparatelyLikeProcStat) {
  // 75 ms user + 25 ms system at 100 Hz: 7 + 2 ticks (not 10): /proc prints each floored.
  EXPECT_EQ(ProcCpuTicks(Sum(12 * kMs, 4 * kMs, 100 * kMs), 100), 9u);
  EXPECT_DOUBLE_EQ(ExactCpuSeconds(Sum(12 * kMs, 4 * kMs, 100 * kMs)), 0.1);
}

TEST(StartTicks, ClockTicksAfterBoot) {
  EXPECT_EQ(StartTicks(1234567890123ull, 100), 123456u);
  EXPECT_EQ(StartTicks(9999999, 100), 0u);  // floored, as nsec_to_clock_t
}

TEST(StateLetter, MatchesTaskStateIndex) {
  EXPECT_EQ(StateLetter(0x0, 0), 'R');
  EXPECT_EQ(StateLetter(0x1, 0), 'S');
  EXPECT_EQ(StateLetter(0x2, 0), 'D');
  EXPECT_EQ(StateLetter(0x402, 0), 'I');       // TASK_IDLE
  EXPECT_EQ(StateLetter(0x4, 0), 'T');
  EXPECT_EQ(StateLetter(0x8, 0), 't');
  EXPECT_EQ(StateLetter(0x80, 0x20), 'Z');     // TASK_DEAD with EXIT_ZOMBIE
  EXPECT_EQ(StateLetter(0x80, 0x10), 'X');
  EXPECT_EQ(StateLetter(0x40, 0), 'P');
  EXPECT_EQ(StateLetter(0x8001, 0), 'D');      // frozen: reported uninterruptible
  EXPECT_EQ(StateLetter(0x1000, 0), 'D');      // RT lock wait
  EXPECT_EQ(StateLetter(0x101, 0), 'S');       // TASK_WAKEKILL is not reported
}

}  // namespace
}  // namespace nodeproc
