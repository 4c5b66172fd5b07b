#include "agent/flags.h"

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/absl_compat.h"

ABSL_FLAG(std::string, proc_root, "/proc", "procfs root to read (/host/proc in the DaemonSet)");
ABSL_FLAG(std::string, listen_address, "0.0.0.0:9866",
          "host:port for /metrics, /healthz and /readyz; empty disables the server");
ABSL_FLAG(std::string, snapshot_dir, "", "folder for CSV snapshots; empty disables them");
ABSL_FLAG(absl::Duration, snapshot_interval, absl::Seconds(300), "time between CSV snapshots");
ABSL_FLAG(std::string, snapshot_retention, "288,168h",
          "how many snapshot files to keep and/or their maximum age, e.g. 288, 72h or 288,72h");
ABSL_FLAG(std::string, machine_id, "",
          "node identity used in snapshot paths (default: $NODE_NAME, else /etc/machine-id)");
ABSL_FLAG(bool, anonymize, false, "replace command lines by a SHA-256 (or HMAC) prefix");
ABSL_FLAG(std::string, anonymize_key_file, "", "key file for HMAC-SHA-256 anonymization");
ABSL_FLAG(bool, scrub_secrets, true, "replace known secrets in command lines by ********");
ABSL_FLAG(std::string, kubelet_url, "", "kubelet base URL, e.g. https://10.0.0.5:10250; empty = host-only mode");
ABSL_FLAG(std::string, kubelet_token_file, "/var/run/secrets/kubernetes.io/serviceaccount/token",
          "bearer token file (re-read when it changes)");
ABSL_FLAG(std::string, kubelet_ca_file, "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
          "CA bundle that signed the kubelet serving certificate");
ABSL_FLAG(bool, kubelet_insecure_skip_verify, false, "do not verify the kubelet certificate (unsafe)");
ABSL_FLAG(std::string, kubelet_tls_server_name, "",
          "name the kubelet certificate must carry (default: $NODE_NAME when dialling an IP)");
ABSL_FLAG(absl::Duration, kubelet_cache_validity, absl::Seconds(10), "kubelet data validity window");
ABSL_FLAG(absl::Duration, kubelet_timeout, absl::Seconds(5), "timeout of one kubelet request");
ABSL_FLAG(bool, kubelet_fetch_pods, true,
          "also read /pods for container names and images (needs nodes/proxy)");
ABSL_FLAG(std::string, kubelet_fixture_dir, "",
          "read stats/summary.json and pods.json from this folder instead of a kubelet (tests, demos)");
ABSL_FLAG(bool, exclude_pause_containers, true, "exclude the runtimes' pause containers");
ABSL_FLAG(absl::Duration, cpu_sample_interval, absl::Seconds(5), "CPU sampler period");
ABSL_FLAG(absl::Duration, scan_min_interval, absl::InfiniteDuration(),
          "deprecated alias of --scan-interval (scrapes no longer scan); values under 250ms mean 250ms");
ABSL_FLAG(absl::Duration, scan_interval, absl::Seconds(5),
          "time between full scans of the background scanner; /metrics renders the latest one");
ABSL_FLAG(absl::Duration, scan_deadline, absl::Seconds(30),
          "a full scan running longer is reported stuck (log, nodeproc_scanner_stuck, /readyz)");
ABSL_FLAG(absl::Duration, kubelet_max_age, absl::Seconds(60),
          "kubelet data older than this is no longer used (pod labels, pod/container/node series)");
ABSL_FLAG(absl::Duration, process_series_grace, absl::Minutes(5),
          "process series sets whose members are all gone keep their counters this long");
ABSL_FLAG(std::string, process_metrics, "group", "per-process series: group or pid");
ABSL_FLAG(int, max_process_series, 2000,
          "cap on process series sets (pids in pid mode, groups in group mode); the rest are "
          "folded into name=\"other\" per pod");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");
ABSL_FLAG(std::string, format, "table", "`snapshot` output: csv, json or table");
ABSL_FLAG(absl::Duration, snapshot_wait, absl::Seconds(1),
          "`snapshot`: CPU sampling time before the scan, so cpu_5s is real");
ABSL_FLAG(std::string, web_tls_cert_file, "", "serve /metrics over TLS with this certificate");
ABSL_FLAG(std::string, web_tls_key_file, "", "private key for --web-tls-cert-file");
ABSL_FLAG(std::string, web_basic_auth_user, "", "require basic auth on /metrics with this user");
ABSL_FLAG(std::string, web_basic_auth_password_file, "", "password file for --web-basic-auth-user");
ABSL_FLAG(std::string, web_bearer_token_file, "", "require this bearer token on /metrics");
ABSL_FLAG(bool, snapshot_files, false,
          "`run`: with each CSV snapshot also write files_<ts>.csv (open and mapped files of every "
          "process, with their owning package); needs --snapshot-dir");
ABSL_FLAG(int, max_files_per_process, 128,
          "--snapshot-files: files kept per process (deterministic sample; the rest are counted)");
ABSL_FLAG(std::string, probe, "auto",
          "process probe: auto (BPF when the kernel and capabilities allow, else procfs), bpf or procfs");
ABSL_FLAG(int, passes, 1, "`scan`: number of full scans to run in one process");
ABSL_FLAG(int, max_cmdline_bytes, 4096,
          "command lines are read and kept up to this many bytes; a longer one is cut and ends "
          "with \"\u2026[truncated]\" (64..2097152)");
ABSL_FLAG(int, kubelet_max_pods, 1000,
          "pods kept from one kubelet /stats/summary or /pods answer; the rest are dropped and "
          "counted in nodeproc_kubelet_dropped_total");
ABSL_FLAG(int, kubelet_max_containers, 64,
          "containers kept per pod list (containers, init containers, statuses) of a kubelet answer");
ABSL_FLAG(bool, package_metrics, false,
          "--snapshot-files: export nodeproc_loaded_package_processes{package,version}");
// Snapshot upload to S3-compatible object storage (upload/; agent/upload_wiring.cc).
ABSL_FLAG(std::string, upload_bucket, "",
          "`run`: upload each complete CSV snapshot to this S3 bucket; empty disables uploads");
ABSL_FLAG(std::string, upload_endpoint, "",
          "S3 endpoint, http(s)://host[:port] (default: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, "
          "else AWS https://s3.<region>.amazonaws.com)");
ABSL_FLAG(std::string, upload_region, "",
          "SigV4 region (default: $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1)");
ABSL_FLAG(std::string, upload_prefix, "", "key prefix: objects are <prefix>/<machine-id>/<start>/process/*.csv");
ABSL_FLAG(bool, upload_path_style, false,
          "path-style URLs (<endpoint>/<bucket>/<key>; Ceph RGW, MinIO) instead of virtual hosts");
ABSL_FLAG(std::string, upload_access_key_id_file, "", "file with the access key id (default: $AWS_ACCESS_KEY_ID)");
ABSL_FLAG(std::string, upload_secret_access_key_file, "",
          "file with the secret access key (default: $AWS_SECRET_ACCESS_KEY); re-read at each upload");
ABSL_FLAG(std::string, upload_session_token_file, "", "file with a session token (default: $AWS_SESSION_TOKEN)");
ABSL_FLAG(std::string, upload_ca_file, "", "CA bundle for an https endpoint (default: the system CAs)");
ABSL_FLAG(absl::Duration, upload_timeout, absl::Seconds(120), "timeout of one upload request");
ABSL_FLAG(absl::Duration, upload_backoff_max, absl::Minutes(5),
          "longest wait between retries of a failed upload (exponential from 1s, with jitter)");
ABSL_FLAG(int, upload_spool_max_snapshots, 2016,
          "not-yet-uploaded snapshots retention keeps beyond --snapshot-retention; past it the oldest "
          "go (counted in nodeproc_upload_dropped_files_total)");

namespace nodeproc {
namespace {

constexpr std::string_view kRepeatable[] = {"container_include", "container_exclude",
                                            "scrub_pattern"};

std::vector<std::string>* RepeatedSlot(RepeatedFlags* r, std::string_view name) {
  if (name == "container_include") return &r->container_include;
  if (name == "container_exclude") return &r->container_exclude;
  if (name == "scrub_pattern") return &r->scrub_pattern;
  return nullptr;
}

std::string EnvName(std::string_view flag) {
  std::string env = absl::StrCat("NODEPROC_", ToAbsl(flag));
  absl::AsciiStrToUpper(&env);
  return env;
}

// Our own flags: those defined in this file (absl also registers its own, e.g. --flagfile).
bool IsOurFlag(const absl::CommandLineFlag& flag) {
  return absl::EndsWith(flag.Filename(), "agent/flags.cc");
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseFlags(int argc, char** argv,
                                                    RepeatedFlags* repeated) {
  // 1. Environment: NODEPROC_<FLAG>.
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!IsOurFlag(*flag)) continue;
    const char* value = std::getenv(EnvName(ToStd(name)).c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad value in $", EnvName(ToStd(name)), ": ", error));
    }
  }
  for (std::string_view name : kRepeatable) {
    const char* value = std::getenv(EnvName(name).c_str());
    if (value == nullptr) continue;
    for (absl::string_view v : absl::StrSplit(value, '\n', absl::SkipWhitespace())) {
      RepeatedSlot(repeated, name)->emplace_back(absl::StripAsciiWhitespace(v));
    }
  }

  // 2. Command line: normalise --foo-bar to --foo_bar and take out the repeatable flags.
  std::vector<std::string> args;
  args.emplace_back(argc > 0 ? argv[0] : "nodeproc");
  bool repeated_from_cli[3] = {false, false, false};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") {
      for (; i < argc; ++i) args.emplace_back(argv[i]);
      break;
    }
    if (arg.size() > 2 && arg[0] == '-') {
      size_t start = arg[1] == '-' ? 2 : 1;
      size_t eq = arg.find('=');
      size_t end = eq == std::string::npos ? arg.size() : eq;
      for (size_t j = start; j < end; ++j) {
        if (arg[j] == '-') arg[j] = '_';
      }
      std::string name = arg.substr(start, end - start);
      for (size_t k = 0; k < std::size(kRepeatable); ++k) {
        if (name != kRepeatable[k]) continue;
        std::string value;
        if (eq != std::string::npos) {
          value = arg.substr(eq + 1);
        } else if (i + 1 < argc) {
          value = argv[++i];
        } else {
          return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
        }
        auto* slot = RepeatedSlot(repeated, name);
        if (!repeated_from_cli[k]) slot->clear();  // the command line replaces the environment
        repeated_from_cli[k] = true;
        slot->push_back(value);
        name.clear();
        break;
      }
      if (name.empty()) continue;
    }
    args.push_back(arg);
  }
  std::vector<char*> cargs;
  for (std::string& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  // absl prints its own one-line error and exits 1 on an unknown or malformed flag.
  std::vector<char*> rest = absl::ParseCommandLine(static_cast<int>(cargs.size() - 1), cargs.data());
  std::vector<std::string> positional;
  for (size_t i = 1; i < rest.size(); ++i) positional.emplace_back(rest[i]);
  return positional;
}

absl::Status ParseCommandFlags(int argc, char** argv, RepeatedFlags* repeated) {
  static char program[] = "nodeproc";
  std::vector<char*> args;
  args.push_back(argc > 0 ? argv[0] : program);
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  auto positional = ParseFlags(static_cast<int>(args.size()), args.data(), repeated);
  if (!positional.ok()) return positional.status();
  if (!positional->empty()) {
    return absl::InvalidArgumentError("unexpected argument: " + positional->front());
  }
  return absl::OkStatus();
}

}  // namespace nodeproc
