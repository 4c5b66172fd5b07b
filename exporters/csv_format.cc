#include "exporters/csv_format.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/process_state.h"
#include "core/utf8.h"

namespace nodeproc {
namespace {

constexpr std::string_view kHeader =
    "timestamp,pid,name,cmdline,vms_kb,rss_kb,create_time,cpu_5s,cpu_2m,cpu_1h,status,"
    "ppid,uid,threads,fds,read_bytes,write_bytes,container_id,pod_uid,namespace,pod,container\n";

template <typename T>
void AppendOptional(const std::optional<T>& v, std::string* out) {
  if (v.has_value()) absl::StrAppend(out, *v);
}

}  // namespace

std::string_view CsvHeader() { return kHeader; }

void AppendCsvField(std::string_view field, std::string* out) {
  std::string repaired;
  if (!IsCleanUtf8(field)) {  // rare: only hostile or broken names pay for the copy
    repaired = ToValidUtf8(field);
    field = repaired;
  }
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(field);
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendCsvTime(absl::Time t, std::string* out) {
  const absl::CivilSecond cs = absl::ToCivilSecond(t, absl::UTCTimeZone());
  char buf[32];
  const int n = std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d",
                              static_cast<int>(cs.year()), cs.month(), cs.day(), cs.hour(),
                              cs.minute(), cs.second());
  if (n > 0) out->append(buf, static_cast<size_t>(n));
}

void AppendCsvPercent(const std::optional<double>& pct, std::string* out) {
  if (!pct.has_value() || !std::isfinite(*pct)) return;
  char buf[352];  // "%.2f" of the largest double is 312 characters
  const int n = std::snprintf(buf, sizeof(buf), "%.2f", *pct);
  if (n > 0 && static_cast<size_t>(n) < sizeof(buf)) out->append(buf, static_cast<size_t>(n));
}

void AppendCsvRow(const ProcessRecord& r, absl::Time timestamp, std::string* out) {
  AppendCsvTime(timestamp, out);
  absl::StrAppend(out, ",", r.pid, ",");
  AppendCsvField(r.name, out);
  out->push_back(',');
  AppendCsvField(r.cmdline, out);
  absl::StrAppend(out, ",", r.vms_bytes / 1024, ",", r.rss_bytes / 1024, ",");
  // 0: unknown; beyond year 9999 it is garbage (and would overflow the conversion).
  if (r.start_time_unix > 0 && r.start_time_unix < 253402300800.0) {
    AppendCsvTime(absl::FromUnixSeconds(static_cast<int64_t>(std::floor(r.start_time_unix))), out);
  }
  out->push_back(',');
  AppendCsvPercent(r.cpu.pct_5s, out);
  out->push_back(',');
  AppendCsvPercent(r.cpu.pct_2m, out);
  out->push_back(',');
  AppendCsvPercent(r.cpu.pct_1h, out);
  absl::StrAppend(out, ",", ToAbsl(ProcessStateName(r.state)), ",", r.ppid, ",");
  if (r.uid_known) absl::StrAppend(out, r.uid);
  absl::StrAppend(out, ",", r.threads, ",");
  AppendOptional(r.fds, out);
  out->push_back(',');
  AppendOptional(r.read_bytes, out);
  out->push_back(',');
  AppendOptional(r.write_bytes, out);
  out->push_back(',');
  AppendCsvField(r.container.container_id, out);
  out->push_back(',');
  AppendCsvField(r.container.pod_uid, out);
  out->push_back(',');
  AppendCsvField(r.container.pod_namespace, out);
  out->push_back(',');
  AppendCsvField(r.container.pod_name, out);
  out->push_back(',');
  AppendCsvField(r.container.container_name, out);
  out->push_back('\n');
}

}  // namespace nodeproc
