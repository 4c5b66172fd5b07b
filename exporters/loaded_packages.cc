#include "exporters/loaded_packages.h"

#include <algorithm>
#include <string_view>
#include <tuple>
#include <vector>

namespace nodeproc {

void LoadedPackageCounter::Add(const ProcessFiles& process) {
  // A process maps a handful of packages: a linear scan beats a set here.
  std::vector<std::pair<std::string_view, std::string_view>> seen;
  for (const FileEntry& f : process.files) {
    if (f.package.empty() || f.kind == FileEntry::Kind::kOpen) continue;
    const std::pair<std::string_view, std::string_view> key{f.package, f.package_version};
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
    seen.push_back(key);
    ++counts_[{f.package, f.package_version}];
  }
}

LoadedPackages LoadedPackageCounter::Result(absl::Time counted_at, size_t max_series) const {
  LoadedPackages out;
  out.counted_at = counted_at;
  out.packages.reserve(counts_.size());
  for (const auto& [key, n] : counts_) out.packages.push_back({key.first, key.second, n});
  std::sort(out.packages.begin(), out.packages.end(),
            [](const LoadedPackage& a, const LoadedPackage& b) {
              return std::tie(b.processes, a.name, a.version) < std::tie(a.processes, b.name, b.version);
            });
  if (max_series > 0 && out.packages.size() > max_series) {
    out.dropped_series = out.packages.size() - max_series;
    out.packages.resize(max_series);
  }
  return out;
}

}  // namespace nodeproc
