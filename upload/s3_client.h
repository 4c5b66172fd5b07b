#pragma once
// One S3 PutObject over libcurl, signed with libcurl's own SigV4 (CURLOPT_AWS_SIGV4; no
// hand-written signing). Integrity end to end: the body's MD5 goes in Content-MD5 and its
// SHA-256 in x-amz-content-sha256 (libcurl 7.88 signs a payload hash but does not send that
// header; S3 and RGW need it and check both: a body that differs is refused with BadDigest /
// XAmzContentSHA256Mismatch), and the returned ETag is compared with the MD5 when it looks like one (a mismatch is
// reported: with SSE-KMS the ETag is not the MD5).
// A single PUT is atomic in S3: an upload cut halfway (shutdown, network) leaves no object.
// The body is streamed from the file (memory stays bounded whatever the file size).
//
// Credentials are read at every request: $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY /
// $AWS_SESSION_TOKEN, or files (a mounted Secret, re-read when rotated) which win over the
// environment.
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "upload/s3_target.h"

namespace nodeproc {

struct S3ClientOptions {
  S3Target target;
  std::string access_key_id_file;      // empty: $AWS_ACCESS_KEY_ID
  std::string secret_access_key_file;  // empty: $AWS_SECRET_ACCESS_KEY
  std::string session_token_file;      // empty: $AWS_SESSION_TOKEN (optional)
  std::string ca_file;                 // empty: the system CAs
  absl::Duration timeout = absl::Seconds(120);
  int64_t max_send_bytes_per_second = 0;  // 0: unlimited (a test hook slows uploads down)
};

struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
};

// Distinct causes, also the `outcome` label of nodeproc_upload_requests_total.
enum class UploadOutcome {
  kSuccess,
  kAuthError,       // 403 InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied, ...; no credentials
  kNoBucket,        // 404 NoSuchBucket
  kIntegrityError,  // BadDigest, XAmzContentSHA256Mismatch, ETag differs from the MD5
  kClientError,     // another 4xx (wrong region, redirect, ...)
  kServerError,     // 5xx (and 429 / SlowDown)
  kNetworkError,    // no HTTP answer: DNS, connect, TLS, timeout
  kLocalError,      // the file cannot be read
  kCancelled,       // shutdown during the upload (not counted as a failure)
};
std::string_view OutcomeName(UploadOutcome o);

struct PutResult {
  UploadOutcome outcome = UploadOutcome::kNetworkError;
  long http_status = 0;   // 0 when there was no answer
  std::string s3_code;    // <Code> of the error body, sanitized, e.g. "NoSuchBucket"
  std::string message;    // one line for the log (never holds a credential)
  std::string etag;
  bool etag_mismatch = false;  // success, but the ETag is an MD5 that is not the file's
};

// Maps an HTTP answer (status + S3 error XML) to an outcome and a clear message.
PutResult ClassifyS3Response(long http_status, std::string_view body, std::string_view bucket);

// Reads the credentials (files win over the environment). An error names what is missing.
absl::StatusOr<S3Credentials> LoadS3Credentials(const S3ClientOptions& options);

class S3Client {
 public:
  explicit S3Client(S3ClientOptions options);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // Uploads `size` bytes of `fd` (read with pread from offset 0) to `key`. `md5` is the raw
  // 16-byte digest, `sha256_hex` the lowercase hex SHA-256 of the same bytes. Stops with
  // kCancelled soon after `cancel` becomes true.
  PutResult Put(std::string_view key, int fd, uint64_t size, std::string_view md5,
                std::string_view sha256_hex, const std::atomic<bool>& cancel);

  const S3ClientOptions& options() const { return options_; }

 private:
  S3ClientOptions options_;
  void* curl_ = nullptr;  // CURL*, reused (keep-alive)
};

}  // namespace nodeproc
