#pragma once
// The agent's validated configuration, built from flags (and env) once at start.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/flags.h"

namespace nodeproc {

struct AgentConfig {
  std::string proc_root = "/proc";
  std::string listen_address;
  std::string snapshot_dir;
  absl::Duration snapshot_interval = absl::Seconds(300);
  int snapshot_keep_files = 288;
  absl::Duration snapshot_max_age = absl::Hours(168);
  std::string machine_id;

  bool anonymize = false;
  std::string anonymize_key;  // the key file's content
  bool scrub_secrets = true;
  std::vector<std::string> scrub_patterns;

  std::string kubelet_url;
  std::string kubelet_token_file;
  std::string kubelet_ca_file;
  bool kubelet_insecure_skip_verify = false;
  std::string kubelet_tls_server_name;
  absl::Duration kubelet_cache_validity = absl::Seconds(10);
  absl::Duration kubelet_timeout = absl::Seconds(5);
  bool kubelet_fetch_pods = true;
  std::string kubelet_fixture_dir;

  std::vector<std::string> container_include;
  std::vector<std::string> container_exclude;
  bool exclude_pause_containers = true;

  absl::Duration cpu_sample_interval = absl::Seconds(5);
  absl::Duration scan_interval = absl::Seconds(5);    // --scan-interval (or deprecated --scan-min-interval)
  absl::Duration scan_deadline = absl::Seconds(30);   // --scan-deadline
  absl::Duration kubelet_max_age = absl::Seconds(60); // --kubelet-max-age
  absl::Duration process_series_grace = absl::Minutes(5);  // --process-series-grace
  bool process_metrics_per_pid = false;
  int max_process_series = 2000;

  std::string format = "table";
  bool one_shot = false;  // `nodeproc snapshot`: no threads, blocking kubelet refresh
  absl::Duration snapshot_wait = absl::Seconds(1);

  std::string web_tls_cert_file;
  std::string web_tls_key_file;
  std::string web_basic_auth_user;
  std::string web_basic_auth_password_file;  // read by the HTTP server
  std::string web_bearer_token_file;

  // Deep snapshot (`run` only): files_<ts>.csv next to each process CSV.
  bool snapshot_files = false;
  int max_files_per_process = 128;
  bool package_metrics = false;  // nodeproc_loaded_package_processes, from the files phase

  std::string probe = "auto";  // --probe: auto, bpf or procfs (agent/probe_selection.h)
  int passes = 1;              // `scan`: full scans to run
  // Memory bounds on what workloads and the kubelet control (README "Memory budget").
  int max_cmdline_bytes = 4096;
  int kubelet_max_pods = 1000;
  int kubelet_max_containers = 64;
  // Snapshot upload (`run` only; empty bucket = off). See agent/upload_wiring.h.
  std::string upload_bucket;
  std::string upload_endpoint;
  std::string upload_region;
  std::string upload_prefix;
  bool upload_path_style = false;
  std::string upload_access_key_id_file;
  std::string upload_secret_access_key_file;
  std::string upload_session_token_file;
  std::string upload_ca_file;
  absl::Duration upload_timeout = absl::Seconds(120);
  absl::Duration upload_backoff_max = absl::Minutes(5);
  int upload_spool_max_snapshots = 2016;

  bool kubelet_enabled() const { return !kubelet_url.empty() || !kubelet_fixture_dir.empty(); }
};

// Reads the parsed flags, checks them and the files they name. Errors are one clear line.
absl::StatusOr<AgentConfig> ConfigFromFlags(const RepeatedFlags& repeated);

// "288", "72h", "288,72h" -> files to keep and maximum age (0 / infinite when not given).
absl::Status ParseRetention(std::string_view text, int* keep_files, absl::Duration* max_age);

// --machine-id, else $NODE_NAME, else <etc>/machine-id, else the hostname.
std::string ResolveMachineId(const std::string& flag_value, const std::string& etc_dir = "/etc");

}  // namespace nodeproc
