#include "agent/config.h"

#include <unistd.h>

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
#include "agent/upload_wiring.h"

namespace nodeproc {
namespace {

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
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) == 0 && host[0] != '\0') return host;
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
  c.scan_min_interval = absl::GetFlag(FLAGS_scan_min_interval);
  c.max_process_series = absl::GetFlag(FLAGS_max_process_series);
  c.format = absl::GetFlag(FLAGS_format);
  c.snapshot_wait = absl::GetFlag(FLAGS_snapshot_wait);
  c.web_tls_cert_file = absl::GetFlag(FLAGS_web_tls_cert_file);
  c.web_tls_key_file = absl::GetFlag(FLAGS_web_tls_key_file);
  c.web_basic_auth_user = absl::GetFlag(FLAGS_web_basic_auth_user);
  c.snapshot_files = absl::GetFlag(FLAGS_snapshot_files);
  c.max_files_per_process = absl::GetFlag(FLAGS_max_files_per_process);
  c.package_metrics = absl::GetFlag(FLAGS_package_metrics);

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
  if (c.scan_min_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--scan-min-interval must not be negative");
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
  if (c.package_metrics && !c.snapshot_files) {
    return absl::InvalidArgumentError(
        "--package-metrics needs --snapshot-files (the counts come from the files snapshot)");
  }
  if (c.snapshot_files && c.snapshot_dir.empty()) {
    return absl::InvalidArgumentError(
        "--snapshot-files needs --snapshot-dir (files_<ts>.csv is written next to process_<ts>.csv)");
  }
  if (auto s = CheckReadable(c.proc_root, "proc-root"); !s.ok()) return s;
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
