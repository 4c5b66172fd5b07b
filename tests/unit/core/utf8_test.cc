#include "core/utf8.h"

#include <stdio.h>
#include <stdlib.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

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
      if (IsCleanUtf8(in)) {
        ASSERT_EQ(out, in);
      }
    }
  }
}

// The documented rule is Python's bytes.decode("utf-8", "replace") (plus NUL): compared on
// 3000 pseudo-random byte strings biased towards UTF-8 lead and continuation bytes.
TEST(Utf8Test, AgreesWithPythonsReplaceDecoder) {
  if (system("python3 -c 'pass' >/dev/null 2>&1") != 0) GTEST_SKIP() << "python3 not available";
  uint64_t x = 0x9E3779B97F4A7C15ull;
  auto next = [&x] {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return x;
  };
  static constexpr unsigned char kBytes[] = {'a', 0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
                                             0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee,
                                             0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xfe, 0xff};
  std::vector<std::string> inputs;
  for (int i = 0; i < 3000; ++i) {
    std::string s;
    const size_t len = next() % 9;
    for (size_t k = 0; k < len; ++k) s.push_back(static_cast<char>(kBytes[next() % sizeof(kBytes)]));
    inputs.push_back(s);
  }
  testing::TempDir dir;
  const std::string path = dir.path() + "/in.hex";
  {
    std::ofstream f(path);
    for (const std::string& s : inputs) f << absl::BytesToHexString(s) << "X\n";
  }
  const std::string cmd =
      "python3 -c 'import sys\n"
      "for line in open(sys.argv[1]):\n"
      "  b = bytes.fromhex(line.strip()[:-1])\n"
      "  print(b.decode(\"utf-8\", \"replace\").replace(\"\\0\", \"\\ufffd\").encode().hex() + \"X\")' " + path;
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string result;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) result.append(buf, n);
  ASSERT_EQ(pclose(p), 0) << result.substr(0, 500);
  std::vector<std::string> lines = absl::StrSplit(result, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string want = absl::HexStringToBytes(lines[i].substr(0, lines[i].size() - 1));
    ASSERT_EQ(ToValidUtf8(inputs[i]), want) << absl::BytesToHexString(inputs[i]);
  }
}

}  // namespace
}  // namespace nodeproc
