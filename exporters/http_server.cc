#include "exporters/http_server.h"

#include <civetweb.h>
#include <zlib.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/log.h"
#include "exporters/label_values.h"
#include "prometheus/text_serializer.h"

namespace nodeproc {
namespace {

constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr unsigned kFeatureIpv6 = 8;
constexpr size_t kGzipMinBytes = 1024;  // smaller scrapes are not worth compressing

void InitCivetwebOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mg_init_library(0); });
}

struct ListenAddress {
  std::string host;  // numeric; empty = all interfaces
  int port = 0;
  bool v6 = false;

  std::string ForCivetweb() const {
    if (v6) return absl::StrCat("[", host, "]:", port);
    return host.empty() ? absl::StrCat(port) : absl::StrCat(host, ":", port);
  }
};

// "host:port" or "[v6]:port".
absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& address) {
  if (address.empty()) return absl::InvalidArgumentError("empty listen address");
  ListenAddress parsed;
  std::string_view port;
  parsed.v6 = address.front() == '[';
  if (parsed.v6) {
    const size_t close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':') {
      return absl::InvalidArgumentError(
          absl::StrCat("listen address \"", address, "\": want [ipv6]:port"));
    }
    parsed.host = address.substr(1, close - 1);
    port = std::string_view(address).substr(close + 2);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos || address.find(':') != colon) {
      return absl::InvalidArgumentError(absl::StrCat(
          "listen address \"", address, "\": want host:port (IPv6 as [addr]:port)"));
    }
    parsed.host = address.substr(0, colon);
    port = std::string_view(address).substr(colon + 1);
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string_view::npos ||
      !absl::SimpleAtoi(ToAbsl(port), &parsed.port) || parsed.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", address, "\": bad port \"", ToAbsl(port), "\""));
  }
  if (parsed.v6) {
    if (parsed.host.empty() ||
        parsed.host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("listen address \"", address, "\": bad IPv6 address"));
    }
    if (mg_check_feature(kFeatureIpv6) == 0) {
      return absl::UnimplementedError(absl::StrCat(
          "listen address \"", address,
          "\": this civetweb build has no IPv6 support; use an IPv4 address such as 0.0.0.0"));
    }
    return parsed;
  }
  if (!parsed.host.empty() &&
      (parsed.host.find_first_not_of("0123456789.") != std::string::npos ||
       std::count(parsed.host.begin(), parsed.host.end(), '.') != 3)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listen address \"", address, "\": the host must be a numeric IPv4 address"));
  }
  return parsed;
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

bool AcceptsGzip(mg_connection* conn) {
  const char* accept = mg_get_header(conn, "Accept-Encoding");
  return accept != nullptr && std::string_view(accept).find("gzip") != std::string_view::npos;
}

int Respond(mg_connection* conn, int status, const char* content_type, std::string_view body,
            bool head, const char* www_authenticate = nullptr,
            const char* content_encoding = nullptr) {
  mg_response_header_start(conn, status);
  mg_response_header_add(conn, "Content-Type", content_type, -1);
  if (content_encoding != nullptr) {
    mg_response_header_add(conn, "Content-Encoding", content_encoding, -1);
  }
  const std::string length = std::to_string(body.size());
  mg_response_header_add(conn, "Content-Length", length.c_str(), -1);
  mg_response_header_add(conn, "Cache-Control", "no-store", -1);
  if (www_authenticate != nullptr) {
    mg_response_header_add(conn, "WWW-Authenticate", www_authenticate, -1);
  }
  mg_response_header_send(conn);
  if (!head && !body.empty()) mg_write(conn, body.data(), body.size());
  return status;
}

constexpr char kIndex[] =
    "<html><head><title>nodeproc</title></head><body><h1>nodeproc</h1>"
    "<p><a href=\"/metrics\">/metrics</a> <a href=\"/healthz\">/healthz</a> "
    "<a href=\"/readyz\">/readyz</a></p></body></html>\n";

}  // namespace

HttpServer::HttpServer(HttpServerOptions options) : options_(std::move(options)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::RegisterCollectable(std::weak_ptr<prometheus::Collectable> collectable) {
  absl::MutexLock lock(&mu_);
  collectables_.push_back(std::move(collectable));
}

std::string HttpServer::RenderMetrics() const {
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
  if (const size_t dropped = MakeLabelValuesValid(&families); dropped > 0) {
    LogLimited(LogLevel::kWarning, "metrics:utf8-duplicates", "",
               "Series whose label values became identical once made valid UTF-8 were dropped",
               {{"dropped_series", dropped}});
  }
  return prometheus::TextSerializer().Serialize(families);
}

absl::Status HttpServer::Start() {
  if (context_ != nullptr) return absl::FailedPreconditionError("HTTP server already started");
  InitCivetwebOnce();
  absl::StatusOr<ListenAddress> address = ParseListenAddress(options_.listen_address);
  if (!address.ok()) return address.status();

  const bool want_tls = !options_.tls_cert_file.empty() || !options_.tls_key_file.empty();
  if (want_tls) {
    if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
      return absl::InvalidArgumentError("TLS needs both a certificate file and a key file");
    }
    if (address->v6) {
      return absl::UnimplementedError("TLS is served on IPv4 addresses only");
    }
  }

  if (options_.basic_auth_user.empty() != options_.basic_auth_password_file.empty()) {
    return absl::InvalidArgumentError("basic auth needs both a user and a password file");
  }
  if (!options_.basic_auth_password_file.empty()) {
    absl::StatusOr<std::string> password =
        ReadSecretFile(options_.basic_auth_password_file, "basic auth password");
    if (!password.ok()) return password.status();
    basic_password_ = *std::move(password);
  }
  if (!options_.bearer_token_file.empty()) {
    absl::StatusOr<std::string> token = ReadSecretFile(options_.bearer_token_file, "bearer token");
    if (!token.ok()) return token.status();
    bearer_token_ = *std::move(token);
  }

  // With TLS, civetweb serves plain HTTP on pod-local loopback behind the terminator.
  const std::string listening = want_tls ? "127.0.0.1:0" : address->ForCivetweb();
  const std::string threads = std::to_string(options_.threads > 0 ? options_.threads : 4);
  const std::string timeout_ms = std::to_string(
      options_.request_timeout_ms > 0 ? options_.request_timeout_ms : 5000);
  std::vector<const char*> config = {"listening_ports",    listening.c_str(),
                                     "num_threads",        threads.c_str(),
                                     "request_timeout_ms", timeout_ms.c_str(),
                                     "access_control_allow_origin", "",
                                     nullptr};
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof(callbacks));
  callbacks.log_message = [](const mg_connection*, const char* message) {
    LogWarning("civetweb", {{"error", message}});
    return 1;
  };
  mg_init_data init;
  std::memset(&init, 0, sizeof(init));
  init.callbacks = &callbacks;
  init.user_data = this;
  init.configuration_options = config.data();
  char error_text[256] = {0};
  unsigned error_code = 0;
  mg_error_data error;
  error.code = &error_code;
  error.text = error_text;
  error.text_buffer_size = sizeof(error_text);
  context_ = mg_start2(&init, &error);
  if (context_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot serve on ", options_.listen_address, ": ",
                                               error_text[0] ? error_text : "civetweb failed"));
  }
  mg_set_request_handler(context_, "/", &HttpServer::HandleRequest, this);

  mg_server_port ports[4];
  std::memset(ports, 0, sizeof(ports));
  const int n = mg_get_server_ports(context_, 4, ports);
  const int civetweb_port = n > 0 ? ports[0].port : 0;
  port_ = civetweb_port;
  if (want_tls) {
    TlsTerminatorOptions tls;
    tls.ipv4_host = address->host;
    tls.port = address->port;
    tls.cert_file = options_.tls_cert_file;
    tls.key_file = options_.tls_key_file;
    tls.backend_port = civetweb_port;
    tls.max_connections = 4 * std::max(options_.threads, 2);
    absl::StatusOr<std::unique_ptr<TlsTerminator>> terminator = TlsTerminator::Start(tls);
    if (!terminator.ok()) {
      Stop();
      return terminator.status();
    }
    tls_ = *std::move(terminator);
    port_ = tls_->port();
  }
  LogInfo("HTTP server listening", {{"address", options_.listen_address},
                                     {"port", std::to_string(port_)},
                                     {"tls", want_tls ? "true" : "false"}});
  return absl::OkStatus();
}

void HttpServer::Stop() {
  tls_.reset();
  if (context_ == nullptr) return;
  mg_stop(context_);
  context_ = nullptr;
  port_ = 0;
}

int HttpServer::port() const { return port_; }

int HttpServer::HandleRequest(mg_connection* conn, void* self) {
  try {  // nothing may unwind into civetweb's C frames
    return static_cast<HttpServer*>(self)->Handle(conn);
  } catch (const std::exception& e) {
    LogOnce(LogLevel::kError, "http:exception", "HTTP handler failed", {{"error", e.what()}});
  } catch (...) {
    LogOnce(LogLevel::kError, "http:exception", "HTTP handler failed");
  }
  return Respond(conn, 500, "text/plain; charset=utf-8", "internal error\n", false);
}

bool HttpServer::Authorized(mg_connection* conn) const {
  if (basic_password_.empty() && bearer_token_.empty()) return true;
  const char* header = mg_get_header(conn, "Authorization");
  if (header == nullptr) return false;
  std::string_view value(header);
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

int HttpServer::Handle(mg_connection* conn) {
  const mg_request_info* request = mg_get_request_info(conn);
  const std::string_view method = request->request_method ? request->request_method : "";
  const std::string_view path = request->local_uri ? request->local_uri : "";
  const bool head = method == "HEAD";
  if (method != "GET" && !head) {
    return Respond(conn, 405, "text/plain; charset=utf-8", "method not allowed\n", head);
  }
  if (path == "/metrics") {
    if (!Authorized(conn)) {
      return Respond(conn, 401, "text/plain; charset=utf-8", "unauthorized\n", head,
                     basic_password_.empty() ? "Bearer" : "Basic realm=\"nodeproc\"");
    }
    const std::string body = RenderMetrics();
    if (body.size() >= kGzipMinBytes && AcceptsGzip(conn)) {
      const std::string compressed = Gzip(body);
      if (!compressed.empty()) {
        return Respond(conn, 200, kMetricsContentType, compressed, head, nullptr, "gzip");
      }
    }
    return Respond(conn, 200, kMetricsContentType, body, head);
  }
  if (path == "/healthz") return Respond(conn, 200, "text/plain; charset=utf-8", "ok\n", head);
  if (path == "/readyz") {
    const absl::Status ready = options_.readiness ? options_.readiness() : absl::OkStatus();
    if (ready.ok()) return Respond(conn, 200, "text/plain; charset=utf-8", "ok\n", head);
    return Respond(conn, 503, "text/plain; charset=utf-8",
                   absl::StrCat("not ready: ", ready.message(), "\n"), head);
  }
  if (path == "/") return Respond(conn, 200, "text/html; charset=utf-8", kIndex, head);
  return Respond(conn, 404, "text/plain; charset=utf-8", "not found\n", head);
}

}  // namespace nodeproc
