#include "exporters/snapshot_writer.h"

#include <errno.h>
#include <string.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/absl_compat.h"
#include "core/log.h"
#include "core/platform.h"
#include "exporters/atomic_file.h"
#include "exporters/csv_format.h"

namespace nodeproc {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPrefix = "process_";
constexpr std::string_view kFilesPrefix = "files_";
constexpr std::string_view kSuffix = ".csv";

// ".process_<ts>.csv.<pid>.tmp" or ".files_<ts>.csv.<pid>.tmp" (exporters/atomic_file.h).
bool IsTempName(std::string_view name) {
  if (name.size() < 2 || name[0] != '.' || name.size() < 4 || name.substr(name.size() - 4) != ".tmp") {
    return false;
  }
  for (std::string_view prefix : {kPrefix, kFilesPrefix}) {
    if (name.size() > prefix.size() + 1 && name.substr(1, prefix.size()) == prefix) return true;
  }
  return false;
}

// <prefix><YYYYMMDDTHHMMSSZ>.csv -> the time, or false.
bool SnapshotTimeFromName(std::string_view name, std::string_view prefix, absl::Time* t) {
  if (name.size() <= prefix.size() + kSuffix.size() || name.substr(0, prefix.size()) != prefix ||
      name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return false;
  }
  // YYYYMMDDTHHMMSSZ, parsed by position (strptime-style %Y would swallow all the digits).
  std::string_view stamp = name.substr(prefix.size(), name.size() - prefix.size() - kSuffix.size());
  if (stamp.size() != 16 || stamp[8] != 'T' || stamp[15] != 'Z') return false;
  auto num = [&](size_t pos, size_t len, int* out) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (stamp[i] < '0' || stamp[i] > '9') return false;
      v = v * 10 + (stamp[i] - '0');
    }
    *out = v;
    return true;
  };
  int y, mo, d, h, mi, se;
  if (!num(0, 4, &y) || !num(4, 2, &mo) || !num(6, 2, &d) || !num(9, 2, &h) || !num(11, 2, &mi) ||
      !num(13, 2, &se)) {
    return false;
  }
  const absl::CivilSecond cs(y, mo, d, h, mi, se);
  if (cs.month() != mo || cs.day() != d || cs.hour() != h || cs.minute() != mi || cs.second() != se) {
    return false;  // not a real date
  }
  *t = absl::FromCivil(cs, absl::UTCTimeZone());
  return true;
}

// The agent-start folders of the machine (each holding process/).
std::vector<fs::path> AgentStartDirs(const std::string& machine_dir) {
  std::vector<fs::path> dirs;
  std::error_code ec;
  for (fs::directory_iterator it(machine_dir, ec), end; !ec && it != end; it.increment(ec)) {
    // Real folders only (lstat): a symlink planted in the snapshot folder must not lead
    // retention, which deletes files, outside it.
    if (!platform::StatNoFollow(it->path().string()).is_dir) continue;
    const platform::PathKind process = platform::StatNoFollow((it->path() / "process").string());
    if (process.exists && !process.is_dir) continue;
    dirs.push_back(it->path());
  }
  return dirs;
}

}  // namespace

std::string SnapshotWriter::SanitizeMachineId(std::string_view id) {
  std::string out;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    out.push_back(ok ? c : '_');
  }
  if (out.empty()) return "unknown";
  if (out.find_first_not_of('.') == std::string::npos) std::replace(out.begin(), out.end(), '.', '_');
  return out;
}

std::string SnapshotWriter::FilesPath(absl::Time taken_at) const {
  return absl::StrCat(process_dir_, "/", ToAbsl(kFilesPrefix), CompactTime(taken_at), ToAbsl(kSuffix));
}

std::string SnapshotWriter::CompactTime(absl::Time t) {
  return absl::FormatTime("%Y%m%dT%H%M%SZ", t, absl::UTCTimeZone());
}

SnapshotWriter::SnapshotWriter(SnapshotWriterOptions options) : options_(std::move(options)) {
  machine_dir_ = (fs::path(options_.dir) / SanitizeMachineId(options_.machine_id)).string();
  process_dir_ = (fs::path(machine_dir_) / CompactTime(options_.agent_start) / "process").string();
  if (const char* delay = std::getenv("NODEPROC_TEST_SNAPSHOT_ROW_DELAY_MS")) {
    int ms = 0;
    if (absl::SimpleAtoi(delay, &ms) && ms > 0) row_delay_ms_ = ms;
  }
  RemoveStaleTempFiles();
}

void SnapshotWriter::RemoveStaleTempFiles() {
  // Any age: a temp file whose writer's lock is free was left by a killed writer
  // (exporters/atomic_file.h); one a live writer holds is left alone.
  for (const fs::path& start_dir : AgentStartDirs(machine_dir_)) {
    std::error_code ec;
    for (fs::directory_iterator it(start_dir / "process", ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!IsTempName(name)) continue;
      if (RemoveUnownedTempFile(it->path().string())) {
        LogInfo("removed a snapshot temp file left by a killed writer", {{"path", it->path().string()}});
      }
    }
  }
}

absl::StatusOr<std::string> SnapshotWriter::Write(const Snapshot& snapshot,
                                                  const std::atomic<bool>& cancel) {
  std::error_code ec;
  fs::create_directories(process_dir_, ec);
  if (ec) return FileErrorStatus(ec.value(), "cannot create snapshot folder", process_dir_);

  const std::string name = absl::StrCat(ToAbsl(kPrefix), CompactTime(snapshot.taken_at), ToAbsl(kSuffix));
  const std::string final_path = absl::StrCat(process_dir_, "/", name);
  AtomicFileWriter out(final_path);
  if (absl::Status s = out.Open(); !s.ok()) return s;
  auto cancelled = [&] {
    out.Abort();
    return absl::CancelledError(absl::StrCat("snapshot cancelled: ", final_path));
  };
  if (absl::Status s = out.Append(CsvHeader()); !s.ok()) return s;
  std::string row;
  for (const ProcessRecord& r : snapshot.processes) {
    if (cancel.load(std::memory_order_relaxed)) return cancelled();
    if (row_delay_ms_ > 0) absl::SleepFor(absl::Milliseconds(row_delay_ms_));
    row.clear();
    AppendCsvRow(r, snapshot.taken_at, &row);
    if (absl::Status s = out.Append(row); !s.ok()) return s;
  }
  if (cancel.load(std::memory_order_relaxed)) return cancelled();
  if (absl::Status s = out.Commit(); !s.ok()) return s;
  if (options_.on_written) options_.on_written(final_path);
  ApplyRetention(snapshot.taken_at, final_path);
  return final_path;
}

void SnapshotWriter::ApplyRetention(absl::Time now, const std::string& just_written) {
  struct Entry {
    absl::Time t;
    std::string path;
  };
  std::vector<Entry> files;
  // Files CSVs, by (folder, time): they follow the process CSV of the same snapshot.
  std::vector<std::pair<Entry, std::string>> files_csvs;  // entry, its process CSV's path
  const std::vector<fs::path> start_dirs = AgentStartDirs(machine_dir_);
  for (const fs::path& start_dir : start_dirs) {
    std::error_code ec;
    const fs::path dir = start_dir / "process";
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      absl::Time t;
      if (SnapshotTimeFromName(name, kPrefix, &t)) {
        files.push_back({t, it->path().string()});
      } else if (SnapshotTimeFromName(name, kFilesPrefix, &t)) {
        const std::string process_name = absl::StrCat(ToAbsl(kPrefix), ToAbsl(std::string_view(name).substr(kFilesPrefix.size())));
        files_csvs.push_back({{t, it->path().string()}, (dir / process_name).string()});
      }
    }
  }
  std::sort(files.begin(), files.end(), [](const Entry& a, const Entry& b) {
    return a.t != b.t ? a.t > b.t : a.path > b.path;  // newest first
  });
  const bool age_limit = options_.max_age > absl::ZeroDuration() && options_.max_age != absl::InfiniteDuration();
  auto remove = [](const std::string& path) {
    if (const int err = platform::RemoveFile(path); err != 0 && err != ENOENT) {
      LogOnce(LogLevel::kWarning, absl::StrCat("snapshot-retention:", err),
              "cannot delete old snapshot", {{"path", path}, {"error", strerror(err)}});
    }
  };
  std::unordered_set<std::string_view> kept_paths;
  int kept = 0;
  for (const Entry& e : files) {
    bool keep = e.path == just_written;
    if (!keep) {
      keep = (options_.keep_files <= 0 || kept < options_.keep_files) &&
             (!age_limit || e.t >= now - options_.max_age);
    }
    if (keep) {
      ++kept;
      kept_paths.insert(e.path);
      continue;
    }
    if (options_.keep_for_upload && options_.keep_for_upload(e.path)) {
      kept_paths.insert(e.path);
      continue;
    }
    remove(e.path);
  }
  for (const auto& [e, process_path] : files_csvs) {
    if (!kept_paths.contains(process_path)) remove(e.path);
  }
  // Old agent-start folders left empty go too (rmdir fails harmlessly when not empty).
  const fs::path current = fs::path(process_dir_).parent_path();
  for (const fs::path& start_dir : start_dirs) {
    if (start_dir == current) continue;
    const int err = platform::RemoveDir((start_dir / "process").string());
    if (err == 0 || err == ENOENT) platform::RemoveDir(start_dir.string());
  }
}

}  // namespace nodeproc
