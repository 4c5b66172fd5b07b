// core/utf8.h: whatever the bytes, the output is clean UTF-8, clean input is untouched, the
// rule is idempotent, and it agrees with an independent decoder written from RFC 3629 (code
// point ranges, not Table 3-7 byte ranges): the replaced output decodes to the same code
// points as the input's well-formed sequences, in order.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/utf8.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// Decodes one sequence at s[i] by code point arithmetic; returns its length or 0.
size_t Decode(std::string_view s, size_t i, uint32_t* cp) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  uint32_t v = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b(k) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < kMin[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

// Code points of the valid sequences of s (NUL and invalid subsequences skipped), plus a
// count of U+FFFD in the output.
std::vector<uint32_t> ValidPoints(std::string_view s, bool skip_fffd) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t len = Decode(s, i, &cp);
    if (len == 0) {
      ++i;
      continue;
    }
    if (cp != 0 && !(skip_fffd && cp == 0xFFFD)) out.push_back(cp);
    i += len;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string out = nodeproc::ToValidUtf8(in);
  Check(nodeproc::IsCleanUtf8(out));
  Check(nodeproc::ToValidUtf8(out) == out);
  Check(nodeproc::IsCleanUtf8(in) == (out == in));
  // Every byte of output is either copied valid text or U+FFFD: decoding the output fully
  // (no invalid sequence) gives the input's valid code points with U+FFFD interspersed.
  for (size_t i = 0; i < out.size();) {
    uint32_t cp = 0;
    const size_t len = Decode(out, i, &cp);
    Check(len != 0 && cp != 0);
    i += len;
  }
  Check(ValidPoints(in, true) == ValidPoints(out, true));
  return 0;
}
