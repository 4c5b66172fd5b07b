#include "upload/spool.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "core/absl_compat.h"
#include "core/log.h"

namespace nodeproc {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kStateHeader = "# nodeproc upload state v1";
constexpr std::string_view kDestination = "destination ";
constexpr size_t kMaxStateBytes = 16 << 20;

bool SafeComponent(std::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// YYYYMMDDTHHMMSSZ, by position.
bool ParseCompactTime(std::string_view s, absl::Time* out) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return false;
  int v[6];
  const size_t pos[6] = {0, 4, 6, 9, 11, 13}, len[6] = {4, 2, 2, 2, 2, 2};
  for (int k = 0; k < 6; ++k) {
    v[k] = 0;
    for (size_t i = pos[k]; i < pos[k] + len[k]; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v[k] = v[k] * 10 + (s[i] - '0');
    }
  }
  const absl::CivilSecond cs(v[0], v[1], v[2], v[3], v[4], v[5]);
  if (cs.month() != v[1] || cs.day() != v[2] || cs.hour() != v[3] || cs.minute() != v[4] ||
      cs.second() != v[5]) {
    return false;
  }
  *out = absl::FromCivil(cs, absl::UTCTimeZone());
  return true;
}

bool IsRealDir(const fs::path& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

Spool::Spool(SpoolOptions options) : options_(std::move(options)) {}

std::string Spool::state_path() const {
  return (fs::path(options_.snapshot_dir) / options_.machine / ".upload-state").string();
}

std::optional<SpoolEntry> Spool::ParseRelative(std::string_view rel) {
  std::vector<absl::string_view> parts = absl::StrSplit(ToAbsl(rel), '/');
  if (parts.size() != 3 || parts[1] != "process" || !SafeComponent(ToStd(parts[0]))) return std::nullopt;
  absl::string_view name = parts[2];
  int kind;
  if (absl::StartsWith(name, "process_")) {
    kind = 0;
    name.remove_prefix(8);
  } else if (absl::StartsWith(name, "files_")) {
    kind = 1;
    name.remove_prefix(6);
  } else {
    return std::nullopt;
  }
  if (!absl::ConsumeSuffix(&name, ".csv")) return std::nullopt;
  SpoolEntry e;
  if (!ParseCompactTime(ToStd(name), &e.taken)) return std::nullopt;
  e.relative = std::string(rel);
  e.snapshot = absl::StrCat(parts[0], "/", name);
  (void)kind;
  return e;
}

// Oldest first: agent-start folder, snapshot time, then the process CSV before its files CSV.
std::string Spool::OrderKey(const SpoolEntry& e) {
  const bool files = absl::StrContains(e.relative, "/process/files_");
  return absl::StrCat(e.snapshot, files ? "/1" : "/0");
}

std::optional<SpoolEntry> Spool::EntryFor(const std::string& path) const {
  // .../<machine>/<start>/process/<name>: taken from the end, so the snapshot folder may be
  // spelled differently (trailing '/', "./") by the writer.
  std::vector<absl::string_view> parts = absl::StrSplit(ToAbsl(path), '/', absl::SkipEmpty());
  if (parts.size() < 4 || parts[parts.size() - 4] != ToAbsl(options_.machine)) return std::nullopt;
  const std::string machine_rel = absl::StrCat(parts[parts.size() - 3], "/process/",
                                               parts[parts.size() - 1]);
  if (parts[parts.size() - 2] != "process") return std::nullopt;
  auto e = ParseRelative(machine_rel);
  if (!e) return std::nullopt;
  e->relative = absl::StrCat(options_.machine, "/", machine_rel);
  e->path = (fs::path(options_.snapshot_dir) / e->relative).string();
  struct stat st;
  if (::lstat(e->path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  e->bytes = static_cast<uint64_t>(st.st_size);
  return e;
}

absl::Status Spool::Load() {
  RemoveStaleStateTemps();
  std::set<std::string> uploaded;
  {
    std::ifstream in(state_path(), std::ios::binary);
    if (in) {
      std::ostringstream s;
      s << in.rdbuf();
      std::string text = s.str();
      if (text.size() > kMaxStateBytes) text.clear();  // not ours: start afresh
      bool same_destination = false;
      for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
        if (absl::ConsumePrefix(&line, ToAbsl(kDestination))) {
          same_destination = line == options_.destination;
        } else if (!line.empty() && line[0] != '#' && same_destination) {
          uploaded.insert(std::string(line));
        }
      }
      if (!same_destination && !text.empty()) {
        LogInfo("upload destination changed: the volume's snapshots are uploaded to the new one",
                {{"destination", options_.destination}});
      }
    }
  }
  std::map<std::string, SpoolEntry> pending;
  std::set<std::string> kept_uploaded;
  const fs::path machine_dir = fs::path(options_.snapshot_dir) / options_.machine;
  std::error_code ec;
  for (fs::directory_iterator it(machine_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string start = it->path().filename().string();
    if (!SafeComponent(start) || !IsRealDir(it->path()) || !IsRealDir(it->path() / "process")) continue;
    std::error_code ec2;
    for (fs::directory_iterator f(it->path() / "process", ec2), fend; !ec2 && f != fend; f.increment(ec2)) {
      auto e = EntryFor(f->path().string());
      if (!e) continue;
      const std::string machine_rel = e->relative.substr(options_.machine.size() + 1);
      if (uploaded.contains(machine_rel)) {
        kept_uploaded.insert(machine_rel);
      } else {
        pending.emplace(OrderKey(*e), std::move(*e));
      }
    }
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot list snapshot folder ", machine_dir.string(), ": ", ec.message()));
  }
  absl::MutexLock lock(&mu_);
  pending_ = std::move(pending);
  uploaded_ = std::move(kept_uploaded);
  return absl::OkStatus();
}

bool Spool::Add(const std::string& path) {
  auto e = EntryFor(path);
  if (!e) return false;
  const std::string machine_rel = e->relative.substr(options_.machine.size() + 1);
  absl::MutexLock lock(&mu_);
  if (uploaded_.contains(machine_rel)) return false;
  return pending_.emplace(OrderKey(*e), std::move(*e)).second;
}

void Spool::RemoveStaleStateTemps() const {
  // A crash between writing the state's temp file and its rename leaves
  // "..upload-state.<pid>.tmp" (exporters/atomic_file.h naming) in the machine folder.
  const fs::path machine_dir = fs::path(options_.snapshot_dir) / options_.machine;
  const absl::Time cutoff = absl::Now() - absl::Minutes(1);
  std::error_code ec;
  for (fs::directory_iterator it(machine_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!absl::StartsWith(name, "..upload-state.") || !absl::EndsWith(name, ".tmp")) continue;
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (absl::FromTimeT(st.st_mtime) > cutoff) continue;
    ::unlink(it->path().c_str());
  }
}

std::optional<SpoolEntry> Spool::Front() const {
  absl::MutexLock lock(&mu_);
  if (pending_.empty()) return std::nullopt;
  return pending_.begin()->second;
}

std::string Spool::Serialize() const {
  std::string out = absl::StrCat(ToAbsl(kStateHeader), "\n", ToAbsl(kDestination), options_.destination, "\n");
  for (const std::string& rel : uploaded_) absl::StrAppend(&out, rel, "\n");
  return out;
}

absl::Status Spool::MarkUploaded(const SpoolEntry& entry) {
  std::string contents;
  {
    absl::MutexLock lock(&mu_);
    pending_.erase(OrderKey(entry));
    uploaded_.insert(entry.relative.substr(options_.machine.size() + 1));
    contents = Serialize();
  }
  if (!options_.write_state) return absl::OkStatus();
  return options_.write_state(state_path(), contents);
}

void Spool::Forget(const std::string& path) {
  absl::MutexLock lock(&mu_);
  std::erase_if(pending_, [&](const auto& kv) { return kv.second.path == path; });
}

bool Spool::KeepForUpload(const std::string& process_csv) {
  std::vector<absl::string_view> parts = absl::StrSplit(ToAbsl(process_csv), '/', absl::SkipEmpty());
  if (parts.size() < 4) return false;
  auto parsed = ParseRelative(absl::StrCat(parts[parts.size() - 3], "/process/",
                                           parts[parts.size() - 1]));
  if (!parsed) return false;
  const std::string& snapshot = parsed->snapshot;
  absl::MutexLock lock(&mu_);
  // Pending snapshots, newest first: the first max_pending_snapshots are kept.
  std::vector<std::string> newest_first;
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    if (newest_first.empty() || newest_first.back() != it->second.snapshot) {
      newest_first.push_back(it->second.snapshot);
    }
  }
  const auto pos = std::find(newest_first.begin(), newest_first.end(), snapshot);
  if (pos == newest_first.end()) {
    // Uploaded (or unknown): retention may delete it; forget it in the state too.
    const std::string start = snapshot.substr(0, snapshot.find('/'));
    const std::string ts = snapshot.substr(snapshot.find('/') + 1);
    uploaded_.erase(absl::StrCat(start, "/process/process_", ts, ".csv"));
    uploaded_.erase(absl::StrCat(start, "/process/files_", ts, ".csv"));
    return false;
  }
  if (pos - newest_first.begin() < options_.max_pending_snapshots) return true;
  // Over the cap: this pending snapshot goes, counted.
  uint64_t files = 0;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.snapshot == snapshot) {
      it = pending_.erase(it);
      ++files;
    } else {
      ++it;
    }
  }
  dropped_ += files;
  LogWarning("upload spool full: deleting a snapshot that was never uploaded",
             {{"snapshot", snapshot}, {"files", files},
              {"max_pending_snapshots", options_.max_pending_snapshots}});
  return false;
}

SpoolStats Spool::Stats() const {
  absl::MutexLock lock(&mu_);
  SpoolStats s;
  s.dropped_files = dropped_;
  for (const auto& [key, e] : pending_) {
    ++s.pending_files;
    s.pending_bytes += e.bytes;
    if (!s.oldest_pending || e.taken < *s.oldest_pending) s.oldest_pending = e.taken;
  }
  return s;
}

}  // namespace nodeproc
