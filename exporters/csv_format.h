#pragma once
// The CSV snapshot contract (DESIGN.md): one header line, one RFC 4180 row per process.
// Lines end with "\n"; fields holding a comma, a double quote, CR or LF are quoted, with
// inner quotes doubled. Every text field is valid UTF-8: invalid bytes and NUL become U+FFFD
// (core/utf8.h), so a CSV reader can decode the file strictly.
// Times are UTC "YYYY-MM-DD HH:MM:SS"; sizes in KiB; CPU in percent of one core with two
// decimals; an unknown value (CPU window, fds, io, start time 0, uid on Windows) is an empty
// field, never 0.
#include <array>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "core/process_record.h"

namespace nodeproc {

inline constexpr std::array<std::string_view, 22> kCsvColumns = {
    "timestamp", "pid",    "name",     "cmdline",     "vms_kb",     "rss_kb",
    "create_time", "cpu_5s", "cpu_2m", "cpu_1h",      "status",     "ppid",
    "uid",       "threads", "fds",     "read_bytes",  "write_bytes", "container_id",
    "pod_uid",   "namespace", "pod",   "container"};

// The header line, "\n" included.
std::string_view CsvHeader();

// Appends one row (with its "\n") for `r` taken at `timestamp`. The cmdline is written as
// given: privacy (CmdlinePrivacy) is applied before the record gets here.
void AppendCsvRow(const ProcessRecord& r, absl::Time timestamp, std::string* out);

// Appends `field` made valid UTF-8 (core/utf8.h), quoted if RFC 4180 needs it.
void AppendCsvField(std::string_view field, std::string* out);

// "YYYY-MM-DD HH:MM:SS" in UTC (whole seconds, rounded down).
void AppendCsvTime(absl::Time t, std::string* out);

// A CPU percentage as the CSV writes it ("12.34"); nothing for unknown.
void AppendCsvPercent(const std::optional<double>& pct, std::string* out);

}  // namespace nodeproc
