#pragma once
// Inputs for the micro benchmarks: a synthetic /proc tree of N processes, a kubelet
// /stats/summary document of P pods, and made-up ProcessRecords. Deterministic (fixed seeds).
#include <string>
#include <vector>

#include "core/pod_stats.h"
#include "core/process_record.h"

namespace nodeproc::bench {

// A temporary folder holding <root>/proc with `pids` process folders (stat, status, statm, io,
// cmdline, comm, cgroup and `fds_per_pid` fd symlinks each) plus the top-level files a probe
// reads (stat, uptime, meminfo, loadavg), copied from the live /proc. Removed on destruction.
class SyntheticProcTree {
 public:
  SyntheticProcTree(int pids, int fds_per_pid);
  ~SyntheticProcTree();
  SyntheticProcTree(const SyntheticProcTree&) = delete;
  SyntheticProcTree& operator=(const SyntheticProcTree&) = delete;

  const std::string& proc_root() const { return proc_root_; }

 private:
  std::string dir_;
  std::string proc_root_;
};

// Sample lines in the kernel's formats, for the line-parser benchmarks.
std::string SampleStatLine(int pid);    // /proc/<pid>/stat (comm with a space and a ')')
std::string SampleStatus(int pid);      // /proc/<pid>/status, whole file
std::string SampleStatm();              // /proc/<pid>/statm
std::string SampleIo();                 // /proc/<pid>/io
std::string SampleCgroupV2();           // /proc/<pid>/cgroup of a containerd container (v2)
std::string SampleCgroupV1();           // the same on a cgroup v1 host (12 lines)

// A kubelet /stats/summary with `pods` pods of `containers` containers each, plus node and
// system containers, in the kubelet's JSON shape (camelCase, RFC 3339 times).
std::string GenerateSummaryJson(int pods, int containers);

// `n` processes as a full scan + enrichment would produce them: realistic names and command
// lines, ~1/3 in pods (namespace/pod/container set), CPU windows filled.
std::vector<ProcessRecord> GenerateProcesses(int n);

// The kubelet summary that matches GenerateProcesses' pods.
Summary GenerateSummary(int pods, int containers);

}  // namespace nodeproc::bench
