#include "core/log_limiter.h"

#include <utility>

namespace nodeproc {

LogLimiter::LogLimiter(absl::Duration interval, Clock clock)
    : interval_(interval), clock_(std::move(clock)) {}

LogLimiter::Decision LogLimiter::Occur(std::string_view source, std::string_view kind) {
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  auto [src_it, new_source] = sources_.try_emplace(std::string(source));
  Source& src = src_it->second;
  if (new_source || src.failures == 0) src.failing_since = now;
  ++src.failures;
  auto [it, new_cause] = src.causes.try_emplace(std::string(kind));
  Cause& cause = it->second;
  Decision d;
  if (new_cause || now - cause.last_logged >= interval_) {
    d.log = true;
    d.suppressed = cause.suppressed;
    cause.last_logged = now;
    cause.suppressed = 0;
  } else {
    ++cause.suppressed;
  }
  return d;
}

std::optional<LogLimiter::Recovery> LogLimiter::Recover(std::string_view source) {
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  auto it = sources_.find(std::string(source));
  if (it == sources_.end()) return std::nullopt;
  Recovery r{it->second.failures, now - it->second.failing_since};
  sources_.erase(it);
  return r;
}

}  // namespace nodeproc
