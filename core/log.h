#pragma once
// One line per event on stderr, logfmt style, readable by `kubectl logs`:
//   ts=2026-11-22T20:55:15.123Z level=info msg="snapshot written" path=/x rows=412
// Thread-safe; a line is written with a single write(2).
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"

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

// Logs a message only the first time a given key is seen (e.g. "io:EACCES"), so that a
// permission error is logged once per cause, not once per PID per scan. Thread-safe.
void LogOnce(LogLevel level, std::string_view key, std::string_view message,
             std::initializer_list<LogField> fields = {});

}  // namespace nodeproc
