#pragma once
// Platform-independent pieces of the Windows probe, so that they are unit-tested on Linux too:
// FILETIME and 100-ns conversions, UTF-16 -> UTF-8, the PSS walk loop policy, and the mapping
// of what the Windows calls return onto the shared ProcessRecord (psutil's choices).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/process_record.h"

namespace nodeproc::win {

// FILETIME counts 100-ns intervals since 1601-01-01 UTC; this many of them lie before 1970.
inline constexpr uint64_t kFileTimeUnixEpoch = 116444736000000000ULL;
inline constexpr uint64_t kHundredNsPerSecond = 10000000ULL;

// The 64-bit value of a FILETIME's two halves.
constexpr uint64_t FileTimeValue(uint32_t low, uint32_t high) {
  return (static_cast<uint64_t>(high) << 32) | low;
}

// Seconds since the Unix epoch; 0 (the record's "unknown") for 0 or a time before 1970.
double FileTimeToUnixSeconds(uint64_t filetime);

// A duration in 100-ns units (kernel/user times) as seconds.
double HundredNsToSeconds(uint64_t hundred_ns);

// Win32 error codes the walk policy knows (winerror.h values).
inline constexpr uint32_t kErrorSuccess = 0;
inline constexpr uint32_t kErrorNoMoreItems = 259;

// What one PssWalkSnapshot result means: an item was returned, the walk is over
// (ERROR_NO_MORE_ITEMS), or it failed (any other error: stop, keep what was read).
enum class WalkStep { kItem, kEnd, kStop };
WalkStep ClassifyWalkResult(uint32_t error);

struct WalkOutcome {
  size_t items = 0;
  bool complete = false;    // ended by ERROR_NO_MORE_ITEMS
  uint32_t error = 0;       // the error that stopped an incomplete walk (0 if cut by max_items)
};

// Calls `next()` (which returns a Win32 error code and consumes the item it returned) until
// the walk ends, fails, or `max_items` items were read (a bound against a walk that never
// ends). The loop policy of every PSS walk.
template <typename Next>
WalkOutcome RunWalk(Next&& next, size_t max_items) {
  WalkOutcome out;
  while (out.items < max_items) {
    const uint32_t err = next();
    switch (ClassifyWalkResult(err)) {
      case WalkStep::kItem:
        ++out.items;
        continue;
      case WalkStep::kEnd:
        out.complete = true;
        return out;
      case WalkStep::kStop:
        out.error = err;
        return out;
    }
  }
  return out;
}

// UTF-16 (as Windows hands out names and command lines) to UTF-8; an unpaired surrogate
// becomes U+FFFD. Stops at the first NUL.
std::string Utf16ToUtf8(std::u16string_view text);

// What the Windows calls returned for one process; unknown where a call failed.
struct RawProcess {
  uint32_t pid = 0;
  uint32_t ppid = 0;
  std::string exe_name;         // Toolhelp szExeFile (UTF-8), e.g. "services.exe"
  uint32_t threads = 0;         // Toolhelp cntThreads
  std::optional<std::string> cmdline;
  // GetProcessTimes, in FILETIME units; unset when the process could not be opened.
  std::optional<uint64_t> creation_time;
  std::optional<uint64_t> kernel_time;
  std::optional<uint64_t> user_time;
  // GetProcessMemoryInfo (PROCESS_MEMORY_COUNTERS_EX).
  std::optional<uint64_t> working_set_bytes;
  std::optional<uint64_t> private_bytes;
  std::optional<uint32_t> handle_count;    // GetProcessHandleCount
  std::optional<uint64_t> read_transfer;   // GetProcessIoCounters ReadTransferCount
  std::optional<uint64_t> write_transfer;  // GetProcessIoCounters WriteTransferCount
};

// The shared record, psutil's Windows mapping: rss = working set, vms = private bytes
// (pagefile usage), fds = handle count (0, which no live process has, is unknown), read/write bytes = I/O transfer counts, status
// "running" (Windows has no per-process scheduler state), uid unknown (no numeric uid).
// start_ticks (the identity with pid for the CPU windows) is the creation FILETIME.
// PID 0 (System Idle Process) and 4 (System) are marked as kernel threads.
ProcessRecord ToProcessRecord(const RawProcess& raw);

}  // namespace nodeproc::win
