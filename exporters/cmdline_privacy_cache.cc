#include "exporters/cmdline_privacy_cache.h"

#include <functional>


namespace nodeproc {

const std::string& CmdlinePrivacyCache::Get(int32_t pid, uint64_t start_ticks,
                                            std::string_view args, std::string_view cmdline) {
  const bool from_args = !args.empty();
  const uint64_t hash = std::hash<std::string_view>()(from_args ? args : cmdline);
  if (entries_.size() >= max_entries_ && !entries_.contains({pid, start_ticks})) entries_.clear();
  Entry& e = entries_[{pid, start_ticks}];
  e.generation = generation_;
  if (e.out.empty() || e.hash != hash || e.from_args != from_args) {
    ++misses_;
    e.hash = hash;
    e.from_args = from_args;
    e.out = from_args ? privacy_->ApplyArgs(args) : privacy_->Apply(cmdline);
  }
  return e.out;
}

void CmdlinePrivacyCache::EndScan() {
  absl::erase_if(entries_, [this](const auto& kv) { return kv.second.generation != generation_; });
  ++generation_;
}

}  // namespace nodeproc
