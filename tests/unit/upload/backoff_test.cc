#include "upload/backoff.h"

#include <gtest/gtest.h>

namespace nodeproc {
namespace {

TEST(BackoffTest, DoublesUpToTheCapWithJitterInTheUpperHalf) {
  double u = 0.0;
  Backoff b(absl::Seconds(1), absl::Seconds(30), [&] { return u; });
  // u = 0: exactly half of the exponential delay.
  EXPECT_EQ(b.Next(), absl::Milliseconds(500));
  EXPECT_EQ(b.Next(), absl::Seconds(1));
  EXPECT_EQ(b.Next(), absl::Seconds(2));
  EXPECT_EQ(b.Next(), absl::Seconds(4));
  EXPECT_EQ(b.Next(), absl::Seconds(8));
  EXPECT_EQ(b.Next(), absl::Seconds(15));  // 30 s cap / 2
  for (int i = 0; i < 200; ++i) EXPECT_EQ(b.Next(), absl::Seconds(15));  // no overflow
  u = 0.999999;
  EXPECT_LT(b.Next(), absl::Seconds(30));
  EXPECT_GT(b.Next(), absl::Seconds(29));
}

TEST(BackoffTest, JitterSpreadsAFleetAndResetStartsOver) {
  double u = 0.5;
  Backoff b(absl::Seconds(2), absl::Minutes(5), [&] { return u; });
  EXPECT_EQ(b.Next(), absl::Milliseconds(1500));
  EXPECT_EQ(b.Next(), absl::Seconds(3));
  EXPECT_EQ(b.failures(), 2);
  b.Reset();
  EXPECT_EQ(b.failures(), 0);
  EXPECT_EQ(b.Next(), absl::Milliseconds(1500));
  // Out-of-range randomness is clamped, never negative or above the delay.
  u = -3;
  b.Reset();
  EXPECT_EQ(b.Next(), absl::Seconds(1));
  u = 7;
  b.Reset();
  EXPECT_EQ(b.Next(), absl::Seconds(2));
}

}  // namespace
}  // namespace nodeproc
