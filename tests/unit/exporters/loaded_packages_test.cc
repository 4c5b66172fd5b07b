#include "exporters/loaded_packages.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nodeproc {
namespace {

using Kind = FileEntry::Kind;

FileEntry File(const char* path, const char* pkg, const char* ver, Kind kind = Kind::kMapped) {
  FileEntry f;
  f.path = path;
  f.kind = kind;
  f.package = pkg;
  f.package_version = ver;
  return f;
}

const absl::Time kAt = absl::FromUnixSeconds(1'795'000'000);

TEST(LoadedPackageCounterTest, CountsMappedPackagesOncePerProcess) {
  ProcessFiles a, b, c, d;
  a.files = {File("/lib/libssl.so.3", "libssl3", "3.0.2"), File("/lib/libcrypto.so.3", "libssl3", "3.0.2"),
             File("/lib/libc.so.6", "libc6", "2.36", Kind::kBoth), File("/data/x", "", "")};
  b.files = {File("/usr/lib/libssl.so.3", "libssl3", "3.1.4-r5")};
  c.files = {File("/lib/libssl.so.3", "libssl3", "3.0.2"),
             File("/etc/ssl/openssl.cnf", "openssl", "3.0.2", Kind::kOpen)};  // open only: not loaded
  d.files = {File("/lib/libold.so", "libold1", "")};  // deleted mapping: owner, no version
  LoadedPackageCounter counter;
  for (const ProcessFiles* p : {&a, &b, &c, &d}) counter.Add(*p);
  EXPECT_EQ(counter.distinct(), 4u);
  const LoadedPackages got = counter.Result(kAt);
  EXPECT_EQ(got.counted_at, kAt);
  EXPECT_EQ(got.dropped_series, 0u);
  EXPECT_THAT(got.packages, ::testing::ElementsAre(LoadedPackage{"libssl3", "3.0.2", 2},
                                                   LoadedPackage{"libc6", "2.36", 1},
                                                   LoadedPackage{"libold1", "", 1},
                                                   LoadedPackage{"libssl3", "3.1.4-r5", 1}));
}

TEST(LoadedPackageCounterTest, CapKeepsTheMostLoadedAndCountsTheRest) {
  LoadedPackageCounter counter;
  // Package pN is mapped by N processes (N = 1..5).
  for (int n = 1; n <= 5; ++n) {
    const std::string name = "p" + std::to_string(n);
    for (int i = 0; i < n; ++i) {
      ProcessFiles p;
      p.files = {File("/lib/x.so", name.c_str(), "1")};
      counter.Add(p);
    }
  }
  const LoadedPackages capped = counter.Result(kAt, 2);
  EXPECT_EQ(capped.dropped_series, 3u);
  EXPECT_THAT(capped.packages, ::testing::ElementsAre(LoadedPackage{"p5", "1", 5}, LoadedPackage{"p4", "1", 4}));
  EXPECT_EQ(counter.Result(kAt, 0).packages.size(), 5u);  // 0: no cap
  EXPECT_EQ(counter.Result(kAt, 0).dropped_series, 0u);
}

TEST(LoadedPackageCounterTest, NothingMappedIsEmpty) {
  LoadedPackageCounter counter;
  ProcessFiles p;
  p.files = {File("/var/log/app.log", "", "", Kind::kOpen)};
  counter.Add(p);
  EXPECT_TRUE(counter.Result(kAt).packages.empty());
}

}  // namespace
}  // namespace nodeproc
