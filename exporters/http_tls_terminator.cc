#include "exporters/http_tls_terminator.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/log.h"

namespace nodeproc {
namespace {

constexpr int kIoTimeoutSeconds = 10;    // one blocked read or write of a relay
constexpr int kIdleTimeoutMs = 30000;    // a relay with no traffic at all

std::string OpenSslError() {
  char reason[256] = {0};
  ERR_error_string_n(ERR_get_error(), reason, sizeof(reason));
  return reason;
}

void SetIoTimeouts(int fd) {
  timeval tv{kIoTimeoutSeconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsTerminator>> TlsTerminator::Start(
    TlsTerminatorOptions options) {
  std::unique_ptr<TlsTerminator> t(new TlsTerminator(std::move(options)));
  const TlsTerminatorOptions& o = t->options_;

  t->ctx_ = SSL_CTX_new(TLS_server_method());
  if (t->ctx_ == nullptr) return absl::InternalError("SSL_CTX_new failed: " + OpenSslError());
  SSL_CTX_set_min_proto_version(t->ctx_, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(t->ctx_, o.cert_file.c_str()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS certificate \"", o.cert_file, "\": ", OpenSslError()));
  }
  if (SSL_CTX_use_PrivateKey_file(t->ctx_, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS key \"", o.key_file, "\": ", OpenSslError()));
  }
  if (SSL_CTX_check_private_key(t->ctx_) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("TLS key \"", o.key_file,
                                                   "\" does not match the certificate: ",
                                                   OpenSslError()));
  }

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(o.port));
  if (o.ipv4_host.empty()) {
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
  } else if (inet_pton(AF_INET, o.ipv4_host.c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("bad IPv4 address \"", o.ipv4_host, "\""));
  }
  t->listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(t->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (t->listen_fd_ < 0 ||
      bind(t->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(t->listen_fd_, 64) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", o.ipv4_host, ":", o.port,
                                               ": ", std::strerror(errno)));
  }
  socklen_t len = sizeof(addr);
  getsockname(t->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  t->port_ = ntohs(addr.sin_port);
  if (pipe2(t->wake_pipe_, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  t->acceptor_ = std::thread([raw = t.get()] { raw->AcceptLoop(); });
  return t;
}

TlsTerminator::~TlsTerminator() {
  if (wake_pipe_[1] >= 0) {
    const char byte = 1;
    (void)!write(wake_pipe_[1], &byte, 1);  // never read: every poll() sees it from now on
  }
  if (acceptor_.joinable()) acceptor_.join();
  for (Connection& c : connections_) c.thread.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  for (int fd : wake_pipe_) {
    if (fd >= 0) close(fd);
  }
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

void TlsTerminator::ReapFinished() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (it->done->load()) {
      it->thread.join();
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void TlsTerminator::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    ReapFinished();
    if (static_cast<int>(connections_.size()) >= options_.max_connections) {
      LogOnce(LogLevel::kWarning, "tls:max-connections",
              "TLS connection refused: too many open connections",
              {{"max", options_.max_connections}});
      close(client);
      continue;
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    connections_.push_back(Connection{std::thread([this, client, done] {
                                        Relay(client);
                                        done->store(true);
                                      }),
                                      done});
  }
}

void TlsTerminator::Relay(int client) {
  SetIoTimeouts(client);
  SSL* ssl = SSL_new(ctx_);
  int backend = -1;
  SSL_set_fd(ssl, client);
  if (SSL_accept(ssl) == 1) {
    backend = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(options_.backend_port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    SetIoTimeouts(backend);
    if (connect(backend, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(backend);
      backend = -1;
    }
  }
  char buf[16384];
  while (backend >= 0) {
    pollfd fds[3] = {{client, POLLIN, 0}, {backend, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (SSL_pending(ssl) == 0) {  // bytes OpenSSL already decrypted need no poll
      const int ready = poll(fds, 3, kIdleTimeoutMs);
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0 || fds[2].revents != 0) break;
    }
    if (SSL_pending(ssl) > 0 || (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const int n = SSL_read(ssl, buf, sizeof(buf));
      if (n <= 0 || !WriteAll(backend, buf, static_cast<size_t>(n))) break;
    }
    if ((fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t n = recv(backend, buf, sizeof(buf), 0);
      if (n <= 0 || SSL_write(ssl, buf, static_cast<int>(n)) != n) break;
    }
  }
  if (backend >= 0) {
    SSL_shutdown(ssl);
    close(backend);
  }
  SSL_free(ssl);
  close(client);
}

}  // namespace nodeproc
