// The cgroup parser (kube/cgroup_parser.h) on arbitrary /proc/<pid>/cgroup content: no crash,
// and every identity it returns is well formed (lower-case hex container id, a pod uid without
// systemd's underscores, a known runtime, never empty).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kube/cgroup_parser.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void CheckIdentity(const nodeproc::CgroupIdentity& id) {
  Check(!(id.container_id.empty() && id.pod_uid.empty()));
  for (char c : id.container_id) Check((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  Check(id.pod_uid.find('_') == std::string::npos);
  Check(id.pod_uid.find('/') == std::string::npos);
  Check(id.runtime.empty() || id.runtime == "containerd" || id.runtime == "cri-o" ||
        id.runtime == "docker" || id.runtime == "podman");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto id = nodeproc::ParseCgroupFile(text)) CheckIdentity(*id);
  if (auto id = nodeproc::ParseCgroupPath(text)) CheckIdentity(*id);
  // One v2 line "0::<path>" says what the path alone says (for an absolute path: the file
  // parser skips lines whose path does not start with '/', and strips a trailing CR).
  if (!text.empty() && text.front() == '/' && text.back() != '\r' &&
      text.find('\n') == std::string_view::npos) {
    auto path = nodeproc::ParseCgroupPath(text);
    auto file = nodeproc::ParseCgroupFile(std::string("0::").append(text));
    Check(path.has_value() == file.has_value());
    if (path && file) Check(*path == *file);
  }
  return 0;
}
