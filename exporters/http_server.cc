#include "exporters/http_server.h"

#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <fstream>
#include <list>
#include <optional>
#include <sstream>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/log.h"
#include "exporters/label_values.h"
#include "exporters/tls_credentials.h"
#include "prometheus/text_serializer.h"

namespace nodeproc {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr char kTextContentType[] = "text/plain; charset=utf-8";
constexpr size_t kGzipMinBytes = 1024;  // smaller scrapes are not worth compressing
constexpr size_t kHeaderLimit = 8 * 1024;
constexpr size_t kBodyLimit = 4 * 1024;  // requests carry no body; a small one is tolerated
constexpr size_t kReadBufferLimit = kHeaderLimit + kBodyLimit + 1024;
constexpr auto kTlsShutdownTimeout = std::chrono::seconds(2);
constexpr auto kBusyPause = std::chrono::seconds(1);  // = the 503's Retry-After

constexpr char kIndex[] =
    "<html><head><title>nodeproc</title></head><body><h1>nodeproc</h1>"
    "<p><a href=\"/metrics\">/metrics</a> <a href=\"/healthz\">/healthz</a> "
    "<a href=\"/readyz\">/readyz</a></p></body></html>\n";

// "host:port" (numeric IPv4, empty host = all IPv4 interfaces) or "[v6]:port".
absl::StatusOr<tcp::endpoint> ParseListenAddress(const std::string& address) {
  if (address.empty()) return absl::InvalidArgumentError("empty listen address");
  std::string host;
  std::string_view port_text;
  const bool v6 = address.front() == '[';
  if (v6) {
    const size_t close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':') {
      return absl::InvalidArgumentError(
          absl::StrCat("listen address \"", address, "\": want [ipv6]:port"));
    }
    host = address.substr(1, close - 1);
    port_text = std::string_view(address).substr(close + 2);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos || address.find(':') != colon) {
      return absl::InvalidArgumentError(absl::StrCat(
          "listen address \"", address, "\": want host:port (IPv6 as [addr]:port)"));
    }
    host = address.substr(0, colon);
    port_text = std::string_view(address).substr(colon + 1);
  }
  int port = 0;
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string_view::npos ||
      !absl::SimpleAtoi(ToAbsl(port_text), &port) || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", address, "\": bad port \"", ToAbsl(port_text), "\""));
  }
  error_code ec;
  if (v6) {
    const asio::ip::address_v6 ip = asio::ip::make_address_v6(host, ec);
    if (ec || host.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("listen address \"", address, "\": bad IPv6 address"));
    }
    return tcp::endpoint(ip, static_cast<uint16_t>(port));
  }
  if (host.empty()) return tcp::endpoint(asio::ip::address_v4::any(), static_cast<uint16_t>(port));
  const asio::ip::address_v4 ip = asio::ip::make_address_v4(host, ec);
  if (ec || std::count(host.begin(), host.end(), '.') != 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listen address \"", address, "\": the host must be a numeric IPv4 address"));
  }
  return tcp::endpoint(ip, static_cast<uint16_t>(port));
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", ToAbsl(what), " file \"", path,
                                                   "\": ", std::strerror(errno)));
  }
  std::ostringstream content;
  content << in.rdbuf();
  std::string secret = content.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(what), " file \"", path, "\" is empty"));
  }
  return secret;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// gzip (RFC 1952) of `in`; empty on failure.
std::string Gzip(std::string_view in) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string();
}

using Body = std::shared_ptr<const std::string>;

// A response whose body refers to a shared string (one /metrics render serves many scrapes).
struct Response {
  http::response<http::span_body<const char>> message;
  Body body;  // keeps message.body() valid
};

// A response with the headers every answer carries. HEAD gets the length of the body it omits.
std::shared_ptr<Response> MakeResponse(http::status status, std::string_view content_type,
                                       Body body, bool head, unsigned version, bool keep_alive) {
  auto res = std::make_shared<Response>();
  http::response<http::span_body<const char>>& m = res->message;
  m.result(status);
  m.version(version);
  m.set(http::field::content_type, beast::string_view(content_type.data(), content_type.size()));
  m.set(http::field::cache_control, "no-store");
  m.keep_alive(keep_alive);
  if (!head) m.body() = beast::span<const char>(body->data(), body->size());
  m.content_length(body->size());
  res->body = std::move(body);
  return res;
}

std::shared_ptr<Response> MakeResponse(http::status status, std::string_view content_type,
                                       std::string body, bool head, unsigned version,
                                       bool keep_alive) {
  return MakeResponse(status, content_type, std::make_shared<const std::string>(std::move(body)),
                      head, version, keep_alive);
}

prometheus::MetricFamily Family(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

// What a connection is doing. At the cap, the oldest "waiting" one (the first three) is evicted,
// else the oldest one writing; a busy one (waiting for its render) never: there are few.
enum class ConnState { kHandshake, kIdle, kReading, kBusy, kWriting };

bool Waiting(ConnState s) {
  return s == ConnState::kHandshake || s == ConnState::kIdle || s == ConnState::kReading;
}

class Connection {
 public:
  virtual ~Connection() = default;
  virtual void Close() = 0;  // any thread: the close runs on the connection's strand

  std::atomic<ConnState> state{ConnState::kHandshake};
  // Guarded by the ConnectionTable's mutex.
  bool admitted = false;
  bool evicted = false;
  std::list<std::weak_ptr<Connection>>::iterator slot;
};

// Every open connection, oldest first, with the cap.
class ConnectionTable {
 public:
  explicit ConnectionTable(size_t cap) : cap_(cap) {}

  // Registers `c`, first evicting the oldest waiting connections while at the cap. False (and
  // `c` is not registered) when every connection at the cap is busy.
  bool Admit(const std::shared_ptr<Connection>& c) {
    std::vector<std::shared_ptr<Connection>> held;  // released after the lock
    absl::MutexLock lock(&mu_);
    while (list_.size() - closing_ >= cap_) {
      std::shared_ptr<Connection> victim = OldestWaiting(&held);
      if (victim == nullptr) return false;
      Evict(victim);
    }
    c->slot = list_.insert(list_.end(), c);
    c->admitted = true;
    return true;
  }

  // Evicts the oldest waiting connection (file descriptors ran out); false when none.
  bool EvictOldestWaiting() {
    std::vector<std::shared_ptr<Connection>> held;  // released after the lock
    absl::MutexLock lock(&mu_);
    std::shared_ptr<Connection> victim = OldestWaiting(&held);
    if (victim == nullptr) return false;
    Evict(victim);
    return true;
  }

  void Remove(Connection* c) {
    absl::MutexLock lock(&mu_);
    if (!c->admitted) return;
    if (c->evicted) --closing_;
    list_.erase(c->slot);
    c->admitted = false;
  }

  size_t open() const {
    absl::MutexLock lock(&mu_);
    return list_.size();
  }
  uint64_t evicted() const { return evicted_.load(); }

 private:
  // The oldest waiting connection, else the oldest writing one (a client that does not read
  // its response must not hold a slot for the whole write deadline). Every connection it looks
  // at is kept alive in *held, which the caller releases after the lock: a reference taken
  // here may be the last one (the connection closed meanwhile), and its destructor calls
  // Remove(), which takes the lock (a self-deadlock if it ran under it).
  std::shared_ptr<Connection> OldestWaiting(std::vector<std::shared_ptr<Connection>>* held)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::shared_ptr<Connection> writing;
    for (const std::weak_ptr<Connection>& weak : list_) {
      std::shared_ptr<Connection> c = weak.lock();
      if (c == nullptr) continue;
      held->push_back(c);
      if (c->evicted) continue;
      const ConnState state = c->state.load();
      if (Waiting(state)) return c;
      if (writing == nullptr && state == ConnState::kWriting) writing = c;
    }
    return writing;
  }
  void Evict(const std::shared_ptr<Connection>& c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    c->evicted = true;
    ++closing_;
    ++evicted_;
    c->Close();
  }

  const size_t cap_;
  mutable absl::Mutex mu_;
  std::list<std::weak_ptr<Connection>> list_ ABSL_GUARDED_BY(mu_);
  size_t closing_ ABSL_GUARDED_BY(mu_) = 0;  // evicted, not yet gone
  std::atomic<uint64_t> evicted_{0};
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServer* owner, const HttpServerOptions& options)
      : owner_(owner),
        options_(options),
        table_(static_cast<size_t>(std::max(options.max_connections, 1))),
        ioc_(std::max(options.io_threads, 1)),
        acceptor_(asio::make_strand(ioc_)),
        accept_retry_(acceptor_.get_executor()) {}

  absl::Status Start(const tcp::endpoint& endpoint) {
    error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot serve on ", options_.listen_address, ": ", ec.message()));
    }
    port_ = acceptor_.local_endpoint(ec).port();
    renderers_ = std::make_unique<asio::thread_pool>(1);
    Accept();
    for (int i = 0; i < std::max(options_.io_threads, 1); ++i) {
      io_threads_.emplace_back([this] { RunIo(); });
    }
    return absl::OkStatus();
  }

  void Stop() {
    ioc_.stop();
    for (std::thread& t : io_threads_) t.join();
    io_threads_.clear();
    error_code ignored;
    acceptor_.close(ignored);
    if (renderers_ != nullptr) {
      renderers_->stop();  // queued renders are dropped, running ones finish
      renderers_->join();
      renderers_.reset();
    }
    std::vector<std::pair<bool, RenderDone>> dropped;  // they hold connections: free them now,
    {                                                 // while ioc_ still exists
      absl::MutexLock lock(&render_mu_);
      dropped.swap(waiting_);
    }
    // Connections still referenced by pending handlers are destroyed with ioc_.
  }

  int port() const { return port_; }

  HttpServerStats Stats() const {
    HttpServerStats s;
    s.connections_open = table_.open();
    s.connections_evicted = table_.evicted();
    s.connections_rejected = rejected_connections_.load();
    s.connections_timed_out = timed_out_.load();
    s.scrapes_rejected = rejected_scrapes_.load();
    return s;
  }

  HttpServer* owner_;
  const HttpServerOptions& options_;
  std::string basic_password_;
  std::string bearer_token_;
  std::unique_ptr<TlsCredentials> tls_;
  std::atomic<uint64_t> timed_out_{0};
  std::atomic<uint64_t> rejected_scrapes_{0};
  std::atomic<uint64_t> rejected_connections_{0};

  // Declared before ioc_: connections destroyed with the io_context remove themselves here.
  ConnectionTable table_;

  bool Authorized(const http::request<http::string_body>& req) const;

  using RenderDone = std::function<void(Body body, bool gzipped)>;
  // Calls `done` with the /metrics body (gzipped when asked and worth it): a render younger
  // than render_reuse_ms, else the next render of the render thread, shared by every scrape
  // waiting for it. False (nothing is called) when too many scrapes wait already.
  bool SubmitRender(bool gzip, RenderDone done);

 private:
  void RunIo() {
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {  // a handler threw: log, keep serving
        LogOnce(LogLevel::kError, "http:exception", "HTTP handler failed", {{"error", e.what()}});
      }
    }
  }

  void Accept();
  void OnAccept(error_code ec, tcp::socket socket);
  void RenderLoop();

  // Scrapes waiting for the next render, and the last render.
  struct Rendered {
    Body plain;
    Body gzip;  // null when not asked for or not worth it
    std::chrono::steady_clock::time_point done;
  };
  absl::Mutex render_mu_;
  std::vector<std::pair<bool, RenderDone>> waiting_ ABSL_GUARDED_BY(render_mu_);
  size_t waiting_count_ ABSL_GUARDED_BY(render_mu_) = 0;  // waiting_ + the batch being rendered
  bool rendering_ ABSL_GUARDED_BY(render_mu_) = false;
  Rendered last_ ABSL_GUARDED_BY(render_mu_);

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_retry_;
  std::vector<std::thread> io_threads_;
  std::unique_ptr<asio::thread_pool> renderers_;  // declared after ioc_: destroyed before it
  int port_ = 0;
};

namespace {

// One connection: an asynchronous state machine on its own strand. Stream is beast::tcp_stream
// or beast::ssl_stream<beast::tcp_stream>.
template <class Stream>
class Session : public Connection, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  Session(HttpServer::Impl* server, Stream stream)
      : server_(server),
        stream_(std::move(stream)),
        buffer_(kReadBufferLimit),
        pause_(stream_.get_executor()) {}
  ~Session() override { server_->table_.Remove(this); }

  void Run() {
    if constexpr (kTls) {
      state.store(ConnState::kHandshake);
      Lowest().expires_after(Ms(server_->options_.request_timeout_ms));
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](error_code ec) {
                                if (ec) return self->End(ec);
                                self->WaitForRequest();
                              });
    } else {
      asio::dispatch(stream_.get_executor(),
                     [self = this->shared_from_this()] { self->WaitForRequest(); });
    }
  }

  void Close() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->pause_.cancel();
      self->Lowest().close();
    });
  }

 private:
  static std::chrono::milliseconds Ms(int ms) { return std::chrono::milliseconds(ms); }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  bool Pending() {
    if (buffer_.size() > 0) return true;
    if constexpr (kTls) return SSL_pending(stream_.native_handle()) > 0;
    return false;
  }

  // Keep-alive: wait (idle deadline) for the first byte of the next request.
  void WaitForRequest() {
    state.store(ConnState::kIdle);
    if (Pending()) return ReadHead();
    Lowest().expires_after(Ms(server_->options_.idle_timeout_ms));
    stream_.async_read_some(buffer_.prepare(1024),
                            [self = this->shared_from_this()](error_code ec, size_t n) {
                              if (ec) return self->End(ec);
                              self->buffer_.commit(n);
                              self->ReadHead();
                            });
  }

  // The whole request head (and a small body) within the request deadline, from its first byte.
  void ReadHead() {
    state.store(ConnState::kReading);
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(kBodyLimit);
    Lowest().expires_after(Ms(server_->options_.request_timeout_ms));
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](error_code ec, size_t) {
                       if (ec) return self->OnBadRequest(ec);
                       self->OnRequest();
                     });
  }

  void OnBadRequest(error_code ec) {
    if (ec.category() != error_code(http::error::end_of_stream).category() ||
        ec == http::error::end_of_stream || ec == http::error::partial_message) {
      return End(ec);
    }
    state.store(ConnState::kBusy);
    const bool too_big = ec == http::error::header_limit || ec == http::error::body_limit ||
                         ec == http::error::buffer_overflow;
    Write(MakeResponse(too_big ? http::status::request_header_fields_too_large
                               : http::status::bad_request,
                       kTextContentType, too_big ? "request too large\n" : "bad request\n",
                       false, 11, false));
  }

  void OnRequest() {
    state.store(ConnState::kBusy);
    const http::request<http::string_body>& req = parser_->get();
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    const bool head = req.method() == http::verb::head;
    auto respond = [&](http::status status, std::string_view type, std::string body) {
      Write(MakeResponse(status, type, std::move(body), head, version, keep_alive));
    };
    if (req.method() != http::verb::get && !head) {
      return respond(http::status::method_not_allowed, kTextContentType, "method not allowed\n");
    }
    std::string_view path(req.target().data(), req.target().size());
    path = path.substr(0, path.find('?'));
    if (path == "/healthz") return respond(http::status::ok, kTextContentType, "ok\n");
    if (path == "/readyz") {
      const absl::Status ready =
          server_->options_.readiness ? server_->options_.readiness() : absl::OkStatus();
      if (ready.ok()) return respond(http::status::ok, kTextContentType, "ok\n");
      return respond(http::status::service_unavailable, kTextContentType,
                     absl::StrCat("not ready: ", ready.message(), "\n"));
    }
    if (path == "/") return respond(http::status::ok, "text/html; charset=utf-8", kIndex);
    if (path != "/metrics") return respond(http::status::not_found, kTextContentType, "not found\n");

    if (!server_->Authorized(req)) {
      auto res = MakeResponse(http::status::unauthorized, kTextContentType, "unauthorized\n", head,
                              version, keep_alive);
      res->message.set(http::field::www_authenticate,
               server_->basic_password_.empty() ? "Bearer" : "Basic realm=\"nodeproc\"");
      return Write(std::move(res));
    }
    const auto accept = req[http::field::accept_encoding];
    const bool gzip = std::string_view(accept.data(), accept.size()).find("gzip") !=
                      std::string_view::npos;
    auto self = this->shared_from_this();
    const bool queued = server_->SubmitRender(
        gzip, [self, head, version, keep_alive](Body body, bool gzipped) {
          auto res = MakeResponse(http::status::ok, kMetricsContentType, std::move(body), head,
                                  version, keep_alive);
          if (gzipped) res->message.set(http::field::content_encoding, "gzip");
          asio::post(self->stream_.get_executor(),
                     [self, res = std::move(res)]() mutable { self->Write(std::move(res)); });
        });
    if (!queued) {
      auto res = MakeResponse(http::status::service_unavailable, kTextContentType,
                              "too many concurrent scrapes\n", head, version, keep_alive);
      res->message.set(http::field::retry_after, "1");
      pause_after_write_ = true;  // a client retrying at once must not spin the io threads
      Write(std::move(res));
    }
  }

  void Write(std::shared_ptr<Response> res) {
    state.store(ConnState::kWriting);
    response_ = std::move(res);
    Lowest().expires_after(Ms(server_->options_.write_timeout_ms));
    http::async_write(stream_, response_->message,
                      [self = this->shared_from_this()](error_code ec, size_t) {
                        const bool close = self->response_->message.need_eof();
                        self->response_.reset();
                        if (ec) return self->End(ec);
                        if (close) return self->Shutdown();
                        if (!self->pause_after_write_) return self->WaitForRequest();
                        // After a 503 (busy): read this client's next request only after the
                        // Retry-After second; meanwhile it is an idle (evictable) connection.
                        self->pause_after_write_ = false;
                        self->state.store(ConnState::kIdle);
                        self->pause_.expires_after(kBusyPause);
                        self->pause_.async_wait([self](error_code wait_ec) {
                          if (!wait_ec) self->WaitForRequest();
                        });
                      });
  }

  void Shutdown() {
    if constexpr (kTls) {
      Lowest().expires_after(kTlsShutdownTimeout);
      stream_.async_shutdown([self = this->shared_from_this()](error_code) {
        error_code ignored;
        self->Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      });
    } else {
      error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  void End(error_code ec) {
    if (ec == beast::error::timeout) ++server_->timed_out_;
    // Anything else (EOF, reset, evicted, TLS alert) just ends the connection.
  }

  HttpServer::Impl* server_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Response> response_;
  asio::steady_timer pause_;
  bool pause_after_write_ = false;
};

}  // namespace

bool HttpServer::Impl::Authorized(const http::request<http::string_body>& req) const {
  if (basic_password_.empty() && bearer_token_.empty()) return true;
  const auto header = req[http::field::authorization];
  std::string_view value(header.data(), header.size());
  if (value.empty()) return false;
  auto strip_scheme = [&value](std::string_view scheme) {
    if (value.size() <= scheme.size() ||
        !absl::EqualsIgnoreCase(ToAbsl(value.substr(0, scheme.size())), ToAbsl(scheme))) {
      return false;
    }
    value.remove_prefix(scheme.size());
    return true;
  };
  if (!bearer_token_.empty() && strip_scheme("Bearer ")) {
    return ConstantTimeEquals(value, bearer_token_);
  }
  if (!basic_password_.empty() && strip_scheme("Basic ")) {
    std::string decoded;
    if (!absl::Base64Unescape(ToAbsl(value), &decoded)) return false;
    const std::string expected = absl::StrCat(options_.basic_auth_user, ":", basic_password_);
    return ConstantTimeEquals(decoded, expected);
  }
  return false;
}

bool HttpServer::Impl::SubmitRender(bool gzip, RenderDone done) {
  Body body;
  bool gzipped = false;
  {
    absl::MutexLock lock(&render_mu_);
    const auto reuse = std::chrono::milliseconds(std::max(options_.render_reuse_ms, 0));
    const bool fresh = last_.plain != nullptr &&
                       std::chrono::steady_clock::now() - last_.done < reuse;
    const bool small = last_.plain != nullptr && last_.plain->size() < kGzipMinBytes;
    if (fresh && (!gzip || last_.gzip != nullptr || small)) {
      gzipped = gzip && last_.gzip != nullptr;
      body = gzipped ? last_.gzip : last_.plain;
    } else {
      if (waiting_count_ >= static_cast<size_t>(std::max(options_.max_waiting_scrapes, 1))) {
        ++rejected_scrapes_;
        return false;
      }
      ++waiting_count_;
      waiting_.emplace_back(gzip, std::move(done));
      if (!rendering_) {
        rendering_ = true;
        asio::post(*renderers_, [this] { RenderLoop(); });
      }
      return true;
    }
  }
  done(std::move(body), gzipped);
  return true;
}

// One render per batch of waiting scrapes; scrapes that arrive meanwhile get the next one (each
// scrape sees data collected after it arrived, unless it reuses a render under render_reuse_ms).
void HttpServer::Impl::RenderLoop() {
  for (;;) {
    std::vector<std::pair<bool, RenderDone>> batch;
    {
      absl::MutexLock lock(&render_mu_);
      if (waiting_.empty()) {
        rendering_ = false;
        return;
      }
      batch.swap(waiting_);
    }
    Rendered rendered;
    try {
      rendered.plain = std::make_shared<const std::string>(owner_->RenderWith(this));
      const bool want_gzip =
          std::any_of(batch.begin(), batch.end(), [](const auto& w) { return w.first; });
      if (want_gzip && rendered.plain->size() >= kGzipMinBytes) {
        std::string compressed = Gzip(*rendered.plain);
        if (!compressed.empty()) {
          rendered.gzip = std::make_shared<const std::string>(std::move(compressed));
        }
      }
    } catch (const std::exception& e) {
      LogOnce(LogLevel::kError, "http:render", "rendering /metrics failed", {{"error", e.what()}});
      rendered.plain = std::make_shared<const std::string>();
    }
    rendered.done = std::chrono::steady_clock::now();
    {
      absl::MutexLock lock(&render_mu_);
      waiting_count_ -= batch.size();
      last_ = rendered;
    }
    for (auto& [gzip, done] : batch) {
      const bool gzipped = gzip && rendered.gzip != nullptr;
      done(gzipped ? rendered.gzip : rendered.plain, gzipped);
    }
  }
}

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void HttpServer::Impl::OnAccept(error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted) return;
  if (ec) {
    // Out of file descriptors (or a transient error): free a waiting connection, retry shortly
    // rather than spinning on the same error.
    LogOnce(LogLevel::kWarning, "http:accept:" + ec.message(), "accepting a connection failed",
            {{"error", ec.message()}});
    table_.EvictOldestWaiting();
    accept_retry_.expires_after(std::chrono::milliseconds(50));
    accept_retry_.async_wait([this](error_code wait_ec) {
      if (!wait_ec) Accept();
    });
    return;
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::shared_ptr<Connection> connection;
  std::function<void()> run;
  if (tls_ != nullptr) {
    std::shared_ptr<SSL_CTX> ctx = tls_->Current();
    SSL_CTX_up_ref(ctx.get());
    asio::ssl::context wrapper(ctx.get());  // owns the extra reference; SSL_new takes its own
    using TlsStream = beast::ssl_stream<beast::tcp_stream>;
    auto session =
        std::make_shared<Session<TlsStream>>(this, TlsStream(std::move(socket), wrapper));
    connection = session;
    run = [session] { session->Run(); };
  } else {
    auto session = std::make_shared<Session<beast::tcp_stream>>(
        this, beast::tcp_stream(std::move(socket)));
    connection = session;
    run = [session] { session->Run(); };
  }
  if (table_.Admit(connection)) {
    run();
  } else {
    ++rejected_connections_;  // every connection is busy: this one is closed at once
  }
  Accept();
}

HttpServer::HttpServer(HttpServerOptions options) : options_(std::move(options)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::RegisterCollectable(std::weak_ptr<prometheus::Collectable> collectable) {
  absl::MutexLock lock(&mu_);
  collectables_.push_back(std::move(collectable));
}

HttpServerStats HttpServer::stats() const {
  return impl_ != nullptr ? impl_->Stats() : HttpServerStats{};
}

std::string HttpServer::RenderMetrics() const { return RenderWith(impl_.get()); }

std::string HttpServer::RenderWith(const Impl* impl) const {
  std::vector<std::weak_ptr<prometheus::Collectable>> collectables;
  {
    absl::MutexLock lock(&mu_);
    collectables = collectables_;
  }
  std::vector<prometheus::MetricFamily> families;
  for (const auto& weak : collectables) {
    if (auto collectable = weak.lock()) {
      std::vector<prometheus::MetricFamily> more = collectable->Collect();
      families.insert(families.end(), std::make_move_iterator(more.begin()),
                      std::make_move_iterator(more.end()));
    }
  }
  if (impl != nullptr) {
    using prometheus::MetricType;
    const HttpServerStats s = impl->Stats();
    families.push_back(Family("nodeproc_http_connections", "Open HTTP connections.",
                              MetricType::Gauge, static_cast<double>(s.connections_open)));
    families.push_back(Family(
        "nodeproc_http_connections_evicted_total",
        "Waiting HTTP connections closed to make room for new ones at the connection cap.",
        MetricType::Counter, static_cast<double>(s.connections_evicted)));
    families.push_back(Family("nodeproc_http_connections_rejected_total",
                              "HTTP connections closed at once: every connection was busy.",
                              MetricType::Counter, static_cast<double>(s.connections_rejected)));
    families.push_back(Family(
        "nodeproc_http_connections_timed_out_total",
        "HTTP connections closed by a deadline (TLS handshake, request head, idle, write).",
        MetricType::Counter, static_cast<double>(s.connections_timed_out)));
    families.push_back(Family("nodeproc_http_scrapes_rejected_total",
                              "Scrapes answered 503 because too many renders were in flight.",
                              MetricType::Counter, static_cast<double>(s.scrapes_rejected)));
  }
  if (const size_t dropped = MakeLabelValuesValid(&families); dropped > 0) {
    LogLimited(LogLevel::kWarning, "metrics:utf8-duplicates", "",
               "Series whose label values became identical once made valid UTF-8 were dropped",
               {{"dropped_series", dropped}});
  }
  return prometheus::TextSerializer().Serialize(families);
}

absl::Status HttpServer::Start() {
  if (impl_ != nullptr) return absl::FailedPreconditionError("HTTP server already started");
  absl::StatusOr<tcp::endpoint> endpoint = ParseListenAddress(options_.listen_address);
  if (!endpoint.ok()) return endpoint.status();

  auto impl = std::make_unique<Impl>(this, options_);
  const bool want_tls = !options_.tls_cert_file.empty() || !options_.tls_key_file.empty();
  if (want_tls) {
    if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
      return absl::InvalidArgumentError("TLS needs both a certificate file and a key file");
    }
    absl::StatusOr<std::unique_ptr<TlsCredentials>> tls =
        TlsCredentials::Load(options_.tls_cert_file, options_.tls_key_file);
    if (!tls.ok()) return tls.status();
    impl->tls_ = *std::move(tls);
  }
  if (options_.basic_auth_user.empty() != options_.basic_auth_password_file.empty()) {
    return absl::InvalidArgumentError("basic auth needs both a user and a password file");
  }
  if (!options_.basic_auth_password_file.empty()) {
    absl::StatusOr<std::string> password =
        ReadSecretFile(options_.basic_auth_password_file, "basic auth password");
    if (!password.ok()) return password.status();
    impl->basic_password_ = *std::move(password);
  }
  if (!options_.bearer_token_file.empty()) {
    absl::StatusOr<std::string> token = ReadSecretFile(options_.bearer_token_file, "bearer token");
    if (!token.ok()) return token.status();
    impl->bearer_token_ = *std::move(token);
  }
  if (absl::Status s = impl->Start(*endpoint); !s.ok()) {
    impl->Stop();
    return s;
  }
  impl_ = std::move(impl);
  LogInfo("HTTP server listening", {{"address", options_.listen_address},
                                     {"port", std::to_string(impl_->port())},
                                     {"tls", want_tls ? "true" : "false"}});
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (impl_ == nullptr) return;
  impl_->Stop();
  impl_.reset();
}

int HttpServer::port() const { return impl_ != nullptr ? impl_->port() : 0; }

}  // namespace nodeproc
