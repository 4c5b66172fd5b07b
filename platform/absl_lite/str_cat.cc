#include "absl/strings/str_cat.h"

#include <cstdio>

namespace absl {
namespace lite_internal {

std::string FormatDouble(double v) {
  char buf[64];
  const int n = std::snprintf(buf, sizeof(buf), "%.6g", v);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::string FormatHex(const Hex& h) {
  char buf[32];
  const int n = std::snprintf(buf, sizeof(buf), "%0*llx", h.width,
                              static_cast<unsigned long long>(h.value));
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace lite_internal
}  // namespace absl
