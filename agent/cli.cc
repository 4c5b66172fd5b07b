#include "agent/cli.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <thread>

#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/agent.h"
#include "agent/config.h"
#include "agent/flags.h"
#include "core/absl_compat.h"
#include "core/log.h"
#include "exporters/snapshot_format.h"

namespace nodeproc {
namespace {

constexpr char kUsage[] =
    "nodeproc: per-node process agent for Kubernetes.\n"
    "usage:\n"
    "  nodeproc run      [flags]   run the agent (metrics server, CPU sampler, CSV snapshots)\n"
    "  nodeproc snapshot [flags]   take one snapshot now and print it (--format=csv|json|table)\n"
    "  nodeproc scan     [flags]   run --passes=N full scans as the agent's scanner does and\n"
    "                              print the processes found per pass (time it from outside)\n"
    "  nodeproc version            print the version\n"
    "Flags are written --flag-name=value (or --flag_name); each is also read from the\n"
    "environment as NODEPROC_FLAG_NAME. Repeatable: --container-include, --container-exclude,\n"
    "--scrub-pattern. Try --helpfull for the list.";

void WriteAll(const std::string& text) {
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

int Fail(const absl::Status& s) {
  // One clear line on stderr.
  std::fprintf(stderr, "nodeproc: %s\n", std::string(ToStd(s.message())).c_str());
  return 2;
}

int RunAgent(const AgentConfig& config) {
  // Signals are taken by one thread with sigwait: every other thread inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  Agent agent(config);
  if (absl::Status s = agent.Init(); !s.ok()) return Fail(s);
  std::thread signals([&agent, set] {
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGHUP) {
        LogInfo("SIGHUP received: configuration is read at start only; restart to apply changes");
        continue;
      }
      LogInfo("signal received, stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
      agent.RequestStop();
      return;
    }
  });
  signals.detach();  // it ends with the process; a stop from elsewhere must not wait on it
  absl::Status s = agent.Run();
  if (!s.ok()) return Fail(s);
  return 0;
}

// `snapshot` and `scan`: one process, no HTTP server, no CSV thread, no background kubelet refresh.
AgentConfig OneShot(AgentConfig c) {
  c.listen_address.clear();
  c.snapshot_dir.clear();
  c.one_shot = true;
  return c;
}

int RunSnapshot(const AgentConfig& config) {
  const AgentConfig c = OneShot(config);
  Agent agent(c);
  if (absl::Status s = agent.Init(); !s.ok()) return Fail(s);
  agent.LogProbeChoice();
  // Two CPU samples one --snapshot-wait apart make cpu_5s real; with a zero wait the window
  // falls back to each process's lifetime average, so one sample is enough.
  if (c.snapshot_wait > absl::ZeroDuration()) agent.SampleOnce();
  agent.RefreshKubeletNow();
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

// `nodeproc scan`: --passes full scans in one process with the agent's probe selection and
// pipeline (caches warm after the first pass), one line per pass, for timing from outside.
int RunScan(const AgentConfig& config) {
  const AgentConfig c = OneShot(config);
  Agent agent(c);
  if (absl::Status s = agent.Init(); !s.ok()) return Fail(s);
  agent.LogProbeChoice();
  for (int pass = 1; pass <= c.passes; ++pass) {
    auto snap = agent.TakeSnapshot();
    if (!snap.ok()) return Fail(snap.status());
    WriteAll(absl::StrCat("pass ", pass, ": ", (*snap)->processes.size(), " processes\n"));
  }
  return 0;
}

}  // namespace

int RunCli(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  std::string_view command = argc >= 2 ? std::string_view(argv[1]) : std::string_view();
  if (command == "version" || command == "--version") {
    std::printf("nodeproc %s (commit %s)\n", NODEPROC_VERSION, NODEPROC_GIT_COMMIT);
    return 0;
  }
  if (command != "run" && command != "snapshot" && command != "scan") {
    std::fprintf(stderr, "%s\n", kUsage);
    return command == "help" || command == "--help" || command == "-h" ? 0 : 2;
  }
  RepeatedFlags repeated;
  if (absl::Status s = ParseCommandFlags(argc, argv, &repeated); !s.ok()) return Fail(s);
  auto config = ConfigFromFlags(repeated);
  if (!config.ok()) return Fail(config.status());
  if (command == "scan") return RunScan(*config);
  return command == "run" ? RunAgent(*config) : RunSnapshot(*config);
}

}  // namespace nodeproc
