#include "exporters/cmdline_privacy_cache.h"

#include <string>

#include "gtest/gtest.h"

namespace nodeproc {
namespace {

using namespace std::string_literals;

TEST(CmdlinePrivacyCacheTest, ComputesOncePerProcessAndArguments) {
  CmdlinePrivacy privacy;
  CmdlinePrivacyCache cache(&privacy);
  const std::string args = "app\0--password\0a b c\0"s;
  EXPECT_EQ(cache.Get(10, 100, args, ""), "app --password ********");
  EXPECT_EQ(cache.Get(10, 100, args, ""), "app --password ********");
  EXPECT_EQ(cache.misses(), 1u);
  // Same pid, new start time (pid reuse): computed again.
  EXPECT_EQ(cache.Get(10, 200, "sleep\0" "1"s, ""), "sleep 1");
  // The process rewrote its arguments (setproctitle): computed again.
  EXPECT_EQ(cache.Get(10, 200, "sleep\0" "2"s, ""), "sleep 2");
  EXPECT_EQ(cache.misses(), 3u);
  // No argument vector (another probe): the joined line is scrubbed.
  EXPECT_EQ(cache.Get(11, 5, "", "app --token t"), "app --token ********");
}

TEST(CmdlinePrivacyCacheTest, GoneProcessesAreDroppedAndTheSizeIsBounded) {
  CmdlinePrivacy privacy;
  CmdlinePrivacyCache cache(&privacy, /*max_entries=*/4);
  for (int pid = 1; pid <= 3; ++pid) cache.Get(pid, 1, "x\0"s, "");
  cache.EndScan();
  EXPECT_EQ(cache.size(), 3u);
  cache.Get(1, 1, "x\0"s, "");  // only pid 1 is still there
  cache.EndScan();
  EXPECT_EQ(cache.size(), 1u);
  for (int pid = 100; pid < 120; ++pid) cache.Get(pid, 1, "x\0"s, "");
  EXPECT_LE(cache.size(), 4u);
}

}  // namespace
}  // namespace nodeproc
