// Retention (exporters/snapshot_writer) and the upload spool (upload/spool) together: a
// snapshot not yet uploaded outlives --snapshot-retention, up to the spool cap; past the cap
// the oldest pending snapshots go and are counted; uploaded ones follow retention again.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>

#include "exporters/snapshot_writer.h"
#include "tests/support/temp_dir.h"
#include "upload/spool.h"

namespace nodeproc {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

TEST(UploadRetentionTest, PendingSnapshotsOutliveRetentionUpToTheCap) {
  testing::TempDir dir;
  SpoolOptions so;
  so.snapshot_dir = dir.path();
  so.machine = "node-1";
  so.destination = "d";
  so.max_pending_snapshots = 2;
  Spool spool(so);
  ASSERT_TRUE(spool.Load().ok());

  SnapshotWriterOptions wo;
  wo.dir = dir.path();
  wo.machine_id = "node-1";
  wo.agent_start = kStart;
  wo.keep_files = 1;
  wo.max_age = absl::InfiniteDuration();
  wo.keep_for_upload = [&](const std::string& p) { return spool.KeepForUpload(p); };
  wo.on_written = [&](const std::string& p) { EXPECT_TRUE(spool.Add(p)); };
  SnapshotWriter writer(wo);
  std::atomic<bool> cancel{false};
  auto write = [&](int minute) {
    Snapshot s;
    s.taken_at = kStart + absl::Minutes(minute);
    auto path = writer.Write(s, cancel);
    ASSERT_TRUE(path.ok()) << path.status();
  };
  auto on_disk = [&] { return nodeproc::testing::ListDir(writer.process_dir()); };

  for (int m = 1; m <= 5; ++m) write(m);
  // keep_files=1 keeps minute 5; the spool holds minute 4 too (2 pending snapshots at most);
  // minutes 1-3 were dropped one by one, counted.
  EXPECT_EQ(on_disk(), (std::vector<std::string>{"process_20270115T080400Z.csv", "process_20270115T080500Z.csv"}));
  EXPECT_EQ(spool.Stats().dropped_files, 3u);
  EXPECT_EQ(spool.Stats().pending_files, 2u);

  // Minute 4 is uploaded: retention may delete it at the next write.
  auto front = spool.Front();
  ASSERT_TRUE(front);
  EXPECT_NE(front->relative.find("080400"), std::string::npos);
  ASSERT_TRUE(spool.MarkUploaded(*front).ok());
  write(6);
  EXPECT_EQ(on_disk(), (std::vector<std::string>{"process_20270115T080500Z.csv", "process_20270115T080600Z.csv"}));
  EXPECT_EQ(spool.Stats().dropped_files, 3u);

  // Without the hook, retention alone keeps one file.
  wo.keep_for_upload = nullptr;
  wo.on_written = nullptr;
  SnapshotWriter plain(wo);
  Snapshot s;
  s.taken_at = kStart + absl::Minutes(7);
  ASSERT_TRUE(plain.Write(s, cancel).ok());
  EXPECT_EQ(on_disk(), (std::vector<std::string>{"process_20270115T080700Z.csv"}));
}

}  // namespace
}  // namespace nodeproc
