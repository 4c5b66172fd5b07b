#pragma once
// absl_lite (Windows build only): Duration, Time, civil times and FormatTime, UTC only.
// Both hold int64 nanoseconds; InfiniteDuration()/InfiniteFuture() are saturated values.
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

namespace absl {

class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration FromNanos(int64_t ns) { Duration d; d.ns_ = ns; return d; }
  constexpr int64_t nanos() const { return ns_; }

  constexpr Duration& operator+=(Duration d) { ns_ = Sat(static_cast<long double>(ns_) + d.ns_); return *this; }
  constexpr Duration& operator-=(Duration d) { ns_ = Sat(static_cast<long double>(ns_) - d.ns_); return *this; }
  template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
  constexpr Duration& operator*=(T r) { ns_ = Sat(static_cast<long double>(ns_) * r); return *this; }
  template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
  constexpr Duration& operator/=(T r) { ns_ = Sat(static_cast<long double>(ns_) / r); return *this; }

  friend constexpr bool operator==(Duration a, Duration b) { return a.ns_ == b.ns_; }
  friend constexpr auto operator<=>(Duration a, Duration b) { return a.ns_ <=> b.ns_; }

  static constexpr int64_t Sat(long double v) {
    if (v >= static_cast<long double>(std::numeric_limits<int64_t>::max())) return std::numeric_limits<int64_t>::max();
    if (v <= static_cast<long double>(std::numeric_limits<int64_t>::min())) return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(v);
  }

 private:
  int64_t ns_ = 0;
};

constexpr Duration operator+(Duration a, Duration b) { return a += b; }
constexpr Duration operator-(Duration a, Duration b) { return a -= b; }
constexpr Duration operator-(Duration a) { return Duration::FromNanos(Duration::Sat(-static_cast<long double>(a.nanos()))); }
template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
constexpr Duration operator*(Duration d, T r) { return d *= r; }
template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
constexpr Duration operator*(T r, Duration d) { return d *= r; }
template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
constexpr Duration operator/(Duration d, T r) { return d /= r; }
constexpr int64_t operator/(Duration a, Duration b) { return b.nanos() == 0 ? 0 : a.nanos() / b.nanos(); }
inline double FDivDuration(Duration a, Duration b) {
  return static_cast<double>(a.nanos()) / static_cast<double>(b.nanos());
}

template <typename T>
constexpr Duration Nanoseconds(T n) { return Duration::FromNanos(Duration::Sat(static_cast<long double>(n))); }
template <typename T>
constexpr Duration Microseconds(T n) { return Duration::FromNanos(Duration::Sat(static_cast<long double>(n) * 1000)); }
template <typename T>
constexpr Duration Milliseconds(T n) { return Duration::FromNanos(Duration::Sat(static_cast<long double>(n) * 1000000)); }
template <typename T>
constexpr Duration Seconds(T n) { return Duration::FromNanos(Duration::Sat(static_cast<long double>(n) * 1000000000)); }
template <typename T>
constexpr Duration Minutes(T n) { return Duration::FromNanos(Duration::Sat(static_cast<long double>(n) * 60000000000LL)); }
template <typename T>
constexpr Duration Hours(T n) { return Duration::FromNanos(Duration::Sat(static_cast<long double>(n) * 3600000000000LL)); }
constexpr Duration ZeroDuration() { return Duration(); }
constexpr Duration InfiniteDuration() { return Duration::FromNanos(std::numeric_limits<int64_t>::max()); }
constexpr Duration AbsDuration(Duration d) { return d < ZeroDuration() ? -d : d; }

// Whole units and the remainder apart, so that the result is the double nearest the exact value
// (a plain ns / 1e9 loses the last digits of a time since 1970).
inline double ToDoubleSeconds(Duration d) {
  return static_cast<double>(d.nanos() / 1000000000) + static_cast<double>(d.nanos() % 1000000000) / 1e9;
}
inline double ToDoubleMilliseconds(Duration d) {
  return static_cast<double>(d.nanos() / 1000000) + static_cast<double>(d.nanos() % 1000000) / 1e6;
}
inline double ToDoubleMicroseconds(Duration d) { return static_cast<double>(d.nanos()) / 1e3; }
constexpr int64_t ToInt64Nanoseconds(Duration d) { return d.nanos(); }
constexpr int64_t ToInt64Microseconds(Duration d) { return d.nanos() / 1000; }
constexpr int64_t ToInt64Milliseconds(Duration d) { return d.nanos() / 1000000; }
constexpr int64_t ToInt64Seconds(Duration d) { return d.nanos() / 1000000000; }
// "1.5s", "250ms", "2h0m0s"-like, enough for logs.
std::string FormatDuration(Duration d);

class Time {
 public:
  constexpr Time() = default;
  static constexpr Time FromUnixNanos(int64_t ns) { Time t; t.since_epoch_ = Duration::FromNanos(ns); return t; }
  constexpr Duration since_epoch() const { return since_epoch_; }

  constexpr Time& operator+=(Duration d) { since_epoch_ += d; return *this; }
  constexpr Time& operator-=(Duration d) { since_epoch_ -= d; return *this; }
  friend constexpr bool operator==(Time a, Time b) { return a.since_epoch_ == b.since_epoch_; }
  friend constexpr auto operator<=>(Time a, Time b) { return a.since_epoch_ <=> b.since_epoch_; }

 private:
  Duration since_epoch_;
};

constexpr Time operator+(Time t, Duration d) { return t += d; }
constexpr Time operator+(Duration d, Time t) { return t += d; }
constexpr Time operator-(Time t, Duration d) { return t -= d; }
constexpr Duration operator-(Time a, Time b) { return a.since_epoch() - b.since_epoch(); }

constexpr Time UnixEpoch() { return Time(); }
constexpr Time InfiniteFuture() { return Time::FromUnixNanos(std::numeric_limits<int64_t>::max()); }
constexpr Time InfinitePast() { return Time::FromUnixNanos(std::numeric_limits<int64_t>::min()); }
constexpr Time FromUnixNanos(int64_t ns) { return Time::FromUnixNanos(ns); }
constexpr Time FromUnixMicros(int64_t us) { return UnixEpoch() + Microseconds(us); }
constexpr Time FromUnixMillis(int64_t ms) { return UnixEpoch() + Milliseconds(ms); }
constexpr Time FromUnixSeconds(int64_t s) { return UnixEpoch() + Seconds(s); }
constexpr Time FromTimeT(int64_t s) { return FromUnixSeconds(s); }
// Floor division, as Abseil (a time before the epoch rounds down).
constexpr int64_t ToUnixNanos(Time t) { return t.since_epoch().nanos(); }
constexpr int64_t ToUnixSeconds(Time t) {
  const int64_t ns = t.since_epoch().nanos();
  return ns >= 0 ? ns / 1000000000 : -((-(ns + 1)) / 1000000000) - 1;
}
constexpr int64_t ToUnixMillis(Time t) {
  const int64_t ns = t.since_epoch().nanos();
  return ns >= 0 ? ns / 1000000 : -((-(ns + 1)) / 1000000) - 1;
}

// Only UTC exists here.
class TimeZone {
 public:
  std::string name() const { return "UTC"; }
};
inline TimeZone UTCTimeZone() { return TimeZone(); }

// Civil (broken-down) times, second and day granularity.
class CivilSecond {
 public:
  constexpr CivilSecond() = default;
  constexpr CivilSecond(int64_t y, int mo, int d, int h = 0, int mi = 0, int s = 0)
      : y_(y), mo_(mo), d_(d), h_(h), mi_(mi), s_(s) {}
  constexpr int64_t year() const { return y_; }
  constexpr int month() const { return mo_; }
  constexpr int day() const { return d_; }
  constexpr int hour() const { return h_; }
  constexpr int minute() const { return mi_; }
  constexpr int second() const { return s_; }
  friend constexpr bool operator==(const CivilSecond&, const CivilSecond&) = default;

 private:
  int64_t y_ = 1970;
  int mo_ = 1, d_ = 1, h_ = 0, mi_ = 0, s_ = 0;
};

class CivilDay {
 public:
  constexpr CivilDay() = default;
  constexpr CivilDay(int64_t y, int mo, int d) : y_(y), mo_(mo), d_(d) {}
  constexpr int64_t year() const { return y_; }
  constexpr int month() const { return mo_; }
  constexpr int day() const { return d_; }
  friend constexpr bool operator==(const CivilDay&, const CivilDay&) = default;

 private:
  int64_t y_ = 1970;
  int mo_ = 1, d_ = 1;
};

CivilSecond ToCivilSecond(Time t, TimeZone tz);
CivilDay ToCivilDay(Time t, TimeZone tz);
Time FromCivil(CivilSecond cs, TimeZone tz);

// strftime-like, in UTC; also %E<n>S / %E*S (seconds with n / all needed decimals), %Ez.
std::string FormatTime(std::string_view format, Time t, TimeZone tz);

// For test failure messages (gtest prints values with <<).
std::ostream& operator<<(std::ostream& os, Duration d);
std::ostream& operator<<(std::ostream& os, Time t);

}  // namespace absl
