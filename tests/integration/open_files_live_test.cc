// Live /proc: a child holding known open and mapped files; libc's owner from this host's dpkg.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "collectors/open_files.h"
#include "collectors/package_resolver.h"
#include "exporters/files_csv.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace nodeproc {
namespace {

const FileEntry* Find(const ProcessFiles& pf, const std::string& path) {
  for (const FileEntry& f : pf.files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

TEST(OpenFilesLiveTest, ChildWithKnownOpenAndMappedFiles) {
  nodeproc::testing::TempDir dir;
  const std::string open_path = dir.path() + "/open.txt";
  const std::string map_path = dir.path() + "/mapped.bin";
  const std::string gone_path = dir.path() + "/gone.log";  // opened, then unlinked
  {
    const int g = ::open(gone_path.c_str(), O_WRONLY | O_CREAT, 0600);
    ASSERT_GE(g, 0);
    ASSERT_EQ(::write(g, "abc", 3), 3);
    ::close(g);
    const int fd = ::open(open_path.c_str(), O_WRONLY | O_CREAT, 0640);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "hello", 5), 5);
    ::close(fd);
    const int m = ::open(map_path.c_str(), O_WRONLY | O_CREAT, 0600);
    ASSERT_GE(m, 0);
    ASSERT_EQ(::ftruncate(m, 8192), 0);
    ::close(m);
  }
  int ready[2], release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    ::close(release[1]);
    const int f = ::open(open_path.c_str(), O_RDONLY);
    const int m = ::open(map_path.c_str(), O_RDONLY);
    const int g = ::open(gone_path.c_str(), O_RDONLY);
    ::unlink(gone_path.c_str());
    void* p = ::mmap(nullptr, 8192, PROT_READ, MAP_SHARED, m, 0);
    ::close(m);  // mapped only
    int extra[2], sv[2];
    const bool ok = f >= 0 && g >= 0 && p != MAP_FAILED && ::pipe(extra) == 0 &&
                    ::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0;
    char c = ok ? 'y' : 'n';
    if (::write(ready[1], &c, 1) != 1) ::_exit(2);
    (void)!::read(release[0], &c, 1);
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(release[0]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);

  OpenFilesCollector collector("/proc");
  PackageResolver resolver("/proc");
  absl::StatusOr<ProcessFiles> got = collector.Collect(child);
  if (got.ok()) resolver.Resolve(child, &got->files);
  (void)!::write(release[1], "x", 1);
  ::close(release[1]);
  ::close(ready[0]);
  int status = 0;
  ::waitpid(child, &status, 0);

  ASSERT_EQ(c, 'y') << "child setup failed";
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->fds_readable);
  EXPECT_TRUE(got->maps_readable);
  EXPECT_GE(got->pipes, 4u);    // ready[1], release[0], extra[0..1]
  EXPECT_GE(got->sockets, 2u);  // the socketpair

  const FileEntry* open_file = Find(*got, open_path);
  ASSERT_NE(open_file, nullptr);
  EXPECT_EQ(open_file->kind, FileEntry::Kind::kOpen);
  EXPECT_EQ(open_file->size, 5u);
  ASSERT_TRUE(open_file->mode.has_value());
  EXPECT_EQ(*open_file->mode & 07777u, 0640u);
  EXPECT_EQ(open_file->uid, ::getuid());
  EXPECT_EQ(open_file->package, "");

  const FileEntry* mapped = Find(*got, map_path);
  ASSERT_NE(mapped, nullptr);
  EXPECT_EQ(mapped->kind, FileEntry::Kind::kMapped);
  EXPECT_EQ(mapped->size, 8192u);
  struct stat st;
  ASSERT_EQ(::stat(map_path.c_str(), &st), 0);
  EXPECT_EQ(mapped->inode, static_cast<uint64_t>(st.st_ino));

  // Unlinked while open: marked deleted, stat'ed through the descriptor.
  const FileEntry* gone = Find(*got, gone_path);
  ASSERT_NE(gone, nullptr);
  EXPECT_TRUE(gone->deleted);
  EXPECT_EQ(gone->kind, FileEntry::Kind::kOpen);
  EXPECT_EQ(gone->size, 3u);

  // libc: mapped by every dynamically linked process; this Debian host's dpkg owns it.
  const FileEntry* libc = nullptr;
  for (const FileEntry& f : got->files) {
    const std::string base = f.path.substr(f.path.rfind('/') + 1);
    if (base.rfind("libc.so", 0) == 0) libc = &f;
  }
  ASSERT_NE(libc, nullptr);
  EXPECT_NE(libc->kind, FileEntry::Kind::kOpen);
  EXPECT_EQ(libc->package, "libc6") << libc->path;
  EXPECT_FALSE(libc->package_version.empty());

  // And the CSV has a row for it.
  ProcessRecord rec;
  rec.pid = child;
  std::string csv;
  AppendFilesCsv(rec, *got, absl::Now(), &csv);
  EXPECT_NE(csv.find("," + libc->path + ",mapped,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",libc6," + libc->package_version + "\n"), std::string::npos);
}

// Every live process: no error other than a vanished PID. Prints the cost per process (not
// asserted: the machine is shared and noisy).
TEST(OpenFilesLiveTest, AllProcessesCost) {
  std::vector<int32_t> pids;
  DIR* d = ::opendir("/proc");
  ASSERT_NE(d, nullptr);
  while (struct dirent* de = ::readdir(d)) {
    char* end = nullptr;
    const long pid = std::strtol(de->d_name, &end, 10);
    if (end != de->d_name && *end == '\0') pids.push_back(static_cast<int32_t>(pid));
  }
  ::closedir(d);
  OpenFilesCollector collector("/proc");
  PackageResolver resolver("/proc");
  // Pass 1 builds the package indexes (one per root filesystem); pass 2 uses the cache.
  for (int pass = 1; pass <= 2; ++pass) {
    size_t files = 0, ok = 0, dropped = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int32_t pid : pids) {
      absl::StatusOr<ProcessFiles> pf = collector.Collect(pid);
      if (!pf.ok()) {
        EXPECT_EQ(pf.status().code(), absl::StatusCode::kNotFound) << pf.status();
        continue;
      }
      resolver.Resolve(pid, &pf->files);
      ++ok;
      files += pf->files.size();
      dropped += pf->dropped;
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    EXPECT_GT(ok, 0u);
    std::printf("open files pass %d: %zu processes, %zu files (%zu dropped), %zu package indexes built, "
                "%.1f ms total, %.3f ms/process\n",
                pass, ok, files, dropped, static_cast<size_t>(resolver.loads()), ms,
                ms / static_cast<double>(pids.size()));
  }
  // The host's index (this test runs in the host's root filesystem, or its container's).
  const auto build_start = std::chrono::steady_clock::now();
  absl::StatusOr<PackageIndex> own = PackageIndex::Load("/proc/self/root");
  const double build_ms = std::chrono::duration<double, std::milli>(
                              std::chrono::steady_clock::now() - build_start).count();
  ASSERT_TRUE(own.ok()) << own.status();
  std::printf("own root package index: %zu packages, %zu paths, built in %.1f ms\n",
              own->packages(), own->paths(), build_ms);
}

}  // namespace
}  // namespace nodeproc
