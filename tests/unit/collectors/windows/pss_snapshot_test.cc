// PSS against this process (Windows 8.1+). Skipped, with the reason, where PSS is missing or a
// stub (wine 8): the probe then runs Toolhelp-only, which the last test checks.
#include "collectors/windows/pss_snapshot.h"

#include <windows.h>

#include <vector>

#include "collectors/windows/toolhelp_probe.h"
#include "gtest/gtest.h"

namespace nodeproc::win {
namespace {

TEST(PssSnapshotTest, CapturesThisProcessWithHandlesAndThreads) {
  if (!PssAvailable()) GTEST_SKIP() << "PSS not exported by kernel32 on this system";
  auto d = CapturePssDetail(GetCurrentProcessId(), PssOptions{true, true});
  if (!d.ok() && absl::IsUnimplemented(d.status())) {
    GTEST_SKIP() << "PSS is a stub on this system: " << d.status().ToString();
  }
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->pid, GetCurrentProcessId());
  EXPECT_GT(d->working_set_bytes, 0u);
  EXPECT_GE(d->threads_captured, 1u);
  EXPECT_TRUE(d->thread_walk_complete) << d->walk_error;
  EXPECT_EQ(d->threads.size(), d->threads_captured);
  EXPECT_TRUE(d->handle_walk_complete) << d->walk_error;
  EXPECT_FALSE(d->handle_types.empty());
}

TEST(PssSnapshotTest, GoneProcessIsNotFound) {
  if (!PssAvailable()) GTEST_SKIP() << "PSS not exported by kernel32 on this system";
  auto d = CapturePssDetail(3, PssOptions{});  // PIDs are multiples of 4: 3 never exists
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(absl::IsNotFound(d.status())) << d.status().ToString();
}

TEST(PssSnapshotTest, ProbeWithPssDetailStillScansWithoutPss) {
  ToolhelpProbe::Options o;
  o.pss_detail = true;
  ToolhelpProbe probe(o);
  std::vector<ProcessRecord> rows;
  ASSERT_TRUE(probe.Scan(&rows).ok());
  bool self = false;
  for (const ProcessRecord& r : rows) self = self || r.pid == static_cast<int32_t>(GetCurrentProcessId());
  EXPECT_TRUE(self);
  const auto details = probe.PssDetails();
  auto probe_pss = CapturePssDetail(GetCurrentProcessId(), PssOptions{});
  if (probe_pss.ok()) {
    // PSS works: this process has its detail, threads walked.
    ASSERT_EQ(details.count(GetCurrentProcessId()), 1u);
    EXPECT_FALSE(details.at(GetCurrentProcessId()).threads.empty());
  } else {
    // Toolhelp-only: no detail, the rows are still there.
    EXPECT_TRUE(details.empty());
  }
}

}  // namespace
}  // namespace nodeproc::win
