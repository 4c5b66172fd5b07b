#include "collectors/open_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <string>

#include "collectors/package_resolver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_paths.h"

namespace nodeproc {
namespace {

using Kind = FileEntry::Kind;

std::string DpkgRoot() { return nodeproc::testing::FixturesDir() + "/rootfs-dpkg"; }
std::string ApkRoot() { return nodeproc::testing::FixturesDir() + "/rootfs-apk"; }

TEST(ClassifyFdTargetTest, Kinds) {
  EXPECT_EQ(ClassifyFdTarget("/usr/lib/libc.so.6"), FdTargetKind::kPath);
  EXPECT_EQ(ClassifyFdTarget("socket:[12345]"), FdTargetKind::kSocket);
  EXPECT_EQ(ClassifyFdTarget("pipe:[99]"), FdTargetKind::kPipe);
  EXPECT_EQ(ClassifyFdTarget("anon_inode:[eventfd]"), FdTargetKind::kAnon);
  EXPECT_EQ(ClassifyFdTarget("anon_inode:inotify"), FdTargetKind::kAnon);
  EXPECT_EQ(ClassifyFdTarget("net:[4026531840]"), FdTargetKind::kOther);
  EXPECT_EQ(ClassifyFdTarget(""), FdTargetKind::kOther);
}

TEST(ParseMapsLineTest, FileBackedOnly) {
  auto m = ParseMapsLine(
      "7f94f095a000-7f94f0980000 r--p 00000000 fe:00 332835                     /usr/lib/x86_64-linux-gnu/libc.so.6");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(m->inode, 332835u);
  EXPECT_FALSE(m->deleted);

  m = ParseMapsLine("7f00-7f10 rw-s 00000000 00:05 77 /tmp/my data, v2.bin (deleted)");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->path, "/tmp/my data, v2.bin");
  EXPECT_TRUE(m->deleted);

  EXPECT_FALSE(ParseMapsLine("55d0c000-55d2d000 rw-p 00000000 00:00 0                          [heap]"));
  EXPECT_FALSE(ParseMapsLine("7ffd-7ffe rw-p 00000000 00:00 0                          [stack]"));
  EXPECT_FALSE(ParseMapsLine("7f00-7f10 rw-p 00000000 00:00 0 "));
  EXPECT_FALSE(ParseMapsLine("7f00-7f10 rw-p 00000000 00:00 0"));
  EXPECT_FALSE(ParseMapsLine("7f00-7f10 rw-s 00000000 00:01 1025 /memfd:wayland-shm (deleted)"));
  EXPECT_FALSE(ParseMapsLine("7f00-7f10 rw-s 00000000 00:01 32770 /SYSV00000000 (deleted)"));
  EXPECT_FALSE(ParseMapsLine("garbage"));
  EXPECT_FALSE(ParseMapsLine("7f00-7f10 r--p 00000000 fe:00 notanumber /x"));
}

FileEntry Entry(std::string path, Kind kind) {
  FileEntry e;
  e.path = std::move(path);
  e.kind = kind;
  return e;
}

std::vector<std::string> Paths(const std::vector<FileEntry>& files) {
  std::vector<std::string> out;
  for (const FileEntry& f : files) out.push_back(f.path);
  return out;
}

TEST(SampleFilesTest, KeepsSharedObjectsThenMappedThenOpenDeterministically) {
  std::vector<FileEntry> files;
  for (int i = 0; i < 5; ++i) files.push_back(Entry("/data/log" + std::to_string(i), Kind::kOpen));
  files.push_back(Entry("/usr/lib/libssl.so.3", Kind::kMapped));
  files.push_back(Entry("/usr/lib/libc.so.6", Kind::kBoth));
  files.push_back(Entry("/usr/bin/app", Kind::kMapped));
  files.push_back(Entry("/usr/lib/libz.so.1.2", Kind::kMapped));

  std::vector<FileEntry> a = files;
  EXPECT_EQ(SampleFiles(&a, 5), 4u);
  // All 3 shared objects and the executable, then one open file chosen by hash.
  ASSERT_EQ(a.size(), 5u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end(),
                             [](const FileEntry& x, const FileEntry& y) { return x.path < y.path; }));
  std::vector<std::string> got = Paths(a);
  for (const char* want : {"/usr/lib/libssl.so.3", "/usr/lib/libc.so.6", "/usr/bin/app", "/usr/lib/libz.so.1.2"}) {
    EXPECT_THAT(got, ::testing::Contains(want));
  }
  // Same choice whatever the input order (fd numbering / maps order).
  std::mt19937 rng(7);
  for (int round = 0; round < 5; ++round) {
    std::vector<FileEntry> b = files;
    std::shuffle(b.begin(), b.end(), rng);
    EXPECT_EQ(SampleFiles(&b, 5), 4u);
    EXPECT_EQ(Paths(b), got);
  }
  // Smaller limit: only shared objects survive.
  std::vector<FileEntry> c = files;
  EXPECT_EQ(SampleFiles(&c, 3), 6u);
  EXPECT_THAT(Paths(c), ::testing::ElementsAre("/usr/lib/libc.so.6", "/usr/lib/libssl.so.3", "/usr/lib/libz.so.1.2"));
  // No limit / under the limit: all kept, sorted.
  std::vector<FileEntry> d = files;
  EXPECT_EQ(SampleFiles(&d, 0), 0u);
  EXPECT_EQ(d.size(), files.size());
  EXPECT_EQ(d.front().path, "/data/log0");
}

// A fake /proc: <pid>/root -> fixture rootfs, fd/ symlinks, maps text.
class OpenFilesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::mkdir(proc().c_str(), 0755), 0); }
  std::string proc() const { return dir_.path() + "/proc"; }
  void AddPid(int pid, const std::string& root, const std::vector<std::string>& fds,
              const std::string& maps) {
    const std::string p = proc() + "/" + std::to_string(pid);
    ASSERT_EQ(::mkdir(p.c_str(), 0755), 0);
    ASSERT_EQ(::symlink(root.c_str(), (p + "/root").c_str()), 0);
    ASSERT_EQ(::mkdir((p + "/fd").c_str(), 0755), 0);
    for (size_t i = 0; i < fds.size(); ++i) {
      ASSERT_EQ(::symlink(fds[i].c_str(), (p + "/fd/" + std::to_string(i)).c_str()), 0);
    }
    std::ofstream(p + "/maps") << maps;
  }
  static const FileEntry* Find(const ProcessFiles& pf, std::string_view path) {
    for (const FileEntry& f : pf.files) {
      if (f.path == path) return &f;
    }
    return nullptr;
  }
  nodeproc::testing::TempDir dir_;
};

constexpr char kHostMaps[] =
    "55d0a000-55d0b000 r--p 00000000 fe:00 100 /usr/bin/cat\n"
    "55d0b000-55d0c000 r-xp 00001000 fe:00 100 /usr/bin/cat\n"
    "55d0c000-55d2d000 rw-p 00000000 00:00 0                          [heap]\n"
    "7f00a000-7f00b000 r--p 00000000 fe:00 200 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
    "7f00b000-7f00c000 r-xp 00001000 fe:00 200 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
    "7f00c000-7f00d000 rw-p 00000000 00:00 0 \n"
    "7f00d000-7f00e000 r--p 00000000 fe:00 300 /usr/lib/libssl.so.3\n"
    "7f00e000-7f00f000 rw-s 00000000 00:01 1025 /memfd:pool (deleted)\n"
    "7f00f000-7f010000 r--p 00000000 fe:00 400 /opt/old/libgone.so (deleted)\n"
    "7f010000-7f011000 rw-s 00000000 00:05 5 /dev/zero (deleted)\n"
    "7ffd0000-7ffd1000 rw-p 00000000 00:00 0                          [stack]\n"
    "7ffd2000-7ffd3000 r-xp 00000000 00:00 0                          [vdso]\n";

TEST_F(OpenFilesTest, CombinesFdsAndMapsWithStatInsideTheRoot) {
  AddPid(100, DpkgRoot(),
         {"/dev/null", "pipe:[11]", "socket:[12]", "anon_inode:[eventfd]", "/data/app.db",
          "/usr/lib/x86_64-linux-gnu/libc.so.6", "/etc", "/data/gone.log (deleted)", "socket:[13]"},
         kHostMaps);
  OpenFilesCollector collector(proc());
  absl::StatusOr<ProcessFiles> got = collector.Collect(100);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->pid, 100);
  EXPECT_EQ(got->sockets, 2u);
  EXPECT_EQ(got->pipes, 1u);
  EXPECT_EQ(got->anon, 1u);
  EXPECT_EQ(got->other, 2u);  // /dev/null, /etc (a directory)
  EXPECT_EQ(got->dropped, 0u);
  EXPECT_TRUE(got->fds_readable);
  EXPECT_TRUE(got->maps_readable);
  EXPECT_THAT(Paths(got->files),
              ::testing::ElementsAre("/data/app.db", "/data/gone.log", "/opt/old/libgone.so",
                                     "/usr/bin/cat", "/usr/lib/libssl.so.3",
                                     "/usr/lib/x86_64-linux-gnu/libc.so.6"));

  const FileEntry* db = Find(*got, "/data/app.db");
  ASSERT_NE(db, nullptr);
  struct stat st;
  ASSERT_EQ(::stat((DpkgRoot() + "/data/app.db").c_str(), &st), 0);
  EXPECT_EQ(db->kind, Kind::kOpen);
  EXPECT_FALSE(db->deleted);
  EXPECT_EQ(db->size, static_cast<uint64_t>(st.st_size));
  EXPECT_EQ(db->inode, static_cast<uint64_t>(st.st_ino));
  EXPECT_EQ(db->mtime, static_cast<int64_t>(st.st_mtim.tv_sec));
  EXPECT_EQ(db->uid, st.st_uid);

  const FileEntry* libc = Find(*got, "/usr/lib/x86_64-linux-gnu/libc.so.6");
  ASSERT_NE(libc, nullptr);
  EXPECT_EQ(libc->kind, Kind::kBoth);
  EXPECT_EQ(libc->size, 13u);  // "fixture libc\n" through the root (a host path would differ)

  const FileEntry* cat = Find(*got, "/usr/bin/cat");
  ASSERT_NE(cat, nullptr);
  EXPECT_EQ(cat->kind, Kind::kMapped);
  ASSERT_TRUE(cat->mode.has_value());
  EXPECT_TRUE(S_ISREG(*cat->mode));
  EXPECT_EQ(*cat->mode & 0111u, 0111u);  // executable in the fixture

  const FileEntry* gone = Find(*got, "/opt/old/libgone.so");
  ASSERT_NE(gone, nullptr);
  EXPECT_TRUE(gone->deleted);
  EXPECT_EQ(gone->inode, 400u);  // from maps; not stat'ed by path
  EXPECT_FALSE(gone->size.has_value());

  const FileEntry* log = Find(*got, "/data/gone.log");
  ASSERT_NE(log, nullptr);
  EXPECT_TRUE(log->deleted);
  EXPECT_EQ(log->kind, Kind::kOpen);
}

TEST_F(OpenFilesTest, SamplingRecordsDropped) {
  AddPid(100, DpkgRoot(), {"/data/app.db", "/usr/lib/x86_64-linux-gnu/libc.so.6"}, kHostMaps);
  OpenFilesCollector collector(proc(), 3);
  absl::StatusOr<ProcessFiles> got = collector.Collect(100);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->dropped, 2u);  // 5 regular files, 3 kept
  EXPECT_THAT(Paths(got->files), ::testing::ElementsAre("/opt/old/libgone.so", "/usr/lib/libssl.so.3",
                                                        "/usr/lib/x86_64-linux-gnu/libc.so.6"));
}

TEST_F(OpenFilesTest, ContainerFilesResolveInsideTheContainer) {
  AddPid(100, DpkgRoot(), {}, "7f00d000-7f00e000 r--p 00000000 fe:00 300 /usr/lib/libssl.so.3\n");
  AddPid(200, ApkRoot(), {"/usr/lib/libssl.so.3"},
         "7f00d000-7f00e000 r--p 00000000 fe:00 300 /usr/lib/libssl.so.3\n"
         "7f00e000-7f00f000 r--p 00000000 fe:00 301 /lib/ld-musl-x86_64.so.1\n");
  OpenFilesCollector collector(proc());
  PackageResolver resolver(proc());

  absl::StatusOr<ProcessFiles> host = collector.Collect(100);
  absl::StatusOr<ProcessFiles> container = collector.Collect(200);
  ASSERT_TRUE(host.ok() && container.ok());
  resolver.Resolve(100, &host->files);
  resolver.Resolve(200, &container->files);

  const FileEntry* h = Find(*host, "/usr/lib/libssl.so.3");
  const FileEntry* c = Find(*container, "/usr/lib/libssl.so.3");
  ASSERT_NE(h, nullptr);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, Kind::kBoth);
  EXPECT_EQ(h->size, 22u);  // "fixture libssl (dpkg)\n"
  EXPECT_EQ(c->size, 21u);  // "fixture libssl (apk)\n": stat'ed inside the container's root
  EXPECT_EQ(h->package_version, "3.0.2-0ubuntu1.10");
  EXPECT_EQ(c->package, "libssl3");
  EXPECT_EQ(c->package_version, "3.1.4-r5");
  const FileEntry* musl = Find(*container, "/lib/ld-musl-x86_64.so.1");
  ASSERT_NE(musl, nullptr);
  EXPECT_EQ(musl->package, "musl");
}

TEST_F(OpenFilesTest, VanishedPidIsNotFound) {
  OpenFilesCollector collector(proc());
  EXPECT_EQ(collector.Collect(4242).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(OpenFilesTest, UnreadableFdDirStillReturnsMaps) {
  // fd/ is a file, not a directory: listing fails with ENOTDIR (logged once), maps still read.
  const std::string p = proc() + "/300";
  ASSERT_EQ(::mkdir(p.c_str(), 0755), 0);
  ASSERT_EQ(::symlink(DpkgRoot().c_str(), (p + "/root").c_str()), 0);
  std::ofstream(p + "/fd") << "";
  std::ofstream(p + "/maps") << kHostMaps;
  OpenFilesCollector collector(proc());
  absl::StatusOr<ProcessFiles> got = collector.Collect(300);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_FALSE(got->fds_readable);
  EXPECT_TRUE(got->maps_readable);
  EXPECT_EQ(got->files.size(), 4u);
}

}  // namespace
}  // namespace nodeproc
