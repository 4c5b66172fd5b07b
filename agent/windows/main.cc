// nodeproc.exe: the Windows entry point. The same sub-commands, flags (agent/flags.h, env
// NODEPROC_<FLAG>) and configuration as Linux `nodeproc`; the agent is WindowsAgent (the
// shared pipeline, writer and /metrics contract over the Toolhelp/PSS probe). Windows-only:
//   --pss-detail           PSS capture (handles by type, threads) on every scan
//   nodeproc.exe pss [--pid=N]   PSS detail of one process (default: this one)
// and the console control handler (Ctrl-C, Ctrl-Break, close, shutdown = a container stop).
#include <fcntl.h>
#include <io.h>
#include <windows.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/config.h"
#include "agent/flags.h"
#include "agent/windows/windows_agent.h"
#include "collectors/windows/pss_snapshot.h"
#include "core/absl_compat.h"
#include "core/log.h"
#include "exporters/snapshot_format.h"

ABSL_FLAG(bool, pss_detail, false, "Windows: capture PSS detail (handles by type, threads) on every scan");
ABSL_FLAG(int, pid, 0, "Windows `pss`: the process to capture (default: nodeproc.exe itself)");

namespace nodeproc {
namespace {

constexpr char kUsage[] =
    "nodeproc (Windows): per-node process agent.\n"
    "usage:\n"
    "  nodeproc.exe run      [flags]   serve /metrics, sample CPU, write CSV snapshots\n"
    "  nodeproc.exe snapshot [flags]   take one snapshot now and print it (--format=csv|json|table)\n"
    "  nodeproc.exe pss [--pid=N]      PSS detail of one process (default: this one)\n"
    "  nodeproc.exe version\n"
    "Flags as on Linux (--flag-name=value, env NODEPROC_FLAG_NAME); not on Windows: kubelet,\n"
    "container filters, --snapshot-files, --package-metrics, upload, TLS. Try --helpfull.";

std::atomic<win::WindowsAgent*> g_agent{nullptr};

BOOL WINAPI OnConsoleEvent(DWORD) {
  if (win::WindowsAgent* agent = g_agent.load()) agent->RequestStop();
  return TRUE;
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "nodeproc: %s\n", std::string(ToStd(s.message())).c_str());
  return 2;
}

void WriteAll(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);  // binary stdout: "\n" stays "\n"
  std::fflush(stdout);
}

win::ToolhelpProbe::Options ProbeOptions() {
  win::ToolhelpProbe::Options options;
  options.pss_detail = absl::GetFlag(FLAGS_pss_detail);
  return options;
}

int RunAgent(const AgentConfig& config) {
  win::WindowsAgent agent(config, ProbeOptions());
  if (absl::Status s = agent.Init(); !s.ok()) return Fail(s);
  g_agent.store(&agent);
  SetConsoleCtrlHandler(OnConsoleEvent, TRUE);
  absl::Status s = agent.Run();
  SetConsoleCtrlHandler(OnConsoleEvent, FALSE);
  g_agent.store(nullptr);
  return s.ok() ? 0 : Fail(s);
}

int RunSnapshot(const AgentConfig& config) {
  AgentConfig c = config;
  c.listen_address.clear();
  c.snapshot_dir.clear();
  c.one_shot = true;
  win::WindowsAgent agent(c, ProbeOptions());
  if (absl::Status s = agent.Init(); !s.ok()) return Fail(s);
  if (c.snapshot_wait > absl::ZeroDuration()) agent.SampleOnce();
  absl::SleepFor(c.snapshot_wait);
  agent.SampleOnce();
  auto snap = agent.TakeSnapshot();
  if (!snap.ok()) return Fail(snap.status());
  if (c.format == "csv") {
    WriteAll(RenderCsv(**snap));
  } else if (c.format == "json") {
    WriteAll(RenderJson(**snap));
  } else {
    WriteAll(RenderTable(**snap));
  }
  return 0;
}

int RunPss() {
  if (!win::PssAvailable()) return Fail(absl::UnavailableError("PSS (PssCaptureSnapshot) is not available on this system"));
  const int pid_flag = absl::GetFlag(FLAGS_pid);
  const uint32_t pid = pid_flag > 0 ? static_cast<uint32_t>(pid_flag) : GetCurrentProcessId();
  auto d = win::CapturePssDetail(pid, win::PssOptions{true, true});
  if (!d.ok()) return Fail(d.status());
  std::string out = absl::StrCat("pid ", d->pid, " ppid ", d->ppid, " image ", d->image_file_name,
                                 "\nhandles_captured ", d->handles_captured, " threads_captured ",
                                 d->threads_captured, " handle_walk_complete ",
                                 d->handle_walk_complete ? "true" : "false", " thread_walk_complete ",
                                 d->thread_walk_complete ? "true" : "false", "\n");
  for (const auto& [type, n] : d->handle_types) absl::StrAppend(&out, "handle_type ", type, " ", n, "\n");
  for (const auto& t : d->threads) {
    absl::StrAppend(&out, "thread ", t.thread_id, " cpu_seconds ", t.cpu_seconds, " priority ", t.priority,
                    " suspend_count ", t.suspend_count, "\n");
  }
  WriteAll(out);
  return 0;
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  const std::string_view command = argc >= 2 ? std::string_view(argv[1]) : std::string_view();
  if (command == "version" || command == "--version") {
    std::printf("nodeproc %s (commit %s, windows)\n", NODEPROC_VERSION, NODEPROC_GIT_COMMIT);
    return 0;
  }
  if (command != "run" && command != "snapshot" && command != "pss") {
    std::fprintf(stderr, "%s\n", kUsage);
    return command == "help" || command == "--help" || command == "-h" ? 0 : 2;
  }
  RepeatedFlags repeated;
  if (absl::Status s = ParseCommandFlags(argc, argv, &repeated); !s.ok()) return Fail(s);
  if (command == "pss") return RunPss();
  // What Windows cannot do is refused first, with its reason (not as a missing kubelet CA file).
  AgentConfig wanted;
  wanted.kubelet_url = absl::GetFlag(FLAGS_kubelet_url);
  wanted.kubelet_fixture_dir = absl::GetFlag(FLAGS_kubelet_fixture_dir);
  wanted.snapshot_files = absl::GetFlag(FLAGS_snapshot_files);
  wanted.package_metrics = absl::GetFlag(FLAGS_package_metrics);
  wanted.web_tls_cert_file = absl::GetFlag(FLAGS_web_tls_cert_file);
  wanted.web_tls_key_file = absl::GetFlag(FLAGS_web_tls_key_file);
  wanted.container_include = repeated.container_include;
  wanted.container_exclude = repeated.container_exclude;
  if (absl::Status s = win::CheckWindowsConfig(wanted); !s.ok()) return Fail(s);
  auto config = ConfigFromFlags(repeated);
  if (!config.ok()) return Fail(config.status());
  return command == "run" ? RunAgent(*config) : RunSnapshot(*config);
}

}  // namespace
}  // namespace nodeproc

int main(int argc, char** argv) {
  _setmode(_fileno(stdout), _O_BINARY);
  return nodeproc::Main(argc, argv);
}
