#include "collectors/package_db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "collectors/package_resolver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_paths.h"

namespace nodeproc {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;

std::string DpkgRoot() { return nodeproc::testing::FixturesDir() + "/rootfs-dpkg"; }
std::string ApkRoot() { return nodeproc::testing::FixturesDir() + "/rootfs-apk"; }

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(ParseDpkgStatusTest, ReadsStanzasAndInstalledState) {
  const std::string text =
      "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9\n"
      "Description: x\n Package: continuation-not-a-package\n\n\n"
      "Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n"
      "Package: half\r\nStatus: install reinstreq half-installed\r\nVersion: 2\r\n";
  const std::vector<DpkgStatusEntry> got = ParseDpkgStatus(text);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].name, "libc6");
  EXPECT_EQ(got[0].arch, "amd64");
  EXPECT_EQ(got[0].version, "2.36-9");
  EXPECT_TRUE(got[0].installed);
  EXPECT_EQ(got[1].name, "gone");
  EXPECT_FALSE(got[1].installed);
  EXPECT_EQ(got[2].name, "half");
  EXPECT_EQ(got[2].version, "2");
  EXPECT_FALSE(got[2].installed);
}

TEST(ParseApkInstalledTest, FoldersApplyToFollowingFiles) {
  const std::string text =
      "P:musl\nV:1.2.4-r2\nF:lib\nR:ld-musl-x86_64.so.1\na:0:0:755\nR:libc.musl-x86_64.so.1\n\n"
      "P:rootfile\nV:1\nR:top\nF:usr/lib\nR:libx.so\n";
  const std::vector<ApkPackage> got = ParseApkInstalled(text);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].name, "musl");
  EXPECT_EQ(got[0].version, "1.2.4-r2");
  EXPECT_THAT(got[0].files, ElementsAre("/lib/ld-musl-x86_64.so.1", "/lib/libc.musl-x86_64.so.1"));
  EXPECT_EQ(got[1].name, "rootfile");
  EXPECT_THAT(got[1].files, ElementsAre("/top", "/usr/lib/libx.so"));
}

TEST(PackageIndexTest, DpkgFixtureWithUsrMergeAndArchQualifiedLists) {
  absl::StatusOr<PackageIndex> index = PackageIndex::Load(DpkgRoot());
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(index->sources(), static_cast<uint8_t>(PackageIndex::Source::kDpkg));
  EXPECT_EQ(index->packages(), 3u);  // libc6, libssl3, coreutils: installed only

  // The .list says /lib/...; the mapping shows /usr/lib/... (usr merge), and both work.
  for (const char* p : {"/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6"}) {
    const PackageInfo* info = index->Find(p);
    ASSERT_NE(info, nullptr) << p;
    EXPECT_EQ(info->name, "libc6") << p;  // from "libc6:amd64.list", no arch in the name
    EXPECT_EQ(info->version, "2.36-9+deb12u4") << p;
  }
  // The other direction: .list says /usr/bin/ls, asked as /bin/ls.
  ASSERT_NE(index->Find("/bin/ls"), nullptr);
  EXPECT_EQ(index->Find("/bin/ls")->name, "coreutils");  // plain "coreutils.list"
  ASSERT_NE(index->Find("/usr/bin/cat"), nullptr);
  EXPECT_EQ(index->Find("/usr/bin/cat")->name, "coreutils");
  ASSERT_NE(index->Find("/usr/lib/libssl.so.3"), nullptr);
  EXPECT_EQ(index->Find("/usr/lib/libssl.so.3")->version, "3.0.2-0ubuntu1.10");

  EXPECT_EQ(index->Find("/etc/oldpkg.conf"), nullptr);  // config-files only: not installed
  EXPECT_EQ(index->Find("/usr/bin/half"), nullptr);     // half-installed
  EXPECT_EQ(index->Find("/data/app.db"), nullptr);      // unowned
  EXPECT_EQ(index->Find("/usr/share/doc/x"), nullptr);
  EXPECT_EQ(index->Find("relative/path"), nullptr);
  EXPECT_EQ(index->Find("/usr/etc/oldpkg.conf"), nullptr);  // /usr/etc is not a merge alias
}

TEST(PackageIndexTest, ApkFixture) {
  absl::StatusOr<PackageIndex> index = PackageIndex::Load(ApkRoot());
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(index->sources(), static_cast<uint8_t>(PackageIndex::Source::kApk));
  EXPECT_EQ(index->packages(), 3u);
  const PackageInfo* ssl = index->Find("/usr/lib/libssl.so.3");
  ASSERT_NE(ssl, nullptr);
  EXPECT_EQ(*ssl, (PackageInfo{"libssl3", "3.1.4-r5"}));
  ASSERT_NE(index->Find("/lib/ld-musl-x86_64.so.1"), nullptr);
  EXPECT_EQ(index->Find("/lib/ld-musl-x86_64.so.1")->name, "musl");
  ASSERT_NE(index->Find("/bin/sh"), nullptr);
  EXPECT_EQ(index->Find("/bin/sh")->name, "busybox");
  EXPECT_EQ(index->Find("/lib/apk/db/installed"), nullptr);
}

TEST(PackageIndexTest, MissingRootIsNotFoundAndEmptyRootIsEmpty) {
  EXPECT_EQ(PackageIndex::Load("/nonexistent/root").status().code(), absl::StatusCode::kNotFound);
  nodeproc::testing::TempDir dir;
  absl::StatusOr<PackageIndex> index = PackageIndex::Load(dir.path());
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->packages(), 0u);
  EXPECT_EQ(index->sources(), 0);
  EXPECT_EQ(index->Find("/usr/lib/libssl.so.3"), nullptr);
}

TEST(PackageIndexTest, AbsoluteSymlinkStaysInsideTheRoot) {
  // A container whose var/lib/dpkg points at an absolute path that exists on the host (the
  // fixture): resolved inside the container root it names nothing, so nothing is indexed.
  nodeproc::testing::TempDir dir;
  ASSERT_EQ(::mkdir((dir.path() + "/var").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((dir.path() + "/var/lib").c_str(), 0755), 0);
  const std::string host_db = DpkgRoot() + "/var/lib/dpkg";
  ASSERT_EQ(::symlink(host_db.c_str(), (dir.path() + "/var/lib/dpkg").c_str()), 0);
  absl::StatusOr<PackageIndex> index = PackageIndex::Load(dir.path());
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->packages(), 0u);
}

TEST(PackageIndexTest, FifoDatabaseDoesNotBlock) {
  nodeproc::testing::TempDir dir;
  ASSERT_EQ(::mkdir((dir.path() + "/lib").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((dir.path() + "/lib/apk").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((dir.path() + "/lib/apk/db").c_str(), 0755), 0);
  ASSERT_EQ(::mkfifo((dir.path() + "/lib/apk/db/installed").c_str(), 0644), 0);
  absl::StatusOr<PackageIndex> index = PackageIndex::Load(dir.path());
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->packages(), 0u);
}

// A fake proc tree: <proc>/<pid>/root -> a root filesystem.
class PackageResolverTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::mkdir(proc().c_str(), 0755), 0); }
  std::string proc() const { return dir_.path() + "/proc"; }
  void AddPid(int pid, const std::string& root) {
    const std::string p = proc() + "/" + std::to_string(pid);
    ASSERT_EQ(::mkdir(p.c_str(), 0755), 0);
    ASSERT_EQ(::symlink(root.c_str(), (p + "/root").c_str()), 0);
  }
  static std::vector<FileEntry> Files(std::initializer_list<const char*> paths) {
    std::vector<FileEntry> out;
    for (const char* p : paths) {
      FileEntry e;
      e.path = p;
      out.push_back(std::move(e));
    }
    return out;
  }
  nodeproc::testing::TempDir dir_;
};

TEST_F(PackageResolverTest, SamePathResolvesInEachProcessRoot) {
  AddPid(100, DpkgRoot());  // host
  AddPid(200, ApkRoot());   // container
  AddPid(201, ApkRoot());   // another process of the same container
  PackageResolver resolver(proc());

  std::vector<FileEntry> host = Files({"/usr/lib/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/data/app.db"});
  resolver.Resolve(100, &host);
  EXPECT_EQ(host[0].package, "libssl3");
  EXPECT_EQ(host[0].package_version, "3.0.2-0ubuntu1.10");
  EXPECT_EQ(host[1].package, "libc6");
  EXPECT_EQ(host[2].package, "");
  EXPECT_EQ(host[2].package_version, "");

  std::vector<FileEntry> container = Files({"/usr/lib/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libc.so.6"});
  resolver.Resolve(200, &container);
  EXPECT_EQ(container[0].package, "libssl3");
  EXPECT_EQ(container[0].package_version, "3.1.4-r5");  // the container's apk, not the host's dpkg
  EXPECT_EQ(container[1].package, "");                  // libc6 is the host's, not the container's

  std::vector<FileEntry> again = Files({"/lib/ld-musl-x86_64.so.1"});
  resolver.Resolve(201, &again);
  EXPECT_EQ(again[0].package, "musl");
  resolver.Resolve(100, &host);
  EXPECT_EQ(resolver.loads(), 2u);  // one index per root filesystem, not per pid or file
  EXPECT_EQ(resolver.cached_roots(), 2u);
}

TEST_F(PackageResolverTest, DeletedFileKeepsOwnerButNotVersion) {
  AddPid(100, DpkgRoot());
  PackageResolver resolver(proc());
  std::vector<FileEntry> files = Files({"/usr/lib/libssl.so.3"});
  files[0].deleted = true;
  resolver.Resolve(100, &files);
  EXPECT_EQ(files[0].package, "libssl3");
  EXPECT_EQ(files[0].package_version, "");
}

TEST_F(PackageResolverTest, VanishedPidLeavesFilesUnresolved) {
  PackageResolver resolver(proc());
  std::vector<FileEntry> files = Files({"/usr/lib/libssl.so.3"});
  resolver.Resolve(999, &files);
  EXPECT_EQ(files[0].package, "");
  EXPECT_EQ(resolver.loads(), 0u);
  EXPECT_EQ(resolver.IndexFor(999), nullptr);
}

TEST_F(PackageResolverTest, DatabaseChangeRebuildsTheIndex) {
  const std::string root = dir_.path() + "/rootfs";
  for (const char* d : {"", "/lib", "/lib/apk", "/lib/apk/db"}) {
    ASSERT_EQ(::mkdir((root + d).c_str(), 0755), 0);
  }
  const std::string db = root + "/lib/apk/db/installed";
  WriteFile(db, "P:libssl3\nV:3.0.2-r0\nF:usr/lib\nR:libssl.so.3\n");
  struct timespec times[2] = {{1'700'000'000, 0}, {1'700'000'000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, db.c_str(), times, 0), 0);
  AddPid(300, root);
  PackageResolver resolver(proc());
  std::vector<FileEntry> files = Files({"/usr/lib/libssl.so.3"});
  resolver.Resolve(300, &files);
  EXPECT_EQ(files[0].package_version, "3.0.2-r0");
  resolver.Resolve(300, &files);
  EXPECT_EQ(resolver.loads(), 1u);

  // apk upgrade: new database contents, new mtime.
  WriteFile(db, "P:libssl3\nV:3.0.3-r0\nF:usr/lib\nR:libssl.so.3\n");
  times[0].tv_sec = times[1].tv_sec = 1'700'000'100;
  ASSERT_EQ(::utimensat(AT_FDCWD, db.c_str(), times, 0), 0);
  resolver.Resolve(300, &files);
  EXPECT_EQ(files[0].package_version, "3.0.3-r0");
  EXPECT_EQ(resolver.loads(), 2u);
  EXPECT_EQ(resolver.cached_roots(), 1u);  // the stale index of that root was dropped
}

TEST_F(PackageResolverTest, CacheIsBounded) {
  AddPid(100, DpkgRoot());
  AddPid(200, ApkRoot());
  PackageResolver resolver(proc(), /*max_roots=*/1);
  std::vector<FileEntry> files = Files({"/usr/lib/libssl.so.3"});
  resolver.Resolve(100, &files);
  resolver.Resolve(200, &files);
  EXPECT_EQ(resolver.cached_roots(), 1u);
  resolver.Resolve(100, &files);  // evicted: built again
  EXPECT_EQ(resolver.loads(), 3u);
  EXPECT_EQ(files[0].package_version, "3.0.2-0ubuntu1.10");
}

}  // namespace
}  // namespace nodeproc

namespace nodeproc {
namespace {

TEST(PackageIndexTest, DistrolessStatusD) {
  absl::StatusOr<PackageIndex> index =
      PackageIndex::Load(nodeproc::testing::FixturesDir() + "/rootfs-distroless");
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(index->sources(), static_cast<uint8_t>(PackageIndex::Source::kDpkgStatusD));
  EXPECT_EQ(index->packages(), 2u);
  const PackageInfo* ssl = index->Find("/usr/lib/x86_64-linux-gnu/libssl.so.3");
  ASSERT_NE(ssl, nullptr);
  EXPECT_EQ(*ssl, (PackageInfo{"libssl3", "3.0.15-1~deb12u1"}));
  ASSERT_NE(index->Find("/lib/x86_64-linux-gnu/libssl.so.3"), nullptr);  // usr merge alias
  ASSERT_NE(index->Find("/etc/debian_version"), nullptr);
  EXPECT_EQ(index->Find("/etc/debian_version")->name, "base-files");
  EXPECT_EQ(index->Find("/var/lib/dpkg/status.d/libssl3"), nullptr);
}

TEST(ParseDpkgStatusTest, RecordsWhetherStatusWasPresent) {
  const std::vector<DpkgStatusEntry> got =
      ParseDpkgStatus("Package: a\nVersion: 1\n\nPackage: b\nStatus: install ok installed\n");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(got[0].has_status);
  EXPECT_TRUE(got[1].has_status);
}

TEST(PackageIndexTest, UsrMergedApkLocation) {
  nodeproc::testing::TempDir dir;
  for (const char* d : {"/usr", "/usr/lib", "/usr/lib/apk", "/usr/lib/apk/db"}) {
    ASSERT_EQ(::mkdir((dir.path() + d).c_str(), 0755), 0);
  }
  std::ofstream(dir.path() + "/usr/lib/apk/db/installed") << "P:zlib\nV:1.3.1-r2\nF:usr/lib\nR:libz.so.1\n";
  absl::StatusOr<PackageIndex> index = PackageIndex::Load(dir.path());
  ASSERT_TRUE(index.ok());
  ASSERT_NE(index->Find("/usr/lib/libz.so.1"), nullptr);
  EXPECT_EQ(index->Find("/usr/lib/libz.so.1")->version, "1.3.1-r2");
}

}  // namespace
}  // namespace nodeproc
