#pragma once
// Command-line flags of `nodeproc run|snapshot` (DESIGN.md "Command line": a contract).
// Each flag is also settable as env NODEPROC_<FLAG_IN_CAPS>; the command line wins.
// Flags are written with dashes (--proc-root); underscores are accepted too.
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

ABSL_DECLARE_FLAG(std::string, proc_root);
ABSL_DECLARE_FLAG(std::string, listen_address);
ABSL_DECLARE_FLAG(std::string, snapshot_dir);
ABSL_DECLARE_FLAG(absl::Duration, snapshot_interval);
ABSL_DECLARE_FLAG(std::string, snapshot_retention);
ABSL_DECLARE_FLAG(std::string, machine_id);
ABSL_DECLARE_FLAG(bool, anonymize);
ABSL_DECLARE_FLAG(std::string, anonymize_key_file);
ABSL_DECLARE_FLAG(bool, scrub_secrets);
ABSL_DECLARE_FLAG(std::string, kubelet_url);
ABSL_DECLARE_FLAG(std::string, kubelet_token_file);
ABSL_DECLARE_FLAG(std::string, kubelet_ca_file);
ABSL_DECLARE_FLAG(bool, kubelet_insecure_skip_verify);
ABSL_DECLARE_FLAG(std::string, kubelet_tls_server_name);
ABSL_DECLARE_FLAG(absl::Duration, kubelet_cache_validity);
ABSL_DECLARE_FLAG(absl::Duration, kubelet_timeout);
ABSL_DECLARE_FLAG(bool, kubelet_fetch_pods);
ABSL_DECLARE_FLAG(std::string, kubelet_fixture_dir);
ABSL_DECLARE_FLAG(bool, exclude_pause_containers);
ABSL_DECLARE_FLAG(absl::Duration, cpu_sample_interval);
ABSL_DECLARE_FLAG(absl::Duration, scan_min_interval);
ABSL_DECLARE_FLAG(absl::Duration, scan_interval);
ABSL_DECLARE_FLAG(absl::Duration, scan_deadline);
ABSL_DECLARE_FLAG(absl::Duration, kubelet_max_age);
ABSL_DECLARE_FLAG(absl::Duration, process_series_grace);
ABSL_DECLARE_FLAG(std::string, process_metrics);
ABSL_DECLARE_FLAG(int, max_process_series);
ABSL_DECLARE_FLAG(std::string, log_level);
ABSL_DECLARE_FLAG(std::string, format);
ABSL_DECLARE_FLAG(absl::Duration, snapshot_wait);
ABSL_DECLARE_FLAG(std::string, web_tls_cert_file);
ABSL_DECLARE_FLAG(std::string, web_tls_key_file);
ABSL_DECLARE_FLAG(std::string, web_basic_auth_user);
ABSL_DECLARE_FLAG(std::string, web_basic_auth_password_file);
ABSL_DECLARE_FLAG(std::string, web_bearer_token_file);
ABSL_DECLARE_FLAG(bool, snapshot_files);
ABSL_DECLARE_FLAG(int, max_files_per_process);
ABSL_DECLARE_FLAG(bool, package_metrics);
ABSL_DECLARE_FLAG(std::string, probe);
ABSL_DECLARE_FLAG(int, passes);
ABSL_DECLARE_FLAG(int, max_cmdline_bytes);
ABSL_DECLARE_FLAG(int, kubelet_max_pods);
ABSL_DECLARE_FLAG(int, kubelet_max_containers);

namespace nodeproc {

// Values of the repeatable flags, which absl cannot express: --container-include,
// --container-exclude, --scrub-pattern. Each may be given many times; from the environment
// (NODEPROC_CONTAINER_INCLUDE, ...) values are separated by newlines.
struct RepeatedFlags {
  std::vector<std::string> container_include;
  std::vector<std::string> container_exclude;
  std::vector<std::string> scrub_pattern;
};

// Parses argv (argv[0] is the program, argv[1] the sub-command, already removed by the caller
// into `command`): env first, then the command line. Returns the positional arguments left.
// On a bad flag or value returns InvalidArgument with one clear line.
absl::StatusOr<std::vector<std::string>> ParseFlags(int argc, char** argv, RepeatedFlags* repeated);

// The command line of `nodeproc <sub-command> [flags]`: argv[1] is the sub-command; the flags
// after it are parsed as ParseFlags does, and any positional argument is an error.
absl::Status ParseCommandFlags(int argc, char** argv, RepeatedFlags* repeated);

}  // namespace nodeproc
