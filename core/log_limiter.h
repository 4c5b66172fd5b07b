#pragma once
// Per-cause rate limiting of log lines, and "recovered" bookkeeping (core/log.h's LogLimited
// and LogRecovered use one process-wide instance; tests use their own with a fake clock).
//
// A cause is (source, kind), e.g. ("kubelet:summary", "tls"). Its first occurrence is logged;
// later occurrences at most once per interval, and such a line carries the number of
// occurrences that were not logged since the previous line. When the source works again,
// Recover() says so once (with the failures counted since the source started failing) and
// forgets the source's causes, so the next failure is logged at once again.
//
// Memory: one entry per distinct cause seen; callers build kinds from small fixed sets
// (error classes, errno names), never from data.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace nodeproc {

class LogLimiter {
 public:
  using Clock = std::function<absl::Time()>;

  explicit LogLimiter(absl::Duration interval, Clock clock = [] { return absl::Now(); });

  struct Decision {
    bool log = false;
    uint64_t suppressed = 0;  // occurrences not logged since the cause's previous line
  };
  // One occurrence of (source, kind). Thread-safe.
  Decision Occur(std::string_view source, std::string_view kind);

  struct Recovery {
    uint64_t failures = 0;     // occurrences of all the source's causes since it began failing
    absl::Duration down_for;   // since the first of them
  };
  // The source works: nullopt when it was not failing (the common, cheap case), else what to
  // report. The source's causes are forgotten.
  std::optional<Recovery> Recover(std::string_view source);

  absl::Duration interval() const { return interval_; }

 private:
  struct Cause {
    absl::Time last_logged;
    uint64_t suppressed = 0;
  };
  struct Source {
    absl::Time failing_since;
    uint64_t failures = 0;
    absl::flat_hash_map<std::string, Cause> causes;
  };

  const absl::Duration interval_;
  const Clock clock_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Source> sources_ ABSL_GUARDED_BY(mu_);
};

}  // namespace nodeproc
