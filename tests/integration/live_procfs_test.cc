// ProcfsProbe on this machine's /proc, checked against a child process whose every property
// the test controls or the child measures itself (argv, name, memory, CPU time, open fds).
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "collectors/procfs_probe.h"
#include "gtest/gtest.h"

namespace nodeproc {
namespace {

constexpr char kChildEnv[] = "NODEPROC_LIVE_PROCFS_CHILD";
constexpr char kChildName[] = "np-live-child";  // fits comm's 15 characters
constexpr size_t kChildMiB = 64;
constexpr double kChildCpuSeconds = 0.4;

// What the child measures about itself and sends up the pipe.
struct ChildReport {
  double cpu_seconds = 0;  // CLOCK_PROCESS_CPUTIME_ID right before reporting
  int32_t open_fds = 0;    // entries of /proc/self/fd, minus the one used to list it
};

double Now(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

volatile char* g_child_memory = nullptr;

// The child side, run from a static initializer of the re-executed test binary (before
// gtest's main) when kChildEnv holds "<report fd>,<release fd>".
int RunChild(const char* fds) {
  int report_fd = -1, release_fd = -1;
  if (std::sscanf(fds, "%d,%d", &report_fd, &release_fd) != 2) return 2;
  ::prctl(PR_SET_NAME, kChildName, 0, 0, 0);
  const size_t bytes = kChildMiB << 20;
  g_child_memory = static_cast<volatile char*>(::malloc(bytes));
  if (g_child_memory == nullptr) return 3;
  for (size_t i = 0; i < bytes; i += 512) g_child_memory[i] = static_cast<char>(i);
  const double until = Now(CLOCK_PROCESS_CPUTIME_ID) + kChildCpuSeconds;
  volatile uint64_t spin = 0;
  while (Now(CLOCK_PROCESS_CPUTIME_ID) < until) {
    for (int i = 0; i < 10000; ++i) spin = spin + static_cast<uint64_t>(i);
  }
  ChildReport report;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(d)) {
      if (::strcmp(e->d_name, ".") != 0 && ::strcmp(e->d_name, "..") != 0) ++report.open_fds;
    }
    ::closedir(d);
    --report.open_fds;  // the listing's own fd
  }
  report.cpu_seconds = Now(CLOCK_PROCESS_CPUTIME_ID);
  if (::write(report_fd, &report, sizeof report) != sizeof report) return 4;
  char c;
  while (::read(release_fd, &c, 1) < 0 && errno == EINTR) {
  }
  return 0;
}

[[maybe_unused]] const int kChildHook = [] {
  if (const char* fds = ::getenv(kChildEnv)) ::_exit(RunChild(fds));
  return 0;
}();

std::vector<std::string> ChildArgv() {
  return {kChildName, "--mib=64", "arg,with,commas", "\"double\" 'single'", "two\nlines"};
}

// The child process: started in the constructor, released and reaped in the destructor.
class Child {
 public:
  Child() {
    int report[2], release[2];
    if (::pipe2(report, O_CLOEXEC) != 0 || ::pipe2(release, O_CLOEXEC) != 0) return;
    fork_time_ = Now(CLOCK_REALTIME);
    pid_ = ::fork();
    if (pid_ == 0) {
      // Keep only the child's ends across exec.
      ::fcntl(report[1], F_SETFD, 0);
      ::fcntl(release[0], F_SETFD, 0);
      const std::string env = std::string(kChildEnv) + "=" + std::to_string(report[1]) + "," +
                              std::to_string(release[0]);
      std::vector<std::string> args = ChildArgv();
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      char* envp[] = {const_cast<char*>(env.c_str()), nullptr};
      ::execve("/proc/self/exe", argv.data(), envp);
      ::_exit(127);
    }
    ::close(report[1]);
    ::close(release[0]);
    report_fd_ = report[0];
    release_fd_ = release[1];
  }
  ~Child() {
    if (release_fd_ >= 0) ::close(release_fd_);  // EOF releases the child
    if (report_fd_ >= 0) ::close(report_fd_);
    if (pid_ > 0) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  bool WaitReport(ChildReport* out) {
    size_t got = 0;
    auto* p = reinterpret_cast<char*>(out);
    while (got < sizeof *out) {
      const ssize_t n = ::read(report_fd_, p + got, sizeof *out - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      got += static_cast<size_t>(n);
    }
    return true;
  }
  pid_t pid() const { return pid_; }
  double fork_time() const { return fork_time_; }

 private:
  pid_t pid_ = -1;
  int report_fd_ = -1;
  int release_fd_ = -1;
  double fork_time_ = 0;
};

std::set<int32_t> ListedPids() {
  std::set<int32_t> pids;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return pids;
  while (const dirent* e = ::readdir(d)) {
    char* end = nullptr;
    const long v = ::strtol(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0' && v > 0) pids.insert(static_cast<int32_t>(v));
  }
  ::closedir(d);
  return pids;
}

const ProcessRecord* Find(const std::vector<ProcessRecord>& rows, int32_t pid) {
  for (const auto& r : rows) {
    if (r.pid == pid) return &r;
  }
  return nullptr;
}

TEST(LiveProcfsTest, ChildRowMatchesWhatTheChildKnowsAboutItself) {
  Child child;
  ASSERT_GT(child.pid(), 0);
  ChildReport report;
  ASSERT_TRUE(child.WaitReport(&report)) << "child died before reporting";
  // The child is now blocked reading its release pipe.

  // It may still be on its way into read(2): give it up to 5 s to be seen asleep.
  ProcfsProbe probe("/proc");
  std::vector<ProcessRecord> rows;
  const ProcessRecord* r = nullptr;
  for (int attempt = 0; attempt < 500; ++attempt) {
    ASSERT_TRUE(probe.Scan(&rows).ok());
    r = Find(rows, child.pid());
    if (r == nullptr || r->state == ProcessState::kSleeping) break;
    ::usleep(10'000);
  }
  ASSERT_NE(r, nullptr) << "child pid " << child.pid() << " not in the scan";

  EXPECT_EQ(r->name, kChildName);
  EXPECT_EQ(r->cmdline, "np-live-child --mib=64 arg,with,commas \"double\" 'single' two\nlines");
  EXPECT_EQ(r->ppid, ::getpid());
  EXPECT_EQ(r->uid, ::getuid());
  EXPECT_FALSE(r->kernel_thread);
  EXPECT_EQ(r->state, ProcessState::kSleeping);
  EXPECT_EQ(r->threads, 1u);
  EXPECT_EQ(r->fds, static_cast<uint32_t>(report.open_fds));
  EXPECT_GE(report.open_fds, 5);  // 0, 1, 2 and the two pipe ends

  const uint64_t touched = kChildMiB << 20;
  EXPECT_GE(r->rss_bytes, touched);
  EXPECT_LE(r->rss_bytes, touched + (48u << 20)) << "binary + libraries should stay below 48 MiB";
  EXPECT_GE(r->vms_bytes, touched);

  // stat's utime + stime are scaled to the scheduler's runtime: within a couple of ticks.
  EXPECT_GE(report.cpu_seconds, kChildCpuSeconds);
  EXPECT_NEAR(r->cpu_seconds, report.cpu_seconds, 0.05 + 0.05 * report.cpu_seconds);

  // Start time: boot time (sub-second on the live host) + starttime in clock ticks.
  EXPECT_NEAR(r->start_time_unix, child.fork_time(), 0.25);

  // io is readable for our own child (same uid): known, not guessed.
  EXPECT_TRUE(r->read_bytes.has_value());
  EXPECT_TRUE(r->write_bytes.has_value());

  // The cheap pass agrees for the (blocked, hence idle) child.
  std::vector<CpuSample> samples;
  ASSERT_TRUE(probe.SampleCpu(&samples).ok());
  auto it = std::find_if(samples.begin(), samples.end(),
                         [&](const CpuSample& s) { return s.pid == child.pid(); });
  ASSERT_NE(it, samples.end());
  EXPECT_EQ(it->start_ticks, r->start_ticks);
  EXPECT_DOUBLE_EQ(it->start_time_unix, r->start_time_unix);
  EXPECT_NEAR(it->cpu_seconds, r->cpu_seconds, 0.02);
}

TEST(LiveProcfsTest, UnreapedChildIsAZombieWithAnEmptyCmdline) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ::_exit(0);
  // Wait until it has exited, without reaping it.
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
  ProcfsProbe probe("/proc");
  std::vector<ProcessRecord> rows;
  ASSERT_TRUE(probe.Scan(&rows).ok());
  const ProcessRecord* r = Find(rows, pid);
  ::waitpid(pid, nullptr, 0);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->state, ProcessState::kZombie);
  EXPECT_EQ(r->cmdline, "");
  EXPECT_EQ(r->ppid, ::getpid());
  EXPECT_EQ(r->rss_bytes, 0u);
}

TEST(LiveProcfsTest, RowsCoverEveryListedPidAndSampleCpuAgrees) {
  ProcfsProbe probe("/proc");
  std::vector<ProcessRecord> rows;
  std::vector<CpuSample> samples;
  const std::set<int32_t> before = ListedPids();
  ASSERT_TRUE(probe.Scan(&rows).ok());
  ASSERT_TRUE(probe.SampleCpu(&samples).ok());
  const std::set<int32_t> after = ListedPids();

  // Churn allowance: processes born or gone between the listings, plus a few.
  std::set<int32_t> stable;
  std::set_intersection(before.begin(), before.end(), after.begin(), after.end(),
                        std::inserter(stable, stable.begin()));
  const size_t churn = before.size() + after.size() - 2 * stable.size() + 3;

  std::set<int32_t> scanned;
  for (const auto& r : rows) scanned.insert(r.pid);
  EXPECT_EQ(scanned.size(), rows.size()) << "duplicate pids";
  EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end(),
                             [](const auto& a, const auto& b) { return a.pid < b.pid; }));
  size_t missing = 0;
  for (int32_t pid : stable) missing += scanned.count(pid) == 0;
  EXPECT_LE(missing, churn) << "stable pids missing from the scan";
  EXPECT_NEAR(static_cast<double>(rows.size()), static_cast<double>(stable.size()),
              static_cast<double>(churn));

  // SampleCpu: same pids, same identity, CPU never behind the (earlier) scan.
  size_t matched = 0;
  for (const CpuSample& s : samples) {
    const ProcessRecord* r = Find(rows, s.pid);
    if (r == nullptr || r->start_ticks != s.start_ticks) continue;
    ++matched;
    EXPECT_DOUBLE_EQ(s.start_time_unix, r->start_time_unix) << "pid " << s.pid;
    EXPECT_GE(s.cpu_seconds + 1e-9, r->cpu_seconds) << "pid " << s.pid;
    EXPECT_LE(s.cpu_seconds, r->cpu_seconds + 5.0) << "pid " << s.pid;
  }
  EXPECT_GE(matched + churn, rows.size());
  EXPECT_NEAR(static_cast<double>(samples.size()), static_cast<double>(rows.size()),
              static_cast<double>(churn));

  // This process: a user process with a known uid and open fds.
  const ProcessRecord* self = Find(rows, ::getpid());
  ASSERT_NE(self, nullptr);
  EXPECT_FALSE(self->kernel_thread);
  EXPECT_EQ(self->uid, ::getuid());
  EXPECT_FALSE(self->cmdline.empty());
  ASSERT_TRUE(self->fds.has_value());
  EXPECT_GE(*self->fds, 3u);

  // Kernel threads, when this /proc shows them (not in a PID namespace): kthreadd is pid 2.
  if (const ProcessRecord* kthreadd = Find(rows, 2); kthreadd && kthreadd->name == "kthreadd") {
    EXPECT_TRUE(kthreadd->kernel_thread);
    EXPECT_EQ(kthreadd->cmdline, "");
    EXPECT_EQ(kthreadd->uid, 0u);
  }
}

// Resident pages from /proc/<pid>/statm (the second field), or -1 when unreadable.
int64_t StatmResidentPages(int32_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/statm", pid);
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) return -1;
  unsigned long long size = 0, resident = 0;
  const int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  return n == 2 ? static_cast<int64_t>(resident) : -1;
}

// RSS is statm's resident * page size (= VmRSS, what ps and psutil show), exactly, for every
// process whose statm did not change around the scan; a process whose memory moved is
// retried in a later round (the check is exact, so only truly stable values are compared).
TEST(LiveProcfsTest, RssEqualsStatmResidentForEveryStableProcess) {
  ProcfsProbe probe("/proc");
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  std::set<int32_t> checked, pending;
  size_t kernel_threads = 0;
  bool first = true;
  for (int round = 0; round < 8 && (first || !pending.empty()); ++round) {
    std::vector<ProcessRecord> rows;
    std::map<int32_t, int64_t> before;
    for (int32_t pid : ListedPids()) before[pid] = StatmResidentPages(pid);
    ASSERT_TRUE(probe.Scan(&rows).ok());
    std::set<int32_t> still_pending;
    for (const ProcessRecord& r : rows) {
      if (!first && pending.count(r.pid) == 0) continue;
      const int64_t after = StatmResidentPages(r.pid);
      auto it = before.find(r.pid);
      if (it == before.end() || it->second < 0 || after != it->second) {
        if (after >= 0) still_pending.insert(r.pid);  // changed (or new): try again
        continue;
      }
      EXPECT_EQ(r.rss_bytes, static_cast<uint64_t>(after) * page)
          << "pid " << r.pid << " (" << r.name << ")";
      checked.insert(r.pid);
      kernel_threads += r.kernel_thread;
    }
    pending = std::move(still_pending);
    first = false;
  }
  // Nearly every process is stable over a few rounds; busy ones may never be.
  EXPECT_GE(checked.size(), 5u);
  EXPECT_LE(pending.size(), std::max<size_t>(3, checked.size() / 10))
      << "too many processes never had a stable statm";
  // This process is among the checked (the test binary is idle while it compares).
  std::printf("rss == statm resident * %llu for %zu processes (%zu kernel threads), %zu never stable\n",
              static_cast<unsigned long long>(page), checked.size(), kernel_threads, pending.size());
}

}  // namespace
}  // namespace nodeproc
