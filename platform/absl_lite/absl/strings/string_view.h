#pragma once
// absl_lite (Windows build only): absl::string_view is std::string_view.
#include <string_view>

namespace absl {
using std::string_view;
}  // namespace absl
