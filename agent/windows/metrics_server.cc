#include "agent/windows/metrics_server.h"

#include <civetweb.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/log.h"
#include "prometheus/text_serializer.h"

namespace nodeproc::win {
namespace {

constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr char kText[] = "text/plain; charset=utf-8";
constexpr char kIndex[] =
    "<html><head><title>nodeproc</title></head><body><h1>nodeproc</h1>"
    "<p><a href=\"/metrics\">/metrics</a> <a href=\"/healthz\">/healthz</a> "
    "<a href=\"/readyz\">/readyz</a></p></body></html>\n";

// "host:port" (numeric IPv4 host, or empty for all interfaces) -> civetweb's form.
absl::StatusOr<std::string> CivetwebPort(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || address.find(':') != colon) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", address, "\": want host:port (IPv4 on Windows)"));
  }
  const std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  int n = 0;
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      !absl::SimpleAtoi(port, &n) || n > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("listen address \"", address, "\": bad port \"", port, "\""));
  }
  if (!host.empty() && (host.find_first_not_of("0123456789.") != std::string::npos ||
                        std::count(host.begin(), host.end(), '.') != 3)) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", address, "\": the host must be a numeric IPv4 address"));
  }
  return host.empty() ? port : absl::StrCat(host, ":", port);
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", ToAbsl(what), " file \"", path, "\""));
  }
  std::ostringstream content;
  content << in.rdbuf();
  std::string secret = content.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty()) return absl::InvalidArgumentError(absl::StrCat(ToAbsl(what), " file \"", path, "\" is empty"));
  return secret;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

int Respond(mg_connection* conn, int status, const char* content_type, std::string_view body, bool head,
            const char* www_authenticate = nullptr) {
  mg_response_header_start(conn, status);
  mg_response_header_add(conn, "Content-Type", content_type, -1);
  const std::string length = std::to_string(body.size());
  mg_response_header_add(conn, "Content-Length", length.c_str(), -1);
  mg_response_header_add(conn, "Cache-Control", "no-store", -1);
  if (www_authenticate != nullptr) mg_response_header_add(conn, "WWW-Authenticate", www_authenticate, -1);
  mg_response_header_send(conn);
  if (!head && !body.empty()) mg_write(conn, body.data(), body.size());
  return status;
}

}  // namespace

MetricsServer::MetricsServer(MetricsServerOptions options) : options_(std::move(options)) {}

MetricsServer::~MetricsServer() { Stop(); }

void MetricsServer::RegisterCollectable(std::shared_ptr<prometheus::Collectable> collectable) {
  collectables_.push_back(std::move(collectable));  // before Start() only
}

std::string MetricsServer::RenderMetrics() const {
  std::vector<prometheus::MetricFamily> families;
  for (const auto& collectable : collectables_) {
    std::vector<prometheus::MetricFamily> more = collectable->Collect();
    families.insert(families.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  return prometheus::TextSerializer().Serialize(families);
}

absl::Status MetricsServer::Start() {
  if (context_ != nullptr) return absl::FailedPreconditionError("HTTP server already started");
  static std::once_flag once;
  std::call_once(once, [] { mg_init_library(0); });
  absl::StatusOr<std::string> listening = CivetwebPort(options_.listen_address);
  if (!listening.ok()) return listening.status();
  if (options_.basic_auth_user.empty() != options_.basic_auth_password_file.empty()) {
    return absl::InvalidArgumentError("basic auth needs both a user and a password file");
  }
  if (!options_.basic_auth_password_file.empty()) {
    auto password = ReadSecretFile(options_.basic_auth_password_file, "basic auth password");
    if (!password.ok()) return password.status();
    basic_password_ = *std::move(password);
  }
  if (!options_.bearer_token_file.empty()) {
    auto token = ReadSecretFile(options_.bearer_token_file, "bearer token");
    if (!token.ok()) return token.status();
    bearer_token_ = *std::move(token);
  }
  const char* config[] = {"listening_ports", listening->c_str(), "num_threads", "4",
                          "request_timeout_ms", "5000", nullptr};
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
  init.configuration_options = config;
  char error_text[256] = {0};
  unsigned error_code = 0;
  mg_error_data error;
  std::memset(&error, 0, sizeof(error));
  error.code = &error_code;
  error.text = error_text;
  error.text_buffer_size = sizeof(error_text);
  context_ = mg_start2(&init, &error);
  if (context_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot serve on ", options_.listen_address, ": ",
                                               error_text[0] ? error_text : "civetweb failed"));
  }
  mg_set_request_handler(context_, "/", &MetricsServer::HandleRequest, this);
  mg_server_port ports[4];
  std::memset(ports, 0, sizeof(ports));
  port_ = mg_get_server_ports(context_, 4, ports) > 0 ? ports[0].port : 0;
  LogInfo("HTTP server listening", {{"address", options_.listen_address}, {"port", std::to_string(port_)},
                                     {"tls", "false"}});
  return absl::OkStatus();
}

void MetricsServer::Stop() {
  if (context_ == nullptr) return;
  mg_stop(context_);
  context_ = nullptr;
  port_ = 0;
}

int MetricsServer::HandleRequest(mg_connection* conn, void* self) {
  try {  // nothing may unwind into civetweb's C frames
    return static_cast<MetricsServer*>(self)->Handle(conn);
  } catch (const std::exception& e) {
    LogOnce(LogLevel::kError, "http:exception", "HTTP handler failed", {{"error", e.what()}});
  } catch (...) {
    LogOnce(LogLevel::kError, "http:exception", "HTTP handler failed");
  }
  return Respond(conn, 500, kText, "internal error\n", false);
}

bool MetricsServer::Authorized(mg_connection* conn) const {
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
  if (!bearer_token_.empty() && strip_scheme("Bearer ")) return ConstantTimeEquals(value, bearer_token_);
  if (!basic_password_.empty() && strip_scheme("Basic ")) {
    std::string decoded;
    if (!absl::Base64Unescape(ToAbsl(value), &decoded)) return false;
    return ConstantTimeEquals(decoded, absl::StrCat(options_.basic_auth_user, ":", basic_password_));
  }
  return false;
}

int MetricsServer::Handle(mg_connection* conn) {
  const mg_request_info* request = mg_get_request_info(conn);
  const std::string_view method = request->request_method ? request->request_method : "";
  const std::string_view path = request->local_uri ? request->local_uri : "";
  const bool head = method == "HEAD";
  if (method != "GET" && !head) return Respond(conn, 405, kText, "method not allowed\n", head);
  if (path == "/metrics") {
    if (!Authorized(conn)) {
      return Respond(conn, 401, kText, "unauthorized\n", head,
                     basic_password_.empty() ? "Bearer" : "Basic realm=\"nodeproc\"");
    }
    return Respond(conn, 200, kMetricsContentType, RenderMetrics(), head);
  }
  if (path == "/healthz") return Respond(conn, 200, kText, "ok\n", head);
  if (path == "/readyz") {
    const absl::Status ready = options_.readiness ? options_.readiness() : absl::OkStatus();
    if (ready.ok()) return Respond(conn, 200, kText, "ok\n", head);
    return Respond(conn, 503, kText, absl::StrCat("not ready: ", ready.message(), "\n"), head);
  }
  if (path == "/") return Respond(conn, 200, "text/html; charset=utf-8", kIndex, head);
  return Respond(conn, 404, kText, "not found\n", head);
}

}  // namespace nodeproc::win
