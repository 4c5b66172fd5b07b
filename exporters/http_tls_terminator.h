#pragma once
// TLS in front of the HTTP server. Debian's civetweb 1.15 loads libssl.so at run time expecting
// the OpenSSL 1.1 API and fails against OpenSSL 3 ("cannot find SSL_get_peer_certificate"), so
// TLS is terminated here with OpenSSL directly: each accepted TLS connection is relayed, in
// plain text, to the civetweb listener on 127.0.0.1 (pod-local loopback).
#include <atomic>
#include <list>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace nodeproc {

struct TlsTerminatorOptions {
  std::string ipv4_host;  // numeric IPv4; empty = all interfaces
  int port = 0;           // 0 = any free port
  std::string cert_file;  // PEM, may hold the chain
  std::string key_file;   // PEM
  int backend_port = 0;   // plain HTTP on 127.0.0.1
  int max_connections = 16;
};

class TlsTerminator {
 public:
  // Loads the certificate and key (InvalidArgument when they are unusable), binds
  // (Unavailable when it cannot) and starts accepting.
  static absl::StatusOr<std::unique_ptr<TlsTerminator>> Start(TlsTerminatorOptions options);
  ~TlsTerminator();  // stops accepting, closes relays, joins every thread
  TlsTerminator(const TlsTerminator&) = delete;
  TlsTerminator& operator=(const TlsTerminator&) = delete;

  int port() const { return port_; }

 private:
  explicit TlsTerminator(TlsTerminatorOptions options) : options_(std::move(options)) {}
  void AcceptLoop();
  void Relay(int client_fd);
  void ReapFinished();

  struct Connection {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  TlsTerminatorOptions options_;
  SSL_CTX* ctx_ = nullptr;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};  // written once by the destructor: every poller wakes up
  int port_ = 0;
  std::thread acceptor_;
  std::list<Connection> connections_;  // only the acceptor thread touches it until shutdown
};

}  // namespace nodeproc
