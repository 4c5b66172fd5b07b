#pragma once
// The kubelet over HTTPS (libcurl + OpenSSL): bearer token from the service-account token file
// (re-read when it changes: bound tokens rotate), TLS verified against a CA file, optionally
// checking the certificate against the node name while dialling the node IP. One curl easy
// handle is reused (keep-alive) under a mutex. Never spawns anything.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "kube/kubelet_source.h"

namespace nodeproc {

struct KubeletClientOptions {
  std::string base_url;  // https://NODE_IP:10250 (no trailing path)
  std::string token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";  // "" = none
  std::string ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";    // "" = system CAs
  bool insecure_skip_verify = false;  // no certificate check at all; warns once at Create
  bool allow_plain_http = false;      // http:// URLs are refused unless this is set
  // When set: connect to the host of base_url but verify the certificate against this name.
  std::string tls_server_name;
  absl::Duration timeout = absl::Seconds(5);
  size_t max_body_bytes = kMaxKubeletBodyBytes;  // larger bodies abort => ResourceExhausted
  // The token file is re-read when its inode/size/mtime change, and at least this often.
  absl::Duration token_reread_interval = absl::Minutes(1);
};

// The outcome class of a failed transfer (the `code` label of nodeproc_kubelet_requests_total):
// "timeout", "refused", "resolve", "reset" (the kubelet reset or closed the connection:
// ECONNRESET / EPIPE, CURLE_RECV_ERROR / CURLE_SEND_ERROR / CURLE_GOT_NOTHING, or a TLS read
// that hit a TCP reset or EOF), "tls" (real TLS failures: CURLE_SSL_*,
// CURLE_PEER_FAILED_VERIFICATION) or "error". `curl_code` is a CURLcode, `os_errno`
// CURLINFO_OS_ERRNO, `detail` curl's error text. Pure (for tests).
std::string_view ClassifyTransferError(int curl_code, long os_errno, std::string_view detail);

class KubeletClient : public KubeletSource {
 public:
  // Validates the options (URL scheme, host) and sets up the curl handle. Does not connect.
  static absl::StatusOr<std::unique_ptr<KubeletClient>> Create(KubeletClientOptions options);
  ~KubeletClient() override;
  KubeletClient(const KubeletClient&) = delete;
  KubeletClient& operator=(const KubeletClient&) = delete;

  // GET base_url + path. Errors:
  //   401 => Unauthenticated "token rejected (401)"; 403 => PermissionDenied naming the RBAC
  //   rule (nodes/stats or nodes/proxy get); other non-200 => Unavailable (5xx) or Unknown with
  //   the code; connection refused => Unavailable; connection reset or closed by the peer =>
  //   Unavailable "connection reset"; TLS => Unavailable "certificate verify
  //   failed: ..."; timeout => DeadlineExceeded; body over max_body_bytes => ResourceExhausted;
  //   unreadable token or CA file => FailedPrecondition.
  absl::StatusOr<std::string> Fetch(std::string_view path) override;
  std::string LastOutcome() const override;
  long LastHttpCode() const;  // 0 when no HTTP response was received

  const KubeletClientOptions& options() const { return options_; }

 private:
  explicit KubeletClient(KubeletClientOptions options);
  absl::Status Init();
  absl::StatusOr<std::string> Token() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const KubeletClientOptions options_;
  std::string url_prefix_;  // scheme://host:port used in request URLs
  std::string connect_to_;  // CURLOPT_CONNECT_TO entry when tls_server_name is set

  mutable absl::Mutex mu_;
  void* curl_ ABSL_GUARDED_BY(mu_) = nullptr;  // CURL*
  std::string token_ ABSL_GUARDED_BY(mu_);
  bool token_loaded_ ABSL_GUARDED_BY(mu_) = false;
  unsigned long token_ino_ ABSL_GUARDED_BY(mu_) = 0;
  long long token_size_ ABSL_GUARDED_BY(mu_) = -1;
  long long token_mtime_ns_ ABSL_GUARDED_BY(mu_) = -1;
  absl::Time token_read_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::string last_outcome_ ABSL_GUARDED_BY(mu_);
  long last_http_code_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace nodeproc
