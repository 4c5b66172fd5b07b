#include "core/utf8.h"

namespace nodeproc {
namespace {

inline unsigned char Byte(std::string_view s, size_t i) { return static_cast<unsigned char>(s[i]); }

// Scans ASCII without NUL quickly; returns the index of the first other byte.
size_t SkipPlainAscii(std::string_view s, size_t i) {
  while (i < s.size()) {
    const unsigned char c = Byte(s, i);
    if (c >= 0x80 || c == 0) break;
    ++i;
  }
  return i;
}

}  // namespace

size_t Utf8SequenceLength(std::string_view s, size_t i, size_t* bad) {
  const unsigned char c = Byte(s, i);
  if (c < 0x80) return 1;
  // Table 3-7 of the Unicode standard: the lead byte fixes the length and the range of the
  // second byte; later bytes are 80..BF.
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c == 0xE0) {
    len = 3, lo = 0xA0;  // no overlongs
  } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    len = 3;
  } else if (c == 0xED) {
    len = 3, hi = 0x9F;  // no surrogates
  } else if (c == 0xF0) {
    len = 4, lo = 0x90;  // no overlongs
  } else if (c >= 0xF1 && c <= 0xF3) {
    len = 4;
  } else if (c == 0xF4) {
    len = 4, hi = 0x8F;  // nothing past U+10FFFF
  } else {
    if (bad != nullptr) *bad = 1;  // 80..C1, F5..FF never start a sequence
    return 0;
  }
  for (size_t k = 1; k < len; ++k) {
    if (i + k >= s.size()) {
      if (bad != nullptr) *bad = k;  // truncated: the bytes so far are one maximal subpart
      return 0;
    }
    const unsigned char b = Byte(s, i + k);
    if (b < lo || b > hi) {
      if (bad != nullptr) *bad = k;
      return 0;
    }
    lo = 0x80, hi = 0xBF;
  }
  return len;
}

bool IsCleanUtf8(std::string_view s) {
  for (size_t i = 0; (i = SkipPlainAscii(s, i)) < s.size();) {
    if (Byte(s, i) == 0) return false;
    const size_t len = Utf8SequenceLength(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

void AppendValidUtf8(std::string_view s, std::string* out) {
  size_t done = 0;  // s[0, done) is already appended
  for (size_t i = 0; (i = SkipPlainAscii(s, i)) < s.size();) {
    size_t bad = 1;
    const size_t len = Byte(s, i) == 0 ? 0 : Utf8SequenceLength(s, i, &bad);
    if (len != 0) {
      i += len;
      continue;
    }
    out->append(s.substr(done, i - done));
    out->append(kReplacementCharacter);
    i += bad;
    done = i;
  }
  out->append(s.substr(done));
}

std::string ToValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  AppendValidUtf8(s, &out);
  return out;
}

bool MakeValidUtf8(std::string* s) {
  if (IsCleanUtf8(*s)) return false;
  *s = ToValidUtf8(*s);
  return true;
}

}  // namespace nodeproc
