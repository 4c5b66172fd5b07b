#include "collectors/open_files.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <tuple>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "core/read_file.h"
#include "collectors/root_fs.h"
#include "core/absl_compat.h"
#include "core/log.h"

namespace nodeproc {
namespace {

constexpr std::string_view kDeletedSuffix = " (deleted)";

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Device nodes and the like: not regular files (but /dev/shm holds regular files).
bool IsDevPath(std::string_view path) {
  return StartsWith(path, "/dev/") && !StartsWith(path, "/dev/shm/");
}

void FillStat(const struct stat& st, FileEntry* e) {
  e->size = static_cast<uint64_t>(st.st_size);
  e->inode = static_cast<uint64_t>(st.st_ino);
  e->mode = static_cast<uint32_t>(st.st_mode);
  e->uid = static_cast<uint32_t>(st.st_uid);
  e->gid = static_cast<uint32_t>(st.st_gid);
  e->mtime = static_cast<int64_t>(st.st_mtim.tv_sec);
}

void LogReadError(std::string_view what, int err, int32_t pid) {
  LogOnce(LogLevel::kWarning, absl::StrCat("open_files:", ToAbsl(what), ":", err),
          "cannot read process files", {{"what", what}, {"pid", pid}, {"error", std::strerror(err)}});
}

bool Gone(int err) { return err == ENOENT || err == ESRCH; }

int Priority(const FileEntry& e) {
  if (e.kind == FileEntry::Kind::kOpen) return 2;
  const size_t slash = e.path.rfind('/');
  const std::string_view base =
      std::string_view(e.path).substr(slash == std::string::npos ? 0 : slash + 1);
  return base.find(".so") != std::string_view::npos ? 0 : 1;
}

bool PathOrder(const FileEntry& a, const FileEntry& b) {
  return std::tie(a.path, a.deleted) < std::tie(b.path, b.deleted);
}

// maps of a process with very many mappings is a few MB; beyond this it is not worth reading.
constexpr size_t kMaxProcFileBytes = 64u << 20;

// Reads a whole /proc file into `out`; 0 or -1 + errno.
int ReadProcFile(const std::string& path, std::string* out) {
  const int err = ReadFileAt(AT_FDCWD, path.c_str(), kMaxProcFileBytes, OverLimit::kFail, out);
  if (err != 0) {
    errno = err;
    return -1;
  }
  return 0;
}

}  // namespace

FdTargetKind ClassifyFdTarget(std::string_view t) {
  if (!t.empty() && t.front() == '/') return FdTargetKind::kPath;
  if (StartsWith(t, "socket:")) return FdTargetKind::kSocket;
  if (StartsWith(t, "pipe:")) return FdTargetKind::kPipe;
  if (StartsWith(t, "anon_inode:")) return FdTargetKind::kAnon;
  return FdTargetKind::kOther;
}

bool StripDeletedSuffix(std::string_view* path) {
  if (path->size() > kDeletedSuffix.size() &&
      path->substr(path->size() - kDeletedSuffix.size()) == kDeletedSuffix) {
    path->remove_suffix(kDeletedSuffix.size());
    return true;
  }
  return false;
}

std::optional<MapsFile> ParseMapsLine(std::string_view line) {
  // address perms offset dev inode [spaces] pathname
  size_t pos = 0;
  std::string_view fields[5];
  for (auto& f : fields) {
    while (pos < line.size() && line[pos] == ' ') ++pos;
    const size_t start = pos;
    while (pos < line.size() && line[pos] != ' ') ++pos;
    if (pos == start) return std::nullopt;
    f = line.substr(start, pos - start);
  }
  while (pos < line.size() && line[pos] == ' ') ++pos;
  std::string_view path = line.substr(pos);
  if (path.empty() || path.front() != '/') return std::nullopt;  // anon, [heap], [stack], ...
  MapsFile out;
  out.deleted = StripDeletedSuffix(&path);
  if (StartsWith(path, "/memfd:") || StartsWith(path, "/SYSV")) return std::nullopt;
  out.path = path;
  const std::string_view ino = fields[4];
  if (std::from_chars(ino.data(), ino.data() + ino.size(), out.inode).ec != std::errc()) {
    return std::nullopt;
  }
  return out;
}

uint32_t SampleFiles(std::vector<FileEntry>* files, size_t max) {
  if (max == 0 || files->size() <= max) {
    std::sort(files->begin(), files->end(), PathOrder);
    return 0;
  }
  struct Ranked {
    int priority;
    uint64_t hash;
    size_t index;
  };
  std::vector<Ranked> ranked;
  ranked.reserve(files->size());
  for (size_t i = 0; i < files->size(); ++i) {
    const FileEntry& e = (*files)[i];
    ranked.push_back({Priority(e), StablePathHash(e.path, e.deleted ? 1 : kFnvOffset), i});
  }
  std::nth_element(ranked.begin(), ranked.begin() + static_cast<ptrdiff_t>(max), ranked.end(),
                   [&](const Ranked& a, const Ranked& b) {
                     if (a.priority != b.priority) return a.priority < b.priority;
                     if (a.hash != b.hash) return a.hash < b.hash;
                     return PathOrder((*files)[a.index], (*files)[b.index]);
                   });
  std::vector<FileEntry> kept;
  kept.reserve(max);
  for (size_t i = 0; i < max; ++i) kept.push_back(std::move((*files)[ranked[i].index]));
  const uint32_t dropped = static_cast<uint32_t>(files->size() - max);
  *files = std::move(kept);
  std::sort(files->begin(), files->end(), PathOrder);
  return dropped;
}

OpenFilesCollector::OpenFilesCollector(std::string proc_root, size_t max_files_per_process)
    : proc_root_(std::move(proc_root)), max_files_(max_files_per_process) {}

absl::StatusOr<ProcessFiles> OpenFilesCollector::Collect(int32_t pid) {
  ProcessFiles out;
  out.pid = pid;
  const std::string pid_dir = absl::StrCat(proc_root_, "/", pid);
  std::vector<FileEntry> files;

  // 1. Open descriptors.
  bool fd_gone = false;
  const int fd_dir_fd = ::open((pid_dir + "/fd").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_dir_fd < 0) {
    const int err = errno;
    fd_gone = Gone(err);
    if (!fd_gone) LogReadError("fd", err, pid);
    out.fds_readable = false;
  } else {
    // fdopendir takes ownership of the dup only on success: close it ourselves otherwise.
    const int dup_fd = ::dup(fd_dir_fd);
    DIR* dir = dup_fd < 0 ? nullptr : ::fdopendir(dup_fd);
    if (dir == nullptr) {
      const int err = errno;
      if (dup_fd >= 0) ::close(dup_fd);
      LogReadError("fd", err, pid);
      out.fds_readable = false;
    } else {
      char target[4096];
      while (struct dirent* de = ::readdir(dir)) {
        if (de->d_name[0] == '.') continue;
        const ssize_t n = ::readlinkat(fd_dir_fd, de->d_name, target, sizeof(target));
        if (n < 0) {
          if (!Gone(errno)) LogReadError("fd-link", errno, pid);
          continue;  // closed meanwhile
        }
        std::string_view t(target, static_cast<size_t>(n));
        switch (ClassifyFdTarget(t)) {
          case FdTargetKind::kSocket: ++out.sockets; continue;
          case FdTargetKind::kPipe: ++out.pipes; continue;
          case FdTargetKind::kAnon: ++out.anon; continue;
          case FdTargetKind::kOther: ++out.other; continue;
          case FdTargetKind::kPath: break;
        }
        FileEntry e;
        e.deleted = StripDeletedSuffix(&t);
        if (IsDevPath(t)) {
          ++out.other;
          continue;
        }
        e.path.assign(t);
        e.kind = FileEntry::Kind::kOpen;
        if (e.deleted) {
          // The path now names nothing (or another file): stat the open file itself.
          struct stat st;
          if (::fstatat(fd_dir_fd, de->d_name, &st, 0) == 0) {
            if (!S_ISREG(st.st_mode)) {
              ++out.other;
              continue;
            }
            FillStat(st, &e);
          }
        }
        files.push_back(std::move(e));
      }
      ::closedir(dir);
    }
  }

  // 2. Mappings.
  bool maps_gone = false;
  if (ReadProcFile(pid_dir + "/maps", &buf_) != 0) {
    const int err = errno;
    maps_gone = Gone(err);
    if (!maps_gone) LogReadError("maps", err, pid);
    out.maps_readable = false;
  } else {
    std::string_view text(buf_);
    std::string_view last_path;
    bool last_deleted = false;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t eol = text.find('\n', pos);
      if (eol == std::string_view::npos) eol = text.size();
      const std::optional<MapsFile> m = ParseMapsLine(text.substr(pos, eol - pos));
      pos = eol + 1;
      if (!m || IsDevPath(m->path)) continue;
      if (m->path == last_path && m->deleted == last_deleted) continue;  // consecutive segments
      last_path = m->path;
      last_deleted = m->deleted;
      FileEntry e;
      e.path.assign(m->path);
      e.kind = FileEntry::Kind::kMapped;
      e.deleted = m->deleted;
      e.inode = m->inode;
      files.push_back(std::move(e));
    }
  }
  if (fd_gone && maps_gone) {
    if (fd_dir_fd >= 0) ::close(fd_dir_fd);
    return absl::NotFoundError(absl::StrCat("process ", pid, " is gone"));
  }

  // 3. Merge by (path, deleted): open + mapped = both.
  std::sort(files.begin(), files.end(), PathOrder);
  size_t w = 0;
  for (size_t r = 0; r < files.size(); ++r) {
    if (w > 0 && files[w - 1].path == files[r].path && files[w - 1].deleted == files[r].deleted) {
      FileEntry& prev = files[w - 1];
      if (prev.kind != files[r].kind) prev.kind = FileEntry::Kind::kBoth;
      if (!prev.size && files[r].size) {
        const FileEntry src = files[r];
        prev.size = src.size;
        prev.inode = src.inode;
        prev.mode = src.mode;
        prev.uid = src.uid;
        prev.gid = src.gid;
        prev.mtime = src.mtime;
      }
      continue;
    }
    if (w != r) files[w] = std::move(files[r]);
    ++w;
  }
  files.resize(w);

  // 4. Sample, then stat the kept files inside the process's root.
  out.dropped = SampleFiles(&files, max_files_);
  const int root_fd = ::open((pid_dir + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0 && !Gone(errno)) LogReadError("root", errno, pid);
  w = 0;
  for (size_t r = 0; r < files.size(); ++r) {
    FileEntry& e = files[r];
    if (!e.deleted && root_fd >= 0) {
      struct stat st;
      if (StatInRoot(root_fd, e.path, &st) == 0) {
        if (!S_ISREG(st.st_mode)) {
          if (e.kind != FileEntry::Kind::kMapped) ++out.other;
          continue;
        }
        FillStat(st, &e);
      }
    }
    if (w != r) files[w] = std::move(e);
    ++w;
  }
  files.resize(w);
  if (root_fd >= 0) ::close(root_fd);
  if (fd_dir_fd >= 0) ::close(fd_dir_fd);
  files.shrink_to_fit();
  out.files = std::move(files);
  return out;
}

}  // namespace nodeproc
