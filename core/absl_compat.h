#pragma once
// Debian's Abseil (20220623) is built with ABSL_OPTION_USE_STD_STRING_VIEW=0 and
// ABSL_OPTION_USE_STD_OPTIONAL=0: absl::string_view is NOT std::string_view. Our APIs take
// std::string_view; convert at the boundary when calling Abseil (StrCat, Status, ...).
#include <string_view>

#include "absl/strings/string_view.h"

namespace nodeproc {

inline absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace nodeproc
