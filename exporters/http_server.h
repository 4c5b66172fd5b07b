#pragma once
// The agent's HTTP endpoint (civetweb): /metrics (Prometheus text format 0.0.4 from the
// registered Collectables), /healthz (the process is alive) and /readyz (a readiness
// callback). Optional TLS, and basic auth or a bearer token protecting /metrics only (probes
// stay open for the kubelet).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "exporters/http_tls_terminator.h"

struct mg_context;
struct mg_connection;

namespace nodeproc {

struct HttpServerOptions {
  // host:port, IPv4 ("0.0.0.0:9866", "127.0.0.1:0") or IPv6 ("[::1]:9866"; needs a civetweb
  // built with IPv6, Debian's is not: Start() then fails clearly). Port 0 picks a free port.
  std::string listen_address = "0.0.0.0:9866";
  // Workers: an idle client holds one until request_timeout_ms, so keep a few spare for probes.
  int threads = 4;
  int request_timeout_ms = 5000;

  // TLS: both or neither (PEM files; the cert file may hold the chain). Terminated by
  // TlsTerminator (OpenSSL), which relays to civetweb on 127.0.0.1: Debian's civetweb cannot
  // load OpenSSL 3 itself. TLS 1.2+.
  std::string tls_cert_file;
  std::string tls_key_file;

  // /metrics auth. With a user (password read from the file, trailing newline dropped) basic
  // auth is accepted; with a token file "Authorization: Bearer <token>" is accepted. With
  // both, either works. Files are read by Start().
  std::string basic_auth_user;
  std::string basic_auth_password_file;
  std::string bearer_token_file;

  // /readyz: OK -> 200 "ok"; an error -> 503 with the status message. Null means ready.
  std::function<absl::Status()> readiness;
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // What /metrics serialises, in registration order; may be called before or after Start().
  // Expired weak pointers are skipped.
  void RegisterCollectable(std::weak_ptr<prometheus::Collectable> collectable);

  // Validates options, reads the auth files and binds. InvalidArgument for a bad address or
  // half-configured TLS/auth, Unimplemented when IPv6/TLS is asked of a civetweb built without
  // it, Unavailable when the port cannot be bound.
  absl::Status Start();
  void Stop();  // idempotent; waits for in-flight requests

  int port() const;  // the bound port (after a successful Start()), else 0
  bool tls() const { return !options_.tls_cert_file.empty(); }

  // Serialises the registered collectables (what /metrics answers).
  std::string RenderMetrics() const;

 private:
  static int HandleRequest(mg_connection* conn, void* self);
  int Handle(mg_connection* conn);
  bool Authorized(mg_connection* conn) const;

  HttpServerOptions options_;
  std::string basic_password_;
  std::string bearer_token_;
  mutable absl::Mutex mu_;
  std::vector<std::weak_ptr<prometheus::Collectable>> collectables_ ABSL_GUARDED_BY(mu_);
  mg_context* context_ = nullptr;
  std::unique_ptr<TlsTerminator> tls_;  // in front of civetweb when TLS is on
  int port_ = 0;
};

}  // namespace nodeproc
