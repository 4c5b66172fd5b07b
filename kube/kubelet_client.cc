#include "kube/kubelet_client.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/log.h"
#include "core/read_file.h"

namespace nodeproc {
namespace {

void GlobalInitOnce() {
  static const bool done = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)done;
}

struct Sink {
  std::string* body;
  size_t max;
  CURL* curl;
  bool too_large = false;
};

size_t WriteBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t n = size * nmemb;
  if (sink->body->empty()) {
    // One allocation of the announced size rather than doubling (which briefly holds 1.5x).
    curl_off_t length = -1;
    if (curl_easy_getinfo(sink->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK &&
        length > 0 && static_cast<uint64_t>(length) <= sink->max) {
      sink->body->reserve(static_cast<size_t>(length));
    }
  }
  if (sink->body->size() + n > sink->max) {
    sink->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  sink->body->append(data, n);
  return n;
}

std::string RbacRuleFor(std::string_view path) {
  if (absl::StartsWith(ToAbsl(path), "/stats")) return "get on nodes/stats";
  if (absl::StartsWith(ToAbsl(path), "/pods")) return "get on nodes/proxy";
  return "get on nodes/proxy";
}

std::string UrlPart(CURLU* u, CURLUPart part, unsigned flags = 0) {
  char* out = nullptr;
  if (curl_url_get(u, part, &out, flags) != CURLUE_OK || out == nullptr) return {};
  std::string s(out);
  curl_free(out);
  return s;
}

}  // namespace

KubeletClient::KubeletClient(KubeletClientOptions options) : options_(std::move(options)) {}

KubeletClient::~KubeletClient() {
  absl::MutexLock lock(&mu_);
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

absl::StatusOr<std::unique_ptr<KubeletClient>> KubeletClient::Create(KubeletClientOptions options) {
  GlobalInitOnce();
  std::unique_ptr<KubeletClient> client(new KubeletClient(std::move(options)));
  if (absl::Status s = client->Init(); !s.ok()) return s;
  return client;
}

absl::Status KubeletClient::Init() {
  if (options_.base_url.empty()) return absl::InvalidArgumentError("kubelet URL is empty");
  CURLU* u = curl_url();
  if (u == nullptr) return absl::ResourceExhaustedError("curl_url failed");
  CURLUcode uc = curl_url_set(u, CURLUPART_URL, options_.base_url.c_str(), 0);
  if (uc != CURLUE_OK) {
    curl_url_cleanup(u);
    return absl::InvalidArgumentError(
        absl::StrCat("kubelet URL ", options_.base_url, " is not a valid URL: ", curl_url_strerror(uc)));
  }
  std::string scheme = UrlPart(u, CURLUPART_SCHEME);
  absl::AsciiStrToLower(&scheme);
  std::string host = UrlPart(u, CURLUPART_HOST);
  std::string port = UrlPart(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
  std::string user = UrlPart(u, CURLUPART_USER);
  curl_url_cleanup(u);
  if (scheme != "https" && scheme != "http") {
    return absl::InvalidArgumentError(absl::StrCat("kubelet URL ", options_.base_url,
                                                   ": only https:// is supported"));
  }
  if (scheme == "http" && !options_.allow_plain_http) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kubelet URL ", options_.base_url,
        " is plain http://: the bearer token would travel in clear text; use https://"));
  }
  if (!user.empty()) {
    return absl::InvalidArgumentError("kubelet URL must not carry credentials");
  }
  if (host.empty() || port.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("kubelet URL ", options_.base_url, " has no host"));
  }
  if (!options_.tls_server_name.empty()) {
    const std::string& name = options_.tls_server_name;
    for (char c : name) {
      if (!(absl::ascii_isalnum(c) || c == '-' || c == '.')) {
        return absl::InvalidArgumentError(absl::StrCat("invalid TLS server name '", name, "'"));
      }
    }
    url_prefix_ = absl::StrCat(scheme, "://", name, ":", port);
    connect_to_ = absl::StrCat(name, ":", port, ":", host, ":", port);
  } else {
    url_prefix_ = absl::StrCat(scheme, "://", host, ":", port);
  }

  if (options_.insecure_skip_verify) {
    LogWarning("kubelet TLS certificate verification is disabled (insecure skip verify): "
               "the kubelet's identity is not checked",
               {{"url", options_.base_url}});
  }

  CURL* c = curl_easy_init();
  if (c == nullptr) return absl::ResourceExhaustedError("curl_easy_init failed");
  absl::MutexLock lock(&mu_);
  curl_ = c;
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, options_.allow_plain_http ? "http,https" : "https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  const long timeout_ms = static_cast<long>(absl::ToInt64Milliseconds(options_.timeout));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // gzip if the kubelet offers it
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_body_bytes));
  if (options_.insecure_skip_verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  } else {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) {
      if (::access(options_.ca_file.c_str(), R_OK) != 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "kubelet CA file ", options_.ca_file, ": ", std::strerror(errno)));
      }
      curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> KubeletClient::Token() {
  if (options_.token_file.empty()) return std::string();
  struct stat st;
  if (::stat(options_.token_file.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("kubelet token file ", options_.token_file, ": ", std::strerror(errno)));
  }
  const long long mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  const absl::Time now = absl::Now();
  const bool changed = !token_loaded_ || st.st_ino != token_ino_ || st.st_size != token_size_ ||
                       mtime_ns != token_mtime_ns_;
  if (!changed && now - token_read_at_ < options_.token_reread_interval) return token_;
  // A token is a few KiB; a bigger file is not a token.
  absl::StatusOr<std::string> text = ReadWholeFile(options_.token_file, size_t{1} << 20);
  if (!text.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("kubelet token file ", text.status().message()));
  }
  std::string token(ToStd(absl::StripAsciiWhitespace(*text)));
  for (char ch : token) {
    if (static_cast<unsigned char>(ch) < 0x21 || static_cast<unsigned char>(ch) > 0x7e) {
      return absl::FailedPreconditionError(absl::StrCat(
          "kubelet token file ", options_.token_file, " holds characters not allowed in a token"));
    }
  }
  if (token.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("kubelet token file ", options_.token_file, " is empty"));
  }
  token_ = std::move(token);
  token_loaded_ = true;
  token_ino_ = st.st_ino;
  token_size_ = st.st_size;
  token_mtime_ns_ = mtime_ns;
  token_read_at_ = now;
  return token_;
}

absl::StatusOr<std::string> KubeletClient::Fetch(std::string_view path) {
  absl::MutexLock lock(&mu_);
  last_http_code_ = 0;
  if (path.empty() || path.front() != '/') {
    last_outcome_ = "error";
    return absl::InvalidArgumentError(absl::StrCat("kubelet path must start with '/': ", ToAbsl(path)));
  }
  absl::StatusOr<std::string> token = Token();
  if (!token.ok()) {
    last_outcome_ = "token";
    return token.status();
  }
  CURL* c = static_cast<CURL*>(curl_);
  const std::string url = absl::StrCat(url_prefix_, ToAbsl(path));
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());

  curl_slist* connect_to = nullptr;
  if (!connect_to_.empty()) connect_to = curl_slist_append(nullptr, connect_to_.c_str());
  curl_easy_setopt(c, CURLOPT_CONNECT_TO, connect_to);

  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  std::string auth;
  if (!token->empty()) {
    auth = absl::StrCat("Authorization: Bearer ", *token);
    headers = curl_slist_append(headers, auth.c_str());
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

  std::string body;
  Sink sink{&body, options_.max_body_bytes, c};
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  char errbuf[CURL_ERROR_SIZE];
  errbuf[0] = '\0';
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);

  const CURLcode rc = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);

  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(c, CURLOPT_CONNECT_TO, nullptr);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, nullptr);
  curl_slist_free_all(headers);
  curl_slist_free_all(connect_to);
  // Do not keep the token in freed memory longer than needed.
  std::fill(auth.begin(), auth.end(), '\0');

  last_http_code_ = code;
  const std::string detail = errbuf[0] != '\0' ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
  const std::string where = absl::StrCat("kubelet ", url);
  if (rc != CURLE_OK) {
    if ((rc == CURLE_WRITE_ERROR && sink.too_large) || rc == CURLE_FILESIZE_EXCEEDED) {
      last_outcome_ = "too_large";
      return absl::ResourceExhaustedError(absl::StrCat(
          where, ": response body larger than ", options_.max_body_bytes, " bytes; transfer aborted"));
    }
    long os_errno = 0;
    curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
    last_outcome_ = std::string(ClassifyTransferError(rc, os_errno, detail));
    if (last_outcome_ == "timeout") {
      return absl::DeadlineExceededError(absl::StrCat(
          where, ": timed out after ", absl::FormatDuration(options_.timeout), " (", detail, ")"));
    }
    if (last_outcome_ == "refused") {
      return absl::UnavailableError(absl::StrCat(where, ": connection refused (", detail, ")"));
    }
    if (last_outcome_ == "resolve") {
      return absl::UnavailableError(absl::StrCat(where, ": cannot resolve host (", detail, ")"));
    }
    if (last_outcome_ == "reset") {
      return absl::UnavailableError(
          absl::StrCat(where, ": connection reset or closed by the kubelet (", detail, ")"));
    }
    if (last_outcome_ == "tls") {
      if (rc == CURLE_SSL_CACERT_BADFILE) {
        return absl::FailedPreconditionError(
            absl::StrCat(where, ": cannot load CA file ", options_.ca_file, " (", detail, ")"));
      }
      return absl::UnavailableError(absl::StrCat(
          where, ": certificate verify failed or TLS handshake error (", detail, ")",
          options_.tls_server_name.empty() ? ""
                                           : absl::StrCat("; expected name ", options_.tls_server_name)));
    }
    if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": protocol not allowed (", detail, ")"));
    }
    return absl::UnavailableError(absl::StrCat(where, ": transfer failed (", detail, ")"));
  }
  last_outcome_ = absl::StrCat(code);
  switch (code) {
    case 200:
      return body;
    case 401:
      return absl::UnauthenticatedError(absl::StrCat(
          where, ": token rejected (401); check the token file ", options_.token_file));
    case 403:
      return absl::PermissionDeniedError(absl::StrCat(
          where, ": forbidden (403); the service account needs RBAC ", RbacRuleFor(path)));
    default:
      break;
  }
  std::string snippet = body.substr(0, 200);
  for (char& ch : snippet) {
    if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) > 0x7e) ch = ' ';
  }
  std::string msg = absl::StrCat(where, ": HTTP ", code, snippet.empty() ? "" : ": ", snippet);
  if (code >= 500) return absl::UnavailableError(msg);
  return absl::UnknownError(msg);
}

std::string_view ClassifyTransferError(int curl_code, long os_errno, std::string_view detail) {
  const auto rc = static_cast<CURLcode>(curl_code);
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_COULDNT_CONNECT: return "refused";
    case CURLE_COULDNT_RESOLVE_HOST: return "resolve";
    default: break;
  }
  // The peer dropped the connection (RST, or a close in the middle of an exchange): with TLS,
  // curl reports it through the TLS layer (CURLE_SSL_CONNECT_ERROR during the handshake,
  // CURLE_RECV_ERROR after it), but it is not a certificate or protocol problem.
  if (os_errno == ECONNRESET || os_errno == EPIPE || os_errno == ECONNABORTED) return "reset";
  if (rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING) return "reset";
  const std::string lower = absl::AsciiStrToLower(ToAbsl(detail));
  for (const char* s : {"connection reset", "unexpected eof", "ssl_error_syscall", "broken pipe"}) {
    if (lower.find(s) != std::string::npos) return "reset";
  }
  switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
      return "tls";
    default:
      return "error";
  }
}

std::string KubeletClient::LastOutcome() const {
  absl::MutexLock lock(&mu_);
  return last_outcome_;
}

long KubeletClient::LastHttpCode() const {
  absl::MutexLock lock(&mu_);
  return last_http_code_;
}

}  // namespace nodeproc
