// The kubelet /pods parser (kube/pods_parser.h) on arbitrary bytes: malformed input is a
// Status, never a crash or a stack overflow; container ids split back to what was given.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kube/pods_parser.h"

namespace {
void Check(bool ok) {
  if (!ok) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto pods = nodeproc::ParsePods(text);
  if (pods.ok()) {
    size_t containers = 0;
    for (const auto& p : *pods) containers += p.containers.size();
    Check((pods->size() + containers) * 2 <= size);
  }
  auto [runtime, id] = nodeproc::SplitContainerId(text);
  if (text.find("://") != std::string_view::npos) {
    Check(runtime + "://" + id == text);
  } else {
    Check(runtime.empty() && id == text);
  }
  return 0;
}
