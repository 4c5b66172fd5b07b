#include "upload/s3_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"

namespace nodeproc {
namespace {

constexpr size_t kMaxErrorBody = 64 * 1024;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The text of <Tag>...</Tag> in an S3 error body, kept to [A-Za-z0-9 .,:'-_] and 200 chars.
std::string XmlField(std::string_view body, std::string_view tag) {
  const std::string open = absl::StrCat("<", ToAbsl(tag), ">");
  const std::string close = absl::StrCat("</", ToAbsl(tag), ">");
  const size_t b = body.find(open);
  if (b == std::string_view::npos) return "";
  const size_t start = b + open.size();
  const size_t e = body.find(close, start);
  if (e == std::string_view::npos) return "";
  std::string out;
  for (char c : body.substr(start, std::min<size_t>(e - start, 200))) {
    const bool ok = absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '.' ||
                    c == ',' || c == ':' || c == '\'' || c == '-' || c == '_';
    out.push_back(ok ? c : '?');
  }
  return out;
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot read ", ToAbsl(what), " file ", path, ": ", strerror(errno)));
  }
  std::ostringstream s;
  s << in.rdbuf();
  std::string v = s.str();
  absl::StripAsciiWhitespace(&v);
  return v;
}

struct Body {
  int fd;
  uint64_t size;
  uint64_t offset = 0;
  int read_errno = 0;
};

size_t ReadBody(char* buf, size_t size, size_t n, void* userdata) {
  auto* b = static_cast<Body*>(userdata);
  const size_t want = std::min<uint64_t>(size * n, b->size - b->offset);
  if (want == 0) return 0;
  for (;;) {
    const ssize_t got = ::pread(b->fd, buf, want, static_cast<off_t>(b->offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {  // shrank or failed: abort, never send a short body
      b->read_errno = got < 0 ? errno : EIO;
      return CURL_READFUNC_ABORT;
    }
    b->offset += static_cast<uint64_t>(got);
    return static_cast<size_t>(got);
  }
}

size_t WriteBody(char* data, size_t size, size_t n, void* userdata) {
  auto* out = static_cast<std::string*>(userdata);
  const size_t len = size * n;
  if (out->size() < kMaxErrorBody) out->append(data, std::min(len, kMaxErrorBody - out->size()));
  return len;
}

size_t Header(char* data, size_t size, size_t n, void* userdata) {
  const size_t len = size * n;
  absl::string_view line(data, len);
  if (absl::StartsWithIgnoreCase(line, "etag:")) {
    line.remove_prefix(5);
    line = absl::StripAsciiWhitespace(line);
    if (line.size() >= 2 && line.front() == '"' && line.back() == '"') line = line.substr(1, line.size() - 2);
    *static_cast<std::string*>(userdata) = std::string(line.substr(0, 128));
  }
  return len;
}

int Progress(void* userdata, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(userdata)->load(std::memory_order_relaxed) ? 1 : 0;
}

bool IsHexMd5(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

std::string_view OutcomeName(UploadOutcome o) {
  switch (o) {
    case UploadOutcome::kSuccess: return "success";
    case UploadOutcome::kAuthError: return "auth_error";
    case UploadOutcome::kNoBucket: return "no_bucket";
    case UploadOutcome::kIntegrityError: return "integrity_error";
    case UploadOutcome::kClientError: return "client_error";
    case UploadOutcome::kServerError: return "server_error";
    case UploadOutcome::kNetworkError: return "network_error";
    case UploadOutcome::kLocalError: return "local_error";
    case UploadOutcome::kCancelled: return "cancelled";
  }
  return "unknown";
}

PutResult ClassifyS3Response(long http, std::string_view body, std::string_view bucket) {
  PutResult r;
  r.http_status = http;
  r.s3_code = XmlField(body, "Code");
  const std::string detail = XmlField(body, "Message");
  auto msg = [&](std::string_view what) {
    r.message = absl::StrCat(ToAbsl(what), " (HTTP ", http, r.s3_code.empty() ? "" : " ", r.s3_code,
                             detail.empty() ? "" : ": ", detail, ")");
  };
  const std::string& c = r.s3_code;
  if (http >= 200 && http < 300) {
    r.outcome = UploadOutcome::kSuccess;
    r.message = "uploaded";
  } else if (c == "InvalidAccessKeyId" || c == "SignatureDoesNotMatch" || c == "AccessDenied" ||
             c == "ExpiredToken" || c == "InvalidToken" || c == "TokenRefreshRequired" ||
             c == "InvalidSecurity" || c == "AuthorizationHeaderMalformed" ||
             (http == 403 && c.empty()) || http == 401) {
    r.outcome = UploadOutcome::kAuthError;
    msg(c == "AccessDenied" || (http == 403 && c.empty())
            ? "access denied: the credentials may not write to this bucket and prefix"
        : c == "AuthorizationHeaderMalformed" ? "request refused: wrong --upload-region for this bucket?"
                                              : "credentials refused: check the access key id and secret");
  } else if (c == "NoSuchBucket" || (http == 404 && c.empty())) {
    r.outcome = UploadOutcome::kNoBucket;
    msg(absl::StrCat("bucket '", ToAbsl(bucket), "' does not exist (create it; nodeproc never creates buckets)"));
  } else if (c == "BadDigest" || c == "XAmzContentSHA256Mismatch" || c == "InvalidDigest") {
    r.outcome = UploadOutcome::kIntegrityError;
    msg("the store received different bytes than were sent (checksum mismatch)");
  } else if (http >= 500 || http == 429 || c == "SlowDown") {
    r.outcome = UploadOutcome::kServerError;
    msg("the store failed or is throttling");
  } else {
    r.outcome = UploadOutcome::kClientError;
    msg(http == 301 || c == "PermanentRedirect"
            ? "the bucket is elsewhere: wrong --upload-region or endpoint?"
            : "request refused by the store");
  }
  return r;
}

absl::StatusOr<S3Credentials> LoadS3Credentials(const S3ClientOptions& o) {
  S3Credentials c;
  auto pick = [](const std::string& file, const char* env, std::string_view what,
                 std::string* out) -> absl::Status {
    if (!file.empty()) {
      auto v = ReadSecretFile(file, what);
      if (!v.ok()) return v.status();
      *out = *std::move(v);
    } else if (const char* e = std::getenv(env); e != nullptr) {
      *out = e;
      absl::StripAsciiWhitespace(out);
    }
    return absl::OkStatus();
  };
  if (auto s = pick(o.access_key_id_file, "AWS_ACCESS_KEY_ID", "access key id", &c.access_key_id); !s.ok()) return s;
  if (auto s = pick(o.secret_access_key_file, "AWS_SECRET_ACCESS_KEY", "secret access key", &c.secret_access_key); !s.ok()) return s;
  if (auto s = pick(o.session_token_file, "AWS_SESSION_TOKEN", "session token", &c.session_token); !s.ok()) return s;
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return absl::FailedPreconditionError(
        "no upload credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or "
        "--upload-access-key-id-file and --upload-secret-access-key-file)");
  }
  for (char ch : c.access_key_id + c.secret_access_key + c.session_token) {
    if (static_cast<unsigned char>(ch) < 0x21 || static_cast<unsigned char>(ch) > 0x7e) {
      return absl::InvalidArgumentError("upload credentials hold a control, space or non-ASCII character");
    }
  }
  return c;
}

S3Client::S3Client(S3ClientOptions options) : options_(std::move(options)) {
  GlobalInit();
  curl_ = curl_easy_init();
}

S3Client::~S3Client() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

PutResult S3Client::Put(std::string_view key, int fd, uint64_t size, std::string_view md5,
                        std::string_view sha256_hex, const std::atomic<bool>& cancel) {
  PutResult r;
  auto creds = LoadS3Credentials(options_);
  if (!creds.ok()) {
    r.outcome = UploadOutcome::kAuthError;
    r.message = std::string(ToStd(creds.status().message()));
    return r;
  }
  CURL* c = static_cast<CURL*>(curl_);
  if (c == nullptr) {
    r.message = "curl_easy_init failed";
    return r;
  }
  curl_easy_reset(c);
  const std::string url = ObjectUrl(options_.target, key);
  const std::string provider = SigV4Provider(options_.target);
  std::string content_md5;
  absl::Base64Escape(ToAbsl(md5), &content_md5);
  Body body{fd, size};
  std::string response;
  std::string etag;
  char errbuf[CURL_ERROR_SIZE] = {};

  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, absl::StrCat("x-amz-content-sha256: ", ToAbsl(sha256_hex)).c_str());
  headers = curl_slist_append(headers, absl::StrCat("Content-MD5: ", content_md5).c_str());
  headers = curl_slist_append(headers, "Content-Type: text/csv; charset=utf-8");
  if (!creds->session_token.empty()) {
    headers = curl_slist_append(headers, absl::StrCat("x-amz-security-token: ", creds->session_token).c_str());
  }
  const long timeout_ms = static_cast<long>(absl::ToInt64Milliseconds(options_.timeout));
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, 10000L));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_AWS_SIGV4, provider.c_str());
  curl_easy_setopt(c, CURLOPT_USERNAME, creds->access_key_id.c_str());
  curl_easy_setopt(c, CURLOPT_PASSWORD, creds->secret_access_key.c_str());
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
  curl_easy_setopt(c, CURLOPT_READFUNCTION, &ReadBody);
  curl_easy_setopt(c, CURLOPT_READDATA, &body);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &Header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &etag);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &Progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &cancel);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  if (options_.max_send_bytes_per_second > 0) {
    curl_easy_setopt(c, CURLOPT_MAX_SEND_SPEED_LARGE,
                     static_cast<curl_off_t>(options_.max_send_bytes_per_second));
    curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);  // the smallest: a slow, even pace
  }
  const CURLcode rc = curl_easy_perform(c);
  long http = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(headers);

  if (rc == CURLE_ABORTED_BY_CALLBACK && cancel.load()) {
    r.outcome = UploadOutcome::kCancelled;
    r.message = "upload interrupted by shutdown";
    return r;
  }
  if (body.read_errno != 0) {
    r.outcome = UploadOutcome::kLocalError;
    r.message = absl::StrCat("cannot read the file while uploading: ", strerror(body.read_errno));
    return r;
  }
  if (rc != CURLE_OK) {
    r.outcome = UploadOutcome::kNetworkError;
    r.message = absl::StrCat("no answer from ", options_.target.endpoint, ": ",
                             errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
    return r;
  }
  r = ClassifyS3Response(http, response, options_.target.bucket);
  r.etag = etag;
  // The store verified Content-MD5 (and the signed SHA-256) before answering 200. The ETag is
  // compared too; a plain-MD5-looking ETag that differs (a proxy, or SSE-KMS whose ETag is not
  // the MD5) is reported, not retried: retrying could never change it.
  r.etag_mismatch = r.outcome == UploadOutcome::kSuccess && IsHexMd5(etag) &&
                    absl::AsciiStrToLower(etag) != absl::BytesToHexString(ToAbsl(md5));
  return r;
}

}  // namespace nodeproc
