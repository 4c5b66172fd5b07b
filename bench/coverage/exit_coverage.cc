// Accounting coverage of one probe over a window, computed the way the agent's group counters
// are meant to (DESIGN.md "Accounting"): per process identity (pid, start time), the CPU
// increase since it was last seen by a full scan, plus, for each exit record, the final CPU
// minus what scans had already counted (all of it for a process no scan saw). Coverage = that
// sum / the node's busy CPU (/proc/stat user+nice+system) over the same window. A process
// with an exit record is not counted again while it is a zombie (still listed until reaped).
//
//   nodeproc_exit_coverage --probe=bpf|procfs --seconds=60 --interval=2
// Prints "counted=<s> busy=<s> coverage=<ratio> exits=<n> scans=<n>".
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "collectors/bpf/bpf_probe.h"
#include "collectors/procfs_probe.h"

namespace nodeproc {
namespace {

double BusySeconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  unsigned long long user = 0, nice = 0, system = 0;
  in >> cpu >> user >> nice >> system;
  return static_cast<double>(user + nice + system) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

int Main(int argc, char** argv) {
  std::string probe_name = "bpf";
  double seconds = 60, interval = 2;
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--probe=", 8)) probe_name = argv[i] + 8;
    else if (!std::strncmp(argv[i], "--seconds=", 10)) seconds = std::atof(argv[i] + 10);
    else if (!std::strncmp(argv[i], "--interval=", 11)) interval = std::atof(argv[i] + 11);
  }
  std::unique_ptr<Probe> probe;
  if (probe_name == "bpf") {
    auto bpf = BpfProbe::Create("/proc");
    if (!bpf.ok()) {
      std::fprintf(stderr, "%s\n", bpf.status().ToString().c_str());
      return 1;
    }
    probe = *std::move(bpf);
  } else {
    probe = std::make_unique<ProcfsProbe>("/proc");
  }
  std::map<std::pair<int32_t, uint64_t>, double> last;  // identity -> CPU already counted
  std::vector<ProcessRecord> records;
  std::vector<ExitRecord> exits;
  probe->DrainExits(&exits);
  if (!probe->Scan(&records).ok()) return 1;
  for (const ProcessRecord& r : records) last[{r.pid, r.start_ticks}] = r.cpu_seconds;
  long clk = ::sysconf(_SC_CLK_TCK);
  // Processes started after this (in ticks after boot) count whole when first seen.
  timespec boot{};
  ::clock_gettime(CLOCK_BOOTTIME, &boot);
  const uint64_t window_start_ticks = static_cast<uint64_t>(boot.tv_sec) * clk +
                                      static_cast<uint64_t>(boot.tv_nsec) / (1000000000 / clk);
  const double busy0 = BusySeconds();
  double counted = 0;
  long exit_count = 0, scans = 0;
  // Identities that have an exit record: a zombie is still listed (by /proc and the pass)
  // until its parent reaps it, and must not be counted again.
  std::set<std::pair<int32_t, uint64_t>> exited;
  auto account = [&](int32_t pid, uint64_t start, double cpu, bool gone) {
    if (exited.count({pid, start})) return;
    if (gone) exited.insert({pid, start});
    auto it = last.find({pid, start});
    if (it != last.end()) {
      if (cpu > it->second) counted += cpu - it->second;
      if (gone) last.erase(it); else it->second = std::max(it->second, cpu);
    } else if (start >= window_start_ticks) {
      counted += cpu;
      if (!gone) last[{pid, start}] = cpu;
    } else if (!gone) {
      last[{pid, start}] = cpu;  // existed before the window, first seen now: baseline only
    }
  };
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::duration<double>(interval));
    probe->DrainExits(&exits);
    for (const ExitRecord& e : exits) account(e.pid, e.start_ticks, e.cpu_seconds, true);
    exit_count += static_cast<long>(exits.size());
    if (!probe->Scan(&records).ok()) return 1;
    ++scans;
    for (const ProcessRecord& r : records) account(r.pid, r.start_ticks, r.cpu_seconds, false);
  }
  const double busy = BusySeconds() - busy0;
  std::printf("counted=%.3f busy=%.3f coverage=%.4f exits=%ld scans=%ld\n", counted, busy,
              counted / busy, exit_count, scans);
  return 0;
}

}  // namespace
}  // namespace nodeproc

int main(int argc, char** argv) { return nodeproc::Main(argc, argv); }
