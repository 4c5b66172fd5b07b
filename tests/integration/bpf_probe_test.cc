// The BPF probe on the live kernel: every field equals the procfs probe's for every live
// process, and exit records carry the final CPU of processes shorter than a sampler interval.
// Needs root (CAP_BPF + CAP_PERFMON) and kernel BTF; prints SKIPPED otherwise.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <cstdlib>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "collectors/bpf/bpf_config.h"
#include "collectors/procfs_probe.h"
#include "gtest/gtest.h"
#if NODEPROC_HAVE_BPF
#include "collectors/bpf/bpf_probe.h"
#endif

namespace nodeproc {
namespace {

#if !NODEPROC_HAVE_BPF
TEST(BpfProbeLive, Unavailable) { GTEST_SKIP() << "SKIPPED: this build has no BPF probe"; }
#else

// Why the live tests cannot run here ("" when they can).
std::string CannotRun() {
  if (::geteuid() != 0) return "not root";
  if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0) return "no kernel BTF";
  return "";
}

#define SKIP_UNLESS_LIVE()                                              \
  do {                                                                  \
    if (std::string why = CannotRun(); !why.empty()) {                  \
      GTEST_SKIP() << "SKIPPED: BPF probe live test needs root and BTF (" << why << ")"; \
    }                                                                   \
  } while (0)

double CpuTimeOfThread() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void Burn(double seconds) {
  const double until = CpuTimeOfThread() + seconds;
  volatile uint64_t x = 0;
  while (CpuTimeOfThread() < until) x = x + 1;
}

// statm's resident pages (what both probes report as RSS), or -1 when gone.
int64_t StatmResidentBytes(int32_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/statm"));
  uint64_t size = 0, resident = 0;
  if (!(in >> size >> resident)) return -1;
  return static_cast<int64_t>(resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)));
}

// Fields that differ between two readings of one process ("" when equal). `statm_rss`: compare
// a's RSS with statm's resident value read now (what both probes report as RSS) instead of b's.
std::string Diff(const ProcessRecord& a, const ProcessRecord& b, bool statm_rss) {
  std::string d;
  auto check = [&d](const char* field, const auto& x, const auto& y) {
    if (!(x == y)) absl::StrAppend(&d, field, " ");
  };
  check("ppid", a.ppid, b.ppid);
  // A workqueue worker's /proc name carries the workqueue of the work it last ran
  // ("kworker/1:1-events") and changes with it; the BPF probe keeps the name it first saw
  // (documented in collectors/bpf/bpf_probe.h): compare the worker part only.
  auto worker = [](const std::string& n) {
    return n.rfind("kworker/", 0) == 0 ? n.substr(0, n.find('-')) : n;
  };
  check("name", worker(a.name), worker(b.name));
  check("cmdline", a.cmdline, b.cmdline);
  check("uid", a.uid, b.uid);
  check("state", a.state, b.state);
  check("kernel_thread", a.kernel_thread, b.kernel_thread);
  check("vms", a.vms_bytes, b.vms_bytes);
  check("threads", a.threads, b.threads);
  check("fds", a.fds, b.fds);
  check("read_bytes", a.read_bytes, b.read_bytes);
  check("write_bytes", a.write_bytes, b.write_bytes);
  check("start_ticks", a.start_ticks, b.start_ticks);
  check("cpu", a.cpu_seconds, b.cpu_seconds);
  if (std::abs(a.start_time_unix - b.start_time_unix) > 0.01) absl::StrAppend(&d, "start_time ");
  if (statm_rss) {
    if (static_cast<int64_t>(a.rss_bytes) != StatmResidentBytes(a.pid)) absl::StrAppend(&d, "rss ");
  } else {
    check("rss", a.rss_bytes, b.rss_bytes);
  }
  return d;
}

// A process with dead and live threads, CPU in both, open fds and written bytes; it then
// sleeps, so its values are stable while the test compares them.
pid_t SpawnThreadedChild(int extra_fds) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  for (int i = 0; i < extra_fds; ++i) ::open("/dev/null", O_RDONLY);
  char path[] = "/tmp/nodeproc-bpf-test-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd >= 0) {
    std::string block(1 << 16, 'x');
    for (int i = 0; i < 16; ++i) (void)!::write(fd, block.data(), block.size());
    ::fsync(fd);
    ::unlink(path);
  }
  std::vector<std::thread> done, alive;
  for (int i = 0; i < 3; ++i) done.emplace_back([] { Burn(0.03); });
  for (auto& t : done) t.join();  // their CPU and io now live in signal_struct
  for (int i = 0; i < 3; ++i) {
    alive.emplace_back([] {
      Burn(0.02);
      for (;;) ::pause();
    });
  }
  // A thread blocked in accept(2) holds a reserved fd (bit set, no file yet): /proc does not
  // list it, nor may the BPF probe count it.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listener, 1);
  alive.emplace_back([listener] {
    for (;;) ::accept(listener, nullptr, nullptr);
  });
  Burn(0.02);
  for (;;) ::pause();
}

TEST(BpfProbeLive, EveryFieldEqualsProcfsForEveryProcess) {
  SKIP_UNLESS_LIVE();
  const pid_t threaded = SpawnThreadedChild(100);
  const pid_t zombie = ::fork();
  if (zombie == 0) ::_exit(0);  // not reaped until the end: a zombie
  auto bpf = BpfProbe::Create("/proc");
  ASSERT_TRUE(bpf.ok()) << bpf.status();
  ProcfsProbe procfs("/proc");
  // Let the threaded child settle (threads burnt, all asleep): same reading twice, 5 threads.
  {
    ProcessRecord a, b;
    bool stable = false;
    for (int i = 0; i < 200 && !stable; ++i) {
      ::usleep(50 * 1000);
      stable = procfs.ReadOne(threaded, &b) && b.threads == 5 && b.state == ProcessState::kSleeping &&
               Diff(a, b, false).empty();
      a = b;
    }
    ASSERT_TRUE(stable) << "the threaded child did not settle within 10 s";
  }

  std::vector<ProcessRecord> from_bpf, from_procfs;
  ASSERT_TRUE((*bpf)->Scan(&from_bpf).ok());
  ASSERT_TRUE(procfs.Scan(&from_procfs).ok());
  std::map<int32_t, ProcessRecord> bpf_by_pid;
  std::set<int32_t> via_proc;  // not seen by the kernel pass: the BPF probe read /proc
  auto index = [&] {
    bpf_by_pid.clear();
    for (auto& r : from_bpf) bpf_by_pid[r.pid] = r;
    auto pids = (*bpf)->last_scan_from_procfs();
    via_proc.insert(pids.begin(), pids.end());
  };
  index();
  // RSS: statm's resident value for what the kernel pass read; the procfs probe's own value
  // for what the BPF probe read through it.
  auto diff = [&](const ProcessRecord& b, const ProcessRecord& p) {
    return Diff(b, p, /*statm_rss=*/via_proc.count(b.pid) == 0);
  };

  // Every process of the procfs scan must be equal at once, or on a re-read (a fresh BPF pass
  // followed at once by a /proc read of that pid). A process still different after the
  // re-reads is excused only when its own /proc values changed meanwhile (busy: racing values).
  struct Pending {
    std::string diff;
    ProcessRecord first;  // the procfs reading
    bool changed = false;
  };
  std::map<int32_t, Pending> pending;
  size_t compared = 0;
  for (const ProcessRecord& p : from_procfs) {
    auto it = bpf_by_pid.find(p.pid);
    const bool same = it != bpf_by_pid.end() && it->second.start_ticks == p.start_ticks;
    compared += same;
    std::string d = same ? diff(it->second, p) : "missing from the BPF scan";
    if (!d.empty()) pending[p.pid] = Pending{d, p, false};
  }
  const std::map<int32_t, Pending> first_pending = pending;
  for (int attempt = 0; attempt < 50 && !pending.empty(); ++attempt) {
    ASSERT_TRUE((*bpf)->Scan(&from_bpf).ok());
    index();
    for (auto it = pending.begin(); it != pending.end();) {
      ProcessRecord p;
      if (!procfs.ReadOne(it->first, &p) || p.start_ticks != it->second.first.start_ticks) {
        it = pending.erase(it);  // gone meanwhile
        continue;
      }
      if (!Diff(p, it->second.first, /*statm_rss=*/false).empty()) it->second.changed = true;
      auto b = bpf_by_pid.find(it->first);
      if (b != bpf_by_pid.end() && b->second.start_ticks == p.start_ticks && diff(b->second, p).empty()) {
        it = pending.erase(it);
      } else {
        it->second.diff = b == bpf_by_pid.end() ? "missing from the BPF scan" : diff(b->second, p);
        ++it;
      }
    }
  }
  size_t excused = 0;
  for (const auto& [pid, left] : pending) {
    if (left.changed) {
      ++excused;
      std::printf("  busy pid %d (its /proc values kept changing): %s\n", pid, left.diff.c_str());
    } else {
      ADD_FAILURE() << "pid " << pid << " (" << left.first.name
                    << ") is stable but differs after 50 re-reads: " << left.diff;
    }
  }
  EXPECT_LE(excused * 20, compared) << "more than 5% of the processes never matched";
  std::printf("compared %zu processes; %zu equal only on a re-read, %zu busy; %zu read via /proc\n",
              compared, first_pending.size(), excused, via_proc.size());
  for (const auto& [pid, d] : first_pending) std::printf("  re-read pid %d: %s\n", pid, d.diff.c_str());

  // The crafted processes were seen by the kernel pass itself, with the expected shapes.
  ASSERT_TRUE(bpf_by_pid.count(threaded));
  const ProcessRecord& t = bpf_by_pid[threaded];
  EXPECT_EQ(t.threads, 5u);
  EXPECT_GE(*t.fds, 100u);
  EXPECT_GE(t.cpu_seconds, 0.1);
  EXPECT_EQ(first_pending.count(threaded), 0u) << "a stable process must match on the first read";
  EXPECT_EQ(first_pending.count(zombie), 0u) << "a zombie must match on the first read";
  EXPECT_EQ(via_proc.count(threaded), 0u);
  ASSERT_TRUE(bpf_by_pid.count(zombie));
  EXPECT_EQ(bpf_by_pid[zombie].state, ProcessState::kZombie);
  EXPECT_EQ(bpf_by_pid[zombie].cmdline, "");

  ::kill(threaded, SIGKILL);
  ::waitpid(threaded, nullptr, 0);
  ::waitpid(zombie, nullptr, 0);
}

// Once the process count of /proc agrees with the pass (collectors/proc_listing.h), scans skip
// listing /proc: such a scan must still report every process /proc lists (processes hidden
// from BPF included, read through /proc), except those that started after it.
TEST(BpfProbeLive, ScanWithoutProcListingReportsWhatProcLists) {
  SKIP_UNLESS_LIVE();
  auto bpf = BpfProbe::Create("/proc");
  ASSERT_TRUE(bpf.ok()) << bpf.status();
  ProcfsProbe procfs("/proc");
  const long tck = ::sysconf(_SC_CLK_TCK);
  std::vector<ProcessRecord> scanned;
  int checked = 0;
  for (int scan = 0; scan < 500 && checked < 3; ++scan) {
    timespec boot{};
    ::clock_gettime(CLOCK_BOOTTIME, &boot);
    const uint64_t started_ticks = static_cast<uint64_t>(boot.tv_sec) * tck +
                                   static_cast<uint64_t>(boot.tv_nsec) / (1000000000 / tck);
    const uint64_t skipped = (*bpf)->proc_listings_skipped();
    ASSERT_TRUE((*bpf)->Scan(&scanned).ok());
    if ((*bpf)->proc_listings_skipped() == skipped) continue;  // this one listed /proc
    ++checked;
    std::vector<int32_t> listed;
    ASSERT_TRUE(procfs.ListPidsInto(&listed).ok());
    std::set<int32_t> reported;
    for (const ProcessRecord& r : scanned) reported.insert(r.pid);
    for (const int32_t pid : listed) {
      if (reported.count(pid)) continue;
      ProcessRecord now;
      if (!procfs.ReadOne(pid, &now)) continue;  // ended meanwhile
      EXPECT_GE(now.start_ticks + 1, started_ticks)
          << "pid " << pid << " (" << now.name << ") is listed by /proc, was there before the scan, "
          << "and is missing from a scan that skipped the listing";
    }
  }
  EXPECT_EQ(checked, 3) << "the process count of /proc never agreed with the pass in 500 scans";
  std::printf("listings %llu, skipped %llu\n",
              static_cast<unsigned long long>((*bpf)->proc_listings()),
              static_cast<unsigned long long>((*bpf)->proc_listings_skipped()));
}

TEST(BpfProbeLive, SampleCpuMatchesScan) {
  SKIP_UNLESS_LIVE();
  auto bpf = BpfProbe::Create("/proc");
  ASSERT_TRUE(bpf.ok()) << bpf.status();
  ProcfsProbe procfs("/proc");
  std::vector<CpuSample> b, p;
  std::vector<ProcessRecord> scanned;
  ASSERT_TRUE((*bpf)->Scan(&scanned).ok());  // learns the processes the pass does not see
  ASSERT_TRUE((*bpf)->SampleCpu(&b).ok());
  ASSERT_TRUE(procfs.SampleCpu(&p).ok());
  std::map<int32_t, CpuSample> by_pid;
  for (const CpuSample& s : b) by_pid[s.pid] = s;
  size_t same_identity = 0;
  for (const CpuSample& s : p) {
    auto it = by_pid.find(s.pid);
    if (it != by_pid.end() && it->second.start_ticks == s.start_ticks) ++same_identity;
  }
  // Processes come and go between the two passes; nearly all are in both, including those
  // only /proc shows (read through it).
  EXPECT_GE(same_identity + 5, p.size());
  for (int32_t pid : (*bpf)->last_scan_from_procfs()) {
    bool sampled = false;
    for (const CpuSample& s : b) sampled |= s.pid == pid;
    EXPECT_TRUE(sampled || ::kill(pid, 0) != 0) << "pid " << pid << " read via /proc is not sampled";
  }
}

TEST(BpfProbeLive, ExitRecordsOfShortProcessesCarryTheirFinalCpu) {
  SKIP_UNLESS_LIVE();
  auto bpf = BpfProbe::Create("/proc");
  ASSERT_TRUE(bpf.ok()) << bpf.status();
  std::vector<ExitRecord> exits;
  (*bpf)->DrainExits(&exits);  // start empty

  // 20 processes, each living ~30-60 ms (far less than the 5 s sampler interval), one of them
  // multi-threaded; their exact CPU comes from wait4's rusage.
  struct Child {
    pid_t pid;
    double cpu;
  };
  std::vector<Child> children;
  for (int i = 0; i < 20; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (i == 7) {
        std::thread t([] { Burn(0.02); });
        t.join();
      }
      Burn(0.01 + 0.002 * i);
      ::_exit(0);
    }
    struct rusage ru {};
    ASSERT_EQ(::wait4(pid, nullptr, 0, &ru), pid);
    const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                       static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
    children.push_back({pid, cpu});
  }
  // A record is written when the reaped child is freed, a grace period after wait4 (up to
  // ~10 s with lazy RCU): poll for the children's records only (other processes exit too).
  std::set<int32_t> ours;
  for (const Child& c : children) ours.insert(c.pid);
  std::map<int32_t, ExitRecord> by_pid;
  for (int i = 0; i < 750 && by_pid.size() < children.size(); ++i) {
    (*bpf)->DrainExits(&exits);
    for (const ExitRecord& e : exits) {
      if (ours.count(e.pid)) by_pid[e.pid] = e;
    }
    if (by_pid.size() < children.size()) ::usleep(20 * 1000);
  }
  const double now = static_cast<double>(::time(nullptr));
  for (const Child& c : children) {
    auto it = by_pid.find(c.pid);
    ASSERT_NE(it, by_pid.end()) << "no exit record for pid " << c.pid;
    const ExitRecord& e = it->second;
    // The record is written when the reaped process is freed: its whole exit path (address
    // space teardown included) and last time slice are in it, as in wait4's rusage (both
    // adjusted like /proc; rusage has microseconds).
    EXPECT_NEAR(e.cpu_seconds, c.cpu, 0.0001) << "pid " << c.pid;
    EXPECT_GE(e.cpu_seconds, 0.009) << "pid " << c.pid;
    EXPECT_EQ(e.ppid, ::getpid());
    EXPECT_EQ(e.uid, ::getuid());
    EXPECT_FALSE(e.name.empty());
    EXPECT_GT(e.start_ticks, 0u);
    EXPECT_NEAR(e.exit_time_unix, now, 60);
    EXPECT_NE(e.cgroup_id, 0u);
    EXPECT_EQ(e.cgroup_path.front(), '/');
  }
  EXPECT_EQ((*bpf)->ExitRecordsDropped(), 0u);
  // Threads that end alone are not thread-group exits. The thread is freed a grace period
  // after it ends, like a marker child reaped after it: drain until the marker's record is in
  // (and a little longer), then no record may carry this process's pid.
  std::thread([] {}).join();
  const pid_t marker = ::fork();
  if (marker == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(marker, nullptr, 0), marker);
  bool marker_seen = false;
  for (int i = 0; i < 750 && !marker_seen; ++i) {
    ::usleep(20 * 1000);
    (*bpf)->DrainExits(&exits);
    for (const ExitRecord& e : exits) {
      marker_seen |= e.pid == marker;
      EXPECT_NE(e.pid, ::getpid()) << "a thread's end was reported as its process's exit";
    }
  }
  EXPECT_TRUE(marker_seen);
  ::usleep(100 * 1000);
  (*bpf)->DrainExits(&exits);
  for (const ExitRecord& e : exits) EXPECT_NE(e.pid, ::getpid());
}

TEST(BpfProbeLive, FullRingBufferDropsAndCountsNeverBlocks) {
  SKIP_UNLESS_LIVE();
  BpfProbeOptions options;
  options.exit_ring_bytes = 4096;  // room for ~3 records
  auto bpf = BpfProbe::Create("/proc", options);
  ASSERT_TRUE(bpf.ok()) << bpf.status();
  for (int i = 0; i < 20; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    ::waitpid(pid, nullptr, 0);
  }
  // Records are written when each reaped process is freed (an RCU grace period after wait):
  // wait until all 20 were written or dropped before draining.
  for (int i = 0; i < 500 && (*bpf)->ExitRecordsDropped() < 17; ++i) ::usleep(10 * 1000);
  std::vector<ExitRecord> exits;
  (*bpf)->DrainExits(&exits);
  EXPECT_GE((*bpf)->ExitRecordsDropped(), 10u);
  EXPECT_LE(exits.size(), 10u);
  EXPECT_GE(exits.size() + (*bpf)->ExitRecordsDropped(), 20u);
}
#endif  // NODEPROC_HAVE_BPF

}  // namespace
}  // namespace nodeproc
