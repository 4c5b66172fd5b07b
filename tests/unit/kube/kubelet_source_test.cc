#include "kube/kubelet_source.h"

#include <fstream>
#include <sys/stat.h>

#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace nodeproc {
namespace {

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(FixtureKubeletSourceTest, ReadsTheFixtureLayout) {
  testing::TempDir dir;
  ASSERT_EQ(::mkdir((dir.path() + "/stats").c_str(), 0755), 0);
  Write(dir.path() + "/stats/summary.json", "{\"node\":{}}");
  Write(dir.path() + "/pods.json", "{\"items\":[]}");
  FixtureKubeletSource source(dir.path());
  absl::StatusOr<std::string> s = source.Fetch("/stats/summary");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, "{\"node\":{}}");
  absl::StatusOr<std::string> p = source.Fetch("/pods");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p, "{\"items\":[]}");
  // Re-read each time.
  Write(dir.path() + "/pods.json", "{\"items\":[1]}");
  EXPECT_EQ(*source.Fetch("/pods"), "{\"items\":[1]}");
  EXPECT_EQ(source.FileFor("/stats/summary"), dir.path() + "/stats/summary.json");
}

TEST(FixtureKubeletSourceTest, MissingFileIsNotFoundAndOtherPathsAreRefused) {
  testing::TempDir dir;
  FixtureKubeletSource source(dir.path());
  EXPECT_EQ(source.Fetch("/pods").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(source.Fetch("/../../etc/passwd").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(source.Fetch("/configz").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KubeletOutcomeTest, StatusNames) {
  EXPECT_EQ(KubeletOutcomeFromStatus(absl::OkStatus()), "ok");
  EXPECT_EQ(KubeletOutcomeFromStatus(absl::DeadlineExceededError("x")), "deadline_exceeded");
  EXPECT_EQ(KubeletOutcomeFromStatus(absl::PermissionDeniedError("x")), "permission_denied");
}

}  // namespace
}  // namespace nodeproc
