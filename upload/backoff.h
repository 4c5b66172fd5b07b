#pragma once
// Retry delays after failed uploads: exponential (initial, x2 per failure, capped) with
// "equal jitter" (a uniformly random delay in [d/2, d]), so a fleet of agents that lost the
// store at the same moment does not come back in lock step. Reset() after a success.
// Not thread-safe.
#include <cstdint>
#include <functional>

#include "absl/time/time.h"

namespace nodeproc {

class Backoff {
 public:
  // `uniform01` returns a value in [0, 1) (tests inject a fixed one).
  Backoff(absl::Duration initial, absl::Duration max, std::function<double()> uniform01);

  // The delay before the next attempt, after one more failure.
  absl::Duration Next();
  void Reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  absl::Duration initial_;
  absl::Duration max_;
  std::function<double()> uniform01_;
  int failures_ = 0;
};

}  // namespace nodeproc
