// KubeletClient and KubeletCache against a real HTTPS mock kubelet on 127.0.0.1
// (tests/support/mock_kubelet.py, certificates from tests/support/make_test_pki.sh).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kube/kubelet_cache.h"
#include "kube/kubelet_client.h"
#include "kube/summary_parser.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_paths.h"

extern char** environ;

namespace nodeproc {
namespace {

using ::testing::HasSubstr;

constexpr char kNode[] = "node-a";

void WriteFile(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  { std::ofstream(tmp) << text; }
  ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);  // atomic, new inode
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int Spawn(const std::vector<std::string>& argv, int* stdout_fd) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (stdout_fd != nullptr) posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(pipefd[1]);
  if (stdout_fd != nullptr) {
    *stdout_fd = pipefd[0];
  } else {
    ::close(pipefd[0]);
  }
  return rc == 0 ? pid : -1;
}

int WaitExit(int pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// A free loopback port (nobody listens there once the probe socket is closed).
int FreePort() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

class MockKubelet {
 public:
  MockKubelet(std::string dir, std::string pki, std::string cert_name)
      : dir_(std::move(dir)), pki_(std::move(pki)), cert_(std::move(cert_name)) {}
  ~MockKubelet() { Stop(); }

  // Starts on `port` (0 = any); returns the port or -1.
  int Start(int port = 0) {
    const std::string fixtures = testing::FixturesDir() + "/kubelet";
    int out = -1;
    pid_ = Spawn({"python3", testing::SourceDir() + "/tests/support/mock_kubelet.py", "--dir", dir_,
                  "--cert", pki_ + "/" + cert_ + ".crt", "--key", pki_ + "/" + cert_ + ".key",
                  "--token-file", token_file(), "--summary", fixtures + "/stats-summary.json",
                  "--pods", fixtures + "/pods.json", "--port", absl::StrCat(port)},
                 &out);
    if (pid_ <= 0) return -1;
    std::string line;
    pollfd p{out, POLLIN, 0};
    while (line.find('\n') == std::string::npos && ::poll(&p, 1, 30000) > 0) {
      char buf[64];
      ssize_t n = ::read(out, buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, n);
    }
    ::close(out);
    if (line.rfind("READY ", 0) != 0) return -1;
    port_ = std::stoi(line.substr(6));
    return port_;
  }
  void Stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      WaitExit(pid_);
      pid_ = -1;
    }
  }
  void Control(const std::string& json) { WriteFile(dir_ + "/control.json", json); }
  std::string token_file() const { return dir_ + "/mock-token"; }
  void SetToken(const std::string& t) { WriteFile(token_file(), t + "\n"); }
  // Requests seen, one "path status authorized" per line.
  std::vector<std::string> Requests() const {
    return absl::StrSplit(ReadFile(dir_ + "/requests.log"), '\n', absl::SkipEmpty());
  }
  int port() const { return port_; }
  std::string url() const { return absl::StrCat("https://127.0.0.1:", port_); }

 private:
  std::string dir_, pki_, cert_;
  int pid_ = -1;
  int port_ = 0;
};

class KubeletClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_dir_ = new testing::TempDir();
    int pid = Spawn({"bash", testing::SourceDir() + "/tests/support/make_test_pki.sh",
                     pki_dir_->path(), kNode},
                    nullptr);
    ASSERT_GT(pid, 0);
    int status = WaitExit(pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "make_test_pki.sh failed";
  }
  static void TearDownTestSuite() {
    delete pki_dir_;
    pki_dir_ = nullptr;
  }
  static std::string Pki(const std::string& f) { return pki_dir_->path() + "/" + f; }

  void StartMock(const std::string& cert = "server") {
    mock_ = std::make_unique<MockKubelet>(dir_.path(), pki_dir_->path(), cert);
    mock_->SetToken("token-one");
    WriteFile(client_token_, "token-one\n");
    ASSERT_GT(mock_->Start(), 0);
  }
  KubeletClientOptions Options() {
    KubeletClientOptions o;
    o.base_url = mock_->url();
    o.token_file = client_token_;
    o.ca_file = Pki("ca.crt");
    o.timeout = absl::Seconds(10);
    return o;
  }
  std::unique_ptr<KubeletClient> Client(const KubeletClientOptions& o) {
    absl::StatusOr<std::unique_ptr<KubeletClient>> c = KubeletClient::Create(o);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }

  static testing::TempDir* pki_dir_;
  testing::TempDir dir_;
  std::string client_token_ = dir_.path() + "/client-token";
  std::unique_ptr<MockKubelet> mock_;
};
testing::TempDir* KubeletClientTest::pki_dir_ = nullptr;

TEST_F(KubeletClientTest, FetchesSummaryAndPodsWithTheBearerToken) {
  StartMock();
  auto client = Client(Options());
  ASSERT_NE(client, nullptr);
  absl::StatusOr<std::string> body = client->Fetch("/stats/summary");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(client->LastOutcome(), "200");
  EXPECT_EQ(client->LastHttpCode(), 200);
  EXPECT_EQ(*body, ReadFile(testing::FixturesDir() + "/kubelet/stats-summary.json"));
  absl::StatusOr<Summary> summary = ParseSummary(*body);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_FALSE(summary->node.node_name.empty());
  absl::StatusOr<std::string> pods = client->Fetch("/pods");
  ASSERT_TRUE(pods.ok()) << pods.status();
  EXPECT_THAT(*pods, HasSubstr("\"items\""));
  EXPECT_THAT(mock_->Requests(), ::testing::ElementsAre("/stats/summary 200 1", "/pods 200 1"));
}

TEST_F(KubeletClientTest, TokenRotationIsPickedUpAnd401IsExplained) {
  StartMock();
  auto client = Client(Options());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Fetch("/stats/summary").ok());

  mock_->SetToken("token-two");  // the API server rotated it; our file is still the old one
  absl::StatusOr<std::string> r = client->Fetch("/stats/summary");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("token rejected (401)"));
  EXPECT_EQ(client->LastOutcome(), "401");
  EXPECT_THAT(std::string(r.status().message()), ::testing::Not(HasSubstr("token-one")));

  WriteFile(client_token_, "token-two\n");  // kubelet-projected file updated (new inode)
  r = client->Fetch("/stats/summary");
  EXPECT_TRUE(r.ok()) << r.status();

  // Rewritten in place with another size: picked up as well.
  mock_->SetToken("token-three-longer");
  { std::ofstream(client_token_, std::ios::trunc) << "token-three-longer"; }
  r = client->Fetch("/pods");
  EXPECT_TRUE(r.ok()) << r.status();
}

TEST_F(KubeletClientTest, MissingTokenFileIsAClearError) {
  StartMock();
  KubeletClientOptions o = Options();
  o.token_file = dir_.path() + "/no-such-token";
  auto client = Client(o);
  ASSERT_NE(client, nullptr);
  absl::StatusOr<std::string> r = client->Fetch("/stats/summary");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("no-such-token"));
  EXPECT_TRUE(mock_->Requests().empty());
}

TEST_F(KubeletClientTest, WrongCaFailsBeforeTheTokenIsSent) {
  StartMock();
  KubeletClientOptions o = Options();
  o.ca_file = Pki("other-ca.crt");
  auto client = Client(o);
  ASSERT_NE(client, nullptr);
  absl::StatusOr<std::string> r = client->Fetch("/stats/summary");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("certificate verify failed"));
  EXPECT_EQ(client->LastOutcome(), "tls");
  EXPECT_TRUE(mock_->Requests().empty()) << "no HTTP request reached the server";
}

TEST_F(KubeletClientTest, InsecureSkipVerifyWorksAndWarns) {
  StartMock();
  KubeletClientOptions o = Options();
  o.ca_file = Pki("other-ca.crt");
  o.insecure_skip_verify = true;
  ::testing::internal::CaptureStderr();
  auto client = Client(o);
  std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(err, HasSubstr("level=warning"));
  EXPECT_THAT(err, HasSubstr("insecure"));
  absl::StatusOr<std::string> r = client->Fetch("/stats/summary");
  EXPECT_TRUE(r.ok()) << r.status();
}

TEST_F(KubeletClientTest, TlsServerNameVerifiesTheNodeNameWhileDiallingTheIp) {
  StartMock("name-only");  // certificate for node-a only, no IP SAN
  KubeletClientOptions o = Options();
  auto by_ip = Client(o);
  ASSERT_NE(by_ip, nullptr);
  absl::StatusOr<std::string> r = by_ip->Fetch("/stats/summary");
  EXPECT_FALSE(r.ok()) << "the certificate does not name 127.0.0.1";
  EXPECT_EQ(by_ip->LastOutcome(), "tls");

  o.tls_server_name = kNode;
  auto by_name = Client(o);
  ASSERT_NE(by_name, nullptr);
  r = by_name->Fetch("/stats/summary");
  EXPECT_TRUE(r.ok()) << r.status();

  o.tls_server_name = "node-b";
  auto wrong = Client(o);
  ASSERT_NE(wrong, nullptr);
  r = wrong->Fetch("/stats/summary");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("node-b"));
}

TEST_F(KubeletClientTest, ForbiddenNamesTheMissingRbacRule) {
  StartMock();
  mock_->Control(R"({"status": 403})");
  auto client = Client(Options());
  ASSERT_NE(client, nullptr);
  absl::StatusOr<std::string> r = client->Fetch("/stats/summary");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("nodes/stats"));
  EXPECT_EQ(client->LastOutcome(), "403");
  r = client->Fetch("/pods");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("nodes/proxy"));
}

TEST_F(KubeletClientTest, ServerErrorCarriesTheCode) {
  StartMock();
  mock_->Control(R"({"status": 500})");
  auto client = Client(Options());
  ASSERT_NE(client, nullptr);
  absl::StatusOr<std::string> r = client->Fetch("/stats/summary");
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("HTTP 500"));
  EXPECT_EQ(client->LastOutcome(), "500");
  EXPECT_EQ(client->LastHttpCode(), 500);
}

TEST_F(KubeletClientTest, SlowResponsePastTheTimeoutIsDeadlineExceededQuickly) {
  StartMock();
  mock_->Control(R"({"delay": 20})");
  KubeletClientOptions o = Options();
  o.timeout = absl::Milliseconds(500);
  auto client = Client(o);
  ASSERT_NE(client, nullptr);
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> r = client->Fetch("/stats/summary");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_EQ(client->LastOutcome(), "timeout");
  EXPECT_LT(took, std::chrono::seconds(10)) << "well before the 20 s the server takes";
}

TEST_F(KubeletClientTest, OversizedBodyIsAbortedAsResourceExhausted) {
  StartMock();
  KubeletClientOptions o = Options();
  o.max_body_bytes = 1 << 20;
  auto client = Client(o);
  ASSERT_NE(client, nullptr);
  for (const char* control : {R"({"body": "oversized", "size": 8388608})",
                              R"({"body": "oversized", "size": 8388608, "chunked": true})"}) {
    mock_->Control(control);
    absl::StatusOr<std::string> r = client->Fetch("/stats/summary");
    EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << control << r.status();
    EXPECT_EQ(client->LastOutcome(), "too_large");
  }
  // The handle recovers for the next request.
  mock_->Control("{}");
  EXPECT_TRUE(client->Fetch("/stats/summary").ok());
}

TEST_F(KubeletClientTest, TruncatedBodyIsAnError) {
  StartMock();
  mock_->Control(R"({"body": "truncated"})");
  auto client = Client(Options());
  ASSERT_NE(client, nullptr);
  absl::StatusOr<std::string> r = client->Fetch("/stats/summary");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
}

TEST_F(KubeletClientTest, ConnectionRefusedIsUnavailable) {
  StartMock();
  KubeletClientOptions o = Options();
  o.base_url = absl::StrCat("https://127.0.0.1:", FreePort());
  auto client = Client(o);
  ASSERT_NE(client, nullptr);
  absl::StatusOr<std::string> r = client->Fetch("/stats/summary");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("connection refused"));
  EXPECT_EQ(client->LastOutcome(), "refused");
}

TEST(KubeletClientOptionsTest, PlainHttpAndBadUrlsAreRefused) {
  KubeletClientOptions o;
  o.base_url = "http://127.0.0.1:10255";
  absl::StatusOr<std::unique_ptr<KubeletClient>> c = KubeletClient::Create(o);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("http://"));
  o.insecure_skip_verify = true;  // skipping verification does not allow clear text
  EXPECT_FALSE(KubeletClient::Create(o).ok());
  o.allow_plain_http = true;
  EXPECT_TRUE(KubeletClient::Create(o).ok());
  o.base_url = "ftp://127.0.0.1";
  EXPECT_FALSE(KubeletClient::Create(o).ok());
  o.base_url = "";
  EXPECT_FALSE(KubeletClient::Create(o).ok());
  o.base_url = "https://127.0.0.1:10250";
  o.tls_server_name = "bad name:1:2";
  EXPECT_FALSE(KubeletClient::Create(o).ok());
}

TEST_F(KubeletClientTest, CacheServesStaleDataAcrossAKubeletRestartThenRecovers) {
  StartMock();
  auto client = Client(Options());
  ASSERT_NE(client, nullptr);
  KubeletCacheOptions co;
  co.background = false;
  KubeletCache cache(client.get(), co);
  cache.RefreshNow();
  KubeletCache::View v = cache.Get();
  ASSERT_TRUE(v.last_error.ok()) << v.last_error;
  ASSERT_NE(v.summary, nullptr);
  ASSERT_NE(v.pods, nullptr);
  const std::string node = v.summary->node.node_name;
  const absl::Time good_at = v.summary_fetched_at;

  const int port = mock_->port();
  mock_->Stop();
  cache.RefreshNow();
  v = cache.Get();
  ASSERT_NE(v.summary, nullptr) << "stale data still served";
  EXPECT_EQ(v.summary->node.node_name, node);
  EXPECT_EQ(v.summary_fetched_at, good_at);
  EXPECT_EQ(v.last_error.code(), absl::StatusCode::kUnavailable) << v.last_error;

  ASSERT_EQ(mock_->Start(port), port);
  cache.RefreshNow();
  v = cache.Get();
  EXPECT_TRUE(v.last_error.ok()) << v.last_error;
  EXPECT_GT(v.summary_fetched_at, good_at);
  KubeletCacheStats s = cache.Stats();
  EXPECT_EQ(s.outcomes["summary:200"], 2u);
  EXPECT_EQ(s.outcomes["summary:refused"], 1u);
  EXPECT_EQ(s.outcomes["pods:200"], 2u);
}

TEST_F(KubeletClientTest, CacheDegradesOnPods403AndCountsIt) {
  StartMock();
  mock_->Control(R"({"status": {"/pods": 403}})");
  auto client = Client(Options());
  ASSERT_NE(client, nullptr);
  KubeletCacheOptions co;
  co.background = false;
  KubeletCache cache(client.get(), co);
  cache.RefreshNow();
  KubeletCache::View v = cache.Get();
  EXPECT_TRUE(v.last_error.ok()) << v.last_error;
  ASSERT_NE(v.summary, nullptr);
  EXPECT_FALSE(v.summary->pods.empty());
  EXPECT_EQ(v.pods, nullptr);
  EXPECT_TRUE(v.pods_forbidden);
  EXPECT_EQ(cache.Stats().outcomes["pods:403"], 1u);
}

TEST_F(KubeletClientTest, CacheCountsMalformedSummaryAsInvalid) {
  StartMock();
  mock_->Control(R"({"body": "malformed"})");
  auto client = Client(Options());
  ASSERT_NE(client, nullptr);
  KubeletCacheOptions co;
  co.background = false;
  KubeletCache cache(client.get(), co);
  cache.RefreshNow();
  KubeletCache::View v = cache.Get();
  EXPECT_EQ(v.summary, nullptr);
  EXPECT_EQ(v.last_error.code(), absl::StatusCode::kInvalidArgument) << v.last_error;
  EXPECT_EQ(cache.Stats().outcomes["summary:invalid"], 1u);
}

TEST_F(KubeletClientTest, FailingKubeletIsAskedOncePerWindowWhateverTheReaders) {
  StartMock();
  mock_->Control(R"({"status": 500})");
  auto client = Client(Options());
  ASSERT_NE(client, nullptr);
  absl::Mutex clock_mu;
  absl::Time now = absl::FromUnixSeconds(1700000000);
  KubeletCacheOptions co;
  co.validity = absl::Seconds(10);
  co.now = [&] {
    absl::MutexLock l(&clock_mu);
    return now;
  };
  KubeletCache cache(client.get(), co);
  std::vector<std::thread> readers;
  for (int t = 0; t < 8; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 300; ++i) cache.Get();
    });
  }
  for (auto& t : readers) t.join();
  cache.WaitIdle();
  for (int i = 0; i < 100; ++i) cache.Get();
  cache.WaitIdle();
  EXPECT_EQ(mock_->Requests().size(), 1u);
  EXPECT_EQ(cache.Get().last_error.code(), absl::StatusCode::kUnavailable);
  {
    absl::MutexLock l(&clock_mu);
    now += absl::Seconds(10);
  }
  cache.Get();
  cache.WaitIdle();
  EXPECT_EQ(mock_->Requests().size(), 2u);
  EXPECT_EQ(cache.Stats().outcomes["summary:500"], 2u);
}

}  // namespace
}  // namespace nodeproc
