#pragma once
// absl_lite (Windows build only): StrCat / StrAppend over strings, integers, floating point
// ("%.6g", as Abseil's SixDigits) and Hex.
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace absl {

enum PadSpec {
  kNoPad = 1,
  kZeroPad2, kZeroPad3, kZeroPad4, kZeroPad5, kZeroPad6, kZeroPad7, kZeroPad8, kZeroPad9,
  kZeroPad10, kZeroPad11, kZeroPad12, kZeroPad13, kZeroPad14, kZeroPad15, kZeroPad16,
};

struct Hex {
  template <typename Int, typename = std::enable_if_t<std::is_integral_v<Int>>>
  explicit Hex(Int v, PadSpec spec = kNoPad)
      : value(static_cast<uint64_t>(static_cast<std::make_unsigned_t<Int>>(v))),
        width(spec == kNoPad ? 1 : static_cast<int>(spec)) {}
  uint64_t value;
  int width;
};

namespace lite_internal {
std::string FormatDouble(double v);
std::string FormatHex(const Hex& h);
}  // namespace lite_internal

class AlphaNum {
 public:
  AlphaNum(std::string_view s) : view_(s) {}  // NOLINT: implicit, like Abseil
  AlphaNum(const char* s) : view_(s == nullptr ? "" : s) {}  // NOLINT
  AlphaNum(const std::string& s) : view_(s) {}  // NOLINT
  template <typename Int, std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, char>, int> = 0>
  AlphaNum(Int v) : owned_(std::to_string(v)), view_(owned_) {}  // NOLINT
  AlphaNum(float v) : owned_(lite_internal::FormatDouble(v)), view_(owned_) {}  // NOLINT
  AlphaNum(double v) : owned_(lite_internal::FormatDouble(v)), view_(owned_) {}  // NOLINT
  AlphaNum(const Hex& h) : owned_(lite_internal::FormatHex(h)), view_(owned_) {}  // NOLINT
  AlphaNum(char) = delete;  // as Abseil: a char is ambiguous (character or number)
  AlphaNum(const AlphaNum&) = delete;
  AlphaNum& operator=(const AlphaNum&) = delete;

  std::string_view Piece() const { return view_; }

 private:
  std::string owned_;
  std::string_view view_;
};

inline std::string StrCat() { return std::string(); }
template <typename... Rest>
std::string StrCat(const AlphaNum& first, const Rest&... rest) {
  std::string out(first.Piece());
  (out.append(AlphaNum(rest).Piece()), ...);
  return out;
}

template <typename... Args>
void StrAppend(std::string* out, const Args&... args) {
  (out->append(AlphaNum(args).Piece()), ...);
}

}  // namespace absl
