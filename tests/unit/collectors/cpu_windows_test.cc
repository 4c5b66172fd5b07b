#include "collectors/cpu_windows.h"

#include <atomic>
#include <cmath>
#include <cstdint>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace nodeproc {
namespace {

double UnixSeconds(absl::Time t) { return absl::ToDoubleSeconds(t - absl::UnixEpoch()); }

// Unix seconds as doubles carry ~0.25 us of rounding: far below anything displayed.
constexpr double kEps = 1e-4;
const absl::Time kAgentStart = absl::FromUnixSeconds(1'795'000'000);

// A synthetic process burning `cores` since `start` (CPU is exactly cores * age).
struct FakeProcess {
  int32_t pid;
  uint64_t start_ticks;
  absl::Time start;
  double cores;

  double CpuAt(absl::Time t) const { return cores * absl::ToDoubleSeconds(t - start); }
  CpuSample SampleAt(absl::Time t) const {
    return CpuSample{pid, start_ticks, UnixSeconds(start), CpuAt(t)};
  }
  CpuUsage UsageAt(const CpuWindows& w, absl::Time t) const {
    return w.Usage(pid, start_ticks, UnixSeconds(start), CpuAt(t), t);
  }
};

void ExpectPct(const std::optional<double>& got, double want, const char* what, absl::Duration at) {
  ASSERT_TRUE(got.has_value()) << what << " unknown at +" << at;
  EXPECT_NEAR(*got, want, kEps) << what << " at +" << at;
}

// Samples every `interval` for `total`, checking all windows at each sample and halfway
// between samples.
void CheckConstantRateFor(const FakeProcess& p, absl::Duration interval, absl::Duration total) {
  CpuWindows w;
  const double want = 100 * p.cores;
  for (absl::Duration d = absl::ZeroDuration(); d <= total; d += interval) {
    const absl::Time t = kAgentStart + d;
    w.Observe(t, {p.SampleAt(t)});
    for (absl::Time q : {t + interval / 2, t + interval - absl::Milliseconds(1)}) {
      CpuUsage u = p.UsageAt(w, q);
      ExpectPct(u.pct_5s, want, "5s", q - kAgentStart);
      ExpectPct(u.pct_2m, want, "2m", q - kAgentStart);
      ExpectPct(u.pct_1h, want, "1h", q - kAgentStart);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(CpuWindowsTest, ConstantRateIsExactForEveryWindowAtEveryAgeOfAnOldProcess) {
  // Started two days before the agent: every window is first the watched span, then the
  // checkpoints, always exact.
  FakeProcess p{100, 5, kAgentStart - absl::Hours(48), 0.37};
  CheckConstantRateFor(p, absl::Seconds(5), absl::Hours(3));
}

TEST(CpuWindowsTest, ConstantRateIsExactForAProcessStartedWithTheAgent) {
  // Younger than the windows for a while: lifetime average, then checkpoints.
  FakeProcess p{101, 5, kAgentStart - absl::Milliseconds(300), 0.8};
  CheckConstantRateFor(p, absl::Seconds(5), absl::Minutes(70));
}

TEST(CpuWindowsTest, ConstantRateIsExactWithOtherSamplingIntervals) {
  FakeProcess p{102, 5, kAgentStart - absl::Hours(5), 0.5};
  CheckConstantRateFor(p, absl::Milliseconds(500), absl::Minutes(5));
  CheckConstantRateFor(p, absl::Seconds(1), absl::Minutes(10));
  CheckConstantRateFor(p, absl::Seconds(30), absl::Hours(2));
}

TEST(CpuWindowsTest, MultiThreadedProcessExceeds100Percent) {
  FakeProcess p{103, 5, kAgentStart - absl::Hours(2), 3.5};
  CheckConstantRateFor(p, absl::Seconds(5), absl::Minutes(65));
}

TEST(CpuWindowsTest, WindowsDifferWhenTheRateChanges) {
  // Idle for two hours, then one full core for the last two minutes.
  const absl::Time start = kAgentStart - absl::Hours(1);
  const absl::Time busy_from = kAgentStart + absl::Hours(2);
  auto cpu_at = [&](absl::Time t) {
    return t <= busy_from ? 0.0 : absl::ToDoubleSeconds(t - busy_from);
  };
  CpuWindows w;
  absl::Time t = kAgentStart;
  for (; t <= busy_from + absl::Minutes(2); t += absl::Seconds(5)) {
    w.Observe(t, {CpuSample{7, 1, UnixSeconds(start), cpu_at(t)}});
  }
  t -= absl::Seconds(5);  // the last sample
  CpuUsage u = w.Usage(7, 1, UnixSeconds(start), cpu_at(t), t);
  ExpectPct(u.pct_5s, 100, "5s", t - kAgentStart);
  ExpectPct(u.pct_2m, 100, "2m", t - kAgentStart);
  ExpectPct(u.pct_1h, 100.0 * 120 / 3600, "1h", t - kAgentStart);
}

TEST(CpuWindowsTest, ProcessYoungerThanTheWindowUsesItsLifetime) {
  // Burned 3 s of CPU in its first 20 s, then idle; now 30 s old.
  const absl::Time start = kAgentStart;
  const absl::Time now = start + absl::Seconds(30);
  CpuWindows w;
  w.Observe(start + absl::Seconds(20), {CpuSample{9, 77, UnixSeconds(start), 3.0}});
  w.Observe(start + absl::Seconds(25), {CpuSample{9, 77, UnixSeconds(start), 3.0}});
  CpuUsage u = w.Usage(9, 77, UnixSeconds(start), 3.0, now);
  ExpectPct(u.pct_5s, 0.0, "5s", now - start);          // checkpoints: idle lately
  ExpectPct(u.pct_2m, 100.0 * 3 / 30, "2m", now - start);  // lifetime average
  ExpectPct(u.pct_1h, 100.0 * 3 / 30, "1h", now - start);

  // Never sampled at all (appeared between two sampler passes): lifetime where young enough.
  CpuWindows empty;
  CpuUsage v = empty.Usage(10, 1, UnixSeconds(start), 1.5, start + absl::Seconds(3));
  ExpectPct(v.pct_5s, 50.0, "5s", absl::Seconds(3));
  ExpectPct(v.pct_2m, 50.0, "2m", absl::Seconds(3));
  ExpectPct(v.pct_1h, 50.0, "1h", absl::Seconds(3));
  CpuUsage old = empty.Usage(10, 1, UnixSeconds(start), 1.5, start + absl::Minutes(3));
  EXPECT_FALSE(old.pct_5s.has_value());
  EXPECT_FALSE(old.pct_2m.has_value());
  ExpectPct(old.pct_1h, 100 * 1.5 / 180, "1h", absl::Minutes(3));
}

TEST(CpuWindowsTest, NewlyWatchedOldProcessUsesTheWatchedSpanNotItsLifetime) {
  // A day old with 1000 s of CPU (1.2% lifetime average), now running at half a core.
  const absl::Time start = kAgentStart - absl::Hours(24);
  const double start_unix = UnixSeconds(start);
  CpuWindows w;
  w.Observe(kAgentStart, {CpuSample{11, 3, start_unix, 1000.0}});

  // Nothing watched yet and older than every window: unknown.
  CpuUsage first = w.Usage(11, 3, start_unix, 1000.0, kAgentStart);
  EXPECT_FALSE(first.pct_5s.has_value());
  EXPECT_FALSE(first.pct_2m.has_value());
  EXPECT_FALSE(first.pct_1h.has_value());

  const absl::Time later = kAgentStart + absl::Seconds(8);
  CpuUsage u = w.Usage(11, 3, start_unix, 1004.0, later);
  ExpectPct(u.pct_5s, 50.0, "5s", absl::Seconds(8));
  ExpectPct(u.pct_2m, 50.0, "2m", absl::Seconds(8));
  ExpectPct(u.pct_1h, 50.0, "1h", absl::Seconds(8));
}

TEST(CpuWindowsTest, PidReuseStartsAfresh) {
  const absl::Time old_start = kAgentStart - absl::Hours(3);
  CpuWindows w;
  absl::Time t = kAgentStart;
  for (; t < kAgentStart + absl::Minutes(10); t += absl::Seconds(5)) {
    w.Observe(t, {CpuSample{42, 100, UnixSeconds(old_start),
                            absl::ToDoubleSeconds(t - old_start)}});
  }
  EXPECT_GT(w.CheckpointCount(42), 10u);

  // PID 42 is now a new process, started 2 s ago, with 0.2 s of CPU.
  const absl::Time new_start = t - absl::Seconds(2);
  const double new_start_unix = UnixSeconds(new_start);
  w.Observe(t, {CpuSample{42, 999, new_start_unix, 0.2}});
  EXPECT_EQ(w.CheckpointCount(42), 4u);  // history reset: `first` plus that sample in each ring
  CpuUsage u = w.Usage(42, 999, new_start_unix, 0.2, t);
  ExpectPct(u.pct_5s, 10.0, "5s", t - kAgentStart);
  ExpectPct(u.pct_2m, 10.0, "2m", t - kAgentStart);
  ExpectPct(u.pct_1h, 10.0, "1h", t - kAgentStart);

  // The old identity no longer has history: old and never sampled at this point.
  CpuUsage gone = w.Usage(42, 100, UnixSeconds(old_start), 1e4, t);
  EXPECT_FALSE(gone.pct_5s.has_value());
  EXPECT_FALSE(gone.pct_2m.has_value());
  EXPECT_FALSE(gone.pct_1h.has_value());
}

TEST(CpuWindowsTest, ForgetsPidsAbsentFromASamplerPass) {
  const double start = UnixSeconds(kAgentStart - absl::Hours(2));
  CpuWindows w;
  w.Observe(kAgentStart, {{1, 1, start, 1}, {2, 2, start, 2}, {3, 3, start, 3}});
  EXPECT_EQ(w.TrackedPids(), 3u);
  w.Observe(kAgentStart + absl::Seconds(5), {{1, 1, start, 1}, {3, 3, start, 3}});
  EXPECT_EQ(w.TrackedPids(), 2u);
  EXPECT_EQ(w.CheckpointCount(2), 0u);
  EXPECT_GT(w.CheckpointCount(1), 0u);
  CpuUsage u = w.Usage(2, 2, start, 2, kAgentStart + absl::Seconds(6));
  EXPECT_FALSE(u.pct_5s.has_value());
  w.Observe(kAgentStart + absl::Seconds(10), {});
  EXPECT_EQ(w.TrackedPids(), 0u);
}

TEST(CpuWindowsTest, MemoryPerPidIsBoundedAfterHoursOfSampling) {
  const absl::Time start = kAgentStart - absl::Hours(1);
  for (absl::Duration interval : {absl::Milliseconds(250), absl::Seconds(1), absl::Seconds(5)}) {
    CpuWindows w;
    size_t max_count = 0;
    for (absl::Duration d; d <= absl::Hours(3); d += interval) {
      const absl::Time t = kAgentStart + d;
      w.Observe(t, {CpuSample{5, 1, UnixSeconds(start), absl::ToDoubleSeconds(t - start)}});
      max_count = std::max(max_count, w.CheckpointCount(5));
    }
    EXPECT_LE(max_count, 45u) << interval;
    EXPECT_GE(max_count, 40u) << interval;  // the rings are actually used
  }
  EXPECT_LE(CpuWindows::BytesPerPid(), 800u);
}

// The sampler and full scans run on different threads (run under TSan/ASan by the sanitizer
// suite); every answer seen concurrently is still exact for constant-rate processes.
TEST(CpuWindowsTest, ConcurrentObserveAndUsageStayConsistent) {
  std::vector<FakeProcess> procs;
  for (int i = 0; i < 50; ++i) procs.push_back({1000 + i, 7, kAgentStart - absl::Hours(2), 0.1 * i});
  CpuWindows w;
  constexpr int kPasses = 300;
  std::atomic<int> published{-1};
  std::thread sampler([&] {
    for (int k = 0; k < kPasses; ++k) {
      const absl::Time t = kAgentStart + absl::Seconds(5 * k);
      std::vector<CpuSample> samples;
      for (const FakeProcess& p : procs) samples.push_back(p.SampleAt(t));
      w.Observe(t, samples);
      published = k;
    }
  });
  int bad = 0;
  while (published.load() < kPasses - 1) {
    const int k = published.load();
    if (k < 1) continue;
    // Query a moment after the last pass we know of (later passes may land meanwhile: the
    // windows still hold only real samples, so a constant rate stays exact up to `now`).
    const absl::Time q = kAgentStart + absl::Seconds(5 * k) + absl::Seconds(1);
    for (const FakeProcess& p : procs) {
      CpuUsage u = p.UsageAt(w, q);
      if (!u.pct_5s || std::abs(*u.pct_5s - 100 * p.cores) > kEps) ++bad;
    }
    EXPECT_LE(w.TrackedPids(), procs.size());
  }
  sampler.join();
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(w.TrackedPids(), procs.size());
}

}  // namespace
}  // namespace nodeproc
