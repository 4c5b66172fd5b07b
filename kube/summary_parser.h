#pragma once
// Kubelet /stats/summary JSON -> Summary. Pure. Every field is optional (kubelets of different
// versions omit different ones); a wrong-typed field is ignored. Malformed JSON or a document
// that is not an object => InvalidArgument with the offset of the error.
#include <string_view>

#include "absl/status/statusor.h"
#include "core/pod_stats.h"
#include "kube/kubelet_limits.h"

namespace nodeproc {

// Streaming: memory follows what is kept (kube/json_filter.h). The one-argument form applies the
// default KubeletParseLimits; *drops (not reset) gets what the limits dropped.
absl::StatusOr<Summary> ParseSummary(std::string_view json);
absl::StatusOr<Summary> ParseSummary(std::string_view json, const KubeletParseLimits& limits,
                                     KubeletParseDrops* drops);

}  // namespace nodeproc
