#include "exporters/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/metric_family.h"
#include "tests/support/temp_dir.h"

namespace nodeproc {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Response {
  int status = 0;
  std::string headers;
  std::string body;
};

Response Parse(const std::string& raw) {
  Response r;
  const size_t space = raw.find(' ');
  if (space != std::string::npos) r.status = std::atoi(raw.c_str() + space + 1);
  const size_t end = raw.find("\r\n\r\n");
  r.headers = raw.substr(0, end);
  if (end != std::string::npos) r.body = raw.substr(end + 4);
  return r;
}

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string Request(const std::string& method, const std::string& path,
                    const std::string& extra_headers) {
  return method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
         extra_headers + "\r\n";
}

// A minimal HTTP/1.1 client over loopback (Connection: close, read to EOF).
Response Get(int port, const std::string& path, const std::string& extra_headers = "",
             const std::string& method = "GET") {
  const int fd = Connect(port);
  if (fd < 0) return {};
  const std::string request = Request(method, path, extra_headers);
  (void)!write(fd, request.data(), request.size());
  std::string raw;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) raw.append(buf, static_cast<size_t>(n));
  close(fd);
  return Parse(raw);
}

Response GetTls(int port, const std::string& path, const std::string& extra_headers = "") {
  const int fd = Connect(port);
  if (fd < 0) return {};
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  std::string raw;
  if (SSL_connect(ssl) == 1) {
    const std::string request = Request("GET", path, extra_headers);
    SSL_write(ssl, request.data(), static_cast<int>(request.size()));
    char buf[4096];
    int n;
    while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0) raw.append(buf, static_cast<size_t>(n));
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(fd);
  return Parse(raw);
}

// A collectable with one gauge whose value the test controls.
class FakeCollectable : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily family;
    family.name = "nodeproc_test_value";
    family.help = "A test value.";
    family.type = prometheus::MetricType::Gauge;
    prometheus::ClientMetric metric;
    metric.gauge.value = value.load();
    family.metric.push_back(metric);
    return {family};
  }
  std::atomic<int> value{42};
};

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path) << content;
}

// The body without the server's own nodeproc_http_* families (their values move with every
// connection).
std::string WithoutServerFamilies(const std::string& body) {
  std::string out;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    end = end == std::string::npos ? body.size() : end + 1;
    const std::string line = body.substr(start, end - start);
    if (line.find("nodeproc_http_") == std::string::npos) out += line;
    start = end;
  }
  return out;
}

// Polls `done` for up to 20 s (the server counts a closed connection just after closing it).
template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 2000; ++i) {
    if (done()) return true;
    usleep(10000);
  }
  return done();
}

HttpServerOptions Loopback() {
  HttpServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.render_reuse_ms = 0;  // every scrape renders (tests change values between scrapes)
  return options;
}

TEST(HttpServerTest, ServesMetricsHealthReadinessAnd404) {
  std::atomic<bool> ready{false};
  HttpServerOptions options = Loopback();
  options.readiness = [&]() -> absl::Status {
    if (!ready) return absl::UnavailableError("first scan not done");
    return absl::OkStatus();
  };
  HttpServer server(options);
  auto collectable = std::make_shared<FakeCollectable>();
  server.RegisterCollectable(collectable);
  ASSERT_TRUE(server.Start().ok());
  ASSERT_GT(server.port(), 0);

  Response metrics = Get(server.port(), "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.headers, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  EXPECT_EQ(WithoutServerFamilies(metrics.body),
            "# HELP nodeproc_test_value A test value.\n"
            "# TYPE nodeproc_test_value gauge\n"
            "nodeproc_test_value 42\n");
  collectable->value = 7;  // rendered at scrape time
  EXPECT_THAT(Get(server.port(), "/metrics").body, HasSubstr("nodeproc_test_value 7\n"));

  Response health = Get(server.port(), "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");

  Response not_ready = Get(server.port(), "/readyz");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_THAT(not_ready.body, HasSubstr("first scan not done"));
  ready = true;
  Response now_ready = Get(server.port(), "/readyz");
  EXPECT_EQ(now_ready.status, 200);
  EXPECT_EQ(now_ready.body, "ok\n");

  EXPECT_EQ(Get(server.port(), "/nope").status, 404);
  EXPECT_EQ(Get(server.port(), "/metrics/extra").status, 404);
  EXPECT_EQ(Get(server.port(), "/metrics", "", "POST").status, 405);
  Response head = Get(server.port(), "/metrics", "", "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");

  // An expired collectable is skipped.
  collectable.reset();
  Response empty = Get(server.port(), "/metrics");
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(WithoutServerFamilies(empty.body), "");
  EXPECT_THAT(empty.body, HasSubstr("nodeproc_http_connections 1\n"));

  const int port = server.port();
  server.Stop();
  EXPECT_EQ(server.port(), 0);
  EXPECT_EQ(Get(port, "/healthz").status, 0);  // nobody listens any more
  server.Stop();                               // idempotent
}

// A collectable with many series, to pass the compression threshold.
class BigCollectable : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily family;
    family.name = "nodeproc_test_big";
    family.help = "Many series.";
    family.type = prometheus::MetricType::Gauge;
    for (int i = 0; i < 200; ++i) {
      prometheus::ClientMetric metric;
      metric.label = {{"i", std::to_string(i)}};
      metric.gauge.value = i;
      family.metric.push_back(metric);
    }
    return {family};
  }
};

std::string Gunzip(const std::string& in) {
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : "<inflate failed>";
}

TEST(HttpServerTest, MetricsAreGzippedWhenTheScraperAcceptsIt) {
  HttpServer server(Loopback());
  auto big = std::make_shared<BigCollectable>();
  server.RegisterCollectable(big);
  ASSERT_TRUE(server.Start().ok());
  const std::string plain = server.RenderMetrics();
  ASSERT_GT(plain.size(), 1024u);
  Response identity = Get(server.port(), "/metrics");
  EXPECT_THAT(identity.headers, Not(HasSubstr("Content-Encoding")));
  EXPECT_EQ(WithoutServerFamilies(identity.body), WithoutServerFamilies(plain));
  Response gzipped = Get(server.port(), "/metrics", "Accept-Encoding: gzip, deflate\r\n");
  EXPECT_EQ(gzipped.status, 200);
  EXPECT_THAT(gzipped.headers, HasSubstr("Content-Encoding: gzip"));
  EXPECT_LT(gzipped.body.size(), plain.size() / 2);
  EXPECT_EQ(WithoutServerFamilies(Gunzip(gzipped.body)), WithoutServerFamilies(plain));
}

class CountingCollectable : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    ++collects;
    return {};
  }
  mutable std::atomic<int> collects{0};
};

TEST(HttpServerTest, ScrapesWithinTheReuseWindowShareOneRender) {
  HttpServerOptions options = Loopback();
  options.render_reuse_ms = 600000;
  HttpServer server(options);
  auto counting = std::make_shared<CountingCollectable>();
  server.RegisterCollectable(counting);
  ASSERT_TRUE(server.Start().ok());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Get(server.port(), "/metrics").status, 200);
  EXPECT_EQ(counting->collects.load(), 1);
}

TEST(HttpServerTest, BasicAuthProtectsOnlyMetrics) {
  testing::TempDir dir;
  WriteFile(dir.path() + "/password", "s3cret\n");
  HttpServerOptions options = Loopback();
  options.basic_auth_user = "prom";
  options.basic_auth_password_file = dir.path() + "/password";
  HttpServer server(options);
  auto collectable = std::make_shared<FakeCollectable>();
  server.RegisterCollectable(collectable);
  ASSERT_TRUE(server.Start().ok());

  Response anonymous = Get(server.port(), "/metrics");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_THAT(anonymous.headers, HasSubstr("WWW-Authenticate: Basic"));
  EXPECT_THAT(anonymous.body, Not(HasSubstr("nodeproc_test_value")));
  const std::string wrong = absl::Base64Escape("prom:wrong");
  EXPECT_EQ(Get(server.port(), "/metrics", "Authorization: Basic " + wrong + "\r\n").status, 401);
  EXPECT_EQ(Get(server.port(), "/metrics", "Authorization: Bearer s3cret\r\n").status, 401);
  const std::string good = absl::Base64Escape("prom:s3cret");
  Response ok = Get(server.port(), "/metrics", "Authorization: Basic " + good + "\r\n");
  EXPECT_EQ(ok.status, 200);
  EXPECT_THAT(ok.body, HasSubstr("nodeproc_test_value 42\n"));
  // Probes stay open.
  EXPECT_EQ(Get(server.port(), "/healthz").status, 200);
  EXPECT_EQ(Get(server.port(), "/readyz").status, 200);
}

TEST(HttpServerTest, BearerToken) {
  testing::TempDir dir;
  WriteFile(dir.path() + "/token", "tok-123\n");
  HttpServerOptions options = Loopback();
  options.bearer_token_file = dir.path() + "/token";
  HttpServer server(options);
  ASSERT_TRUE(server.Start().ok());
  Response anonymous = Get(server.port(), "/metrics");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_THAT(anonymous.headers, HasSubstr("WWW-Authenticate: Bearer"));
  EXPECT_EQ(Get(server.port(), "/metrics", "Authorization: Bearer tok-12\r\n").status, 401);
  EXPECT_EQ(Get(server.port(), "/metrics", "Authorization: Bearer tok-123\r\n").status, 200);
}

TEST(HttpServerTest, RejectsBadOptionsWithClearErrors) {
  for (const char* address : {"", "127.0.0.1", "127.0.0.1:99999", "127.0.0.1:x", "localhost:80",
                              "[::1]9000", "1:2:3"}) {
    HttpServerOptions options;
    options.listen_address = address;
    absl::Status status = HttpServer(options).Start();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << address << ": " << status;
  }
  {
    HttpServerOptions options = Loopback();
    options.tls_cert_file = "/nonexistent/cert.pem";
    EXPECT_EQ(HttpServer(options).Start().code(), absl::StatusCode::kInvalidArgument);
  }
  {
    HttpServerOptions options = Loopback();
    options.basic_auth_user = "prom";
    EXPECT_EQ(HttpServer(options).Start().code(), absl::StatusCode::kInvalidArgument);
  }
  {
    HttpServerOptions options = Loopback();
    options.bearer_token_file = "/nonexistent/token";
    absl::Status status = HttpServer(options).Start();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()), HasSubstr("/nonexistent/token"));
  }
}

TEST(HttpServerTest, SecondServerOnTheSamePortFailsCleanly) {
  HttpServer first(Loopback());
  ASSERT_TRUE(first.Start().ok());
  HttpServerOptions options;
  options.listen_address = "127.0.0.1:" + std::to_string(first.port());
  HttpServer second(options);
  absl::Status status = second.Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_EQ(Get(first.port(), "/healthz").status, 200);
}

TEST(HttpServerTest, Ipv6IsServed) {
  const int probe = socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 loop{};
  loop.sin6_family = AF_INET6;
  loop.sin6_addr = in6addr_loopback;
  const bool has_v6 = probe >= 0 && bind(probe, reinterpret_cast<sockaddr*>(&loop), sizeof(loop)) == 0;
  if (probe >= 0) close(probe);
  if (!has_v6) GTEST_SKIP() << "SKIPPED: no IPv6 loopback in this sandbox";
  HttpServerOptions options;
  options.listen_address = "[::1]:0";
  HttpServer server(options);
  absl::Status status = server.Start();
  ASSERT_TRUE(status.ok()) << status;
  const int fd = socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 addr = loop;
  addr.sin6_port = htons(static_cast<uint16_t>(server.port()));
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string request = Request("GET", "/healthz", "");
  ASSERT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string raw;
  char buf[1024];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) raw.append(buf, static_cast<size_t>(n));
  close(fd);
  EXPECT_EQ(Parse(raw).status, 200);
  EXPECT_EQ(Parse(raw).body, "ok\n");
}

// True when the server closes `fd` (EOF or reset) within `seconds`.
bool ClosedByServerWithin(int fd, int seconds) {
  timeval tv{seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

TEST(HttpServerTest, SlowRequestHeadIsCutAtTheDeadlineAndProbesStillAnswer) {
  HttpServerOptions options = Loopback();
  options.request_timeout_ms = 500;
  options.io_threads = 1;
  HttpServer server(options);
  ASSERT_TRUE(server.Start().ok());
  std::vector<int> slow;
  for (int i = 0; i < 20; ++i) {
    const int fd = Connect(server.port());
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, "GET /healthz HTTP/1.1\r\nX-", 25), 25);  // never finished
    slow.push_back(fd);
  }
  EXPECT_EQ(Get(server.port(), "/healthz").status, 200);
  for (int fd : slow) {
    EXPECT_TRUE(ClosedByServerWithin(fd, 20));
    close(fd);
  }
  EXPECT_TRUE(Eventually([&] { return server.stats().connections_timed_out >= 20u; }));
}

TEST(HttpServerTest, IdleKeepAliveConnectionsAreClosedAfterTheIdleDeadline) {
  HttpServerOptions options = Loopback();
  options.idle_timeout_ms = 300;
  HttpServer server(options);
  ASSERT_TRUE(server.Start().ok());
  const int fd = Connect(server.port());
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(ClosedByServerWithin(fd, 20));  // never sent a byte
  close(fd);
  EXPECT_TRUE(Eventually([&] { return server.stats().connections_timed_out == 1u; }));
}

TEST(HttpServerTest, AtTheConnectionCapTheOldestWaitingConnectionIsEvicted) {
  HttpServerOptions options = Loopback();
  options.max_connections = 8;
  HttpServer server(options);
  ASSERT_TRUE(server.Start().ok());
  auto open_is = [&](uint64_t n) {
    return Eventually([&] { return server.stats().connections_open == n; });
  };
  std::vector<int> idle;
  for (int i = 0; i < 8; ++i) idle.push_back(Connect(server.port()));
  // Each probe comes past the cap: the oldest idle connection makes room. Another idle one
  // fills the cap again before the next probe.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(open_is(8));
    EXPECT_EQ(Get(server.port(), "/healthz").status, 200);
    ASSERT_TRUE(open_is(7));  // the evicted one and the probe are gone
    idle.push_back(Connect(server.port()));
  }
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(ClosedByServerWithin(idle[i], 20)) << i;
  EXPECT_EQ(server.stats().connections_evicted, 3u);
  EXPECT_LE(server.stats().connections_open, 8u);
  for (int fd : idle) close(fd);
  EXPECT_THAT(server.RenderMetrics(), HasSubstr("nodeproc_http_connections_evicted_total"));
}

// A collectable whose Collect() blocks until released: renders in flight.
class BlockingCollectable : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    absl::MutexLock lock(&mu_);
    ++entered_;
    mu_.Await(absl::Condition(&released_));
    return {};
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
  }
  int entered() const {
    absl::MutexLock lock(&mu_);
    return entered_;
  }

 private:
  mutable absl::Mutex mu_;
  mutable int entered_ = 0;
  bool released_ = false;
};

TEST(HttpServerTest, ScrapesPastTheRenderQueueGet503AtOnceWhileProbesAnswer) {
  HttpServerOptions options = Loopback();
  options.max_waiting_scrapes = 2;
  HttpServer server(options);
  auto blocking = std::make_shared<BlockingCollectable>();
  server.RegisterCollectable(blocking);
  ASSERT_TRUE(server.Start().ok());
  // Two may wait (one being rendered, one for the next render): of 5 concurrent scrapes, 3 are
  // refused at once.
  std::vector<std::thread> scrapes;
  std::atomic<int> ok{0};
  std::atomic<int> refused{0};
  for (int i = 0; i < 5; ++i) {
    scrapes.emplace_back([&] {
      Response r = Get(server.port(), "/metrics");
      if (r.status == 200) ++ok;
      if (r.status == 503 && r.headers.find("Retry-After: 1") != std::string::npos) ++refused;
    });
  }
  for (int i = 0; i < 4000 && refused.load() < 3; ++i) usleep(5000);
  EXPECT_EQ(refused.load(), 3);
  EXPECT_EQ(blocking->entered(), 1);
  EXPECT_EQ(Get(server.port(), "/healthz").status, 200);
  EXPECT_EQ(Get(server.port(), "/readyz").status, 200);
  blocking->Release();
  for (std::thread& t : scrapes) t.join();
  EXPECT_EQ(ok.load(), 2);
  EXPECT_EQ(server.stats().scrapes_rejected, 3u);
}

TEST(HttpServerTest, ServesOverTls) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl CLI";
  testing::TempDir dir;
  const std::string cert = dir.path() + "/tls.crt";
  const std::string key = dir.path() + "/tls.key";
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
                          "-keyout " + key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  HttpServerOptions options = Loopback();
  options.tls_cert_file = cert;
  options.tls_key_file = key;
  WriteFile(dir.path() + "/token", "tok\n");
  options.bearer_token_file = dir.path() + "/token";
  HttpServer server(options);
  auto collectable = std::make_shared<FakeCollectable>();
  server.RegisterCollectable(collectable);
  absl::Status status = server.Start();
  ASSERT_TRUE(status.ok()) << status;
  Response health = GetTls(server.port(), "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  EXPECT_EQ(GetTls(server.port(), "/metrics").status, 401);
  Response metrics = GetTls(server.port(), "/metrics", "Authorization: Bearer tok\r\n");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.body, HasSubstr("nodeproc_test_value 42\n"));
  // Several requests at once are all served.
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    clients.emplace_back([&] {
      if (GetTls(server.port(), "/healthz").status == 200) ++ok;
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(ok.load(), 6);
  // Plain HTTP on a TLS port gets no HTTP answer.
  EXPECT_NE(Get(server.port(), "/healthz").status, 200);
}

// The subject CN of the certificate the server presents to a new TLS connection.
std::string PeerCommonName(int port) {
  const int fd = Connect(port);
  if (fd < 0) return "<no connection>";
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  std::string cn = "<no handshake>";
  if (SSL_connect(ssl) == 1) {
    X509* cert = SSL_get1_peer_certificate(ssl);
    char name[256] = {0};
    if (cert != nullptr) {
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof(name));
      X509_free(cert);
    }
    cn = name;
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(fd);
  return cn;
}

bool MakeSelfSigned(const std::string& cn, const std::string& cert, const std::string& key) {
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=" + cn +
                          " -keyout " + key + " -out " + cert + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

TEST(HttpServerTest, TlsCertificateIsReloadedWhenItsFilesChangeAndABadPairIsIgnored) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl CLI";
  testing::TempDir dir;
  const std::string cert = dir.path() + "/tls.crt";
  const std::string key = dir.path() + "/tls.key";
  ASSERT_TRUE(MakeSelfSigned("first", cert, key));
  HttpServerOptions options = Loopback();
  options.tls_cert_file = cert;
  options.tls_key_file = key;
  HttpServer server(options);
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(PeerCommonName(server.port()), "first");

  // Replaced the way a Secret volume does it: new files renamed over the old ones.
  ASSERT_TRUE(MakeSelfSigned("second", cert + ".new", key + ".new"));
  ASSERT_EQ(rename((key + ".new").c_str(), key.c_str()), 0);
  ASSERT_EQ(rename((cert + ".new").c_str(), cert.c_str()), 0);
  std::string seen;
  for (int i = 0; i < 100 && seen != "second"; ++i) {  // checked at most once a second
    seen = PeerCommonName(server.port());
    if (seen != "second") usleep(100000);
  }
  EXPECT_EQ(seen, "second");

  // A certificate whose key does not match: the previous pair keeps serving.
  ASSERT_TRUE(MakeSelfSigned("third", cert + ".new", dir.path() + "/unused.key"));
  ASSERT_EQ(rename((cert + ".new").c_str(), cert.c_str()), 0);
  usleep(1500000);
  EXPECT_EQ(PeerCommonName(server.port()), "second");
  EXPECT_EQ(GetTls(server.port(), "/healthz").status, 200);
}

TEST(HttpServerTest, TlsHandshakeThatNeverStartsIsCutAtTheDeadline) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl CLI";
  testing::TempDir dir;
  const std::string cert = dir.path() + "/tls.crt";
  const std::string key = dir.path() + "/tls.key";
  ASSERT_TRUE(MakeSelfSigned("x", cert, key));
  HttpServerOptions options = Loopback();
  options.tls_cert_file = cert;
  options.tls_key_file = key;
  options.request_timeout_ms = 500;
  HttpServer server(options);
  ASSERT_TRUE(server.Start().ok());
  std::vector<int> silent;
  for (int i = 0; i < 24; ++i) silent.push_back(Connect(server.port()));
  EXPECT_EQ(GetTls(server.port(), "/healthz").status, 200);
  for (int fd : silent) {
    EXPECT_TRUE(ClosedByServerWithin(fd, 20));
    close(fd);
  }
  EXPECT_TRUE(Eventually([&] { return server.stats().connections_timed_out >= 24u; }));
}

TEST(HttpServerTest, TlsWithMismatchedKeyFailsToStart) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl CLI";
  testing::TempDir dir;
  const std::string cert = dir.path() + "/tls.crt";
  const std::string key = dir.path() + "/tls.key";
  const std::string other_key = dir.path() + "/other.key";
  ASSERT_EQ(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=x -keyout " +
                         key + " -out " + cert + " >/dev/null 2>&1")
                            .c_str()),
            0);
  ASSERT_EQ(std::system(("openssl genrsa -out " + other_key + " 2048 >/dev/null 2>&1").c_str()), 0);
  HttpServerOptions options = Loopback();
  options.tls_cert_file = cert;
  options.tls_key_file = other_key;
  HttpServer server(options);
  EXPECT_FALSE(server.Start().ok());
}

}  // namespace
}  // namespace nodeproc
