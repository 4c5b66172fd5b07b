#pragma once
// One line per event on stderr, logfmt style, readable by `kubectl logs`:
//   ts=2026-11-22T20:55:15.123Z level=info msg="snapshot written" path=/x rows=412
// Thread-safe; a line is written with a single write(2).
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace nodeproc {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// A key=value pair; values are quoted when they hold spaces, quotes or '='.
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  template <typename T>
  LogField(std::string_view k, T v) : key(k), value(absl::StrCat(v)) {}
  std::string_view key;
  std::string value;
};

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Parses debug|info|warning|warn|error.
bool ParseLogLevel(std::string_view text, LogLevel* out);

void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});

// Renders the line without writing it (for tests).
std::string FormatLogLine(LogLevel level, std::string_view message,
                          std::initializer_list<LogField> fields);

inline void LogDebug(std::string_view m, std::initializer_list<LogField> f = {}) { Log(LogLevel::kDebug, m, f); }
inline void LogInfo(std::string_view m, std::initializer_list<LogField> f = {}) { Log(LogLevel::kInfo, m, f); }
inline void LogWarning(std::string_view m, std::initializer_list<LogField> f = {}) { Log(LogLevel::kWarning, m, f); }
inline void LogError(std::string_view m, std::initializer_list<LogField> f = {}) { Log(LogLevel::kError, m, f); }

// How often a repeating cause may log again (core/log_limiter.h).
inline constexpr absl::Duration kLogRepeatInterval = absl::Minutes(10);

// Logs a failure of `source` (e.g. "kubelet:summary", "procfs:/proc:io") of a given `kind`
// (e.g. "tls", "EACCES"): the first occurrence of the cause, then at most one line per
// kLogRepeatInterval with `suppressed=N` (occurrences not logged since). So a permission error
// is not logged per PID per scan, and a second outage is still seen. Thread-safe.
void LogLimited(LogLevel level, std::string_view source, std::string_view kind,
                std::string_view message, std::initializer_list<LogField> fields = {});

// `source` works again: when it had failures logged by LogLimited, logs one info line
// `message` with failures=N down_for=D and forgets them (the next failure logs at once).
// Cheap when the source was not failing; call it on every success.
void LogRecovered(std::string_view source, std::string_view message,
                  std::initializer_list<LogField> fields = {});

// The former name (a cause was logged once per lifetime): now rate-limited like LogLimited,
// with the key as source.
inline void LogOnce(LogLevel level, std::string_view key, std::string_view message,
                    std::initializer_list<LogField> fields = {}) {
  LogLimited(level, key, "", message, fields);
}

}  // namespace nodeproc
