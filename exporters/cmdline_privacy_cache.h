#pragma once
// CmdlinePrivacy's result per process: scrubbing costs microseconds per command line and
// command lines rarely change, so the output is kept per (pid, start time) and recomputed only
// when the arguments change (compared by a 64-bit hash, so no second copy of them is kept).
// Bounded: entries of processes not seen in a scan are dropped at EndScan(), and past
// max_entries the cache starts over (memory stays bounded whatever the churn).
// Not thread-safe: one owner (the snapshot pipeline, under its lock).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "exporters/cmdline_privacy.h"

namespace nodeproc {

class CmdlinePrivacyCache {
 public:
  explicit CmdlinePrivacyCache(const CmdlinePrivacy* privacy, size_t max_entries = size_t{1} << 16)
      : privacy_(privacy), max_entries_(max_entries) {}

  // The command line as it leaves the node for process (pid, start_ticks): from its argument
  // vector `args` (NUL-separated) when the probe has one, else from the joined `cmdline`.
  const std::string& Get(int32_t pid, uint64_t start_ticks, std::string_view args,
                         std::string_view cmdline);

  // Ends a scan: forgets the processes that Get() was not asked about since the last call.
  void EndScan();

  size_t size() const { return entries_.size(); }
  uint64_t misses() const { return misses_; }  // computations (for tests)

 private:
  struct Entry {
    uint64_t hash = 0;
    bool from_args = false;
    uint32_t generation = 0;
    std::string out;
  };

  const CmdlinePrivacy* privacy_;
  const size_t max_entries_;
  absl::flat_hash_map<std::pair<int32_t, uint64_t>, Entry> entries_;
  uint32_t generation_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace nodeproc
