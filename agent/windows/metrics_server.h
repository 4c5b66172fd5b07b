#pragma once
// The Windows agent's HTTP endpoint over civetweb (the mingw build of Debian's civetweb 1.15):
// GET/HEAD /metrics (the registered collectables in the Prometheus text format),
// /healthz, /readyz and an index page, with the same paths, status codes, bodies and content
// types as the Linux server (exporters/http_server). Optional bearer-token or basic auth on
// /metrics (--web-bearer-token-file, --web-basic-auth-*). No TLS on Windows (documented in
// collectors/windows/README.md): civetweb is built without it there.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "prometheus/collectable.h"

struct mg_connection;
struct mg_context;

namespace nodeproc::win {

struct MetricsServerOptions {
  std::string listen_address;  // "host:port" or ":port"; port 0 picks a free one
  std::string basic_auth_user;
  std::string basic_auth_password_file;
  std::string bearer_token_file;
  std::function<absl::Status()> readiness;
};

class MetricsServer {
 public:
  explicit MetricsServer(MetricsServerOptions options);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  void RegisterCollectable(std::shared_ptr<prometheus::Collectable> collectable);
  // Binds and starts serving; an address in use or a bad address is an error.
  absl::Status Start();
  void Stop();
  int port() const { return port_; }

 private:
  static int HandleRequest(mg_connection* conn, void* self);
  int Handle(mg_connection* conn);
  bool Authorized(mg_connection* conn) const;
  std::string RenderMetrics() const;

  MetricsServerOptions options_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::string basic_password_;
  std::string bearer_token_;
  mg_context* context_ = nullptr;
  int port_ = 0;
};

}  // namespace nodeproc::win
