#include "collectors/package_resolver.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "collectors/root_fs.h"
#include "core/log.h"

namespace nodeproc {
namespace {

int64_t MtimeNs(int root_fd, std::string_view path) {
  struct stat st;
  if (StatInRoot(root_fd, path, &st) != 0) return -1;  // absent
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

}  // namespace

PackageResolver::PackageResolver(std::string proc_root, size_t max_roots)
    : proc_root_(std::move(proc_root)), max_roots_(max_roots == 0 ? 1 : max_roots) {}

std::shared_ptr<const PackageIndex> PackageResolver::IndexFor(int32_t pid) {
  const std::string root = absl::StrCat(proc_root_, "/", pid, "/root");
  const int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err != ENOENT && err != ESRCH) {
      LogOnce(LogLevel::kWarning, absl::StrCat("package_resolver:root:", err),
              "cannot open process root filesystem", {{"pid", pid}, {"error", std::strerror(err)}});
    }
    return nullptr;
  }
  Key key;
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return nullptr;
  }
  key.dev = st.st_dev;
  key.ino = st.st_ino;
  key.dpkg_mtime_ns = MtimeNs(fd, "/var/lib/dpkg/status");
  key.apk_mtime_ns = MtimeNs(fd, "/lib/apk/db/installed");
  if (key.apk_mtime_ns < 0) key.apk_mtime_ns = MtimeNs(fd, "/usr/lib/apk/db/installed");
  key.status_d_mtime_ns = MtimeNs(fd, "/var/lib/dpkg/status.d");
  {
    absl::MutexLock lock(&mu_);
    for (auto it = lru_.begin(); it != lru_.end(); ++it) {
      if (it->key == key) {
        lru_.splice(lru_.begin(), lru_, it);
        ::close(fd);
        return lru_.front().index;
      }
    }
  }
  // Build outside the lock (it reads many files); two threads may build the same root once
  // each, the second insert then replaces nothing (we check again).
  auto index = std::make_shared<const PackageIndex>(PackageIndex::LoadFromFd(fd));
  ::close(fd);
  absl::MutexLock lock(&mu_);
  ++loads_;
  for (auto it = lru_.begin(); it != lru_.end(); ++it) {
    if (it->key == key) return it->index;
  }
  // Drop stale versions of the same root (same dev/ino, older database).
  lru_.remove_if([&](const Entry& e) { return e.key.dev == key.dev && e.key.ino == key.ino; });
  lru_.push_front(Entry{key, index});
  while (lru_.size() > max_roots_) lru_.pop_back();
  return index;
}

void PackageResolver::Resolve(int32_t pid, std::vector<FileEntry>* files) {
  if (files->empty()) return;
  std::shared_ptr<const PackageIndex> index = IndexFor(pid);
  if (index == nullptr) return;
  for (FileEntry& f : *files) {
    if (const PackageInfo* p = index->Find(f.path)) {
      f.package = p->name;
      // A deleted path (e.g. a library replaced by an upgrade but still mapped) is not the
      // installed version: keep the owner, leave its version unknown.
      if (f.deleted) {
        f.package_version.clear();
      } else {
        f.package_version = p->version;
      }
    } else {
      f.package.clear();
      f.package_version.clear();
    }
  }
}

uint64_t PackageResolver::loads() const {
  absl::MutexLock lock(&mu_);
  return loads_;
}

size_t PackageResolver::cached_roots() const {
  absl::MutexLock lock(&mu_);
  return lru_.size();
}

}  // namespace nodeproc
