#pragma once
// Process Snapshotting (PSS, Windows 8.1+): PssCaptureSnapshot of one process,
// PssQuerySnapshot for its single-instance data (process, handle and thread information), and
// PssWalkSnapshot with a walk marker over its handles and threads. A walk ends on
// ERROR_NO_MORE_ITEMS; any other error stops it and what was read so far is kept (see
// win::RunWalk). The PSS entry points are looked up at run time (GetProcAddress): on a system
// (or wine) without them, Available() is false and callers fall back to Toolhelp-only data.
// Windows build only.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace nodeproc::win {

struct PssOptions {
  bool handles = false;  // capture and walk handles (type and object names)
  bool threads = false;  // capture and walk threads
};

struct PssThreadDetail {
  uint32_t thread_id = 0;
  double cpu_seconds = 0;        // kernel + user
  double create_time_unix = 0;   // 0 when unknown
  int priority = 0;
  uint32_t suspend_count = 0;
};

struct PssProcessDetail {
  uint32_t pid = 0;
  uint32_t ppid = 0;
  double create_time_unix = 0;
  double cpu_seconds = 0;
  uint64_t working_set_bytes = 0;
  uint64_t private_bytes = 0;
  std::string image_file_name;   // UTF-8
  // PssQuerySnapshot single-instance counts (when captured).
  uint32_t handles_captured = 0;
  uint32_t threads_captured = 0;
  // Walks (when asked): handle count by object type name, and one entry per thread.
  std::map<std::string, uint32_t> handle_types;
  std::vector<PssThreadDetail> threads;
  bool handle_walk_complete = false;  // ended by ERROR_NO_MORE_ITEMS
  bool thread_walk_complete = false;
  uint32_t walk_error = 0;            // the error that stopped a walk early, else 0
};

// True when kernel32 exports the PSS functions (looked up once).
bool PssAvailable();

// Captures one process (by PID) and reads what `options` asks. Unimplemented when PSS is not
// available (not exported, or an exported stub answering ERROR_CALL_NOT_IMPLEMENTED), NotFound when the process is gone, PermissionDenied when it cannot be opened,
// Internal for a failed capture or query (the Win32 error in the message).
absl::StatusOr<PssProcessDetail> CapturePssDetail(uint32_t pid, const PssOptions& options);

}  // namespace nodeproc::win
