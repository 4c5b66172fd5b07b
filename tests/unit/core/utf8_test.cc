#include "core/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace nodeproc {
namespace {

const std::string R(kReplacementCharacter);

struct Case {
  const char* what;
  std::string in;
  std::string want;  // as Python's bytes.decode("utf-8", "replace") gives it (NUL aside)
};

TEST(Utf8Test, ReplacesMaximalSubparts) {
  const Case cases[] = {
      {"ascii", "plain name", "plain name"},
      {"empty", "", ""},
      {"valid 2/3/4 bytes", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"},
      {"issue example", "bad\xFF\xFE", "bad" + R + R},
      {"lone continuation", "a\x80z", "a" + R + "z"},
      {"overlong 2-byte NUL", "\xC0\x80", R + R},
      {"overlong 2-byte slash", "\xC1\xAF", R + R},
      {"overlong 3-byte", "\xE0\x80\xAF", R + R + R},
      {"overlong 4-byte", "\xF0\x80\x80\xAF", R + R + R + R},
      {"surrogate high", "\xED\xA0\x80", R + R + R},
      {"surrogate low", "x\xED\xBF\xBFy", "x" + R + R + R + "y"},
      {"last before surrogates ok", "\xED\x9F\xBF", "\xED\x9F\xBF"},
      {"max code point ok", "\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF"},
      {"past U+10FFFF", "\xF4\x90\x80\x80", R + R + R + R},
      {"F5 lead", "\xF5\x80\x80\x80", R + R + R + R},
      {"truncated 3-byte at end", "ok\xE2\x82", "ok" + R},
      {"truncated 4-byte at end", "\xF0\x9F\x98", R},
      {"truncated 3-byte mid", "\xE2\x82" "A", R + "A"},
      {"truncated then valid", "\xE2\xC3\xA9", R + "\xC3\xA9"},
      {"lead only", "\xC3", R},
      {"FE FF", "\xFE\xFF", R + R},
      {"NUL", std::string("a\0b", 3), "a" + R + "b"},
      {"controls kept", "a\tb\nc\x1b[31m", "a\tb\nc\x1b[31m"},
      {"literal U+FFFD kept", "x\xEF\xBF\xBDy", "x\xEF\xBF\xBDy"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ToValidUtf8(c.in), c.want) << c.what;
    EXPECT_EQ(IsCleanUtf8(c.in), c.in == c.want) << c.what;
    EXPECT_TRUE(IsCleanUtf8(ToValidUtf8(c.in))) << c.what;
    EXPECT_EQ(ToValidUtf8(ToValidUtf8(c.in)), ToValidUtf8(c.in)) << c.what << " (idempotent)";
    std::string s = c.in;
    EXPECT_EQ(MakeValidUtf8(&s), c.in != c.want) << c.what;
    EXPECT_EQ(s, c.want) << c.what;
  }
}

TEST(Utf8Test, SequenceLengthReportsBadSubpart) {
  size_t bad = 0;
  EXPECT_EQ(Utf8SequenceLength("\xE2\x82\xAC", 0, &bad), 3u);
  EXPECT_EQ(Utf8SequenceLength("\xE2\x82", 0, &bad), 0u);
  EXPECT_EQ(bad, 2u);
  EXPECT_EQ(Utf8SequenceLength("\xF4\x90", 0, &bad), 0u);
  EXPECT_EQ(bad, 1u);
}

TEST(Utf8Test, EveryByteStringOfLengthTwoBecomesClean) {
  // Exhaustive over two bytes: the output is always clean and valid input is untouched.
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const std::string in{static_cast<char>(a), static_cast<char>(b)};
      const std::string out = ToValidUtf8(in);
      ASSERT_TRUE(IsCleanUtf8(out)) << a << "," << b;
      if (IsCleanUtf8(in)) ASSERT_EQ(out, in);
    }
  }
}

}  // namespace
}  // namespace nodeproc
