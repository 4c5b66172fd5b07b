#include "collectors/package_db.h"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "core/file_entry.h"
#include "collectors/root_fs.h"
#include "core/absl_compat.h"
#include "core/log.h"

namespace nodeproc {
namespace {

// Calls f(line) for each line of `text` (without "\n" / "\r").
template <typename F>
void ForEachLine(std::string_view text, F f) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f(line);
    pos = eol + 1;
  }
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The /usr-merged directories: a path under one of them also exists as /usr/<dir>/...
constexpr std::string_view kMergedDirs[] = {"bin/", "sbin/", "lib/", "lib32/", "lib64/", "libx32/"};

bool UnderMergedDir(std::string_view rest) {
  for (std::string_view d : kMergedDirs) {
    if (rest.substr(0, d.size()) == d) return true;
  }
  return false;
}

void LogDbError(std::string_view db, int err) {
  if (err == ENOENT || err == ENOTDIR) return;  // no such database: normal
  LogOnce(LogLevel::kWarning, absl::StrCat("package_db:", ToAbsl(db), ":", err),
          "cannot read package database", {{"db", db}, {"error", std::strerror(err)}});
}

void LoadDpkg(int root_fd, PackageIndex* index, uint8_t* sources) {
  std::string buf;
  if (ReadFileInRoot(root_fd, "/var/lib/dpkg/status", kMaxDbFileBytes, &buf) != 0) {
    LogDbError("dpkg-status", errno);
    return;
  }
  // "name:arch" and "name" -> package index, installed packages only.
  absl::flat_hash_map<std::string, uint32_t> by_name;
  for (DpkgStatusEntry& e : ParseDpkgStatus(buf)) {
    if (!e.installed) continue;
    const uint32_t idx = index->AddPackage(PackageInfo{e.name, e.version});
    if (!e.arch.empty()) by_name.emplace(absl::StrCat(e.name, ":", e.arch), idx);
    by_name.emplace(e.name, idx);
  }
  *sources |= static_cast<uint8_t>(PackageIndex::Source::kDpkg);

  const int info_fd = OpenInRoot(root_fd, "/var/lib/dpkg/info", O_RDONLY | O_DIRECTORY);
  if (info_fd < 0) {
    LogDbError("dpkg-info", errno);
    return;
  }
  DIR* dir = ::fdopendir(info_fd);
  if (dir == nullptr) {
    ::close(info_fd);
    return;
  }
  size_t total = 0;
  while (struct dirent* de = ::readdir(dir)) {
    std::string_view name(de->d_name);
    if (name.size() <= 5 || name.substr(name.size() - 5) != ".list") continue;
    name.remove_suffix(5);
    auto it = by_name.find(ToAbsl(name));
    if (it == by_name.end()) {
      const size_t colon = name.find(':');
      if (colon != std::string_view::npos) it = by_name.find(ToAbsl(name.substr(0, colon)));
    }
    if (it == by_name.end()) continue;  // not installed (e.g. config-files only)
    const uint32_t idx = it->second;
    if (ReadFileInRoot(info_fd, de->d_name, kMaxDbFileBytes, &buf) != 0) {
      LogDbError("dpkg-list", errno);
      continue;
    }
    total += buf.size();
    if (total > 4 * kMaxDbFileBytes) {
      LogOnce(LogLevel::kWarning, "package_db:dpkg-too-large", "dpkg file lists too large; index truncated");
      break;
    }
    ForEachLine(buf, [&](std::string_view line) {
      if (!line.empty() && line.front() == '/') index->AddPath(line, idx);
    });
  }
  ::closedir(dir);
}

// Distroless: status.d/<name> (control stanza) + status.d/<name>.md5sums (file list).
void LoadDpkgStatusD(int root_fd, PackageIndex* index, uint8_t* sources) {
  const int dir_fd = OpenInRoot(root_fd, "/var/lib/dpkg/status.d", O_RDONLY | O_DIRECTORY);
  if (dir_fd < 0) {
    LogDbError("dpkg-status.d", errno);
    return;
  }
  DIR* dir = ::fdopendir(dir_fd);
  if (dir == nullptr) {
    ::close(dir_fd);
    return;
  }
  std::string buf;
  std::string sums_name;
  std::string path;  // "/" + the listed path (reused)
  size_t total = 0;
  while (struct dirent* de = ::readdir(dir)) {
    const std::string_view name(de->d_name);
    if (name.empty() || name.front() == '.') continue;
    if (name.size() > 8 && name.substr(name.size() - 8) == ".md5sums") continue;
    if (ReadFileInRoot(dir_fd, de->d_name, kMaxDbFileBytes, &buf) != 0) {
      LogDbError("dpkg-status.d-entry", errno);
      continue;
    }
    std::vector<uint32_t> added;
    for (DpkgStatusEntry& e : ParseDpkgStatus(buf)) {
      if (e.has_status && !e.installed) continue;
      added.push_back(index->AddPackage(PackageInfo{e.name, e.version}));
    }
    if (added.size() != 1) continue;  // one package per file, or we cannot tell whose files
    sums_name.assign(name);
    sums_name.append(".md5sums");
    if (ReadFileInRoot(dir_fd, sums_name, kMaxDbFileBytes, &buf) != 0) continue;
    total += buf.size();
    if (total > 4 * kMaxDbFileBytes) break;
    ForEachLine(buf, [&](std::string_view line) {
      // "<md5>  <path relative to the root>"
      const size_t sp = line.find("  ");
      if (sp == std::string_view::npos || sp + 2 >= line.size()) return;
      std::string_view rel = line.substr(sp + 2);
      while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
      path.clear();
      path.push_back('/');
      path.append(rel);
      index->AddPath(path, added[0]);
    });
  }
  ::closedir(dir);
  *sources |= static_cast<uint8_t>(PackageIndex::Source::kDpkgStatusD);
}

void LoadApk(int root_fd, PackageIndex* index, uint8_t* sources) {
  std::string buf;
  if (ReadFileInRoot(root_fd, "/lib/apk/db/installed", kMaxDbFileBytes, &buf) != 0) {
    const int err = errno;
    if (err != ENOENT && err != ENOTDIR) {
      LogDbError("apk-installed", err);
      return;
    }
    // usr-merged Alpine keeps it under /usr/lib (when /lib is not a link to it).
    if (ReadFileInRoot(root_fd, "/usr/lib/apk/db/installed", kMaxDbFileBytes, &buf) != 0) {
      LogDbError("apk-installed", errno);
      return;
    }
  }
  for (ApkPackage& p : ParseApkInstalled(buf)) {
    const uint32_t idx = index->AddPackage(PackageInfo{std::move(p.name), std::move(p.version)});
    for (const std::string& f : p.files) index->AddPath(f, idx);
  }
  *sources |= static_cast<uint8_t>(PackageIndex::Source::kApk);
}

}  // namespace

std::vector<DpkgStatusEntry> ParseDpkgStatus(std::string_view text) {
  std::vector<DpkgStatusEntry> out;
  DpkgStatusEntry cur;
  bool any = false;
  auto flush = [&]() {
    if (any && !cur.name.empty()) out.push_back(std::move(cur));
    cur = DpkgStatusEntry{};
    any = false;
  };
  ForEachLine(text, [&](std::string_view line) {
    if (Trim(line).empty()) {
      flush();
      return;
    }
    any = true;
    if (line.front() == ' ' || line.front() == '\t') return;  // continuation
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;
    const std::string_view key = line.substr(0, colon);
    const std::string_view value = Trim(line.substr(colon + 1));
    if (key == "Package") {
      cur.name.assign(value);
    } else if (key == "Version") {
      cur.version.assign(value);
    } else if (key == "Architecture") {
      cur.arch.assign(value);
    } else if (key == "Status") {
      cur.has_status = true;
      // "want flag status": the last word is the package state.
      const size_t sp = value.rfind(' ');
      const std::string_view state = sp == std::string_view::npos ? value : value.substr(sp + 1);
      cur.installed = state == "installed";
    }
  });
  flush();
  return out;
}

std::vector<ApkPackage> ParseApkInstalled(std::string_view text) {
  std::vector<ApkPackage> out;
  ApkPackage cur;
  std::string folder;
  bool any = false;
  auto flush = [&]() {
    if (any && !cur.name.empty()) out.push_back(std::move(cur));
    cur = ApkPackage{};
    folder.clear();
    any = false;
  };
  ForEachLine(text, [&](std::string_view line) {
    if (line.empty()) {
      flush();
      return;
    }
    any = true;
    if (line.size() < 2 || line[1] != ':') return;
    const std::string_view value = line.substr(2);
    switch (line[0]) {
      case 'P': cur.name.assign(value); break;
      case 'V': cur.version.assign(value); break;
      case 'F': folder.assign(value); break;
      case 'R': {
        std::string path = "/";
        if (!folder.empty()) {
          path.append(folder);
          path.push_back('/');
        }
        path.append(value);
        cur.files.push_back(std::move(path));
        break;
      }
      default: break;
    }
  });
  flush();
  return out;
}

uint32_t PackageIndex::AddPackage(PackageInfo info) {
  packages_.push_back(std::move(info));
  return static_cast<uint32_t>(packages_.size() - 1);
}

void PackageIndex::AddPath(std::string_view path, uint32_t package) {
  // First owner wins (dpkg lists shared directories in many packages; files have one owner).
  by_path_.emplace(StablePathHash(path), package);
}

const PackageInfo* PackageIndex::FindExact(uint64_t hash) const {
  auto it = by_path_.find(hash);
  if (it == by_path_.end() || it->second >= packages_.size()) return nullptr;
  return &packages_[it->second];
}

const PackageInfo* PackageIndex::Find(std::string_view path) const {
  if (by_path_.empty() || path.empty() || path.front() != '/') return nullptr;
  if (const PackageInfo* p = FindExact(StablePathHash(path))) return p;
  // /usr merge aliases.
  const std::string_view rest = path.substr(1);
  if (rest.substr(0, 4) == "usr/" && UnderMergedDir(rest.substr(4))) {
    return FindExact(StablePathHash(path.substr(4)));  // "/usr/lib/x" -> "/lib/x"
  }
  if (UnderMergedDir(rest)) {
    return FindExact(StablePathHash(path, StablePathHash("/usr")));  // "/lib/x" -> "/usr/lib/x"
  }
  return nullptr;
}

PackageIndex PackageIndex::LoadFromFd(int root_fd) {
  PackageIndex index;
  uint8_t sources = 0;
  LoadDpkg(root_fd, &index, &sources);
  LoadDpkgStatusD(root_fd, &index, &sources);
  LoadApk(root_fd, &index, &sources);
  index.sources_ = sources;
  index.packages_.shrink_to_fit();
  return index;
}

absl::StatusOr<PackageIndex> PackageIndex::Load(const std::string& root) {
  const int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return absl::Status(err == ENOENT ? absl::StatusCode::kNotFound : absl::StatusCode::kUnavailable,
                        absl::StrCat("cannot open root ", root, ": ", std::strerror(err)));
  }
  PackageIndex index = LoadFromFd(fd);
  ::close(fd);
  return index;
}

}  // namespace nodeproc
