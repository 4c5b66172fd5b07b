#include "agent/files_snapshot.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_paths.h"

namespace nodeproc {
namespace {

using ::testing::ElementsAre;
using ::testing::StartsWith;

std::string DpkgRoot() { return nodeproc::testing::FixturesDir() + "/rootfs-dpkg"; }
std::string ApkRoot() { return nodeproc::testing::FixturesDir() + "/rootfs-apk"; }

const absl::Time kTakenAt = absl::FromUnixSeconds(1'795'000'000);  // 2026-11-18 11:06:40 UTC

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fake /proc: <pid>/stat (start time), <pid>/root -> a fixture root filesystem, fd/, maps.
class FilesSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::mkdir(proc().c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(out_dir().c_str(), 0755), 0);
  }
  std::string proc() const { return dir_.path() + "/proc"; }
  std::string out_dir() const { return dir_.path() + "/out"; }
  std::string out_path() const { return out_dir() + "/files_20261118T110640Z.csv"; }

  void AddPid(int pid, uint64_t start_ticks, const std::string& root,
              const std::vector<std::string>& fds, const std::string& maps) {
    const std::string p = proc() + "/" + std::to_string(pid);
    ASSERT_EQ(::mkdir(p.c_str(), 0755), 0);
    std::ofstream(p + "/stat") << pid << " (proc " << pid << ") S 1 1 1 0 -1 4194304 0 0 0 0 5 3 0 0 20 0 1 0 "
                               << start_ticks << " 1000 10\n";
    ASSERT_EQ(::symlink(root.c_str(), (p + "/root").c_str()), 0);
    ASSERT_EQ(::mkdir((p + "/fd").c_str(), 0755), 0);
    for (size_t i = 0; i < fds.size(); ++i) {
      ASSERT_EQ(::symlink(fds[i].c_str(), (p + "/fd/" + std::to_string(i)).c_str()), 0);
    }
    std::ofstream(p + "/maps") << maps;
  }
  static ProcessRecord Record(int32_t pid, uint64_t start_ticks) {
    ProcessRecord r;
    r.pid = pid;
    r.start_ticks = start_ticks;
    return r;
  }
  // A host process, a container process, a kernel thread, one that exited and one whose PID
  // was reused since the scan.
  Snapshot MakeWorld() {
    AddPid(100, 5000, DpkgRoot(), {"/data/app.db", "socket:[1]", "pipe:[2]"},
           "7f00a000-7f00b000 r--p 00000000 fe:00 200 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
           "7f00d000-7f00e000 r--p 00000000 fe:00 300 /usr/lib/libssl.so.3\n"
           "55d0a000-55d0b000 r--p 00000000 fe:00 100 /usr/bin/cat\n");
    AddPid(200, 6000, ApkRoot(), {},
           "7f00d000-7f00e000 r--p 00000000 fe:00 300 /usr/lib/libssl.so.3\n"
           "7f00e000-7f00f000 r--p 00000000 fe:00 301 /lib/ld-musl-x86_64.so.1\n");
    AddPid(500, 9999, DpkgRoot(), {"/data/app.db"}, "");  // scanned with start time 7000
    Snapshot snap;
    snap.taken_at = kTakenAt;
    snap.processes.push_back(Record(100, 5000));
    ProcessRecord c = Record(200, 6000);
    c.container.container_id = "c0ffee";
    c.container.pod_uid = "uid-9";
    c.container.pod_namespace = "shop";
    c.container.pod_name = "cart-0";
    c.container.container_name = "cart";
    snap.processes.push_back(c);
    ProcessRecord kthread = Record(2, 1);
    kthread.kernel_thread = true;
    snap.processes.push_back(kthread);
    snap.processes.push_back(Record(400, 1234));  // exited: no /proc entry
    snap.processes.push_back(Record(500, 7000));  // PID reused
    return snap;
  }
  nodeproc::testing::TempDir dir_;
};

TEST_F(FilesSnapshotTest, WritesRowsOfLiveProcessesWithTheirRootsPackages) {
  const Snapshot snap = MakeWorld();
  FilesSnapshotOptions o;
  o.proc_root = proc();
  o.count_packages = true;
  FilesSnapshot files(o);
  std::atomic<bool> cancel{false};
  absl::StatusOr<FilesSnapshotResult> got = files.Write(snap, out_path(), cancel);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->path, out_path());
  EXPECT_EQ(got->processes, 2u);
  EXPECT_EQ(got->skipped, 2u);  // 400 exited, 500 reused (the kernel thread is not counted)
  EXPECT_EQ(got->rows, 6u);
  EXPECT_EQ(got->dropped_files, 0u);
  EXPECT_EQ(testing::ListDir(out_dir()), std::vector<std::string>{"files_20261118T110640Z.csv"});

  std::vector<std::string> lines = absl::StrSplit(Read(out_path()), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0],
            "timestamp,pid,container_id,pod_uid,namespace,pod,container,path,kind,size,mode,uid,gid,"
            "mtime,inode,package,package_version");
  std::vector<std::string> paths;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> f = absl::StrSplit(lines[i], ',');
    ASSERT_EQ(f.size(), 17u) << lines[i];
    EXPECT_EQ(f[0], "2026-11-18 11:06:40");
    paths.push_back(absl::StrCat(f[1], " ", f[7], " ", f[8], " ", f[15], " ", f[16]));
    if (f[1] == "200") {
      EXPECT_EQ(absl::StrCat(f[2], "|", f[3], "|", f[4], "|", f[5], "|", f[6]), "c0ffee|uid-9|shop|cart-0|cart");
    } else {
      EXPECT_EQ(absl::StrCat(f[2], f[3], f[4], f[5], f[6]), "");
    }
  }
  // Same path, two roots: the container's libssl is the apk one, the host's the dpkg one.
  EXPECT_THAT(paths, ElementsAre("100 /data/app.db open  ",
                                 "100 /usr/bin/cat mapped coreutils 9.1-1",
                                 "100 /usr/lib/libssl.so.3 mapped libssl3 3.0.2-0ubuntu1.10",
                                 "100 /usr/lib/x86_64-linux-gnu/libc.so.6 mapped libc6 2.36-9+deb12u4",
                                 "200 /lib/ld-musl-x86_64.so.1 mapped musl 1.2.4-r2",
                                 "200 /usr/lib/libssl.so.3 mapped libssl3 3.1.4-r5"));
  // stat through the container's root: the apk fixture's libssl is 21 bytes, the host's 22.
  EXPECT_THAT(lines[6], StartsWith("2026-11-18 11:06:40,200,c0ffee,uid-9,shop,cart-0,cart,/usr/lib/libssl.so.3,mapped,21,"));
  EXPECT_THAT(lines[3], StartsWith("2026-11-18 11:06:40,100,,,,,,/usr/lib/libssl.so.3,mapped,22,0644,"));

  ASSERT_NE(got->packages, nullptr);
  EXPECT_EQ(got->packages->counted_at, kTakenAt);
  EXPECT_THAT(got->packages->packages,
              ElementsAre(LoadedPackage{"coreutils", "9.1-1", 1}, LoadedPackage{"libc6", "2.36-9+deb12u4", 1},
                          LoadedPackage{"libssl3", "3.0.2-0ubuntu1.10", 1},
                          LoadedPackage{"libssl3", "3.1.4-r5", 1}, LoadedPackage{"musl", "1.2.4-r2", 1}));
  // Both root filesystems indexed once; a second snapshot reuses the indexes.
  EXPECT_EQ(files.package_index_loads(), 2u);
  ASSERT_TRUE(files.Write(snap, out_path(), cancel).ok());
  EXPECT_EQ(files.package_index_loads(), 2u);
}

TEST_F(FilesSnapshotTest, SamplingCapAndNoPackageCountsWhenOff) {
  const Snapshot snap = MakeWorld();
  FilesSnapshotOptions o;
  o.proc_root = proc();
  o.max_files_per_process = 1;
  FilesSnapshot files(o);
  std::atomic<bool> cancel{false};
  absl::StatusOr<FilesSnapshotResult> got = files.Write(snap, out_path(), cancel);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->rows, 2u);           // one per process
  EXPECT_EQ(got->dropped_files, 4u);  // 100: 4 files -> 1, 200: 2 -> 1
  EXPECT_EQ(got->packages, nullptr);
}

TEST_F(FilesSnapshotTest, CancelledLeavesNeitherAFilesCsvNorATempFile) {
  const Snapshot snap = MakeWorld();
  FilesSnapshotOptions o;
  o.proc_root = proc();
  FilesSnapshot files(o);
  std::atomic<bool> cancel{true};
  absl::StatusOr<FilesSnapshotResult> got = files.Write(snap, out_path(), cancel);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(testing::ListDir(out_dir()).empty());
}

TEST_F(FilesSnapshotTest, MissingFolderIsAnErrorNamingIt) {
  FilesSnapshotOptions o;
  o.proc_root = proc();
  FilesSnapshot files(o);
  std::atomic<bool> cancel{false};
  absl::StatusOr<FilesSnapshotResult> got = files.Write(MakeWorld(), dir_.path() + "/nope/files_x.csv", cancel);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(std::string(got.status().message()).find("/nope/"), std::string::npos) << got.status();
}

}  // namespace
}  // namespace nodeproc
