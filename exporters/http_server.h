#pragma once
// The agent's HTTP endpoint: /metrics (Prometheus text format 0.0.4 from the registered
// Collectables), /healthz (the process is alive) and /readyz (a readiness callback). Optional
// TLS, and basic auth or a bearer token protecting /metrics only (probes stay open for the
// kubelet).
//
// Why Boost.Beast/Asio (Debian's libboost-dev 1.74, header-only) and not civetweb: the probes
// must answer within 1 s whatever other clients do (idle and slowloris connections, floods of
// scrapes, stalled TLS handshakes). civetweb gives each connection a worker thread for up to its
// request timeout, so a handful of silent clients starve the probes, and Debian's civetweb 1.15
// cannot load OpenSSL 3 (it needed a home-made TLS relay). Here every connection is an
// asynchronous state machine on a small pool of io threads, so a silent or slow client costs a
// socket and a few KiB, never a thread:
//   - per-connection deadlines: TLS handshake, idle keep-alive wait, the whole request head
//     (from its first byte: a slowloris client is cut off, not fed), the response write;
//   - a connection cap: at the cap a new connection evicts the oldest one that is only waiting
//     (handshaking, idle or still sending its request), else the oldest one writing a response;
//   - /healthz and /readyz are answered on the io thread at once; /metrics is rendered on a
//     render thread, one render for every scrape waiting (bounded: past it a scrape gets 503 at
//     once instead of piling up), the body shared by all of them;
//   - TLS through asio::ssl (OpenSSL 3, TLS 1.2+), the certificate pair reloaded when its files
//     change (exporters/tls_credentials.h). IPv4 and IPv6 listen addresses.
// libmicrohttpd (its own thread model and timeouts) or cpp-httplib (thread per connection) would
// need the same design around them; asio gives it directly and asio::ssl speaks OpenSSL 3.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace nodeproc {

struct HttpServerOptions {
  // host:port, IPv4 ("0.0.0.0:9866", "127.0.0.1:0") or IPv6 ("[::]:9866", "[::1]:0"); numeric
  // hosts only. Port 0 picks a free port.
  std::string listen_address = "0.0.0.0:9866";
  // /metrics is rendered on one render thread (the io threads never render), once for all the
  // scrapes waiting for it; past max_waiting_scrapes waiting, a scrape gets 503 at once. A
  // render younger than render_reuse_ms answers new scrapes directly (its body is shared), so
  // memory holds a few bodies however many clients scrape.
  int max_waiting_scrapes = 64;
  int render_reuse_ms = 1000;
  int io_threads = 2;
  // Open connections; at the cap a new one evicts the oldest waiting one (else the oldest one
  // writing a response).
  int max_connections = 512;
  // Deadlines (milliseconds): the request head from its first byte (also the TLS handshake),
  // an idle keep-alive connection waiting for its next request, writing one response.
  int request_timeout_ms = 10000;
  int idle_timeout_ms = 60000;
  int write_timeout_ms = 30000;

  // TLS: both or neither (PEM files; the cert file may hold the chain). TLS 1.2+. Reloaded when
  // the files change (checked at most once a second, on new connections).
  std::string tls_cert_file;
  std::string tls_key_file;

  // /metrics auth. With a user (password read from the file, trailing newline dropped) basic
  // auth is accepted; with a token file "Authorization: Bearer <token>" is accepted. With
  // both, either works. Files are read by Start().
  std::string basic_auth_user;
  std::string basic_auth_password_file;
  std::string bearer_token_file;

  // /readyz: OK -> 200 "ok"; an error -> 503 with the status message. Null means ready.
  // Called on an io thread: it must not block.
  std::function<absl::Status()> readiness;
};

// Counters of the server's self-protection (also exported on /metrics as nodeproc_http_*).
struct HttpServerStats {
  uint64_t connections_open = 0;
  uint64_t connections_evicted = 0;   // closed to make room at the connection cap
  uint64_t connections_rejected = 0;  // closed at once: every connection at the cap was busy
  uint64_t connections_timed_out = 0; // handshake, request head, idle or write deadline
  uint64_t scrapes_rejected = 0;      // 503: too many scrapes waiting for a render
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

  // Validates options, reads the auth files, loads TLS and binds. InvalidArgument for a bad
  // address, unreadable files or half-configured TLS/auth, Unavailable when the address cannot
  // be bound.
  absl::Status Start();
  void Stop();  // idempotent; closes every connection, waits for in-flight renders

  int port() const;  // the bound port (after a successful Start()), else 0
  bool tls() const { return !options_.tls_cert_file.empty(); }
  HttpServerStats stats() const;

  // Serialises the registered collectables (what /metrics answers).
  std::string RenderMetrics() const;

  class Impl;  // the asio side, in http_server.cc

 private:
  // The collectables, plus the server's own counters when `impl` is given.
  std::string RenderWith(const Impl* impl) const;

  HttpServerOptions options_;
  mutable absl::Mutex mu_;
  std::vector<std::weak_ptr<prometheus::Collectable>> collectables_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nodeproc
