// The kubelet /stats/summary parser (kube/summary_parser.h) on arbitrary bytes: malformed
// input is a Status, never a crash, a hang, or a stack overflow (deeply nested JSON from a
// broken or hostile kubelet), and what it returns is bounded by the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kube/summary_parser.h"

namespace {
void Check(bool ok) {
  if (!ok) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto summary = nodeproc::ParseSummary(text);
  if (summary.ok()) {
    // Every pod, container, interface and volume comes from at least "{}" in the input.
    size_t objects = summary->pods.size() + summary->node.system_containers.size() +
                     summary->node.interfaces.size();
    for (const auto& p : summary->pods) {
      objects += p.containers.size() + p.interfaces.size() + p.volumes.size();
    }
    Check(objects * 2 <= size);
  }
  return 0;
}
