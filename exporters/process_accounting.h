#pragma once
// Group counters that never go back (the accounting rule of exporters/METRICS.md, after
// process-exporter's grouper): each process identity (pid, start_ticks) remembers the CPU
// seconds and I/O bytes it had at the last scan; each scan adds every process's increment to
// the series set the process is in at that scan. So
//   * a member that exits keeps its contribution in its series set;
//   * a process that changes series set (pod labels arriving late, moving in or out of the
//     name="other" fold) takes only its later increments along; what it added before stays where
//     it was: nothing is dropped, nothing is counted twice;
//   * a process seen for the first time contributes its whole cumulative counters (it started
//     since the last scan, or before the agent);
//   * exit records (probes that see exits) add the part of a process's final counters not seen
//     yet, or the whole record for a process no scan saw, to the series set it belongs to.
// A series set without live members keeps its counters for `grace`, then goes (its counters are
// remembered for an hour: if it comes back it continues from them). Named series
// sets (groups, or pids) are capped at max_series, counting those in their grace period; the
// rest are folded into one name="other" series set per pod (highest CPU over 2 m, then RSS,
// keep their own).
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "core/process_record.h"
#include "core/process_series.h"

namespace nodeproc {

struct AccountingOptions {
  bool per_pid = false;          // --process-metrics=pid
  size_t max_series = 2000;      // --max-process-series
  absl::Duration grace = absl::Minutes(5);  // --process-series-grace
};

class ProcessAccounting {
 public:
  explicit ProcessAccounting(AccountingOptions options) : options_(options) {}

  // One accounting step: first `exited` (processes known to have exited since the last step,
  // with their final counters and their container already resolved), then the live processes of
  // a full scan taken at `now`. Returns the series sets to render. Not thread-safe: one caller
  // (the scanner).
  std::shared_ptr<const ProcessSeriesSet> Observe(absl::Time now,
                                                  const std::vector<ProcessRecord>& live,
                                                  const std::vector<ProcessRecord>& exited = {});

  size_t tracked_processes() const { return processes_.size(); }
  size_t tracked_series() const { return series_.size(); }

  // The series set key of a process in group mode (kernel threads grouped by their name before
  // '/') and the fold key of its pod.
  static ProcessSeriesKey GroupKey(const ProcessRecord& p);
  static ProcessSeriesKey FoldKey(const ProcessRecord& p);

 private:
  using Identity = std::pair<int32_t, uint64_t>;  // pid, start_ticks
  struct Seen {
    double cpu_seconds = 0;
    std::optional<uint64_t> read_bytes;
    std::optional<uint64_t> write_bytes;
    ProcessSeriesKey key;  // where its increments went last
    int64_t last_step = 0;  // last step that listed it (scan or exit record)
    absl::Time last_seen;
  };
  struct Accumulated {
    bool fold = false;
    double cpu_seconds = 0;
    std::optional<double> read_bytes;
    std::optional<double> write_bytes;
    absl::Time last_live;
  };

  // Adds p's increments since `seen` (or its whole counters when seen is null) to key.
  void Account(const ProcessRecord& p, const ProcessSeriesKey& key, bool fold, Seen* seen,
               absl::Time now);

  // Removes a series set past its grace period, remembering its counters.
  void Retire(std::map<ProcessSeriesKey, Accumulated>::iterator it, absl::Time now);

  const AccountingOptions options_;
  int64_t step_ = 0;
  absl::flat_hash_map<Identity, Seen> processes_;
  std::map<ProcessSeriesKey, Accumulated> series_;
  // Counters of series sets removed after their grace period (last_live = when removed): one
  // that comes back continues from there instead of starting again from zero (which Prometheus
  // would read as a reset). Bounded: kRetiredMax entries, each kept kRetiredTime.
  std::map<ProcessSeriesKey, Accumulated> retired_;
};

}  // namespace nodeproc
