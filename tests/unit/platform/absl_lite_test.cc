// platform/absl_lite (Windows build only): the behaviours the shared code relies on, with
// the values real Abseil gives.
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace {

TEST(AbslLiteTest, StatusAndStatusOr) {
  EXPECT_TRUE(absl::OkStatus().ok());
  const absl::Status s = absl::InvalidArgumentError("bad flag");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "bad flag");
  EXPECT_EQ(s.ToString(), "INVALID_ARGUMENT: bad flag");
  EXPECT_EQ(absl::OkStatus().ToString(), "OK");
  absl::StatusOr<std::string> v = std::string("x");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, "x");
  EXPECT_EQ(v->size(), 1u);
  absl::StatusOr<int> e = absl::NotFoundError("gone");
  EXPECT_FALSE(e.ok());
  EXPECT_TRUE(absl::IsNotFound(e.status()));
  absl::StatusOr<int> from_ok = absl::OkStatus();  // a bug in the caller: becomes an error
  EXPECT_FALSE(from_ok.ok());
}

TEST(AbslLiteTest, StrCatAndHex) {
  EXPECT_EQ(absl::StrCat("a", 1, "b", -2, std::string("c"), std::string_view("d"), 18446744073709551615ull),
            "a1b-2cd18446744073709551615");
  EXPECT_EQ(absl::StrCat(0.1, " ", 2.5, " ", 1e6, " ", 123456.0, " ", 1.0 / 3), "0.1 2.5 1e+06 123456 0.333333");
  EXPECT_EQ(absl::StrCat(absl::Hex(255), absl::Hex(10, absl::kZeroPad2), absl::Hex(0, absl::kZeroPad4)), "ff0a0000");
  std::string out = "x=";
  absl::StrAppend(&out, 7, ",", true);
  EXPECT_EQ(out, "x=7,1");
}

TEST(AbslLiteTest, StrSplit) {
  std::vector<std::string> all = absl::StrSplit("a,,b,", ',');
  EXPECT_EQ(all, (std::vector<std::string>{"a", "", "b", ""}));
  std::vector<std::string_view> some = absl::StrSplit("a\n\nb\n", '\n', absl::SkipEmpty());
  EXPECT_EQ(some, (std::vector<std::string_view>{"a", "b"}));
  std::vector<std::string> by_string = absl::StrSplit("k=>v=>w", "=>");
  EXPECT_EQ(by_string, (std::vector<std::string>{"k", "v", "w"}));
  std::vector<std::string> none = absl::StrSplit("", ',');
  EXPECT_EQ(none, (std::vector<std::string>{""}));
}

TEST(AbslLiteTest, DurationsAreConstexprAndExact) {
  static constexpr absl::Duration k = absl::Minutes(2);
  EXPECT_EQ(absl::ToDoubleSeconds(k), 120.0);
  EXPECT_EQ(absl::Seconds(1.5), absl::Milliseconds(1500));
  EXPECT_EQ(absl::Hours(1) - absl::Minutes(59), absl::Seconds(60));
  EXPECT_EQ(absl::Seconds(10) / 4, absl::Milliseconds(2500));
  EXPECT_EQ(absl::Seconds(10) / absl::Seconds(3), 3);
  EXPECT_GT(absl::InfiniteDuration(), absl::Hours(1000000));
  EXPECT_EQ(absl::InfiniteDuration() + absl::Hours(1), absl::InfiniteDuration());  // saturates
  EXPECT_LT(-absl::Seconds(1), absl::ZeroDuration());
}

TEST(AbslLiteTest, TimesCivilAndFormat) {
  const absl::Time t = absl::FromUnixMillis(1795000000123);
  const absl::TimeZone utc = absl::UTCTimeZone();
  EXPECT_EQ(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, utc), "2026-11-18T11:06:40.123Z");
  EXPECT_EQ(absl::FormatTime("%b%d %H:%M:%S", t, utc), "Nov18 11:06:40");
  EXPECT_EQ(absl::FormatTime("%Y%m%dT%H%M%SZ", t, utc), "20261118T110640Z");
  const absl::CivilSecond cs = absl::ToCivilSecond(t, utc);
  EXPECT_EQ(cs.year(), 2026);
  EXPECT_EQ(cs.month(), 11);
  EXPECT_EQ(cs.day(), 18);
  EXPECT_EQ(cs.hour(), 11);
  EXPECT_EQ(cs.minute(), 6);
  EXPECT_EQ(cs.second(), 40);
  // Before the epoch rounds down, like Abseil.
  const absl::CivilSecond before = absl::ToCivilSecond(absl::FromUnixMillis(-1), utc);
  EXPECT_EQ(before, absl::CivilSecond(1969, 12, 31, 23, 59, 59));
  EXPECT_EQ(absl::ToUnixSeconds(absl::FromUnixMillis(-1)), -1);
  // Leap day and a round trip through civil time.
  const absl::Time leap = absl::FromCivil(absl::CivilSecond(2024, 2, 29, 12, 0, 0), utc);
  EXPECT_EQ(absl::ToUnixSeconds(leap), 1709208000);
  EXPECT_EQ(absl::ToCivilDay(leap, utc), absl::CivilDay(2024, 2, 29));
  EXPECT_EQ(t - absl::Seconds(1) + absl::Seconds(1), t);
  EXPECT_EQ(absl::ToDoubleSeconds(t - absl::UnixEpoch()), 1795000000.123);
  // The clock is in this century.
  EXPECT_GT(absl::Now(), absl::FromUnixSeconds(1577836800));
}

TEST(AbslLiteTest, FlatHashMap) {
  absl::flat_hash_map<std::string_view, int> m;
  m["a"] = 1;
  ++m["a"];
  EXPECT_EQ(m.at("a"), 2);
  EXPECT_EQ(m.count("b"), 0u);
}

}  // namespace
