#pragma once
// Package databases of one root filesystem (the host's or a container's), indexed as
// path -> (package name, version):
//   dpkg: <root>/var/lib/dpkg/status (installed packages: name, arch, version) and
//         <root>/var/lib/dpkg/info/<name>[:<arch>].list (the files of each package).
//   distroless (dpkg without dpkg): <root>/var/lib/dpkg/status.d/<pkg> (control fields, no
//         Status: every package there is installed) + status.d/<pkg>.md5sums ("<md5>  <path>"
//         with paths relative to the root) as the file list.
//   apk:  <root>/lib/apk/db/installed (or <root>/usr/lib/apk/db/installed) (P: name, V: version, F: folder, R: file in the folder).
//   rpm:  NOT supported (its database is BerkeleyDB/SQLite/ndb; reading it would need librpm).
//   Not handled either: dpkg diversions (a diverted file is attributed to the package whose
//   .list names the path first), files installed outside any package manager (pip, npm, ...).
// Lookups handle the /usr merge: /lib/x -> /usr/lib/x and back (also bin, sbin, lib32, lib64,
// libx32), since a mapping shows /usr/lib/... while the .list files may say /lib/...
// Memory: the index keys are 64-bit FNV-1a hashes of the paths (no path strings are kept),
// values are 32-bit package indexes: about 16 bytes per packaged path. A hash collision could
// attribute a file to a wrong package (odds ~n^2/2^65, ~1e-10 for 100k paths).
// Database files are read through an fd of the root with openat2(RESOLVE_IN_ROOT), so an
// absolute symlink inside a container resolves inside that container; only regular files are
// read, and each is capped (kMaxDbFileBytes).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace nodeproc {

struct PackageInfo {
  std::string name;     // without an ":arch" qualifier
  std::string version;
  bool operator==(const PackageInfo&) const = default;
};

// One stanza of dpkg's status file.
struct DpkgStatusEntry {
  std::string name;
  std::string arch;     // "amd64", "all", or empty
  std::string version;
  bool installed = false;  // Status: "... installed"
  bool has_status = false;  // a Status: field was present (distroless status.d has none)
};
// Pure parser of var/lib/dpkg/status (RFC 822-like stanzas, continuation lines ignored).
std::vector<DpkgStatusEntry> ParseDpkgStatus(std::string_view text);

// One package of apk's installed database.
struct ApkPackage {
  std::string name;
  std::string version;
  std::vector<std::string> files;  // "/" + F + "/" + R, in file order
};
// Pure parser of lib/apk/db/installed (stanzas separated by blank lines; P: name, V: version,
// F: folder for the following R: file lines; other keys ignored).
std::vector<ApkPackage> ParseApkInstalled(std::string_view text);

inline constexpr size_t kMaxDbFileBytes = 64u << 20;

class PackageIndex {
 public:
  enum class Source : uint8_t { kNone = 0, kDpkg = 1, kApk = 2, kDpkgStatusD = 4 };

  // Indexes the databases found under `root` (a directory path, e.g. "/proc/42/root" or a
  // fixture tree). Missing databases yield an empty index (not an error); an unreadable root
  // is an error.
  static absl::StatusOr<PackageIndex> Load(const std::string& root);
  // Same, from an open directory fd of the root (not closed).
  static PackageIndex LoadFromFd(int root_fd);

  // Owner of `path` (absolute, as seen inside the root), or nullptr.
  const PackageInfo* Find(std::string_view path) const;

  size_t packages() const { return packages_.size(); }
  size_t paths() const { return by_path_.size(); }
  uint8_t sources() const { return sources_; }  // bit set of Source

  // Builders (used by Load and tests).
  uint32_t AddPackage(PackageInfo info);
  void AddPath(std::string_view path, uint32_t package);

 private:
  const PackageInfo* FindExact(uint64_t hash) const;

  std::vector<PackageInfo> packages_;
  absl::flat_hash_map<uint64_t, uint32_t> by_path_;
  uint8_t sources_ = 0;
};

}  // namespace nodeproc
