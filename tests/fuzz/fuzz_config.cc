// Fuzzes the configuration path a user controls: NODEPROC_<FLAG> environment values (parsed by
// ParseFlags exactly like at start), ConfigFromFlags' validation, and ParseRetention.
//
// Input: records separated by NUL; a record's first byte picks a flag, the rest is its value.
// Flags whose value names a file that ConfigFromFlags *reads* (key, password, token files) are
// left out: reading /dev/zero would only fuzz the kernel.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/reflection.h"
#include "absl/time/time.h"
#include "agent/config.h"
#include "agent/flags.h"

namespace {

constexpr const char* kFlags[] = {
    "PROC_ROOT", "LISTEN_ADDRESS", "SNAPSHOT_DIR", "SNAPSHOT_INTERVAL", "SNAPSHOT_RETENTION",
    "MACHINE_ID", "ANONYMIZE", "SCRUB_SECRETS", "KUBELET_URL", "KUBELET_TOKEN_FILE",
    "KUBELET_CA_FILE", "KUBELET_INSECURE_SKIP_VERIFY", "KUBELET_TLS_SERVER_NAME",
    "KUBELET_CACHE_VALIDITY", "KUBELET_TIMEOUT", "KUBELET_FETCH_PODS", "KUBELET_FIXTURE_DIR",
    "EXCLUDE_PAUSE_CONTAINERS", "CPU_SAMPLE_INTERVAL", "SCAN_MIN_INTERVAL", "PROCESS_METRICS",
    "MAX_PROCESS_SERIES", "LOG_LEVEL", "FORMAT", "SNAPSHOT_WAIT", "WEB_TLS_CERT_FILE",
    "WEB_TLS_KEY_FILE", "WEB_BASIC_AUTH_USER", "CONTAINER_INCLUDE", "CONTAINER_EXCLUDE",
    "SCRUB_PATTERN",
};
constexpr size_t kFlagCount = sizeof(kFlags) / sizeof(kFlags[0]);

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // 1. Retention on its own: accepted values are sane.
  int keep = -1;
  absl::Duration age;
  if (nodeproc::ParseRetention(input, &keep, &age).ok()) {
    Check(keep >= 0);
    Check(age > absl::ZeroDuration());
  }

  // 2. Environment -> ParseFlags -> ConfigFromFlags, flags restored afterwards.
  absl::FlagSaver saver;
  std::vector<std::string> set_names;
  size_t start = 0;
  while (start < input.size() && set_names.size() < 8) {
    size_t end = input.find('\0', start);
    if (end == std::string_view::npos) end = input.size();
    std::string_view record = input.substr(start, end - start);
    start = end + 1;
    if (record.empty()) continue;
    std::string name = std::string("NODEPROC_") + kFlags[static_cast<uint8_t>(record[0]) % kFlagCount];
    std::string value(record.substr(1));
    ::setenv(name.c_str(), value.c_str(), 1);
    set_names.push_back(name);
  }
  char arg0[] = "nodeproc";
  char* argv[] = {arg0, nullptr};
  nodeproc::RepeatedFlags repeated;
  auto positional = nodeproc::ParseFlags(1, argv, &repeated);
  if (positional.ok()) {
    Check(positional->empty());
    auto config = nodeproc::ConfigFromFlags(repeated);
    if (config.ok()) {
      // What validation promises to the rest of the agent.
      Check(config->snapshot_interval >= absl::Seconds(1));
      Check(config->max_process_series >= 1);
      Check(config->scan_interval >= absl::Milliseconds(250));
      Check(config->kubelet_timeout > absl::ZeroDuration());
      Check(config->format == "csv" || config->format == "json" || config->format == "table");
      Check(!config->machine_id.empty());
    } else {
      // One clear line (unless the user's own value holds a newline).
      if (input.find('\n') == std::string_view::npos) {
        Check(config.status().message().find('\n') == std::string_view::npos);
      }
    }
  }
  for (const std::string& name : set_names) ::unsetenv(name.c_str());
  return 0;
}
