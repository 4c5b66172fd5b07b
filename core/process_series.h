#pragma once
// The process series sets /metrics renders: one per group (group mode), per pid (pid mode) or
// per pod's name="other" fold, each with the gauges of its live members and the counters the
// accounting accumulated for it (exporters/process_accounting.h). A plain value, attached to a
// Snapshot by the scanner and never modified after publication.
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace nodeproc {

struct ProcessSeriesKey {
  std::string pod_namespace;
  std::string pod;
  std::string container;
  std::string name;
  int64_t pid = -1;  // -1: no pid (group mode, or a fold)

  auto Tie() const { return std::tie(pod_namespace, pod, container, name, pid); }
  bool operator<(const ProcessSeriesKey& other) const { return Tie() < other.Tie(); }
  bool operator==(const ProcessSeriesKey& other) const { return Tie() == other.Tie(); }
};

struct ProcessSeries {
  ProcessSeriesKey key;
  bool fold = false;  // the per-pod name="other" series set

  // Gauges: the live members of this scan (processes == 0: every member is gone and the series
  // waits out its grace period; only its counters are rendered).
  uint64_t processes = 0;
  std::array<std::optional<double>, 3> cpu_pct;  // 5s, 2m, 1h (percent of one core)
  double rss = 0;
  double vms = 0;
  double threads = 0;
  std::optional<double> fds;
  double start_time = std::numeric_limits<double>::infinity();

  // Counters: sums of the increments of every process that was in this series set when they
  // happened (members that exited keep their contribution). Never decrease.
  double cpu_seconds = 0;
  std::optional<double> read_bytes;
  std::optional<double> write_bytes;
};

struct ProcessSeriesSet {
  bool per_pid = false;
  std::vector<ProcessSeries> series;  // sorted by key
  uint64_t folded = 0;                // series sets folded into name="other" by the cap this scan
};

}  // namespace nodeproc
