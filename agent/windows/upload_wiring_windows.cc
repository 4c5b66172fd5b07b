// agent/upload_wiring.h on Windows: there is no uploader (no libcurl/OpenSSL for mingw in
// Debian), so --upload-bucket is refused with the reason; the other --upload-* flags only
// matter with it. MakeUploader/UploadTarget are never called there and not defined.
#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "agent/upload_wiring.h"

ABSL_DECLARE_FLAG(std::string, upload_bucket);

namespace nodeproc {

absl::Status UploadConfigFromFlags(AgentConfig* c) {
  c->upload_bucket = absl::GetFlag(FLAGS_upload_bucket);
  if (c->upload_bucket.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      "--upload-bucket is not supported on Windows: the build has no S3 client (ship the snapshot "
      "folder with the node's own tools)");
}

}  // namespace nodeproc
