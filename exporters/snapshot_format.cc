#include "exporters/snapshot_format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "core/process_state.h"
#include "core/utf8.h"
#include "exporters/csv_format.h"
#include "nlohmann/json.hpp"

namespace nodeproc {
namespace {

std::string CsvTime(absl::Time t) {
  std::string s;
  AppendCsvTime(t, &s);
  return s;
}

// As the CSV: 0 is unknown, past year 9999 is garbage.
bool KnownStart(const ProcessRecord& r) {
  return r.start_time_unix > 0 && r.start_time_unix < 253402300800.0;
}

absl::Time StartTime(const ProcessRecord& r) {
  return absl::FromUnixSeconds(static_cast<int64_t>(std::floor(r.start_time_unix)));
}

nlohmann::ordered_json Percent(const std::optional<double>& v) {
  if (!v.has_value() || !std::isfinite(*v)) return nullptr;
  return std::round(*v * 100) / 100;  // the CSV's two decimals
}

template <typename T>
nlohmann::ordered_json Optional(const std::optional<T>& v) {
  if (!v.has_value()) return nullptr;
  return *v;
}

// Printable text for a terminal: invalid UTF-8 and NUL become U+FFFD (core/utf8.h), other
// control characters (C0, DEL, C1: escape sequences) become '?', at most `width` code points
// (the last three "..." when cut).
std::string Printable(std::string_view s, size_t width) {
  std::string out;
  size_t points = 0;
  for (size_t i = 0; i < s.size();) {
    if (points == width) {
      // Cut: replace the last three code points with "...".
      for (int dots = 0; dots < 3 && !out.empty(); ++dots) {
        size_t cut = out.size() - 1;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) --cut;
        out.resize(cut);
      }
      out.append("...");
      return out;
    }
    size_t bad = 1;
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t len = c == 0 ? 0 : Utf8SequenceLength(s, i, &bad);
    const bool c1 = len == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0;
    if (len == 0) {
      out.append(kReplacementCharacter);
      i += bad;
    } else if ((len == 1 && (c < 0x20 || c == 0x7f)) || c1) {
      out.push_back('?');
      i += len;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
    ++points;
  }
  return out;
}

std::string HumanBytes(uint64_t bytes) {
  char buf[32];
  if (bytes < (1ull << 20)) {
    std::snprintf(buf, sizeof(buf), "%lluK", static_cast<unsigned long long>(bytes >> 10));
  } else if (bytes < (1ull << 30)) {
    std::snprintf(buf, sizeof(buf), "%.1fM", static_cast<double>(bytes) / (1 << 20));
  } else {
    std::snprintf(buf, sizeof(buf), "%.1fG", static_cast<double>(bytes) / (1ull << 30));
  }
  return buf;
}

std::string Cpu(const std::optional<double>& v) {
  if (!v.has_value() || !std::isfinite(*v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", std::min(*v, 99999.0));
  return buf;
}

// ps style: the time of day when started the same (UTC) day as the snapshot, else "Nov18".
std::string Start(const ProcessRecord& r, absl::Time now) {
  if (!KnownStart(r)) return "-";
  const absl::Time start = StartTime(r);
  const absl::TimeZone utc = absl::UTCTimeZone();
  if (absl::ToCivilDay(start, utc) == absl::ToCivilDay(now, utc)) return absl::FormatTime("%H:%M:%S", start, utc);
  return absl::FormatTime("%b%d", start, utc);
}

}  // namespace

std::string RenderCsv(const Snapshot& snapshot) {
  std::string out(CsvHeader());
  for (const ProcessRecord& r : snapshot.processes) AppendCsvRow(r, snapshot.taken_at, &out);
  return out;
}

std::string RenderJson(const Snapshot& snapshot) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  const std::string timestamp = CsvTime(snapshot.taken_at);
  for (const ProcessRecord& r : snapshot.processes) {
    nlohmann::ordered_json o = nlohmann::ordered_json::object();
    o["timestamp"] = timestamp;
    o["pid"] = r.pid;
    o["name"] = ToValidUtf8(r.name);
    o["cmdline"] = ToValidUtf8(r.cmdline);
    o["vms_kb"] = r.vms_bytes / 1024;
    o["rss_kb"] = r.rss_bytes / 1024;
    if (KnownStart(r)) {
      o["create_time"] = CsvTime(StartTime(r));
    } else {
      o["create_time"] = nullptr;  // unknown
    }
    o["cpu_5s"] = Percent(r.cpu.pct_5s);
    o["cpu_2m"] = Percent(r.cpu.pct_2m);
    o["cpu_1h"] = Percent(r.cpu.pct_1h);
    o["status"] = std::string(ProcessStateName(r.state));
    o["ppid"] = r.ppid;
    if (r.uid_known) {
      o["uid"] = r.uid;
    } else {
      o["uid"] = nullptr;  // unknown (Windows)
    }
    o["threads"] = r.threads;
    o["fds"] = Optional(r.fds);
    o["read_bytes"] = Optional(r.read_bytes);
    o["write_bytes"] = Optional(r.write_bytes);
    o["container_id"] = ToValidUtf8(r.container.container_id);
    o["pod_uid"] = ToValidUtf8(r.container.pod_uid);
    o["namespace"] = ToValidUtf8(r.container.pod_namespace);
    o["pod"] = ToValidUtf8(r.container.pod_name);
    o["container"] = ToValidUtf8(r.container.container_name);
    rows.push_back(std::move(o));
  }
  // Strings were made valid above (one rule for every output); `replace` is only a guard
  // against dump() throwing.
  std::string out = rows.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  out.push_back('\n');
  return out;
}

std::string RenderTable(const Snapshot& snapshot, const TableOptions& options) {
  const std::vector<ProcessRecord>& procs = snapshot.processes;
  std::vector<size_t> order(procs.size());
  std::iota(order.begin(), order.end(), 0);
  auto key = [](const std::optional<double>& v) { return v.has_value() && std::isfinite(*v) ? *v : -1.0; };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const ProcessRecord& x = procs[a];
    const ProcessRecord& y = procs[b];
    if (key(x.cpu.pct_5s) != key(y.cpu.pct_5s)) return key(x.cpu.pct_5s) > key(y.cpu.pct_5s);
    if (key(x.cpu.pct_2m) != key(y.cpu.pct_2m)) return key(x.cpu.pct_2m) > key(y.cpu.pct_2m);
    return x.pid < y.pid;
  });
  const bool pods = std::any_of(procs.begin(), procs.end(),
                                [](const ProcessRecord& r) { return !r.container.empty(); });

  std::string out;
  char line[512];
  std::snprintf(line, sizeof(line), "%7s %7s %6s %-12s %6s %6s %6s %7s %7s %4s %5s %8s ", "PID",
                "PPID", "UID", "STATE", "CPU5S", "CPU2M", "CPU1H", "RSS", "VMS", "THR", "FDS", "START");
  out.append(line);
  if (pods) {
    std::snprintf(line, sizeof(line), "%-40s ", "NAMESPACE/POD/CONTAINER");
    out.append(line);
  }
  out.append("COMMAND\n");
  for (size_t i : order) {
    const ProcessRecord& r = procs[i];
    const std::string state(ProcessStateName(r.state));
    const std::string fds = r.fds.has_value() ? std::to_string(*r.fds) : "-";
    const std::string uid = r.uid_known ? std::to_string(r.uid) : "-";
    std::snprintf(line, sizeof(line), "%7d %7d %6s %-12s %6s %6s %6s %7s %7s %4u %5s %8s ", r.pid,
                  r.ppid, uid.c_str(), state.c_str(), Cpu(r.cpu.pct_5s).c_str(), Cpu(r.cpu.pct_2m).c_str(),
                  Cpu(r.cpu.pct_1h).c_str(), HumanBytes(r.rss_bytes).c_str(),
                  HumanBytes(r.vms_bytes).c_str(), r.threads, fds.c_str(),
                  Start(r, snapshot.taken_at).c_str());
    out.append(line);
    if (pods) {
      std::string where;
      if (!r.container.empty()) {
        const ContainerRef& c = r.container;
        where = c.pod_name.empty() ? c.container_id.substr(0, 12)
                                   : c.pod_namespace + "/" + c.pod_name + "/" + c.container_name;
      } else {
        where = "-";
      }
      where = Printable(where, 40);
      out.append(where);
      // Pad by code points, not bytes.
      size_t points = 0;
      for (char ch : where) points += (static_cast<unsigned char>(ch) & 0xc0) != 0x80;
      out.append(points < 40 ? 40 - points : 0, ' ');
      out.push_back(' ');
    }
    // Kernel threads have no command line: show [name], like ps.
    const std::string cmd = r.cmdline.empty() ? "[" + r.name + "]" : r.cmdline;
    out.append(Printable(cmd, std::max<size_t>(options.max_command_width, 4)));
    out.push_back('\n');
  }
  out.append(std::to_string(procs.size()));
  out.append(" processes, snapshot ");
  out.append(CsvTime(snapshot.taken_at));
  out.append(" UTC\n");
  return out;
}

}  // namespace nodeproc
