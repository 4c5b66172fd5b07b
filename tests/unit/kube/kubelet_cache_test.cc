#include "kube/kubelet_cache.h"

#include <atomic>
#include <deque>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "core/absl_compat.h"
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "tests/support/test_paths.h"

namespace nodeproc {
namespace {

// A scripted source: each path answers the configured result; counts calls; can hold Fetch
// on a gate to test what readers see while a refresh is in flight.
class FakeSource : public KubeletSource {
 public:
  struct Answer {
    absl::StatusOr<std::string> result;
    std::string outcome;
  };
  void Set(const std::string& path, absl::StatusOr<std::string> result, std::string outcome) {
    absl::MutexLock l(&mu_);
    answers_[path] = Answer{std::move(result), std::move(outcome)};
  }
  absl::StatusOr<std::string> Fetch(std::string_view path) override {
    int now_in = ++in_flight_;
    int prev = max_in_flight_.load();
    while (now_in > prev && !max_in_flight_.compare_exchange_weak(prev, now_in)) {
    }
    {
      absl::MutexLock l(&mu_);
      ++calls_[std::string(path)];
      entered_.SignalAll();
      mu_.Await(absl::Condition(+[](bool* open) { return *open; }, &gate_open_));
    }
    absl::MutexLock l(&mu_);
    --in_flight_;
    auto it = answers_.find(std::string(path));
    if (it == answers_.end()) {
      last_outcome_ = "";
      return absl::NotFoundError("no answer");
    }
    last_outcome_ = it->second.outcome;
    return it->second.result;
  }
  std::string LastOutcome() const override {
    absl::MutexLock l(&mu_);
    return last_outcome_;
  }
  int Calls(const std::string& path) {
    absl::MutexLock l(&mu_);
    return calls_[path];
  }
  void CloseGate() {
    absl::MutexLock l(&mu_);
    gate_open_ = false;
  }
  void OpenGate() {
    absl::MutexLock l(&mu_);
    gate_open_ = true;
  }
  void WaitCalls(const std::string& path, int n) {
    absl::MutexLock l(&mu_);
    while (calls_[path] < n) entered_.Wait(&mu_);
  }
  int MaxInFlight() const { return max_in_flight_.load(); }

 private:
  mutable absl::Mutex mu_;
  absl::CondVar entered_;
  std::map<std::string, Answer> answers_;
  std::map<std::string, int> calls_;
  bool gate_open_ = true;
  std::string last_outcome_;
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
};

// Fake parsers: summary body "node:NAME" (anything else is malformed); pods body "a,b,c".
absl::StatusOr<Summary> FakeParseSummary(std::string_view body) {
  if (!absl::StartsWith(ToAbsl(body), "node:")) return absl::InvalidArgumentError("not a summary");
  Summary s;
  s.node.node_name = std::string(body.substr(5));
  return s;
}
absl::StatusOr<std::vector<PodInfo>> FakeParsePods(std::string_view body) {
  if (body == "garbage") return absl::InvalidArgumentError("not pods");
  std::vector<PodInfo> pods;
  for (absl::string_view name : absl::StrSplit(ToAbsl(body), ',', absl::SkipEmpty())) {
    PodInfo p;
    p.name = std::string(name);
    pods.push_back(p);
  }
  return pods;
}

class KubeletCacheTest : public ::testing::Test {
 protected:
  KubeletCacheOptions Options(bool background = true) {
    KubeletCacheOptions o;
    o.validity = absl::Seconds(10);
    o.parse_summary = FakeParseSummary;
    o.parse_pods = FakeParsePods;
    o.now = [this] {
      absl::MutexLock l(&clock_mu_);
      return now_;
    };
    o.background = background;
    return o;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock l(&clock_mu_);
    now_ += d;
  }
  void Healthy(const std::string& node = "n1", const std::string& pods = "p1,p2") {
    source_.Set("/stats/summary", "node:" + node, "200");
    source_.Set("/pods", pods, "200");
  }

  FakeSource source_;
  absl::Mutex clock_mu_;
  absl::Time now_ = absl::FromUnixSeconds(1700000000);
};

TEST_F(KubeletCacheTest, FirstGetIsEmptyThenBackgroundRefreshFillsIt) {
  Healthy();
  KubeletCache cache(&source_, Options());
  KubeletCache::View v = cache.Get();
  EXPECT_EQ(v.summary, nullptr);
  cache.WaitIdle();
  v = cache.Get();
  ASSERT_NE(v.summary, nullptr);
  EXPECT_EQ(v.summary->node.node_name, "n1");
  ASSERT_NE(v.pods, nullptr);
  ASSERT_EQ(v.pods->size(), 2u);
  EXPECT_EQ((*v.pods)[1].name, "p2");
  EXPECT_TRUE(v.last_error.ok());
  EXPECT_EQ(v.summary_fetched_at, now_);
  EXPECT_EQ(v.pods_fetched_at, now_);
  KubeletCacheStats s = cache.Stats();
  EXPECT_EQ(s.outcomes["summary:200"], 1u);
  EXPECT_EQ(s.outcomes["pods:200"], 1u);
  EXPECT_EQ(s.last_success, now_);
}

TEST_F(KubeletCacheTest, FreshDataIsNotRefetchedWithinTheValidityWindow) {
  Healthy();
  KubeletCache cache(&source_, Options());
  cache.Get();
  cache.WaitIdle();
  for (int i = 0; i < 50; ++i) cache.Get();
  Advance(absl::Seconds(9));
  cache.Get();
  cache.WaitIdle();
  EXPECT_EQ(source_.Calls("/stats/summary"), 1);
  Advance(absl::Seconds(1));
  Healthy("n2");
  cache.Get();
  cache.WaitIdle();
  EXPECT_EQ(source_.Calls("/stats/summary"), 2);
  EXPECT_EQ(cache.Get().summary->node.node_name, "n2");
}

TEST_F(KubeletCacheTest, FailureServesLastGoodDataAndIsAskedOncePerWindow) {
  Healthy();
  KubeletCache cache(&source_, Options());
  cache.Get();
  cache.WaitIdle();
  const absl::Time good_at = now_;

  source_.Set("/stats/summary", absl::DeadlineExceededError("timed out"), "timeout");
  Advance(absl::Seconds(10));
  cache.Get();
  cache.WaitIdle();
  KubeletCache::View v = cache.Get();
  ASSERT_NE(v.summary, nullptr);
  EXPECT_EQ(v.summary->node.node_name, "n1") << "last good data kept";
  EXPECT_EQ(v.summary_fetched_at, good_at) << "its age shows it is stale";
  EXPECT_EQ(v.last_error.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(source_.Calls("/pods"), 1) << "a failing kubelet is not asked for /pods too";

  // Many readers within the same window: the failure is cached, no new request.
  std::vector<std::thread> readers;
  for (int t = 0; t < 8; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 200; ++i) cache.Get();
    });
  }
  for (auto& t : readers) t.join();
  cache.WaitIdle();
  EXPECT_EQ(source_.Calls("/stats/summary"), 2);
  Advance(absl::Seconds(5));
  cache.Get();
  cache.WaitIdle();
  EXPECT_EQ(source_.Calls("/stats/summary"), 2);

  // Next window: asked again; recovery clears the error.
  Advance(absl::Seconds(5));
  Healthy("n3");
  cache.Get();
  cache.WaitIdle();
  v = cache.Get();
  EXPECT_EQ(source_.Calls("/stats/summary"), 3);
  EXPECT_EQ(v.summary->node.node_name, "n3");
  EXPECT_TRUE(v.last_error.ok());
  KubeletCacheStats s = cache.Stats();
  EXPECT_EQ(s.outcomes["summary:200"], 2u);
  EXPECT_EQ(s.outcomes["summary:timeout"], 1u);
  EXPECT_EQ(s.last_success, now_);
}

TEST_F(KubeletCacheTest, ReadersNeverBlockAndOnlyOneRefreshIsInFlight) {
  Healthy();
  KubeletCache cache(&source_, Options());
  source_.CloseGate();
  cache.Get();
  source_.WaitCalls("/stats/summary", 1);  // the worker is now stuck inside Fetch
  std::atomic<int> done{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 8; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        KubeletCache::View v = cache.Get();  // would hang here if readers waited on the network
        EXPECT_EQ(v.summary, nullptr);
        if (i % 100 == 0) Advance(absl::Seconds(11));  // make the data stale again and again
      }
      ++done;
    });
  }
  for (auto& t : readers) t.join();
  EXPECT_EQ(done.load(), 8);
  EXPECT_EQ(source_.Calls("/stats/summary"), 1);
  source_.OpenGate();
  cache.WaitIdle();
  EXPECT_NE(cache.Get().summary, nullptr);
  EXPECT_EQ(source_.MaxInFlight(), 1);
}

TEST_F(KubeletCacheTest, WorkerRefreshesStaleDataWithoutReaders) {
  Healthy();
  KubeletCacheOptions o = Options();
  o.validity = absl::Milliseconds(1);  // the worker's real-time tick; staleness uses the fake clock
  KubeletCache cache(&source_, o);
  source_.WaitCalls("/stats/summary", 1);  // no Get() at all: the worker asked by itself
  cache.WaitIdle();
  EXPECT_EQ(cache.Get().summary->node.node_name, "n1");
  Advance(absl::Seconds(1));
  Healthy("n2");
  source_.WaitCalls("/stats/summary", 2);
  cache.WaitIdle();
  EXPECT_EQ(cache.Stats().outcomes["summary:200"], 2u);
}

TEST_F(KubeletCacheTest, NonPeriodicWorkerOnlyRefreshesForReaders) {
  Healthy();
  KubeletCacheOptions o = Options();
  o.validity = absl::Milliseconds(1);
  o.periodic = false;
  {
    KubeletCache cache(&source_, o);
    Advance(absl::Seconds(1));
    absl::SleepFor(absl::Milliseconds(30));  // many worker ticks; none may fetch
    cache.WaitIdle();
  }
  EXPECT_EQ(source_.Calls("/stats/summary"), 0);
}

TEST_F(KubeletCacheTest, RefreshNowWaitsForTheInFlightRefresh) {
  Healthy();
  KubeletCache cache(&source_, Options());
  source_.CloseGate();
  cache.Get();
  source_.WaitCalls("/stats/summary", 1);
  std::thread refresher([&] { cache.RefreshNow(); });
  source_.OpenGate();
  refresher.join();
  EXPECT_EQ(source_.MaxInFlight(), 1);
  EXPECT_EQ(source_.Calls("/stats/summary"), 2);
  EXPECT_NE(cache.Get().summary, nullptr);
}

TEST_F(KubeletCacheTest, PodsForbiddenDegradesGracefully) {
  source_.Set("/stats/summary", "node:n1", "200");
  source_.Set("/pods", absl::PermissionDeniedError("needs nodes/proxy"), "403");
  KubeletCache cache(&source_, Options());
  cache.RefreshNow();
  KubeletCache::View v = cache.Get();
  ASSERT_NE(v.summary, nullptr);
  EXPECT_EQ(v.pods, nullptr);
  EXPECT_TRUE(v.pods_forbidden);
  EXPECT_TRUE(v.last_error.ok()) << v.last_error;
  EXPECT_EQ(cache.Stats().outcomes["pods:403"], 1u);
  EXPECT_EQ(cache.Stats().outcomes["summary:200"], 1u);
}

TEST_F(KubeletCacheTest, MalformedBodiesKeepLastGoodDataAndCountAsInvalid) {
  Healthy();
  KubeletCache cache(&source_, Options());
  cache.RefreshNow();
  source_.Set("/stats/summary", std::string("{\"node\": tru"), "200");
  cache.RefreshNow();
  KubeletCache::View v = cache.Get();
  EXPECT_EQ(v.summary->node.node_name, "n1");
  EXPECT_EQ(v.last_error.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cache.Stats().outcomes["summary:invalid"], 1u);

  source_.Set("/stats/summary", std::string("node:n1"), "200");
  source_.Set("/pods", std::string("garbage"), "200");
  cache.RefreshNow();
  v = cache.Get();
  ASSERT_NE(v.pods, nullptr);
  EXPECT_EQ(v.pods->size(), 2u) << "last good pods kept";
  EXPECT_EQ(v.last_error.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cache.Stats().outcomes["pods:invalid"], 1u);
}

TEST_F(KubeletCacheTest, FetchPodsOffNeverAsksForPods) {
  Healthy();
  KubeletCacheOptions o = Options();
  o.fetch_pods = false;
  KubeletCache cache(&source_, o);
  cache.RefreshNow();
  EXPECT_NE(cache.Get().summary, nullptr);
  EXPECT_EQ(cache.Get().pods, nullptr);
  EXPECT_EQ(source_.Calls("/pods"), 0);
}

TEST_F(KubeletCacheTest, WithoutBackgroundOnlyRefreshNowFetches) {
  Healthy();
  KubeletCache cache(&source_, Options(/*background=*/false));
  cache.Get();
  cache.WaitIdle();
  EXPECT_EQ(source_.Calls("/stats/summary"), 0);
  cache.RefreshNow();
  EXPECT_EQ(source_.Calls("/stats/summary"), 1);
  EXPECT_EQ(cache.Get().summary->node.node_name, "n1");
}

TEST_F(KubeletCacheTest, OutcomeFallsBackToStatusCodeName) {
  source_.Set("/stats/summary", absl::UnavailableError("down"), "");
  KubeletCache cache(&source_, Options(false));
  cache.RefreshNow();
  EXPECT_EQ(cache.Stats().outcomes["summary:unavailable"], 1u);
  EXPECT_EQ(cache.Stats().refreshes, 1u);
}

TEST_F(KubeletCacheTest, DestructorJoinsTheWorkerDuringARefresh) {
  Healthy();
  auto cache = std::make_unique<KubeletCache>(&source_, Options());
  source_.CloseGate();
  cache->Get();
  source_.WaitCalls("/stats/summary", 1);
  std::thread opener([&] {
    absl::SleepFor(absl::Milliseconds(20));
    source_.OpenGate();
  });
  cache.reset();  // returns once the in-flight refresh has finished
  opener.join();
  EXPECT_EQ(source_.Calls("/stats/summary"), 1);
}

}  // namespace
}  // namespace nodeproc

namespace nodeproc {
namespace {

TEST(KubeletCacheRealParsersTest, DefaultsToTheRealParsersOnRecordedFixtures) {
  // The recorded files are named stats-summary.json and pods.json: map them.
  class Renamed : public KubeletSource {
   public:
    explicit Renamed(std::string dir) : dir_(std::move(dir)) {}
    absl::StatusOr<std::string> Fetch(std::string_view path) override {
      std::string file = dir_ + (path == "/pods" ? "/pods.json" : "/stats-summary.json");
      std::ifstream in(file);
      if (!in) return absl::NotFoundError(file);
      std::stringstream ss;
      ss << in.rdbuf();
      return ss.str();
    }
   private:
    std::string dir_;
  } renamed(testing::FixturesDir() + "/kubelet");
  KubeletCacheOptions o;
  o.background = false;
  KubeletCache cache(&renamed, o);
  cache.RefreshNow();
  KubeletCache::View v = cache.Get();
  ASSERT_TRUE(v.last_error.ok()) << v.last_error;
  ASSERT_NE(v.summary, nullptr);
  EXPECT_FALSE(v.summary->node.node_name.empty());
  EXPECT_FALSE(v.summary->pods.empty());
  ASSERT_NE(v.pods, nullptr);
  EXPECT_FALSE(v.pods->empty());
}

}  // namespace
}  // namespace nodeproc
