#pragma once
// Counts loaded packages over the processes of a deep snapshot (core/loaded_packages.h): a
// process counts once for each (package, version) of which it maps at least one file (kind
// mapped or both; files only open, e.g. a log or a config file, do not load a package).
// Processes are added one by one, so the files phase never keeps every process's file list.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "core/file_entry.h"
#include "core/loaded_packages.h"

namespace nodeproc {

inline constexpr size_t kMaxLoadedPackageSeries = 200;

class LoadedPackageCounter {
 public:
  void Add(const ProcessFiles& process);

  // The counts, most loaded first (ties by name, then version); at most `max_series` of them
  // (0: no cap), the number left out in dropped_series.
  LoadedPackages Result(absl::Time counted_at, size_t max_series = kMaxLoadedPackageSeries) const;

  size_t distinct() const { return counts_.size(); }

 private:
  std::map<std::pair<std::string, std::string>, uint64_t> counts_;
};

}  // namespace nodeproc
