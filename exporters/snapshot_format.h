#pragma once
// What `nodeproc snapshot --format=csv|json|table` prints.
//   csv:   the CSV contract (header + one row per process), as the snapshot files.
//   json:  an array of objects keyed by the CSV column names; numbers are JSON numbers,
//          unknown values (CPU windows, fds, io, uid on Windows) are null; strings are valid
//          UTF-8 (invalid bytes and NUL become U+FFFD, core/utf8.h);
//          keys in column order.
//   table: a `ps`-like view for `kubectl exec`: first line is the header (PID PPID UID STATE
//          CPU5S CPU2M CPU1H RSS VMS THR FDS START [POD] COMMAND), busiest first (cpu_5s,
//          then cpu_2m, then pid), invalid UTF-8 shown as U+FFFD, control characters as '?',
//          commands truncated.
// Command lines are printed as given: CmdlinePrivacy is applied before.
#include <string>

#include "core/snapshot.h"

namespace nodeproc {

std::string RenderCsv(const Snapshot& snapshot);
std::string RenderJson(const Snapshot& snapshot);

struct TableOptions {
  size_t max_command_width = 120;  // characters (code points) of COMMAND before "..."
};
std::string RenderTable(const Snapshot& snapshot, const TableOptions& options = {});

}  // namespace nodeproc
