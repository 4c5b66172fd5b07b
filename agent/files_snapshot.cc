#include "agent/files_snapshot.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "collectors/proc_parsers.h"
#include "core/read_file.h"
#include "exporters/atomic_file.h"
#include "exporters/files_csv.h"

namespace nodeproc {

FilesSnapshot::FilesSnapshot(FilesSnapshotOptions options)
    : options_(std::move(options)),
      collector_(options_.proc_root, options_.max_files_per_process),
      resolver_(options_.proc_root) {
  if (const char* delay = std::getenv("NODEPROC_TEST_FILES_PROCESS_DELAY_MS")) {
    int ms = 0;
    if (absl::SimpleAtoi(delay, &ms) && ms > 0) process_delay_ms_ = ms;
  }
}

bool FilesSnapshot::SameProcess(int32_t pid, uint64_t start_ticks) {
  const std::string path = absl::StrCat(options_.proc_root, "/", pid, "/stat");
  // stat is one line of < 1 KiB; a longer one would not parse anyway.
  if (ReadFileAt(AT_FDCWD, path.c_str(), 4096, OverLimit::kFail, &stat_buf_) != 0) return false;
  absl::StatusOr<ProcStat> st = ParseProcStat(stat_buf_);
  return st.ok() && st->start_ticks == start_ticks;
}

absl::StatusOr<FilesSnapshotResult> FilesSnapshot::Write(const Snapshot& snapshot,
                                                         const std::string& path,
                                                         const std::atomic<bool>& cancel) {
  const absl::Time start = absl::Now();
  FilesSnapshotResult result;
  result.path = path;
  AtomicFileWriter out(path);
  if (absl::Status s = out.Open(); !s.ok()) return s;
  if (absl::Status s = out.Append(FilesCsvHeader()); !s.ok()) return s;
  auto cancelled = [&] {
    out.Abort();
    return absl::CancelledError(absl::StrCat("files snapshot cancelled: ", path));
  };
  LoadedPackageCounter counter;
  std::string rows;
  for (const ProcessRecord& r : snapshot.processes) {
    if (cancel.load(std::memory_order_relaxed)) return cancelled();
    if (r.kernel_thread) continue;
    if (process_delay_ms_ > 0) absl::SleepFor(absl::Milliseconds(process_delay_ms_));
    absl::StatusOr<ProcessFiles> files = collector_.Collect(r.pid);
    if (!files.ok() || !SameProcess(r.pid, r.start_ticks)) {
      ++result.skipped;
      continue;
    }
    resolver_.Resolve(r.pid, &files->files);
    ++result.processes;
    result.rows += files->files.size();
    result.dropped_files += files->dropped;
    if (options_.count_packages) counter.Add(*files);
    rows.clear();
    AppendFilesCsv(r, *files, snapshot.taken_at, &rows);
    if (absl::Status s = out.Append(rows); !s.ok()) return s;
  }
  if (cancel.load(std::memory_order_relaxed)) return cancelled();
  if (absl::Status s = out.Commit(); !s.ok()) return s;
  if (options_.count_packages) {
    result.packages = std::make_shared<const LoadedPackages>(
        counter.Result(snapshot.taken_at, options_.max_package_series));
  }
  result.duration = absl::Now() - start;
  return result;
}

}  // namespace nodeproc
