#include "collectors/cpu_windows.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

namespace nodeproc {
namespace {

struct Checkpoint {
  double t = 0;    // unix seconds
  double cpu = 0;  // cumulative CPU seconds
};

// A fixed ring of checkpoints at least `granularity` apart; when full the oldest goes.
template <int N>
struct Ring {
  std::array<Checkpoint, N> items;
  uint8_t head = 0;  // index of the oldest
  uint8_t size = 0;

  const Checkpoint& at(int i) const { return items[(head + i) % N]; }
  const Checkpoint& newest() const { return at(size - 1); }
  void Offer(const Checkpoint& c, double granularity) {
    if (size > 0 && c.t - newest().t < granularity) return;
    if (size < N) {
      items[(head + size) % N] = c;
      ++size;
    } else {
      items[head] = c;
      head = static_cast<uint8_t>((head + 1) % N);
    }
  }
};

// Ring sizes: capacity C at granularity G covers at least (C - 1) * G seconds back from its
// newest entry, which must exceed its window (fine: 7 s >= 5 s, medium: 130 s >= 120 s,
// coarse: 63 min >= 60 min) whatever the sampling interval.
constexpr int kFineCapacity = 8;
constexpr double kFineGranularity = 1;
constexpr int kMediumCapacity = 14;
constexpr double kMediumGranularity = 10;
constexpr int kCoarseCapacity = 22;
constexpr double kCoarseGranularity = 180;
double UnixSeconds(absl::Time t) { return absl::ToDoubleSeconds(t - absl::UnixEpoch()); }

constexpr int kMaxCheckpoints = 1 + kFineCapacity + kMediumCapacity + kCoarseCapacity;

}  // namespace

// All the history of one PID: 1 + 8 + 14 + 22 = 45 checkpoints of 16 bytes plus identity,
// 760 bytes on x86-64 (checked in the tests via BytesPerPid), whatever the time watched.
struct CpuWindows::PidHistory {
  uint64_t start_ticks = 0;
  uint64_t last_pass = 0;
  Checkpoint first;  // when the agent first saw this process (the "watched span" origin)
  Ring<kFineCapacity> fine;
  Ring<kMediumCapacity> medium;
  Ring<kCoarseCapacity> coarse;

  void Offer(const Checkpoint& c) {
    if (fine.size > 0 && c.t < fine.newest().t) return;  // clock stepped back: keep history
    fine.Offer(c, kFineGranularity);
    medium.Offer(c, kMediumGranularity);
    coarse.Offer(c, kCoarseGranularity);
  }

  int Count() const { return 1 + fine.size + medium.size + coarse.size; }

  // Every checkpoint, sorted by time, duplicates (the same sample kept by several rings)
  // removed. Returns the count written to `out`.
  int Collect(std::array<Checkpoint, kMaxCheckpoints>* out) const {
    int n = 0;
    (*out)[n++] = first;
    for (int i = 0; i < coarse.size; ++i) (*out)[n++] = coarse.at(i);
    for (int i = 0; i < medium.size; ++i) (*out)[n++] = medium.at(i);
    for (int i = 0; i < fine.size; ++i) (*out)[n++] = fine.at(i);
    std::sort(out->begin(), out->begin() + n,
              [](const Checkpoint& a, const Checkpoint& b) { return a.t < b.t; });
    auto end = std::unique(out->begin(), out->begin() + n,
                           [](const Checkpoint& a, const Checkpoint& b) { return a.t == b.t; });
    return static_cast<int>(end - out->begin());
  }
};

CpuWindows::CpuWindows() = default;
CpuWindows::~CpuWindows() = default;

void CpuWindows::Observe(absl::Time now, const std::vector<CpuSample>& samples) {
  const Checkpoint base{UnixSeconds(now), 0};
  absl::MutexLock lock(&mu_);
  const uint64_t pass = ++pass_;
  for (const CpuSample& s : samples) {
    std::unique_ptr<PidHistory>& h = pids_[s.pid];
    Checkpoint c = base;
    c.cpu = s.cpu_seconds;
    if (h == nullptr || h->start_ticks != s.start_ticks) {  // new, or the PID was reused
      h = std::make_unique<PidHistory>();
      h->start_ticks = s.start_ticks;
      h->first = c;
    }
    h->Offer(c);
    h->last_pass = pass;
  }
  for (auto it = pids_.begin(); it != pids_.end();) {
    if (it->second->last_pass != pass) {
      pids_.erase(it++);  // exited since the last pass
    } else {
      ++it;
    }
  }
}

CpuUsage CpuWindows::Usage(int32_t pid, uint64_t start_ticks, double start_time_unix,
                           double cpu_seconds_now, absl::Time now) const {
  std::array<Checkpoint, kMaxCheckpoints> points;
  int n = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = pids_.find(pid);
    if (it != pids_.end() && it->second->start_ticks == start_ticks) n = it->second->Collect(&points);
  }
  const double t_now = UnixSeconds(now);
  while (n > 0 && points[n - 1].t > t_now) --n;  // checkpoints after `now` say nothing of it

  auto window = [&](absl::Duration w) -> std::optional<double> {
    const double w_s = absl::ToDoubleSeconds(w);
    const double target = t_now - w_s;
    if (n > 0 && points[0].t <= target) {
      // Last checkpoint at or before the target, and the next one (or now) after it.
      int i = 0;
      while (i + 1 < n && points[i + 1].t <= target) ++i;
      const Checkpoint a = points[i];
      const Checkpoint b = i + 1 < n ? points[i + 1] : Checkpoint{t_now, cpu_seconds_now};
      double cpu_at = a.cpu;
      if (b.t > a.t) cpu_at += (b.cpu - a.cpu) * (target - a.t) / (b.t - a.t);
      return std::max(0.0, 100.0 * (cpu_seconds_now - cpu_at) / w_s);
    }
    const double age = t_now - start_time_unix;
    if (age < w_s) {
      if (age <= 0) return std::nullopt;
      return std::max(0.0, 100.0 * cpu_seconds_now / age);
    }
    if (n > 0) {
      const double span = t_now - points[0].t;
      if (span <= 0) return std::nullopt;
      return std::max(0.0, 100.0 * (cpu_seconds_now - points[0].cpu) / span);
    }
    return std::nullopt;
  };

  CpuUsage usage;
  usage.pct_5s = window(kWindow5s);
  usage.pct_2m = window(kWindow2m);
  usage.pct_1h = window(kWindow1h);
  return usage;
}

size_t CpuWindows::TrackedPids() const {
  absl::MutexLock lock(&mu_);
  return pids_.size();
}

size_t CpuWindows::CheckpointCount(int32_t pid) const {
  absl::MutexLock lock(&mu_);
  auto it = pids_.find(pid);
  return it == pids_.end() ? 0 : static_cast<size_t>(it->second->Count());
}

size_t CpuWindows::BytesPerPid() {
  // The record plus its hash-map slot (key + owning pointer).
  return sizeof(PidHistory) + sizeof(std::pair<const int32_t, std::unique_ptr<PidHistory>>);
}

}  // namespace nodeproc
