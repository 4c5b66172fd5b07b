#pragma once
// The one rule for text that leaves the agent (metric label values, CSV fields, JSON strings,
// the table, log values): it is valid UTF-8 (RFC 3629), whatever bytes a workload or the
// kubelet handed us.
//
//  * Each maximal ill-formed subsequence becomes U+FFFD ("substitution of maximal subparts",
//    Unicode 15 section 3.9 / W3C Encoding Standard; the same as Python's
//    bytes.decode("utf-8", "replace")). So overlong forms (C0 80), UTF-16 surrogates
//    (ED A0 80), code points past U+10FFFF (F4 90 80 80) and stray continuation bytes give one
//    U+FFFD per byte, a truncated sequence (E2 82 at the end) gives one U+FFFD.
//  * NUL (U+0000) also becomes U+FFFD: it is valid UTF-8 but never meaningful in a name and
//    truncates any C string consumer. Other control characters are kept (they are valid
//    UTF-8; each format escapes or quotes them; the terminal table masks them itself).
//  * Valid text is returned unchanged (byte for byte), so sanitising is idempotent.
#include <cstddef>
#include <string>
#include <string_view>

namespace nodeproc {

inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

// Length (1-4) of the well-formed UTF-8 sequence at s[i], or 0 when an ill-formed subsequence
// starts there; then *bad (when given) is the length of its maximal subpart (>= 1).
size_t Utf8SequenceLength(std::string_view s, size_t i, size_t* bad = nullptr);

// True when ToValidUtf8(s) == s: valid UTF-8 without NUL.
bool IsCleanUtf8(std::string_view s);

// Appends s to *out with the rule above.
void AppendValidUtf8(std::string_view s, std::string* out);
std::string ToValidUtf8(std::string_view s);

// Rewrites *s in place when needed; returns whether it changed.
bool MakeValidUtf8(std::string* s);

}  // namespace nodeproc
