#pragma once
// absl_lite (Windows build only): the wall clock and sleeping.
#include "absl/time/time.h"

namespace absl {
Time Now();
void SleepFor(Duration d);
int64_t GetCurrentTimeNanos();
}  // namespace absl
