#include "kube/kubelet_cache.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/log.h"
#include "kube/pods_parser.h"
#include "kube/summary_parser.h"

namespace nodeproc {
namespace {

std::string OutcomeOf(KubeletSource* source, const absl::Status& status) {
  std::string outcome = source->LastOutcome();
  if (outcome.empty()) outcome = KubeletOutcomeFromStatus(status);
  return outcome;
}

}  // namespace

KubeletCache::KubeletCache(KubeletSource* source, KubeletCacheOptions options)
    : source_(source), options_(std::move(options)) {
  if (options_.background) worker_ = std::thread([this] { WorkerLoop(); });
}

KubeletCache::~KubeletCache() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (worker_.joinable()) worker_.join();
}

KubeletCache::View KubeletCache::Get() {
  absl::MutexLock lock(&mu_);
  if (options_.background && !stopping_ && !requested_ && !running_ &&
      Now() - stats_.last_attempt >= options_.validity) {
    requested_ = true;
  }
  return view_;
}

void KubeletCache::WorkerLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      // Wake on a reader's request, or every validity window to keep the data fresh even
      // when nobody reads (and to notice a recovered kubelet or a rotated token).
      const absl::Duration tick = std::max(options_.validity, absl::Milliseconds(1));
      mu_.AwaitWithTimeout(
          absl::Condition(
              +[](KubeletCache* c) ABSL_NO_THREAD_SAFETY_ANALYSIS { return c->requested_ || c->stopping_; },
              this),
          tick);
      if (stopping_) return;
      if (!requested_ && (!options_.periodic || Now() - stats_.last_attempt < options_.validity)) continue;
    }
    absl::MutexLock refresh(&refresh_mu_);
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      requested_ = false;
      // A RefreshNow() may have refreshed while we waited for refresh_mu_.
      if (Now() - stats_.last_attempt < options_.validity) continue;
      running_ = true;
    }
    DoRefresh();
    absl::MutexLock lock(&mu_);
    running_ = false;
  }
}

void KubeletCache::RefreshNow() {
  absl::MutexLock refresh(&refresh_mu_);
  {
    absl::MutexLock lock(&mu_);
    running_ = true;
    requested_ = false;
  }
  DoRefresh();
  absl::MutexLock lock(&mu_);
  running_ = false;
}

void KubeletCache::WaitIdle() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](KubeletCache* c) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return c->stopping_ || (!c->requested_ && !c->running_);
      },
      this));
}

void KubeletCache::Count(const std::string& endpoint, const std::string& outcome) {
  ++stats_.outcomes[absl::StrCat(endpoint, ":", outcome)];
}

void KubeletCache::NoteDrops(const std::string& endpoint, const KubeletParseDrops& drops) {
  if (drops.total() == 0) return;
  absl::MutexLock lock(&mu_);
  for (const auto& [kind, n] : {std::pair<const char*, uint64_t>{"pod", drops.pods},
                                {"container", drops.containers},
                                {"item", drops.items},
                                {"string", drops.strings}}) {
    if (n > 0) stats_.dropped[absl::StrCat(endpoint, ":", kind)] += n;
  }
  absl::Time& last = drops_logged_at_[endpoint];
  const absl::Time now = Now();
  if (now - last < absl::Minutes(10)) return;
  last = now;
  LogWarning("kubelet response over the parse limits: the excess is dropped (see "
             "nodeproc_kubelet_dropped_total; logged at most every 10 minutes)",
             {{"endpoint", endpoint}, {"pods", drops.pods}, {"containers", drops.containers},
              {"items", drops.items}, {"strings", drops.strings},
              {"max_pods", options_.limits.max_pods},
              {"max_containers", options_.limits.max_containers}});
}

void KubeletCache::DoRefresh() {
  const absl::Time started = Now();
  {
    absl::MutexLock lock(&mu_);
    stats_.last_attempt = started;
    ++stats_.refreshes;
  }

  // /stats/summary first: it is what metrics need (nodes/stats RBAC only).
  absl::StatusOr<std::string> body = source_->Fetch("/stats/summary");
  std::string outcome = OutcomeOf(source_, body.status());
  absl::Status summary_error;
  std::shared_ptr<const Summary> summary;
  if (body.ok()) {
    {
      KubeletParseDrops drops;
      absl::StatusOr<Summary> parsed = options_.parse_summary
                                           ? options_.parse_summary(*body)
                                           : ParseSummary(*body, options_.limits, &drops);
      NoteDrops("summary", drops);
      if (parsed.ok()) {
        summary = std::make_shared<const Summary>(std::move(*parsed));
      } else {
        outcome = "invalid";
        summary_error = absl::Status(parsed.status().code(),
                                     absl::StrCat("kubelet /stats/summary: ", parsed.status().message()));
      }
    }
  } else {
    summary_error = body.status();
  }
  // Free the body before fetching the next one. (Assigning an empty std::string would keep
  // the buffer: libstdc++ move-assigns a short string into the existing capacity.)
  if (body.ok()) std::string().swap(*body);
  {
    absl::MutexLock lock(&mu_);
    Count("summary", outcome);
    if (summary) {
      view_.summary = summary;
      view_.summary_fetched_at = Now();
      stats_.last_success = view_.summary_fetched_at;
    }
  }
  if (!summary_error.ok()) {
    bool have_old;
    {
      absl::MutexLock lock(&mu_);
      have_old = view_.summary != nullptr;
    }
    LogLimited(LogLevel::kWarning, "kubelet:summary", outcome,
            have_old ? "kubelet /stats/summary refresh failed; serving the last good data"
                     : "kubelet /stats/summary refresh failed; no kubelet data yet, pod columns "
                       "stay empty",
            {{"error", ToStd(summary_error.message())}, {"code", outcome}});
  } else {
    LogRecovered("kubelet:summary", "kubelet /stats/summary works again",
                 {{"url_path", "/stats/summary"}});
  }

  // /pods only when the kubelet answered the summary: a failing kubelet is asked once per window.
  absl::Status pods_error;
  bool pods_forbidden = false;
  bool pods_asked = false;
  std::shared_ptr<const std::vector<PodInfo>> pods;
  if (options_.fetch_pods && summary_error.ok()) {
    pods_asked = true;
    absl::StatusOr<std::string> pbody = source_->Fetch("/pods");
    std::string poutcome = OutcomeOf(source_, pbody.status());
    if (pbody.ok()) {
      {
        KubeletParseDrops drops;
        absl::StatusOr<std::vector<PodInfo>> parsed =
            options_.parse_pods ? options_.parse_pods(*pbody)
                                : ParsePods(*pbody, options_.limits, &drops);
        NoteDrops("pods", drops);
        if (parsed.ok()) {
          pods = std::make_shared<const std::vector<PodInfo>>(std::move(*parsed));
        } else {
          poutcome = "invalid";
          pods_error = absl::Status(parsed.status().code(),
                                    absl::StrCat("kubelet /pods: ", parsed.status().message()));
        }
      }
    } else if (pbody.status().code() == absl::StatusCode::kPermissionDenied) {
      pods_forbidden = true;
    } else {
      pods_error = pbody.status();
    }
    absl::MutexLock lock(&mu_);
    Count("pods", poutcome);
    if (pods_forbidden && !pods_forbidden_logged_) {
      pods_forbidden_logged_ = true;
      LogWarning("kubelet /pods is forbidden (403): container names and images from /pods are "
                 "not available; summary stats still work. Grant get on nodes/pods (Kubernetes 1.33+, "
                 "KubeletFineGrainedAuthz) or nodes/proxy to enable them",
                 {{"error", ToStd(pbody.status().message())}});
    } else if (!pods_error.ok()) {
      LogLimited(LogLevel::kWarning, "kubelet:pods", poutcome,
              view_.pods ? "kubelet /pods refresh failed; serving the last good data"
                         : "kubelet /pods refresh failed; no pod list yet",
              {{"error", ToStd(pods_error.message())}, {"code", poutcome}});
    } else if (pods) {
      LogRecovered("kubelet:pods", "kubelet /pods works again", {{"url_path", "/pods"}});
    }
  }

  absl::MutexLock lock(&mu_);
  if (pods) {
    view_.pods = pods;
    view_.pods_fetched_at = Now();
  }
  if (pods_asked) view_.pods_forbidden = pods_forbidden;
  view_.last_error = !summary_error.ok() ? summary_error : pods_error;
  if (!view_.last_error.ok()) {
    LogDebug("kubelet refresh failed", {{"error", ToStd(view_.last_error.message())}});
  }
}

KubeletCacheStats KubeletCache::Stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace nodeproc
