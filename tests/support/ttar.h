#pragma once
// Extracts a ttar archive (the plain-text tar of prometheus/procfs test fixtures, described in
// tests/fixtures/procfs/SOURCES.md) into a folder, so tests can build fake /proc trees.
//
// Records are separated by lines starting with "# ttar - - -". "Directory: <p>" + "Mode: <o>";
// "Path: <p>" + "Lines: <n>" + n lines + "Mode: <o>"; "Path: <p>" + "SymlinkTo: <t>". Inside
// content the word NULLBYTE is a NUL byte and a trailing EOF means "no final newline".
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace nodeproc::testing {

// Extracts the archive file `archive` under `dest` (created if missing). Paths holding ".."
// or starting with '/' are rejected. With `only_under` (e.g. "fixtures/proc/"), only records
// whose path starts with it (and their parent folders) are written: the full procfs fixture
// holds ~3600 records, mostly /sys.
absl::Status ExtractTtar(const std::string& archive, const std::string& dest,
                         std::string_view only_under = {});

// Same, from the archive's text.
absl::Status ExtractTtarText(const std::string& text, const std::string& dest,
                             std::string_view only_under = {});

}  // namespace nodeproc::testing
