#pragma once
// Where kubelet JSON comes from: the kubelet itself over HTTPS (KubeletClient, kube/kubelet_client.h)
// or a folder of recorded responses (FixtureKubeletSource, for `nodeproc snapshot` on recorded
// data and for tests). The cache (kube/kubelet_cache.h) only sees this interface.
#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace nodeproc {

// Largest kubelet response body accepted (HTTPS or fixture file); larger => ResourceExhausted.
inline constexpr size_t kMaxKubeletBodyBytes = size_t{64} << 20;

class KubeletSource {
 public:
  virtual ~KubeletSource() = default;
  // path is "/stats/summary" or "/pods". Returns the response body (HTTP 200 only).
  virtual absl::StatusOr<std::string> Fetch(std::string_view path) = 0;
  // Short label of how the last Fetch ended, for the request-outcome metric: the HTTP status
  // ("200", "401", "403", "500") or the transport failure ("timeout", "refused", "tls",
  // "too_large", "error"). Empty when the source has no such notion (callers then use
  // KubeletOutcomeFromStatus).
  virtual std::string LastOutcome() const { return {}; }
};

// "ok" for OK, else the lower-case status code name ("unavailable", "deadline_exceeded", ...).
std::string KubeletOutcomeFromStatus(const absl::Status& status);

// Reads <dir>/stats/summary.json for "/stats/summary" and <dir>/pods.json for "/pods" (the
// layout --kubelet-fixture-dir documents). Missing file => NotFound. Files are re-read at each
// Fetch, so a test can change them.
class FixtureKubeletSource : public KubeletSource {
 public:
  explicit FixtureKubeletSource(std::string dir) : dir_(std::move(dir)) {}
  absl::StatusOr<std::string> Fetch(std::string_view path) override;
  // The file a path maps to (for error messages and tests).
  std::string FileFor(std::string_view path) const;

 private:
  std::string dir_;
};

}  // namespace nodeproc
