#include "core/log.h"

#include "gtest/gtest.h"

namespace nodeproc {
namespace {

TEST(LogTest, FormatsOneLogfmtLineWithQuotedValues) {
  std::string line = FormatLogLine(LogLevel::kWarning, "snapshot failed",
                                   {{"path", "/a b"}, {"rows", 12}, {"err", "x=\"y\"\nz"}});
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "exactly one line";
  EXPECT_NE(line.find(" level=warning msg=\"snapshot failed\" path=\"/a b\" rows=12 "
                      "err=\"x=\\\"y\\\"\\nz\""),
            std::string::npos)
      << line;
  EXPECT_EQ(line.rfind("ts=", 0), 0u);
}

TEST(LogTest, ValuesAreValidUtf8) {
  std::string line = FormatLogLine(LogLevel::kInfo, "bad\xff", {{"name", "x\xc0\x80y"}});
  EXPECT_NE(line.find("msg=bad\xef\xbf\xbd name=x\xef\xbf\xbd\xef\xbf\xbdy"), std::string::npos) << line;
}

TEST(LogTest, ParsesLevels) {
  LogLevel level;
  ASSERT_TRUE(ParseLogLevel("warn", &level));
  EXPECT_EQ(level, LogLevel::kWarning);
  ASSERT_TRUE(ParseLogLevel("debug", &level));
  EXPECT_EQ(level, LogLevel::kDebug);
  EXPECT_FALSE(ParseLogLevel("loud", &level));
}

}  // namespace
}  // namespace nodeproc
