#pragma once
// The files CSV of a deep snapshot (files_<ts>.csv, next to process_<ts>.csv): one RFC 4180 row
// per file a process has open or mapped (collectors/open_files.h), quoting as csv_format.h.
//   kind     open | mapped | both
//   path     as seen inside the process's root; " (deleted)" appended when the kernel says so
//   size     bytes; mode: permission bits in octal ("0755"); mtime: UTC "YYYY-MM-DD HH:MM:SS"
//   unknown values (stat failed) are empty fields; package/package_version empty when unowned.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "core/file_entry.h"
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

}  // namespace nodeproc
