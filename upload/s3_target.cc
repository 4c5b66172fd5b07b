#include "upload/s3_target.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/absl_compat.h"

namespace nodeproc {
namespace {

bool SafeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool AllOf(std::string_view s, bool (*ok)(char)) {
  for (char c : s) {
    if (!ok(c)) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<S3Target> NormalizeS3Target(S3Target t) {
  if (t.region.empty()) t.region = "us-east-1";
  if (!AllOf(t.region, [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; })) {
    return absl::InvalidArgumentError(absl::StrCat("--upload-region=", t.region, ": expected e.g. us-east-1"));
  }
  if (t.bucket.size() < 3 || t.bucket.size() > 63 || !AllOf(t.bucket, SafeChar)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--upload-bucket=", t.bucket, ": a bucket name is 3-63 characters of a-z, 0-9, '.', '-'"));
  }
  if (t.endpoint.empty()) t.endpoint = absl::StrCat("https://s3.", t.region, ".amazonaws.com");
  while (absl::EndsWith(t.endpoint, "/")) t.endpoint.pop_back();
  const bool http = absl::StartsWith(t.endpoint, "http://");
  const bool https = absl::StartsWith(t.endpoint, "https://");
  const std::string_view host =
      http || https ? std::string_view(t.endpoint).substr(http ? 7 : 8) : std::string_view();
  if (host.empty() || host.find_first_of("/?#@ ") != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--upload-endpoint=", t.endpoint, ": expected http(s)://host[:port] without a path"));
  }
  if (!t.path_style && t.bucket.find('.') != std::string::npos && https) {
    // *.s3.amazonaws.com certificates do not cover dotted virtual hosts.
    return absl::InvalidArgumentError(absl::StrCat(
        "--upload-bucket=", t.bucket, ": a bucket name with '.' needs --upload-path-style over https"));
  }
  std::string prefix;
  for (absl::string_view seg : absl::StrSplit(ToAbsl(t.prefix), '/', absl::SkipEmpty())) {
    if (seg == "." || seg == ".." || !AllOf(ToStd(seg), SafeChar)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--upload-prefix=", t.prefix, ": segments of A-Z, a-z, 0-9, '.', '_', '-' separated by '/'"));
    }
    absl::StrAppend(&prefix, prefix.empty() ? "" : "/", seg);
  }
  if (prefix.size() > 512) return absl::InvalidArgumentError("--upload-prefix is longer than 512 characters");
  t.prefix = std::move(prefix);
  return t;
}

std::string ObjectKey(const S3Target& target, std::string_view relative) {
  if (target.prefix.empty()) return std::string(relative);
  return absl::StrCat(target.prefix, "/", ToAbsl(relative));
}

std::string ObjectUrl(const S3Target& target, std::string_view key) {
  if (target.path_style) return absl::StrCat(target.endpoint, "/", target.bucket, "/", ToAbsl(key));
  const size_t scheme_end = target.endpoint.find("://") + 3;
  return absl::StrCat(target.endpoint.substr(0, scheme_end), target.bucket, ".",
                      target.endpoint.substr(scheme_end), "/", ToAbsl(key));
}

std::string SigV4Provider(const S3Target& target) { return absl::StrCat("aws:amz:", target.region, ":s3"); }

}  // namespace nodeproc
