// nodeproc.exe: the Windows build's entry point (mingw-w64; no prometheus-cpp, kubelet or
// absl flags there). It takes one snapshot with the same pieces as Linux `nodeproc snapshot`:
// probe -> CPU windows (two sampler passes --snapshot-wait apart) -> full scan -> command-line
// privacy -> RenderCsv/RenderJson/RenderTable. Flags are parsed by hand:
//   nodeproc.exe snapshot [--format=csv|json|table] [--snapshot-wait=1s] [--anonymize]
//                         [--scrub-secrets=true|false] [--log-level=info]
//   nodeproc.exe pss [--pid=N]      PSS detail (handles by type, threads) of one process
//   nodeproc.exe version
#include <fcntl.h>
#include <io.h>
#include <windows.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "collectors/cpu_windows.h"
#include "collectors/windows/pss_snapshot.h"
#include "collectors/windows/toolhelp_probe.h"
#include "core/log.h"
#include "core/snapshot.h"
#include "exporters/cmdline_privacy.h"
#include "exporters/snapshot_format.h"

namespace nodeproc {
namespace {

constexpr char kUsage[] =
    "nodeproc (Windows): per-node process agent.\n"
    "usage:\n"
    "  nodeproc.exe snapshot [--format=csv|json|table] [--snapshot-wait=1s] [--anonymize]\n"
    "                        [--scrub-secrets=true|false] [--pss-detail] [--log-level=LEVEL]\n"
    "  nodeproc.exe pss [--pid=N]   PSS detail of one process (default: this one)\n"
    "  nodeproc.exe version\n";

int Fail(const std::string& message) {
  std::fprintf(stderr, "nodeproc: %s\n", message.c_str());
  return 2;
}

void WriteAll(const std::string& text) {
  // Binary stdout: the CSV's "\n" must not become "\r\n".
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

// "1s", "500ms", "2m", "0s".
bool ParseDuration(std::string_view text, absl::Duration* out) {
  size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == 0) return false;
  const double v = std::atof(std::string(text.substr(0, i)).c_str());
  const std::string_view unit = text.substr(i);
  if (unit == "ms") *out = absl::Milliseconds(v);
  else if (unit == "s") *out = absl::Seconds(v);
  else if (unit == "m") *out = absl::Minutes(v);
  else return false;
  return true;
}

bool ParseBool(std::string_view text, bool* out) {
  if (text == "true" || text == "1") *out = true;
  else if (text == "false" || text == "0") *out = false;
  else return false;
  return true;
}

struct SnapshotFlags {
  std::string format = "table";
  absl::Duration wait = absl::Seconds(1);
  bool anonymize = false;
  bool scrub = true;
  bool pss_detail = false;
};

int RunSnapshot(const SnapshotFlags& flags) {
  auto privacy = CmdlinePrivacy::Create(CmdlinePrivacyOptions{flags.anonymize, "", flags.scrub, {}});
  if (!privacy.ok()) return Fail(std::string(privacy.status().message()));

  win::ToolhelpProbe::Options options;
  options.pss_detail = flags.pss_detail;
  win::ToolhelpProbe probe(options);
  CpuWindows windows;
  std::vector<CpuSample> samples;
  if (absl::Status s = probe.SampleCpu(&samples); !s.ok()) return Fail(std::string(s.message()));
  windows.Observe(absl::Now(), samples);
  absl::SleepFor(flags.wait);
  if (absl::Status s = probe.SampleCpu(&samples); !s.ok()) return Fail(std::string(s.message()));
  windows.Observe(absl::Now(), samples);

  const absl::Time start = absl::Now();
  Snapshot snap;
  if (absl::Status s = probe.Scan(&snap.processes); !s.ok()) return Fail(std::string(s.message()));
  snap.taken_at = absl::Now();
  snap.scan_duration = snap.taken_at - start;
  for (ProcessRecord& r : snap.processes) {
    r.cpu = windows.Usage(r.pid, r.start_ticks, r.start_time_unix, r.cpu_seconds, snap.taken_at);
    r.cmdline = privacy->Apply(r.cmdline);
  }
  LogDebug("snapshot taken", {{"processes", snap.processes.size()},
                              {"scan_ms", absl::ToDoubleMilliseconds(snap.scan_duration)}});
  if (flags.format == "csv") {
    WriteAll(RenderCsv(snap));
  } else if (flags.format == "json") {
    WriteAll(RenderJson(snap));
  } else {
    WriteAll(RenderTable(snap));
  }
  return 0;
}

int RunPss(uint32_t pid) {
  if (!win::PssAvailable()) {
    return Fail("PSS (PssCaptureSnapshot) is not available on this system");
  }
  auto d = win::CapturePssDetail(pid, win::PssOptions{true, true});
  if (!d.ok()) return Fail(d.status().ToString());
  std::string out = absl::StrCat("pid ", d->pid, " ppid ", d->ppid, " image ", d->image_file_name,
                                 "\nhandles_captured ", d->handles_captured, " threads_captured ",
                                 d->threads_captured, " handle_walk_complete ",
                                 d->handle_walk_complete ? "true" : "false", " thread_walk_complete ",
                                 d->thread_walk_complete ? "true" : "false", "\n");
  for (const auto& [type, n] : d->handle_types) absl::StrAppend(&out, "handle_type ", type, " ", n, "\n");
  for (const auto& t : d->threads) {
    absl::StrAppend(&out, "thread ", t.thread_id, " cpu_seconds ", t.cpu_seconds, " priority ",
                    t.priority, " suspend_count ", t.suspend_count, "\n");
  }
  WriteAll(out);
  return 0;
}

int Main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) return Fail(std::string("a command is needed\n") + kUsage);
  const std::string_view command = args[0];
  if (command == "version" || command == "--version") {
    std::printf("nodeproc %s (commit %s, windows)\n", NODEPROC_VERSION, NODEPROC_GIT_COMMIT);
    return 0;
  }
  if (command == "help" || command == "--help" || command == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  SnapshotFlags flags;
  uint32_t pid = GetCurrentProcessId();
  for (size_t i = 1; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a.substr(0, 2) != "--") return Fail("unexpected argument \"" + std::string(a) + "\"");
    a.remove_prefix(2);
    const size_t eq = a.find('=');
    std::string name(a.substr(0, eq));
    for (char& c : name) c = c == '_' ? '-' : c;
    const std::string_view value = eq == std::string_view::npos ? std::string_view() : a.substr(eq + 1);
    const bool has_value = eq != std::string_view::npos;
    if (name == "format") {
      if (value != "csv" && value != "json" && value != "table") {
        return Fail("--format must be csv, json or table, not \"" + std::string(value) + "\"");
      }
      flags.format = std::string(value);
    } else if (name == "snapshot-wait") {
      if (!ParseDuration(value, &flags.wait)) return Fail("--snapshot-wait: bad duration \"" + std::string(value) + "\"");
    } else if (name == "anonymize") {
      if (has_value && !ParseBool(value, &flags.anonymize)) return Fail("--anonymize: true or false");
      if (!has_value) flags.anonymize = true;
    } else if (name == "scrub-secrets") {
      if (!has_value || !ParseBool(value, &flags.scrub)) return Fail("--scrub-secrets: true or false");
    } else if (name == "pss-detail") {
      flags.pss_detail = !has_value || value == "true" || value == "1";
    } else if (name == "log-level") {
      LogLevel level;
      if (!ParseLogLevel(value, &level)) return Fail("--log-level: debug, info, warning or error");
      SetLogLevel(level);
    } else if (name == "pid" && command == "pss") {
      pid = static_cast<uint32_t>(std::strtoul(std::string(value).c_str(), nullptr, 10));
    } else {
      return Fail("unknown flag --" + name);
    }
  }
  if (command == "snapshot") return RunSnapshot(flags);
  if (command == "pss") return RunPss(pid);
  return Fail("unknown command \"" + std::string(command) + "\"\n" + kUsage);
}

}  // namespace
}  // namespace nodeproc

int main(int argc, char** argv) {
#ifdef _O_BINARY
  _setmode(_fileno(stdout), _O_BINARY);
#endif
  return nodeproc::Main(argc, argv);
}
