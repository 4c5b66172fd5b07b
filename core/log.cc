#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/absl_compat.h"
#include "core/log_limiter.h"
#include "core/utf8.h"

namespace nodeproc {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "info";
}

void AppendValue(std::string* out, std::string_view raw) {
  // Log values may carry what a workload chose (process names, kubelet bodies): valid UTF-8.
  std::string repaired;
  std::string_view value = raw;
  if (!IsCleanUtf8(raw)) {
    repaired = ToValidUtf8(raw);
    value = repaired;
  }
  bool quote = value.empty();
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out->append(value);
    return;
  }
  out->push_back('"');
  for (char c : value) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(out, "\\x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }

bool ParseLogLevel(std::string_view text, LogLevel* out) {
  if (text == "debug") *out = LogLevel::kDebug;
  else if (text == "info") *out = LogLevel::kInfo;
  else if (text == "warning" || text == "warn") *out = LogLevel::kWarning;
  else if (text == "error") *out = LogLevel::kError;
  else return false;
  return true;
}

namespace {

std::string FormatLine(LogLevel level, std::string_view message, const LogField* begin,
                       const LogField* end) {
  std::string line = absl::StrCat(
      "ts=", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
      " level=", ToAbsl(LevelName(level)), " msg=");
  AppendValue(&line, message);
  for (const LogField* f = begin; f != end; ++f) {
    absl::StrAppend(&line, " ", ToAbsl(f->key), "=");
    AppendValue(&line, f->value);
  }
  line.push_back('\n');
  return line;
}

void WriteLine(LogLevel level, std::string_view message, const LogField* begin,
               const LogField* end) {
  if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) return;
  std::string line = FormatLine(level, message, begin, end);
  // One write per line so concurrent threads never interleave within a line.
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void LogFields(LogLevel level, std::string_view message, const std::vector<LogField>& fields) {
  WriteLine(level, message, fields.data(), fields.data() + fields.size());
}

}  // namespace

std::string FormatLogLine(LogLevel level, std::string_view message,
                          std::initializer_list<LogField> fields) {
  return FormatLine(level, message, fields.begin(), fields.end());
}

void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  WriteLine(level, message, fields.begin(), fields.end());
}

namespace {
LogLimiter& GlobalLimiter() {
  static auto* limiter = new LogLimiter(kLogRepeatInterval);
  return *limiter;
}
}  // namespace

void LogLimited(LogLevel level, std::string_view source, std::string_view kind,
                std::string_view message, std::initializer_list<LogField> fields) {
  const LogLimiter::Decision d = GlobalLimiter().Occur(source, kind);
  if (!d.log) return;
  if (d.suppressed == 0) {
    Log(level, message, fields);
    return;
  }
  std::vector<LogField> all(fields);
  all.emplace_back("suppressed", d.suppressed);
  all.emplace_back("interval", absl::FormatDuration(GlobalLimiter().interval()));
  LogFields(level, message, all);
}

void LogRecovered(std::string_view source, std::string_view message,
                  std::initializer_list<LogField> fields) {
  const std::optional<LogLimiter::Recovery> r = GlobalLimiter().Recover(source);
  if (!r) return;
  std::vector<LogField> all(fields);
  all.emplace_back("failures", r->failures);
  all.emplace_back("down_for", absl::StrCat(absl::ToInt64Seconds(r->down_for), "s"));
  LogFields(LogLevel::kInfo, message, all);
}

}  // namespace nodeproc
