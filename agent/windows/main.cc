// nodeproc.exe: the Windows build's entry point (mingw-w64; no prometheus-cpp, kubelet or
// absl flags there). It takes one snapshot with the same pieces as Linux `nodeproc snapshot`:
// probe -> CPU windows (two sampler passes --snapshot-wait apart) -> full scan -> command-line
// privacy -> RenderCsv/RenderJson/RenderTable. Flags are parsed by hand:
//   nodeproc.exe snapshot [--format=csv|json|table] [--snapshot-wait=1s] [--anonymize]
//                         [--scrub-secrets=true|false] [--log-level=info]
//   nodeproc.exe run --snapshot-dir=DIR [--machine-id=ID] [--snapshot-interval=300s]
//                    [--snapshot-retention=288] [--cpu-sample-interval=5s] [...]
//                    the DaemonSet loop: CPU sampler + a CSV snapshot file at start and every
//                    interval, in the contract layout, written atomically (no /metrics here:
//                    the Prometheus exporter is not part of the Windows build)
//   nodeproc.exe pss [--pid=N]      PSS detail (handles by type, threads) of one process
//   nodeproc.exe version
#include <fcntl.h>
#include <io.h>
#include <windows.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>
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
    "  nodeproc.exe run --snapshot-dir=DIR [--machine-id=ID] [--snapshot-interval=300s]\n"
    "                   [--snapshot-retention=288] [--cpu-sample-interval=5s] [snapshot flags]\n"
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
  // run
  std::string snapshot_dir;
  std::string machine_id;
  absl::Duration snapshot_interval = absl::Seconds(300);
  int retention = 288;
  absl::Duration cpu_sample_interval = absl::Seconds(5);
};

std::atomic<bool> g_stop{false};

BOOL WINAPI OnConsoleEvent(DWORD) {
  g_stop.store(true);  // Ctrl-C, Ctrl-Break, close, shutdown (a container stop)
  return TRUE;
}

// Sleeps up to `d`, waking early on a stop request.
void SleepUnlessStopped(absl::Duration d) {
  const absl::Time until = absl::Now() + d;
  while (!g_stop.load() && absl::Now() < until) {
    absl::SleepFor(std::min(absl::Milliseconds(200), until - absl::Now()));
  }
}

// YYYYMMDDTHHMMSSZ, as the Linux snapshot writer names folders and files.
std::string CompactTime(absl::Time t) { return absl::FormatTime("%Y%m%dT%H%M%SZ", t, absl::UTCTimeZone()); }

// [A-Za-z0-9._-] kept, the rest '_', never empty, "." or "..": one path component.
std::string SanitizeMachineId(std::string_view id) {
  std::string out;
  for (char c : id) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
    out.push_back(keep ? c : '_');
  }
  if (out.empty() || out == "." || out == "..") out = "unknown";
  return out;
}

// Writes `text` to `path` atomically: a temp file in the same folder, flushed to disk, then
// renamed over (MoveFileEx with write-through). A reader sees a whole file or none.
bool WriteFileAtomically(const std::filesystem::path& path, const std::string& text, std::string* error) {
  const std::filesystem::path temp =
      path.parent_path() / ("." + path.filename().string() + "." + std::to_string(GetCurrentProcessId()) + ".tmp");
  HANDLE f = CreateFileW(temp.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (f == INVALID_HANDLE_VALUE) {
    *error = "cannot create " + temp.string() + ": error " + std::to_string(GetLastError());
    return false;
  }
  size_t done = 0;
  bool ok = true;
  while (ok && done < text.size()) {
    DWORD n = 0;
    const DWORD chunk = static_cast<DWORD>(std::min<size_t>(text.size() - done, 1 << 20));
    ok = WriteFile(f, text.data() + done, chunk, &n, nullptr) && n > 0;
    done += n;
  }
  ok = ok && FlushFileBuffers(f);
  const DWORD err = ok ? 0 : GetLastError();
  CloseHandle(f);
  if (!ok || !MoveFileExW(temp.c_str(), path.c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    *error = "cannot write " + path.string() + ": error " + std::to_string(ok ? GetLastError() : err);
    DeleteFileW(temp.c_str());
    return false;
  }
  return true;
}

// Keeps the `keep` newest process_*.csv of the machine (every agent-start folder).
void ApplyRetention(const std::filesystem::path& machine_dir, int keep) {
  if (keep <= 0) return;
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& start : std::filesystem::directory_iterator(machine_dir, ec)) {
    std::error_code ec2;
    for (const auto& f : std::filesystem::directory_iterator(start.path() / "process", ec2)) {
      const std::string name = f.path().filename().string();
      if (name.rfind("process_", 0) == 0 && f.path().extension() == ".csv") files.push_back(f.path());
    }
  }
  // Names sort by time (process_YYYYMMDDTHHMMSSZ.csv).
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.filename() < b.filename(); });
  for (size_t i = 0; i + static_cast<size_t>(keep) < files.size(); ++i) std::filesystem::remove(files[i], ec);
}

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

int RunLoop(const SnapshotFlags& flags) {
  if (flags.snapshot_dir.empty()) return Fail("run needs --snapshot-dir (the Windows build has no /metrics)");
  auto privacy = CmdlinePrivacy::Create(CmdlinePrivacyOptions{flags.anonymize, "", flags.scrub, {}});
  if (!privacy.ok()) return Fail(std::string(privacy.status().message()));
  std::string machine = flags.machine_id;
  if (machine.empty()) {
    const char* node = std::getenv("NODE_NAME");
    const char* computer = std::getenv("COMPUTERNAME");
    machine = node != nullptr && *node ? node : (computer != nullptr ? computer : "");
  }
  const absl::Time agent_start = absl::Now();
  const std::filesystem::path machine_dir = std::filesystem::path(flags.snapshot_dir) / SanitizeMachineId(machine);
  const std::filesystem::path process_dir = machine_dir / CompactTime(agent_start) / "process";
  std::error_code ec;
  std::filesystem::create_directories(process_dir, ec);
  if (ec) return Fail("cannot create " + process_dir.string() + ": " + ec.message());
  SetConsoleCtrlHandler(OnConsoleEvent, TRUE);
  LogInfo("agent started (windows)", {{"snapshot_dir", process_dir.string()},
                                     {"interval_s", absl::ToDoubleSeconds(flags.snapshot_interval)}});

  win::ToolhelpProbe::Options options;
  options.pss_detail = flags.pss_detail;
  win::ToolhelpProbe probe(options);
  CpuWindows windows;
  std::vector<CpuSample> samples;
  auto sample = [&] {
    if (absl::Status s = probe.SampleCpu(&samples); s.ok()) {
      windows.Observe(absl::Now(), samples);
    } else {
      LogWarning("CPU sample failed", {{"error", std::string(s.message())}});
    }
  };
  sample();
  SleepUnlessStopped(flags.wait);  // two samples before the first snapshot, as `snapshot`
  sample();
  absl::Time next_snapshot = absl::Now();
  absl::Time next_sample = absl::Now() + flags.cpu_sample_interval;
  while (!g_stop.load()) {
    if (absl::Now() >= next_snapshot) {
      Snapshot snap;
      if (absl::Status s = probe.Scan(&snap.processes); !s.ok()) {
        LogError("scan failed", {{"error", std::string(s.message())}});
      } else {
        snap.taken_at = absl::Now();
        for (ProcessRecord& r : snap.processes) {
          r.cpu = windows.Usage(r.pid, r.start_ticks, r.start_time_unix, r.cpu_seconds, snap.taken_at);
          r.cmdline = privacy->Apply(r.cmdline);
        }
        const std::filesystem::path path = process_dir / ("process_" + CompactTime(snap.taken_at) + ".csv");
        std::string error;
        if (WriteFileAtomically(path, RenderCsv(snap), &error)) {
          LogInfo("snapshot written", {{"path", path.string()}, {"rows", snap.processes.size()}});
          ApplyRetention(machine_dir, flags.retention);
        } else {
          LogError("snapshot failed", {{"error", error}});
        }
      }
      next_snapshot += flags.snapshot_interval;
    }
    if (absl::Now() >= next_sample) {
      sample();
      next_sample += flags.cpu_sample_interval;
    }
    SleepUnlessStopped(std::max(absl::Milliseconds(10), std::min(next_snapshot, next_sample) - absl::Now()));
  }
  LogInfo("stopping");
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
    } else if (name == "snapshot-dir") {
      flags.snapshot_dir = std::string(value);
    } else if (name == "machine-id") {
      flags.machine_id = std::string(value);
    } else if (name == "snapshot-interval" || name == "cpu-sample-interval") {
      absl::Duration* d = name == "snapshot-interval" ? &flags.snapshot_interval : &flags.cpu_sample_interval;
      if (!ParseDuration(value, d) || *d <= absl::ZeroDuration()) {
        return Fail("--" + name + ": bad duration \"" + std::string(value) + "\"");
      }
    } else if (name == "snapshot-retention") {
      // A file count ("288"); the Linux agent's age limit ("288,72h") is not supported here.
      char* end = nullptr;
      const std::string v(value);
      flags.retention = static_cast<int>(std::strtol(v.c_str(), &end, 10));
      if (v.empty() || *end != '\0') return Fail("--snapshot-retention: a file count, e.g. 288");
    } else if (name == "pid" && command == "pss") {
      pid = static_cast<uint32_t>(std::strtoul(std::string(value).c_str(), nullptr, 10));
    } else {
      return Fail("unknown flag --" + name);
    }
  }
  if (command == "snapshot") return RunSnapshot(flags);
  if (command == "pss") return RunPss(pid);
  if (command == "run") return RunLoop(flags);
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
