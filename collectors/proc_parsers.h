#pragma once
// Pure parsers for the /proc files a process scan reads. They take the file's bytes and never
// touch the filesystem, so they are trivially unit-tested and fuzzed. Views returned in the
// results point into the input text.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace nodeproc {

// PF_KTHREAD (include/linux/sched.h): the task is a kernel thread.
inline constexpr uint32_t kPfKthread = 0x00200000;

// The fields of /proc/<pid>/stat a scan needs (man 5 proc numbering in the comments).
struct ProcStat {
  int32_t pid = 0;              // (1)
  std::string_view comm;        // (2) without the parentheses; may hold spaces and ')'
  char state = '?';             // (3)
  int32_t ppid = 0;             // (4)
  uint32_t flags = 0;           // (9) PF_* flags
  uint64_t utime_ticks = 0;     // (14) clock ticks
  uint64_t stime_ticks = 0;     // (15) clock ticks
  uint32_t num_threads = 0;     // (20)
  uint64_t start_ticks = 0;     // (22) clock ticks after boot
  uint64_t vsize_bytes = 0;     // (23)
  uint64_t rss_pages = 0;       // (24)

  bool kernel_thread() const { return (flags & kPfKthread) != 0; }
};

// Parses a stat line. comm is delimited by the first '(' and the LAST ')', since the command
// name itself may contain ") (". Fields after rss are ignored; a missing or non-numeric
// needed field is an InvalidArgument error.
absl::StatusOr<ProcStat> ParseProcStat(std::string_view text);

// The fields of /proc/<pid>/status a scan needs.
struct ProcStatus {
  uint32_t real_uid = 0;                    // "Uid:" first column
  std::optional<uint32_t> threads;          // "Threads:"
  std::optional<uint64_t> vm_size_bytes;    // "VmSize:" (kB in the file); absent for kthreads
  std::optional<uint64_t> vm_rss_bytes;     // "VmRSS:"
};

// "Uid:" is required; the other keys are optional. Separators may be tabs or spaces.
absl::StatusOr<ProcStatus> ParseProcStatus(std::string_view text);

// /proc/<pid>/statm, in pages.
struct ProcStatm {
  uint64_t size_pages = 0;
  uint64_t resident_pages = 0;
  uint64_t shared_pages = 0;
};
absl::StatusOr<ProcStatm> ParseProcStatm(std::string_view text);

// /proc/<pid>/io: bytes that really hit the storage layer.
struct ProcIo {
  uint64_t read_bytes = 0;
  uint64_t write_bytes = 0;
};
// Both read_bytes and write_bytes are required.
absl::StatusOr<ProcIo> ParseProcIo(std::string_view text);

// Command lines are read up to a cap (--max-cmdline-bytes, this default): an argv may be
// 2 MiB and a workload controls it. A cut command line ends with kCmdlineTruncatedMarker.
inline constexpr size_t kDefaultMaxCmdlineBytes = 4096;
inline constexpr std::string_view kCmdlineTruncatedMarker = "\xE2\x80\xA6[truncated]";  // "…[truncated]"
// JoinCmdline of a value cut by the reader: the join, cut back to a whole UTF-8 character,
// then kCmdlineTruncatedMarker.
void JoinTruncatedCmdline(std::string_view raw, std::string* out);

// /proc/<pid>/cmdline: NUL-separated arguments joined by single spaces (an empty argument
// in the middle still yields its separator); trailing NULs are dropped; bytes are kept as they
// are (no UTF-8 validation). Replaces *out, reusing its capacity.
void JoinCmdline(std::string_view raw, std::string* out);
// The argument vector a probe keeps for a process: `raw` (/proc/<pid>/cmdline as read, cut at
// the cap when `truncated`) joined as above (plain or truncated), but with its NUL separators
// kept, so that secrets are scrubbed per argument before the join (exporters/cmdline_privacy).
// The joined form is the same bytes with each NUL replaced by a space.
void ArgsFromRawCmdline(std::string_view raw, bool truncated, std::string* args);
std::string JoinCmdline(std::string_view raw);

// The "btime" line of /proc/stat: boot time in seconds since the epoch.
absl::StatusOr<uint64_t> ParseBootTime(std::string_view proc_stat);

// Strict decimal parse of a whole token (no sign, no spaces, no overflow).
bool ParseDecimal(std::string_view token, uint64_t* out);

}  // namespace nodeproc
