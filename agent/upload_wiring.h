#pragma once
// Snapshot upload wiring (`run --upload-bucket=...`): reads and checks the --upload-* flags
// into the AgentConfig, and builds the Uploader (upload/) for the agent's snapshot folder.
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/config.h"
#include "upload/uploader.h"

namespace nodeproc {

// Fills the upload_* fields from the flags and the AWS_* environment; a bad value, a missing
// --snapshot-dir or missing credentials is one clear line.
absl::Status UploadConfigFromFlags(AgentConfig* config);

// The S3 target of a checked configuration.
S3Target UploadTarget(const AgentConfig& config);

// `machine_folder` is the (sanitized) machine folder name under --snapshot-dir.
absl::StatusOr<std::unique_ptr<Uploader>> MakeUploader(const AgentConfig& config,
                                                       const std::string& machine_folder);

}  // namespace nodeproc
