#pragma once
// Kubelet stats cache: serves the last good /stats/summary and /pods, refreshed in the background
// when older than the validity window. Readers never block on the network; at most one refresh
// is in flight; failures are cached too (a failing kubelet is asked at most once per validity
// window, whatever the number of readers); the last good data stays served when a refresh fails;
// /pods 403 (no nodes/proxy RBAC) degrades to "no pods" with one log line.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/pod_stats.h"
#include "kube/kubelet_limits.h"
#include "kube/kubelet_source.h"

namespace nodeproc {

struct KubeletCacheOptions {
  absl::Duration validity = absl::Seconds(10);
  bool fetch_pods = true;
  // Parsers; empty = the real ones (ParseSummary from kube/summary_parser.h, ParsePods from
  // kube/pods_parser.h) with `limits`, their drops counted in Stats().dropped. Tests inject fakes.
  std::function<absl::StatusOr<Summary>(std::string_view)> parse_summary;
  std::function<absl::StatusOr<std::vector<PodInfo>>(std::string_view)> parse_pods;
  KubeletParseLimits limits;
  // Clock, for tests. Defaults to absl::Now.
  std::function<absl::Time()> now;
  // false: no worker thread; Get() never refreshes, only RefreshNow() does (one-shot snapshot).
  bool background = true;
  // With background: the worker also refreshes on its own once the data is older than the
  // validity window, without waiting for a reader.
  bool periodic = true;
};

struct KubeletCacheStats {
  // Requests by "<endpoint>:<outcome>": {"summary:200": 5, "pods:403": 1, "summary:timeout": 2,
  // "summary:invalid": 1 (HTTP 200 but the body did not parse)}.
  std::map<std::string, uint64_t> outcomes;
  absl::Time last_success = absl::InfinitePast();  // last successful summary refresh
  absl::Time last_attempt = absl::InfinitePast();
  uint64_t refreshes = 0;                           // refresh rounds started
  // What the parse limits dropped, cumulative, by "<endpoint>:<kind>" (kind: pod, container,
  // item, string): {"summary:pod": 120}. Only kinds that ever dropped something appear.
  std::map<std::string, uint64_t> dropped;
};

class KubeletCache {
 public:
  struct View {
    std::shared_ptr<const Summary> summary;              // null until a first success
    std::shared_ptr<const std::vector<PodInfo>> pods;    // null until a first success
    absl::Time summary_fetched_at = absl::InfinitePast();
    absl::Time pods_fetched_at = absl::InfinitePast();
    absl::Status last_error;   // of the last refresh (summary, or pods other than 403); OK if none
    bool pods_forbidden = false;  // the last /pods answer was 403
  };

  // source must outlive the cache.
  KubeletCache(KubeletSource* source, KubeletCacheOptions options);
  ~KubeletCache();  // stops and joins the worker (waits for an in-flight refresh)
  KubeletCache(const KubeletCache&) = delete;
  KubeletCache& operator=(const KubeletCache&) = delete;

  // Returns at once with the last good data; if the last refresh attempt is older than the
  // validity window, asks the worker for a refresh (unless one is already pending or running).
  View Get();
  // Refreshes now, blocking (waits for an in-flight refresh first, then does its own).
  void RefreshNow();
  // Blocks until no refresh is pending or running (tests).
  void WaitIdle();
  KubeletCacheStats Stats() const;

 private:
  void WorkerLoop();
  void DoRefresh();  // caller holds refresh_mu_
  void Count(const std::string& endpoint, const std::string& outcome) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Adds a parse's drops to stats_.dropped and logs them, at most once per 10 minutes per endpoint.
  void NoteDrops(const std::string& endpoint, const KubeletParseDrops& drops);
  absl::Time Now() const { return options_.now ? options_.now() : absl::Now(); }

  KubeletSource* const source_;
  const KubeletCacheOptions options_;

  absl::Mutex refresh_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // serializes refreshes (one in flight)
  mutable absl::Mutex mu_;
  View view_ ABSL_GUARDED_BY(mu_);
  KubeletCacheStats stats_ ABSL_GUARDED_BY(mu_);
  bool requested_ ABSL_GUARDED_BY(mu_) = false;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool pods_forbidden_logged_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, absl::Time> drops_logged_at_ ABSL_GUARDED_BY(mu_);
  std::thread worker_;
};

}  // namespace nodeproc
