#include "collectors/proc_listing.h"

#include "gtest/gtest.h"

namespace nodeproc {
namespace {

// st_nlink of /proc = base + processes. Here base = 9 (as on the development machine).
constexpr int64_t kBase = 9;

// Two stable listings of `n` processes: calibrated.
ProcListingPolicy Calibrated(size_t n) {
  ProcListingPolicy p;
  p.Listed(kBase + n, kBase + n, n);
  p.Listed(kBase + n, kBase + n, n);
  return p;
}

TEST(ProcListingPolicy, ListsUntilTwoStableListingsAgree) {
  ProcListingPolicy p;
  EXPECT_TRUE(p.MustList(kBase + 100, kBase + 100, 100));  // nothing known yet
  p.Listed(kBase + 100, kBase + 100, 100);
  EXPECT_TRUE(p.MustList(kBase + 100, kBase + 100, 100));  // one listing is not proof
  p.Listed(kBase + 100, kBase + 100, 100);
  EXPECT_FALSE(p.MustList(kBase + 100, kBase + 100, 100));
  EXPECT_EQ(p.listings(), 2u);
  EXPECT_EQ(p.skipped(), 1u);
}

TEST(ProcListingPolicy, ListingsTheCountMovedAcrossDoNotCalibrate) {
  ProcListingPolicy p;
  p.Listed(kBase + 100, kBase + 101, 100);  // a fork during the listing
  p.Listed(kBase + 101, kBase + 101, 101);
  EXPECT_TRUE(p.MustList(kBase + 101, kBase + 101, 101));
  p.Listed(kBase + 101, kBase + 101, 101);
  EXPECT_FALSE(p.MustList(kBase + 101, kBase + 101, 101));
}

TEST(ProcListingPolicy, DisagreeingListingsDoNotCalibrate) {
  ProcListingPolicy p;
  p.Listed(kBase + 100, kBase + 100, 100);
  p.Listed(kBase + 100, kBase + 100, 99);  // a fork and an exit: same count, one pid less listed
  EXPECT_TRUE(p.MustList(kBase + 100, kBase + 100, 100));
}

TEST(ProcListingPolicy, ListsWhenThePassMayHaveMissedAProcess) {
  ProcListingPolicy p = Calibrated(100);
  EXPECT_TRUE(p.MustList(kBase + 101, kBase + 101, 100));  // one more process than the pass saw
  EXPECT_TRUE(p.MustList(kBase + 100, kBase + 101, 100));  // a fork during the pass
  EXPECT_TRUE(p.MustList(kBase + 100, kBase + 99, 100));   // an exit during the pass
  EXPECT_TRUE(p.MustList(-1, -1, 100));                    // /proc unreadable
  EXPECT_TRUE(p.MustList(kBase + 100, kBase + 100, 99));   // a hidden process no longer counted
  EXPECT_FALSE(p.MustList(kBase + 100, kBase + 100, 100));
}

TEST(ProcListingPolicy, ListsEveryKListEveryScansWhateverTheCounts) {
  ProcListingPolicy p = Calibrated(50);
  int listed = 0;
  for (uint32_t scan = 0; scan < 3 * ProcListingPolicy::kListEvery; ++scan) {
    if (p.MustList(kBase + 50, kBase + 50, 50)) {
      ++listed;
      p.Listed(kBase + 50, kBase + 50, 50);
    }
  }
  EXPECT_EQ(listed, 3);
}

TEST(ProcListingPolicy, ANewBaseNeedsTwoListingsToReplaceTheOld) {
  ProcListingPolicy p = Calibrated(100);
  // A module adds a /proc directory: the base grows by one, every scan lists.
  EXPECT_TRUE(p.MustList(kBase + 101, kBase + 101, 100));
  p.Listed(kBase + 101, kBase + 101, 100);
  EXPECT_TRUE(p.MustList(kBase + 101, kBase + 101, 100));
  p.Listed(kBase + 101, kBase + 101, 100);
  EXPECT_FALSE(p.MustList(kBase + 101, kBase + 101, 100));
}

}  // namespace
}  // namespace nodeproc
