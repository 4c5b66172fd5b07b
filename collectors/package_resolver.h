#pragma once
// Fills FileEntry::package / package_version from the package databases of each process's
// root filesystem (<proc>/<pid>/root: the host's or the container's). One PackageIndex per root
// filesystem, built once and cached; the cache key is the root's identity (st_dev + st_ino of
// the directory <proc>/<pid>/root points at) plus the mtimes (ns) of dpkg's status file, the
// distroless status.d folder and apk's installed file, so an install/upgrade in that root
// rebuilds its index. Lookups are one hash probe per file (never a database read per file).
// At most `max_roots` indexes are kept (least recently used evicted). Thread-safe.
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/file_entry.h"
#include "collectors/package_db.h"

namespace nodeproc {

class PackageResolver {
 public:
  explicit PackageResolver(std::string proc_root, size_t max_roots = 64);

  // Sets package/package_version of each file owned by a package of `pid`'s root; leaves the
  // others empty. A deleted file gets its owner's name but an empty version (the installed
  // version is not the one still mapped after an upgrade). A vanished PID or unreadable root leaves all empty (logged once per cause).
  void Resolve(int32_t pid, std::vector<FileEntry>* files);

  // The (cached) index of `pid`'s root filesystem; nullptr when the root cannot be opened.
  std::shared_ptr<const PackageIndex> IndexFor(int32_t pid);

  // Number of indexes built so far (cache misses), for tests and self-metrics.
  uint64_t loads() const;
  size_t cached_roots() const;

 private:
  struct Key {
    uint64_t dev = 0, ino = 0;
    int64_t dpkg_mtime_ns = 0, apk_mtime_ns = 0, status_d_mtime_ns = 0;
    bool operator==(const Key&) const = default;
  };
  struct Entry {
    Key key;
    std::shared_ptr<const PackageIndex> index;
  };

  const std::string proc_root_;
  const size_t max_roots_;
  mutable absl::Mutex mu_;
  std::list<Entry> lru_ ABSL_GUARDED_BY(mu_);  // most recently used first
  uint64_t loads_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace nodeproc
