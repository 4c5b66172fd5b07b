#pragma once
// The files CSV of a deep snapshot (files_<ts>.csv, next to process_<ts>.csv): one RFC 4180 row
// per file a process has open or mapped (collectors/open_files.h), quoting as csv_format.h.
//   kind     open | mapped | both
//   path     as seen inside the process's root; " (deleted)" appended when the kernel says so
//   size     bytes; mode: permission bits in octal ("0755"); mtime: UTC "YYYY-MM-DD HH:MM:SS"
//   unknown values (stat failed) are empty fields; package/package_version empty when unowned.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "collectors/file_entry.h"
#include "core/process_record.h"

namespace nodeproc {

inline constexpr std::array<std::string_view, 17> kFilesCsvColumns = {
    "timestamp", "pid",  "container_id", "pod_uid", "namespace", "pod",
    "container", "path", "kind",         "size",    "mode",      "uid",
    "gid",       "mtime", "inode",       "package", "package_version"};

// The header line, "\n" included.
std::string_view FilesCsvHeader();

std::string_view FileKindName(FileEntry::Kind kind);

// Appends one row per file of `files` (the process's container columns from `process`).
void AppendFilesCsv(const ProcessRecord& process, const ProcessFiles& files, absl::Time timestamp,
                    std::string* out);

// Loaded packages: for each (package, version), the number of processes with at least one of
// its files open or mapped (files without a package are not counted). For a metric such as
// nodeproc_loaded_package_processes{package,version}; cardinality is bounded by the installed
// packages of the node's root filesystems.
std::map<std::pair<std::string, std::string>, uint64_t> CountLoadedPackages(
    const std::vector<ProcessFiles>& processes);

}  // namespace nodeproc
