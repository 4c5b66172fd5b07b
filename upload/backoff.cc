#include "upload/backoff.h"

#include <algorithm>
#include <utility>

namespace nodeproc {

Backoff::Backoff(absl::Duration initial, absl::Duration max, std::function<double()> uniform01)
    : initial_(std::max(initial, absl::Milliseconds(1))),
      max_(std::max(max, initial_)),
      uniform01_(std::move(uniform01)) {}

absl::Duration Backoff::Next() {
  absl::Duration d = initial_;
  for (int i = 0; i < failures_ && d < max_; ++i) d *= 2;  // no overflow: stops at the cap
  d = std::min(d, max_);
  if (failures_ < 64) ++failures_;
  const double u = std::clamp(uniform01_(), 0.0, 1.0);
  return d / 2 + (d / 2) * u;
}

}  // namespace nodeproc
