#include "exporters/process_accounting.h"

#include <algorithm>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "core/utf8.h"

namespace nodeproc {
namespace {

// Steps an identity is remembered after the last scan that listed it: an exit record drained
// just before a scan can belong to a process that scan no longer lists, and must find what the
// previous scans counted of it.
// Kept at least kTombstoneTime too, so a process a few scans skipped (a transient read error)
// is not counted whole again when it shows up.
constexpr int64_t kTombstoneSteps = 2;
constexpr absl::Duration kTombstoneTime = absl::Seconds(30);
constexpr size_t kRetiredMax = 10000;
constexpr absl::Duration kRetiredTime = absl::Hours(1);

struct Rank {
  double cpu_2m = 0;
  double rss = 0;
};

// Highest CPU over 2 m first, then RSS; ties by key for a stable choice.
bool RanksBefore(const std::pair<ProcessSeriesKey, Rank>& a,
                 const std::pair<ProcessSeriesKey, Rank>& b) {
  if (a.second.cpu_2m != b.second.cpu_2m) return a.second.cpu_2m > b.second.cpu_2m;
  if (a.second.rss != b.second.rss) return a.second.rss > b.second.rss;
  return a.first < b.first;
}

void AddGauges(ProcessSeries& s, const ProcessRecord& p) {
  ++s.processes;
  const std::array<std::optional<double>, 3> pct = {p.cpu.pct_5s, p.cpu.pct_2m, p.cpu.pct_1h};
  for (size_t i = 0; i < pct.size(); ++i) {
    if (pct[i]) s.cpu_pct[i] = s.cpu_pct[i].value_or(0) + *pct[i];
  }
  s.rss += static_cast<double>(p.rss_bytes);
  s.vms += static_cast<double>(p.vms_bytes);
  s.threads += p.threads;
  if (p.fds) s.fds = s.fds.value_or(0) + *p.fds;
  s.start_time = std::min(s.start_time, p.start_time_unix);
}

// What a byte counter adds: its whole value the first time it is known, then its increase.
double ByteIncrement(const std::optional<uint64_t>& now, std::optional<uint64_t>& seen) {
  if (!now) return 0;
  const uint64_t before = seen.value_or(0);
  const double d = *now > before ? static_cast<double>(*now - before) : 0.0;
  seen = std::max(before, *now);
  return d;
}

}  // namespace

ProcessSeriesKey ProcessAccounting::GroupKey(const ProcessRecord& p) {
  // Label values as they will be rendered (core/utf8.h): names that differ only in invalid
  // bytes make one series, not two that become identical at the output.
  ProcessSeriesKey key{ToValidUtf8(p.container.pod_namespace), ToValidUtf8(p.container.pod_name),
                       ToValidUtf8(p.container.container_name), ToValidUtf8(p.name), -1};
  // Kernel threads are grouped by the part of their name before '/', so the per-CPU and
  // per-queue instances (kworker/3:1H, ksoftirqd/17) make one group each.
  if (p.kernel_thread) {
    const size_t slash = key.name.find('/');
    if (slash != std::string::npos && slash > 0) key.name.resize(slash);
  }
  return key;
}

ProcessSeriesKey ProcessAccounting::FoldKey(const ProcessRecord& p) {
  return ProcessSeriesKey{ToValidUtf8(p.container.pod_namespace), ToValidUtf8(p.container.pod_name),
                          "", "other", -1};
}

void ProcessAccounting::Account(const ProcessRecord& p, const ProcessSeriesKey& key, bool fold,
                                Seen* seen, absl::Time now) {
  auto [it, inserted] = series_.try_emplace(key);
  Accumulated& acc = it->second;
  if (inserted) {
    if (auto old = retired_.find(key); old != retired_.end()) {
      acc = old->second;  // back after its grace period: continue, never restart from zero
      retired_.erase(old);
    }
    acc.fold = fold;
    acc.last_live = now;
  }
  const double cpu_before = seen->cpu_seconds;
  acc.cpu_seconds += p.cpu_seconds > cpu_before ? p.cpu_seconds - cpu_before : 0.0;
  seen->cpu_seconds = std::max(cpu_before, p.cpu_seconds);
  if (p.read_bytes) {
    acc.read_bytes = acc.read_bytes.value_or(0) + ByteIncrement(p.read_bytes, seen->read_bytes);
  }
  if (p.write_bytes) {
    acc.write_bytes = acc.write_bytes.value_or(0) + ByteIncrement(p.write_bytes, seen->write_bytes);
  }
  seen->key = key;
}

void ProcessAccounting::Retire(std::map<ProcessSeriesKey, Accumulated>::iterator it,
                               absl::Time now) {
  Accumulated acc = it->second;
  acc.last_live = now;
  retired_[it->first] = acc;
  series_.erase(it);
  if (retired_.size() > kRetiredMax) {
    // Forget the one retired longest ago.
    auto oldest = retired_.begin();
    for (auto r = retired_.begin(); r != retired_.end(); ++r) {
      if (r->second.last_live < oldest->second.last_live) oldest = r;
    }
    retired_.erase(oldest);
  }
}

std::shared_ptr<const ProcessSeriesSet> ProcessAccounting::Observe(
    absl::Time now, const std::vector<ProcessRecord>& live,
    const std::vector<ProcessRecord>& exited) {
  ++step_;
  auto candidate_of = [&](const ProcessRecord& p) {
    ProcessSeriesKey key = GroupKey(p);
    if (options_.per_pid) {
      key.name = p.name;  // pid mode: the full name
      key.pid = p.pid;
    }
    return key;
  };

  // 1. Candidate series sets of the live processes, with what ranks them.
  std::map<ProcessSeriesKey, Rank> candidates;
  for (const ProcessRecord& p : live) {
    Rank& r = candidates[candidate_of(p)];
    r.cpu_2m += p.cpu.pct_2m.value_or(0);
    r.rss += static_cast<double>(p.rss_bytes);
  }

  // 2. Series sets without live members past their grace period go; the others in their grace
  // period keep a slot under the cap.
  size_t waiting = 0;
  for (auto it = series_.begin(); it != series_.end();) {
    const bool has_live = it->second.fold ? false : candidates.count(it->first) > 0;
    if (!has_live && !it->second.fold && now - it->second.last_live > options_.grace) {
      Retire(it++, now);
      continue;
    }
    if (!has_live && !it->second.fold) ++waiting;
    ++it;
  }

  // 3. The cap: the best ranked candidates keep their own series set.
  const size_t slots = options_.max_series > waiting ? options_.max_series - waiting : 0;
  absl::flat_hash_set<const ProcessSeriesKey*> named;
  uint64_t folded = 0;
  if (candidates.size() <= slots) {
    for (const auto& [key, rank] : candidates) named.insert(&key);
  } else {
    std::vector<std::pair<ProcessSeriesKey, Rank>> ranked(candidates.begin(), candidates.end());
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(slots),
                      ranked.end(), RanksBefore);
    for (size_t i = 0; i < slots; ++i) named.insert(&candidates.find(ranked[i].first)->first);
    folded = candidates.size() - slots;
  }
  size_t named_used = waiting + std::min(slots, candidates.size());
  auto is_named = [&](const ProcessSeriesKey& key) {
    auto it = candidates.find(key);
    return it != candidates.end() && named.count(&it->first) > 0;
  };

  // 4. Exit records: the part not counted yet goes where the process was counted last; a
  // process no scan saw goes where it would have been put as a live process.
  for (const ProcessRecord& e : exited) {
    const Identity id{e.pid, e.start_ticks};
    auto it = processes_.find(id);
    if (it == processes_.end()) {
      ProcessSeriesKey key = candidate_of(e);
      const auto existing = series_.find(key);
      bool named_key = is_named(key) || (existing != series_.end() && !existing->second.fold);
      // Group mode: a group no scan saw gets its own series set while the cap has room; pid
      // mode: a pid no scan saw is not worth a series of its own.
      if (!named_key && !options_.per_pid && named_used < options_.max_series) {
        named_key = true;
        ++named_used;
      }
      if (!named_key) key = FoldKey(e);
      it = processes_.try_emplace(id).first;
      it->second.key = key;
    }
    Seen& seen = it->second;
    const ProcessSeriesKey key = seen.key;
    const auto existing = series_.find(key);
    const bool fold = existing != series_.end() ? existing->second.fold : key.name == "other";
    Account(e, key, fold, &seen, now);
    seen.last_step = step_;
    seen.last_seen = now;
  }

  // 5. Live processes: each increment goes to the series set the process is in now.
  std::map<ProcessSeriesKey, ProcessSeries> gauges;
  for (const ProcessRecord& p : live) {
    ProcessSeriesKey key = candidate_of(p);
    const bool fold = !is_named(key);
    if (fold) key = FoldKey(p);
    auto [it, inserted] = processes_.try_emplace(Identity{p.pid, p.start_ticks});
    Account(p, key, fold, &it->second, now);
    it->second.last_step = step_;
    it->second.last_seen = now;
    Accumulated& acc = series_[key];
    acc.last_live = now;
    ProcessSeries& g = gauges[key];
    AddGauges(g, p);
  }

  // 6. Identities no scan listed for a few steps are forgotten (their contribution stays).
  for (auto it = processes_.begin(); it != processes_.end();) {
    if (step_ - it->second.last_step > kTombstoneSteps &&
        now - it->second.last_seen > kTombstoneTime) {
      processes_.erase(it++);
    } else {
      ++it;
    }
  }
  // Series sets without live members past their grace period go (folds, and named ones whose
  // process was folded this scan).
  for (auto it = series_.begin(); it != series_.end();) {
    if (now - it->second.last_live > options_.grace) {
      Retire(it++, now);
    } else {
      ++it;
    }
  }
  for (auto it = retired_.begin(); it != retired_.end();) {
    if (now - it->second.last_live > kRetiredTime) {
      it = retired_.erase(it);
    } else {
      ++it;
    }
  }

  auto out = std::make_shared<ProcessSeriesSet>();
  out->per_pid = options_.per_pid;
  out->folded = folded;
  out->series.reserve(series_.size());
  for (const auto& [key, acc] : series_) {
    ProcessSeries s;
    if (auto g = gauges.find(key); g != gauges.end()) s = std::move(g->second);
    s.key = key;
    s.fold = acc.fold;
    s.cpu_seconds = acc.cpu_seconds;
    s.read_bytes = acc.read_bytes;
    s.write_bytes = acc.write_bytes;
    out->series.push_back(std::move(s));
  }
  return out;
}

}  // namespace nodeproc
