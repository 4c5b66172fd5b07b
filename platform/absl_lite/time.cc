#include <chrono>
#include <cstdio>
#include <ctime>
#include <ostream>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace absl {
namespace {

constexpr int64_t kNanosPerSecond = 1000000000;
constexpr int64_t kSecondsPerDay = 86400;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's published algorithm,
// written out here).
void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

std::string FormatDuration(Duration d) {
  if (d == InfiniteDuration()) return "inf";
  if (d == -InfiniteDuration()) return "-inf";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%gs", ToDoubleSeconds(d));
  return buf;
}

CivilSecond ToCivilSecond(Time t, TimeZone) {
  const int64_t secs = ToUnixSeconds(t);
  const int64_t days = FloorDiv(secs, kSecondsPerDay);
  const int64_t rem = secs - days * kSecondsPerDay;
  int64_t y;
  int m, d;
  CivilFromDays(days, &y, &m, &d);
  return CivilSecond(y, m, d, static_cast<int>(rem / 3600), static_cast<int>(rem / 60 % 60),
                     static_cast<int>(rem % 60));
}

CivilDay ToCivilDay(Time t, TimeZone tz) {
  const CivilSecond cs = ToCivilSecond(t, tz);
  return CivilDay(cs.year(), cs.month(), cs.day());
}

Time FromCivil(CivilSecond cs, TimeZone) {
  const int64_t days = DaysFromCivil(cs.year(), cs.month(), cs.day());
  return FromUnixSeconds(days * kSecondsPerDay + cs.hour() * 3600 + cs.minute() * 60 + cs.second());
}

std::string FormatTime(std::string_view format, Time t, TimeZone tz) {
  const CivilSecond cs = ToCivilSecond(t, tz);
  const int64_t subsec = ToUnixNanos(t) - ToUnixSeconds(t) * kNanosPerSecond;  // [0, 1e9)
  std::tm tm{};
  tm.tm_year = static_cast<int>(cs.year() - 1900);
  tm.tm_mon = cs.month() - 1;
  tm.tm_mday = cs.day();
  tm.tm_hour = cs.hour();
  tm.tm_min = cs.minute();
  tm.tm_sec = cs.second();
  tm.tm_wday = static_cast<int>(((FloorDiv(ToUnixSeconds(t), kSecondsPerDay) % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  tm.tm_yday = static_cast<int>(DaysFromCivil(cs.year(), cs.month(), cs.day()) - DaysFromCivil(cs.year(), 1, 1));

  std::string out;
  char buf[128];
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 == format.size()) {
      out.push_back(format[i]);
      continue;
    }
    const char c = format[i + 1];
    if (c == 'E' && i + 3 < format.size() + 1) {
      // %E<n>S, %E*S, %Ez
      const char n = i + 2 < format.size() ? format[i + 2] : '\0';
      if (n == 'z') {
        out.append("+00:00");
        i += 2;
        continue;
      }
      if ((n == '*' || (n >= '0' && n <= '9')) && i + 3 < format.size() && format[i + 3] == 'S') {
        std::snprintf(buf, sizeof(buf), "%02d", cs.second());
        out.append(buf);
        std::snprintf(buf, sizeof(buf), "%09lld", static_cast<long long>(subsec));
        std::string frac(buf);
        if (n == '*') {
          while (!frac.empty() && frac.back() == '0') frac.pop_back();
        } else {
          frac.resize(static_cast<size_t>(n - '0'));
        }
        if (!frac.empty()) out.append(".").append(frac);
        i += 3;
        continue;
      }
    }
    switch (c) {
      case 'Y': out.append(std::to_string(cs.year())); break;
      case 'z': out.append("+0000"); break;
      case 'Z': out.append("UTC"); break;
      case '%': out.push_back('%'); break;
      default: {
        const char spec[3] = {'%', c, '\0'};
        const size_t n = std::strftime(buf, sizeof(buf), spec, &tm);
        out.append(buf, n);
      }
    }
    ++i;
  }
  return out;
}

int64_t GetCurrentTimeNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::ostream& operator<<(std::ostream& os, Duration d) { return os << FormatDuration(d); }
std::ostream& operator<<(std::ostream& os, Time t) {
  return os << FormatTime("%Y-%m-%dT%H:%M:%E*S+00:00", t, UTCTimeZone());
}

Time Now() { return FromUnixNanos(GetCurrentTimeNanos()); }

void SleepFor(Duration d) {
  if (d <= ZeroDuration()) return;
  std::this_thread::sleep_for(std::chrono::nanoseconds(d.nanos()));
}

}  // namespace absl
