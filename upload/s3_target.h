#pragma once
// Where a snapshot file goes in the bucket, and the URL of that object. Pure functions.
//
// Object key = <prefix>/<path of the file relative to --snapshot-dir>, i.e.
//   <prefix>/<machine-id>/<agent start>/process/process_<ts>.csv   (and files_<ts>.csv)
// so the bucket mirrors the volume layout. Keys only hold [A-Za-z0-9._/-] (the machine id is
// sanitized by the snapshot writer, the prefix is validated here), so no URL escaping is needed
// and the SigV4 canonical path is the path as written.
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace nodeproc {

struct S3Target {
  std::string endpoint;  // scheme://host[:port], no path; empty = https://s3.<region>.amazonaws.com
  std::string region = "us-east-1";
  std::string bucket;
  std::string prefix;    // normalised: no leading/trailing '/', may be empty
  bool path_style = false;
};

// Checks and normalises a target (flags): endpoint scheme http/https and no path/query,
// bucket [a-z0-9A-Z._-]{3,63}, prefix segments [A-Za-z0-9._-] (no "." / ".."), region
// [a-z0-9-]. An error is one line naming the flag.
absl::StatusOr<S3Target> NormalizeS3Target(S3Target target);

// <prefix>/<relative>; `relative` is "<machine>/<start>/process/<name>".
std::string ObjectKey(const S3Target& target, std::string_view relative);

// Path style: <endpoint>/<bucket>/<key>; virtual-host style: <scheme>://<bucket>.<host>/<key>.
std::string ObjectUrl(const S3Target& target, std::string_view key);

// "aws:amz:<region>:s3", the CURLOPT_AWS_SIGV4 provider string.
std::string SigV4Provider(const S3Target& target);

}  // namespace nodeproc
