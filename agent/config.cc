#include "agent/config.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/absl_compat.h"
#include "core/log.h"
#include "core/platform.h"
#include "agent/upload_wiring.h"

namespace nodeproc {
namespace {

constexpr absl::Duration kMinScanInterval = absl::Milliseconds(250);

absl::StatusOr<std::string> ReadSmallFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);  // config files only: not a hot path
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", ToAbsl(what), " file ", path, ": ", std::strerror(errno)));
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::Status CheckReadable(const std::string& path, std::string_view flag) {
  if (::access(path.c_str(), R_OK) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("--", ToAbsl(flag), "=", path,
                                                   " is not readable: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseRetention(std::string_view text, int* keep_files, absl::Duration* max_age) {
  *keep_files = 0;
  *max_age = absl::InfiniteDuration();
  for (absl::string_view part : absl::StrSplit(ToAbsl(text), ',', absl::SkipWhitespace())) {
    part = absl::StripAsciiWhitespace(part);
    int n = 0;
    absl::Duration d;
    if (absl::SimpleAtoi(part, &n) && n > 0) {
      *keep_files = n;
    } else if (absl::ParseDuration(part, &d) && d > absl::ZeroDuration()) {
      *max_age = d;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "--snapshot-retention: '", part, "' is neither a file count nor a duration (e.g. 288,72h)"));
    }
  }
  return absl::OkStatus();
}

std::string ResolveMachineId(const std::string& flag_value, const std::string& etc_dir) {
  if (!flag_value.empty()) return flag_value;
  if (const char* node = std::getenv("NODE_NAME"); node != nullptr && *node != '\0') return node;
  std::ifstream in(etc_dir + "/machine-id");
  std::string id;
  if (in && std::getline(in, id)) {
    absl::StripAsciiWhitespace(&id);
    if (!id.empty()) return id;
  }
  if (std::string host = platform::HostName(); !host.empty()) return host;
  return "unknown";
}

absl::StatusOr<AgentConfig> ConfigFromFlags(const RepeatedFlags& repeated) {
  AgentConfig c;
  c.proc_root = absl::GetFlag(FLAGS_proc_root);
  c.listen_address = absl::GetFlag(FLAGS_listen_address);
  c.snapshot_dir = absl::GetFlag(FLAGS_snapshot_dir);
  c.snapshot_interval = absl::GetFlag(FLAGS_snapshot_interval);
  if (auto s = ParseRetention(absl::GetFlag(FLAGS_snapshot_retention), &c.snapshot_keep_files,
                              &c.snapshot_max_age);
      !s.ok()) {
    return s;
  }
  c.machine_id = ResolveMachineId(absl::GetFlag(FLAGS_machine_id));
  c.anonymize = absl::GetFlag(FLAGS_anonymize);
  c.scrub_secrets = absl::GetFlag(FLAGS_scrub_secrets);
  c.scrub_patterns = repeated.scrub_pattern;
  c.kubelet_url = absl::GetFlag(FLAGS_kubelet_url);
  c.kubelet_token_file = absl::GetFlag(FLAGS_kubelet_token_file);
  c.kubelet_ca_file = absl::GetFlag(FLAGS_kubelet_ca_file);
  c.kubelet_insecure_skip_verify = absl::GetFlag(FLAGS_kubelet_insecure_skip_verify);
  c.kubelet_tls_server_name = absl::GetFlag(FLAGS_kubelet_tls_server_name);
  c.kubelet_cache_validity = absl::GetFlag(FLAGS_kubelet_cache_validity);
  c.kubelet_timeout = absl::GetFlag(FLAGS_kubelet_timeout);
  c.kubelet_fetch_pods = absl::GetFlag(FLAGS_kubelet_fetch_pods);
  c.kubelet_fixture_dir = absl::GetFlag(FLAGS_kubelet_fixture_dir);
  c.container_include = repeated.container_include;
  c.container_exclude = repeated.container_exclude;
  c.exclude_pause_containers = absl::GetFlag(FLAGS_exclude_pause_containers);
  c.cpu_sample_interval = absl::GetFlag(FLAGS_cpu_sample_interval);
  c.scan_interval = absl::GetFlag(FLAGS_scan_interval);
  if (const absl::Duration alias = absl::GetFlag(FLAGS_scan_min_interval);
      alias != absl::InfiniteDuration()) {
    // Deprecated: scrapes no longer scan. Read as the scanner's cadence.
    c.scan_interval = std::max(alias, kMinScanInterval);
    LogWarning("--scan-min-interval is deprecated: use --scan-interval (scrapes never scan)",
               {{"scan_interval", absl::FormatDuration(c.scan_interval)}});
  }
  c.scan_deadline = absl::GetFlag(FLAGS_scan_deadline);
  c.kubelet_max_age = absl::GetFlag(FLAGS_kubelet_max_age);
  c.process_series_grace = absl::GetFlag(FLAGS_process_series_grace);
  c.max_process_series = absl::GetFlag(FLAGS_max_process_series);
  c.format = absl::GetFlag(FLAGS_format);
  c.snapshot_wait = absl::GetFlag(FLAGS_snapshot_wait);
  c.web_tls_cert_file = absl::GetFlag(FLAGS_web_tls_cert_file);
  c.web_tls_key_file = absl::GetFlag(FLAGS_web_tls_key_file);
  c.web_basic_auth_user = absl::GetFlag(FLAGS_web_basic_auth_user);
  c.snapshot_files = absl::GetFlag(FLAGS_snapshot_files);
  c.max_files_per_process = absl::GetFlag(FLAGS_max_files_per_process);
  c.package_metrics = absl::GetFlag(FLAGS_package_metrics);
  c.probe = absl::GetFlag(FLAGS_probe);
  c.passes = absl::GetFlag(FLAGS_passes);
  if (c.probe != "auto" && c.probe != "bpf" && c.probe != "procfs") {
    return absl::InvalidArgumentError(
        absl::StrCat("--probe=", c.probe, ": expected auto, bpf or procfs"));
  }
  if (c.passes < 1 || c.passes > 1000000) {
    return absl::InvalidArgumentError(absl::StrCat("--passes=", c.passes, ": must be between 1 and 1000000"));
  }
  c.max_cmdline_bytes = absl::GetFlag(FLAGS_max_cmdline_bytes);
  c.kubelet_max_pods = absl::GetFlag(FLAGS_kubelet_max_pods);
  c.kubelet_max_containers = absl::GetFlag(FLAGS_kubelet_max_containers);

  LogLevel level;
  if (!ParseLogLevel(absl::GetFlag(FLAGS_log_level), &level)) {
    return absl::InvalidArgumentError(absl::StrCat("--log-level=", absl::GetFlag(FLAGS_log_level),
                                                   ": expected debug, info, warning or error"));
  }
  SetLogLevel(level);

  const std::string mode = absl::GetFlag(FLAGS_process_metrics);
  if (mode != "group" && mode != "pid") {
    return absl::InvalidArgumentError(
        absl::StrCat("--process-metrics=", mode, ": expected group or pid"));
  }
  c.process_metrics_per_pid = mode == "pid";
  if (c.max_process_series < 1) {
    return absl::InvalidArgumentError("--max-process-series must be at least 1");
  }
  if (c.format != "csv" && c.format != "json" && c.format != "table") {
    return absl::InvalidArgumentError(
        absl::StrCat("--format=", c.format, ": expected csv, json or table"));
  }
  if (c.snapshot_interval < absl::Seconds(1)) {
    return absl::InvalidArgumentError("--snapshot-interval must be at least 1s");
  }
  if (c.cpu_sample_interval < absl::Milliseconds(100) || c.cpu_sample_interval > absl::Minutes(5)) {
    return absl::InvalidArgumentError("--cpu-sample-interval must be between 100ms and 5m");
  }
  if (absl::GetFlag(FLAGS_scan_min_interval) < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--scan-min-interval must not be negative");
  }
  if (c.scan_interval < kMinScanInterval || c.scan_interval > absl::Minutes(10)) {
    return absl::InvalidArgumentError("--scan-interval must be between 250ms and 10m");
  }
  if (c.scan_deadline < absl::Seconds(1)) {
    return absl::InvalidArgumentError("--scan-deadline must be at least 1s");
  }
  if (c.kubelet_max_age < c.kubelet_cache_validity) {
    return absl::InvalidArgumentError(
        "--kubelet-max-age must not be shorter than --kubelet-cache-validity");
  }
  if (c.process_series_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--process-series-grace must not be negative");
  }
  if (c.snapshot_wait < absl::ZeroDuration() || c.snapshot_wait > absl::Minutes(1)) {
    return absl::InvalidArgumentError("--snapshot-wait must be between 0s and 1m");
  }
  if (c.kubelet_timeout <= absl::ZeroDuration() || c.kubelet_cache_validity <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--kubelet-timeout and --kubelet-cache-validity must be positive");
  }
  if (c.max_files_per_process < 1 || c.max_files_per_process > 65536) {
    return absl::InvalidArgumentError(absl::StrCat("--max-files-per-process=", c.max_files_per_process,
                                                   ": must be between 1 and 65536"));
  }
  if (c.max_cmdline_bytes < 64 || c.max_cmdline_bytes > 2097152) {
    return absl::InvalidArgumentError(absl::StrCat("--max-cmdline-bytes=", c.max_cmdline_bytes,
                                                   ": must be between 64 and 2097152"));
  }
  if (c.kubelet_max_pods < 1 || c.kubelet_max_pods > 100000) {
    return absl::InvalidArgumentError(absl::StrCat("--kubelet-max-pods=", c.kubelet_max_pods,
                                                   ": must be between 1 and 100000"));
  }
  if (c.kubelet_max_containers < 1 || c.kubelet_max_containers > 10000) {
    return absl::InvalidArgumentError(absl::StrCat("--kubelet-max-containers=", c.kubelet_max_containers,
                                                   ": must be between 1 and 10000"));
  }
  if (c.package_metrics && !c.snapshot_files) {
    return absl::InvalidArgumentError(
        "--package-metrics needs --snapshot-files (the counts come from the files snapshot)");
  }
  if (c.snapshot_files && c.snapshot_dir.empty()) {
    return absl::InvalidArgumentError(
        "--snapshot-files needs --snapshot-dir (files_<ts>.csv is written next to process_<ts>.csv)");
  }
  if (platform::HasProcfs()) {  // Windows has no procfs: --proc-root is not read there
    if (auto s = CheckReadable(c.proc_root, "proc-root"); !s.ok()) return s;
  }
  if (auto s = UploadConfigFromFlags(&c); !s.ok()) return s;

  if (const std::string key_file = absl::GetFlag(FLAGS_anonymize_key_file); !key_file.empty()) {
    auto key = ReadSmallFile(key_file, "--anonymize-key-file");
    if (!key.ok()) return key.status();
    c.anonymize_key = *key;
    absl::StripTrailingAsciiWhitespace(&c.anonymize_key);
    if (c.anonymize_key.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--anonymize-key-file=", key_file, " is empty"));
    }
    c.anonymize = true;
  }
  if (!c.kubelet_url.empty()) {
    if (!c.kubelet_insecure_skip_verify) {
      if (auto s = CheckReadable(c.kubelet_ca_file, "kubelet-ca-file"); !s.ok()) return s;
    }
    if (auto s = CheckReadable(c.kubelet_token_file, "kubelet-token-file"); !s.ok()) return s;
    if (c.kubelet_tls_server_name.empty()) {
      if (const char* node = std::getenv("NODE_NAME"); node != nullptr) c.kubelet_tls_server_name = node;
    }
  }
  if (!c.kubelet_fixture_dir.empty()) {
    if (auto s = CheckReadable(c.kubelet_fixture_dir, "kubelet-fixture-dir"); !s.ok()) return s;
  }
  if ((c.web_tls_cert_file.empty()) != (c.web_tls_key_file.empty())) {
    return absl::InvalidArgumentError("--web-tls-cert-file and --web-tls-key-file go together");
  }
  c.web_basic_auth_password_file = absl::GetFlag(FLAGS_web_basic_auth_password_file);
  c.web_bearer_token_file = absl::GetFlag(FLAGS_web_bearer_token_file);
  if (c.web_basic_auth_user.empty() != c.web_basic_auth_password_file.empty()) {
    return absl::InvalidArgumentError(
        "--web-basic-auth-user and --web-basic-auth-password-file go together");
  }
  for (const auto& [file, flag] : {std::pair{c.web_basic_auth_password_file, "web-basic-auth-password-file"},
                                   std::pair{c.web_bearer_token_file, "web-bearer-token-file"},
                                   std::pair{c.web_tls_cert_file, "web-tls-cert-file"},
                                   std::pair{c.web_tls_key_file, "web-tls-key-file"}}) {
    if (file.empty()) continue;
    if (auto s = CheckReadable(file, flag); !s.ok()) return s;
  }
  return c;
}

}  // namespace nodeproc
