#include "exporters/files_csv.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "exporters/csv_format.h"

namespace nodeproc {
namespace {

template <typename T>
void AppendOptional(const std::optional<T>& v, std::string* out) {
  if (v.has_value()) absl::StrAppend(out, *v);
}

std::string BuildHeader() {
  std::string h;
  for (size_t i = 0; i < kFilesCsvColumns.size(); ++i) {
    if (i > 0) h.push_back(',');
    h.append(kFilesCsvColumns[i]);
  }
  h.push_back('\n');
  return h;
}

}  // namespace

std::string_view FilesCsvHeader() {
  static const std::string* const header = new std::string(BuildHeader());
  return *header;
}

std::string_view FileKindName(FileEntry::Kind kind) {
  switch (kind) {
    case FileEntry::Kind::kOpen: return "open";
    case FileEntry::Kind::kMapped: return "mapped";
    case FileEntry::Kind::kBoth: return "both";
  }
  return "open";
}

void AppendFilesCsv(const ProcessRecord& process, const ProcessFiles& files, absl::Time timestamp,
                    std::string* out) {
  if (files.files.empty()) return;
  // The columns shared by every row of this process, rendered once.
  std::string prefix;
  AppendCsvTime(timestamp, &prefix);
  absl::StrAppend(&prefix, ",", process.pid, ",");
  const ContainerRef& c = process.container;
  for (const std::string* f : {&c.container_id, &c.pod_uid, &c.pod_namespace, &c.pod_name,
                               &c.container_name}) {
    AppendCsvField(*f, &prefix);
    prefix.push_back(',');
  }
  std::string path;
  for (const FileEntry& f : files.files) {
    out->append(prefix);
    if (f.deleted) {
      path.assign(f.path);
      path.append(" (deleted)");
      AppendCsvField(path, out);
    } else {
      AppendCsvField(f.path, out);
    }
    out->push_back(',');
    out->append(FileKindName(f.kind));
    out->push_back(',');
    AppendOptional(f.size, out);
    out->push_back(',');
    if (f.mode.has_value()) {
      char buf[16];
      const int n = std::snprintf(buf, sizeof(buf), "%04o", *f.mode & 07777u);
      out->append(buf, static_cast<size_t>(n));
    }
    out->push_back(',');
    AppendOptional(f.uid, out);
    out->push_back(',');
    AppendOptional(f.gid, out);
    out->push_back(',');
    if (f.mtime.has_value()) AppendCsvTime(absl::FromUnixSeconds(*f.mtime), out);
    out->push_back(',');
    AppendOptional(f.inode, out);
    out->push_back(',');
    AppendCsvField(f.package, out);
    out->push_back(',');
    AppendCsvField(f.package_version, out);
    out->push_back('\n');
  }
}

}  // namespace nodeproc
