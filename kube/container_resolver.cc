#include "kube/container_resolver.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "core/read_file.h"
#include "kube/cgroup_parser.h"

namespace nodeproc {
namespace {

// /proc/<pid>/cgroup is small (one line per hierarchy); bound it anyway.
constexpr size_t kMaxCgroupFileBytes = 64 * 1024;

}  // namespace

ContainerResolver::ContainerResolver(std::string proc_root) : proc_root_(std::move(proc_root)) {}

ContainerRef ContainerResolver::Resolve(int32_t pid, uint64_t start_ticks) {
  absl::MutexLock lock(&mu_);
  auto it = cache_.find(pid);
  int reads = 0;
  if (it != cache_.end() && it->second.start_ticks == start_ticks) {
    // Final: a container id, or a host/pod-only answer confirmed often enough.
    const ContainerRef* cached = it->second.ref.get();
    if ((cached != nullptr && !cached->container_id.empty()) || it->second.reads >= kHostConfirmations) {
      return cached != nullptr ? *cached : ContainerRef{};
    }
    reads = it->second.reads;
  }

  std::string path = absl::StrCat(proc_root_, "/", pid, "/cgroup");
  // Truncated rather than failed when oversized: the lines that matter come first.
  if (const int error = ReadFileAt(AT_FDCWD, path.c_str(), kMaxCgroupFileBytes,
                                   OverLimit::kTruncate, &buffer_);
      error != 0) {
    if (error != ENOENT && error != ESRCH) {
      LogOnce(LogLevel::kWarning, absl::StrCat("cgroup:", error), "cannot read /proc/<pid>/cgroup",
              {{"path", path}, {"errno", error}});
    }
    if (it != cache_.end()) cache_.erase(it);
    return ContainerRef{};
  }
  ContainerRef ref;
  if (std::optional<CgroupIdentity> id = ParseCgroupFile(buffer_)) {
    ref.container_id = std::move(id->container_id);
    ref.pod_uid = std::move(id->pod_uid);
  }
  cache_[pid] = Entry{start_ticks, ref.empty() ? nullptr : std::make_unique<const ContainerRef>(ref),
                      reads + 1};
  return ref;
}

void ContainerResolver::Retain(const absl::flat_hash_set<int32_t>& live_pids) {
  absl::MutexLock lock(&mu_);
  absl::erase_if(cache_, [&](const auto& kv) { return !live_pids.contains(kv.first); });
}

size_t ContainerResolver::cached_for_test() const {
  absl::MutexLock lock(&mu_);
  return cache_.size();
}

}  // namespace nodeproc
