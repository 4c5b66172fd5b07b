#include "agent/upload_wiring.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "exporters/atomic_file.h"

ABSL_DECLARE_FLAG(std::string, upload_bucket);
ABSL_DECLARE_FLAG(std::string, upload_endpoint);
ABSL_DECLARE_FLAG(std::string, upload_region);
ABSL_DECLARE_FLAG(std::string, upload_prefix);
ABSL_DECLARE_FLAG(bool, upload_path_style);
ABSL_DECLARE_FLAG(std::string, upload_access_key_id_file);
ABSL_DECLARE_FLAG(std::string, upload_secret_access_key_file);
ABSL_DECLARE_FLAG(std::string, upload_session_token_file);
ABSL_DECLARE_FLAG(std::string, upload_ca_file);
ABSL_DECLARE_FLAG(absl::Duration, upload_timeout);
ABSL_DECLARE_FLAG(absl::Duration, upload_backoff_max);
ABSL_DECLARE_FLAG(int, upload_spool_max_snapshots);

namespace nodeproc {
namespace {

std::string FirstEnv(std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (const char* v = std::getenv(n); v != nullptr && *v != '\0') return v;
  }
  return "";
}

S3ClientOptions ClientOptions(const AgentConfig& c) {
  S3ClientOptions o;
  o.target = UploadTarget(c);
  o.access_key_id_file = c.upload_access_key_id_file;
  o.secret_access_key_file = c.upload_secret_access_key_file;
  o.session_token_file = c.upload_session_token_file;
  o.ca_file = c.upload_ca_file;
  o.timeout = c.upload_timeout;
  return o;
}

}  // namespace

S3Target UploadTarget(const AgentConfig& c) {
  S3Target t;
  t.endpoint = c.upload_endpoint;
  t.region = c.upload_region;
  t.bucket = c.upload_bucket;
  t.prefix = c.upload_prefix;
  t.path_style = c.upload_path_style;
  return t;
}

absl::Status UploadConfigFromFlags(AgentConfig* c) {
  c->upload_bucket = absl::GetFlag(FLAGS_upload_bucket);
  if (c->upload_bucket.empty()) return absl::OkStatus();
  c->upload_endpoint = absl::GetFlag(FLAGS_upload_endpoint);
  if (c->upload_endpoint.empty()) c->upload_endpoint = FirstEnv({"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"});
  c->upload_region = absl::GetFlag(FLAGS_upload_region);
  if (c->upload_region.empty()) c->upload_region = FirstEnv({"AWS_REGION", "AWS_DEFAULT_REGION"});
  c->upload_prefix = absl::GetFlag(FLAGS_upload_prefix);
  c->upload_path_style = absl::GetFlag(FLAGS_upload_path_style);
  c->upload_access_key_id_file = absl::GetFlag(FLAGS_upload_access_key_id_file);
  c->upload_secret_access_key_file = absl::GetFlag(FLAGS_upload_secret_access_key_file);
  c->upload_session_token_file = absl::GetFlag(FLAGS_upload_session_token_file);
  c->upload_ca_file = absl::GetFlag(FLAGS_upload_ca_file);
  c->upload_timeout = absl::GetFlag(FLAGS_upload_timeout);
  c->upload_backoff_max = absl::GetFlag(FLAGS_upload_backoff_max);
  c->upload_spool_max_snapshots = absl::GetFlag(FLAGS_upload_spool_max_snapshots);

  if (c->snapshot_dir.empty()) {
    return absl::InvalidArgumentError("--upload-bucket needs --snapshot-dir (the volume is the upload spool)");
  }
  auto target = NormalizeS3Target(UploadTarget(*c));
  if (!target.ok()) return target.status();
  c->upload_endpoint = target->endpoint;
  c->upload_region = target->region;
  c->upload_prefix = target->prefix;
  if (c->upload_timeout < absl::Seconds(1)) return absl::InvalidArgumentError("--upload-timeout must be at least 1s");
  if (c->upload_backoff_max < absl::Seconds(1)) {
    return absl::InvalidArgumentError("--upload-backoff-max must be at least 1s");
  }
  if (c->upload_spool_max_snapshots < 1) {
    return absl::InvalidArgumentError("--upload-spool-max-snapshots must be at least 1");
  }
  for (const auto& [file, flag] : {std::pair{c->upload_ca_file, "upload-ca-file"},
                                   std::pair{c->upload_access_key_id_file, "upload-access-key-id-file"},
                                   std::pair{c->upload_secret_access_key_file, "upload-secret-access-key-file"},
                                   std::pair{c->upload_session_token_file, "upload-session-token-file"}}) {
    if (!file.empty() && ::access(file.c_str(), R_OK) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, "=", file, " is not readable: ", std::strerror(errno)));
    }
  }
  if (auto creds = LoadS3Credentials(ClientOptions(*c)); !creds.ok()) {
    return absl::InvalidArgumentError(creds.status().message());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Uploader>> MakeUploader(const AgentConfig& c, const std::string& machine_folder) {
  UploaderOptions o;
  o.s3 = ClientOptions(c);
  o.spool.snapshot_dir = c.snapshot_dir;
  o.spool.machine = machine_folder;
  o.spool.max_pending_snapshots = c.upload_spool_max_snapshots;
  o.spool.write_state = [](const std::string& path, const std::string& contents) {
    static const std::atomic<bool> kNever{false};
    return WriteFileAtomically(path, contents, kNever);
  };
  o.backoff_max = c.upload_backoff_max;
  return Uploader::Create(std::move(o));
}

}  // namespace nodeproc
