#pragma once
// Which packages the node's processes have loaded (memory-mapped), as counted by the files
// phase of a deep snapshot (--snapshot-files --package-metrics): for each (package, version),
// the number of processes with at least one mapped file of it. Bounded: only the top series are
// kept, the number left out is recorded. Rendered as nodeproc_loaded_package_processes.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace nodeproc {

struct LoadedPackage {
  std::string name;
  std::string version;  // empty: the mapped file was deleted (replaced by an upgrade)
  uint64_t processes = 0;
  bool operator==(const LoadedPackage&) const = default;
};

struct LoadedPackages {
  absl::Time counted_at;  // taken_at of the snapshot whose files were counted
  // By processes (descending), then name and version (ascending).
  std::vector<LoadedPackage> packages;
  uint64_t dropped_series = 0;  // (package, version) pairs left out by the cap
};

}  // namespace nodeproc
