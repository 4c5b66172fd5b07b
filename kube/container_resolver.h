#pragma once
// PID -> container: reads <proc_root>/<pid>/cgroup once per process identity (pid + start
// time, so a recycled pid is read again) and remembers the answer. Thread-safe.
// Only a complete answer (a container id) is final at once. A "host" or a pod-only answer is
// remembered once it has been read kHostConfirmations times: a new container process is briefly
// in its parent's cgroup until the runtime moves it (the host's for containerd's shim, the pod's
// crio-conmon-<id> for CRI-O's conmon), and caching that first look would leave the container
// of the container's main process unknown for its whole life.
#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "core/container_ref.h"

namespace nodeproc {

class ContainerResolver {
 public:
  static constexpr int kHostConfirmations = 3;

  explicit ContainerResolver(std::string proc_root);

  // container_id and pod_uid filled from the cgroup file; an empty ref for host processes and
  // for processes whose cgroup file cannot be read (gone, or no permission: not remembered).
  ContainerRef Resolve(int32_t pid, uint64_t start_ticks);

  // Forgets every pid not in live_pids (call after a full scan).
  void Retain(const absl::flat_hash_set<int32_t>& live_pids);

  size_t cached_for_test() const;

 private:
  struct Entry {
    uint64_t start_ticks = 0;
    // Null for a host process (no container id, no pod uid): ~200 bytes less per PID.
    std::unique_ptr<const ContainerRef> ref;
    int reads = 0;  // times the file was read for this identity (partial answers are re-read)
  };

  const std::string proc_root_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<int32_t, Entry> cache_ ABSL_GUARDED_BY(mu_);
  std::string buffer_ ABSL_GUARDED_BY(mu_);  // reused read buffer
};

}  // namespace nodeproc
