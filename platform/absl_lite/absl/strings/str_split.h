#pragma once
// absl_lite (Windows build only): StrSplit by a character or a string, optionally skipping
// empty pieces. The pieces view the input: it must outlive them (as with Abseil for views).
#include <string>
#include <string_view>
#include <vector>

namespace absl {

struct AllowEmpty {
  bool operator()(std::string_view) const { return true; }
};
struct SkipEmpty {
  bool operator()(std::string_view s) const { return !s.empty(); }
};
struct SkipWhitespace {
  bool operator()(std::string_view s) const {
    return s.find_first_not_of(" \t\r\n\f\v") != std::string_view::npos;
  }
};

class SplitPieces {
 public:
  explicit SplitPieces(std::vector<std::string_view> pieces) : pieces_(std::move(pieces)) {}
  auto begin() const { return pieces_.begin(); }
  auto end() const { return pieces_.end(); }
  template <typename Container>
  operator Container() const {  // NOLINT: vector<string>, vector<string_view>, ...
    return Container(pieces_.begin(), pieces_.end());
  }

 private:
  std::vector<std::string_view> pieces_;
};

template <typename Pred = AllowEmpty>
SplitPieces StrSplit(std::string_view text, std::string_view delim, Pred pred = Pred()) {
  std::vector<std::string_view> out;
  if (delim.empty()) {  // Abseil splits into characters
    for (size_t i = 0; i < text.size(); ++i) {
      if (pred(text.substr(i, 1))) out.push_back(text.substr(i, 1));
    }
    return SplitPieces(std::move(out));
  }
  size_t start = 0;
  for (;;) {
    const size_t at = text.find(delim, start);
    std::string_view piece = text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start);
    if (pred(piece)) out.push_back(piece);
    if (at == std::string_view::npos) break;
    start = at + delim.size();
  }
  return SplitPieces(std::move(out));
}

template <typename Pred = AllowEmpty>
SplitPieces StrSplit(std::string_view text, char delim, Pred pred = Pred()) {
  return StrSplit(text, std::string_view(&delim, 1), pred);
}

template <typename Pred = AllowEmpty>
SplitPieces StrSplit(std::string_view text, const char* delim, Pred pred = Pred()) {
  return StrSplit(text, std::string_view(delim), pred);
}

}  // namespace absl
