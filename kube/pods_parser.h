#pragma once
// Kubelet /pods JSON (a v1 PodList) -> PodInfo per pod. Pure. Reads metadata (uid, namespace,
// name, labels, annotations), spec images and the container statuses of regular, init and
// ephemeral containers; `containerID` "<runtime>://<id>" is split into runtime and id.
// Malformed JSON, a non-object document or a `Status` object (an error body) => InvalidArgument.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/pod_stats.h"
#include "kube/kubelet_limits.h"

namespace nodeproc {

// Streaming: memory follows what is kept (kube/json_filter.h). The one-argument form applies the
// default KubeletParseLimits; *drops (not reset) gets what the limits dropped.
absl::StatusOr<std::vector<PodInfo>> ParsePods(std::string_view json);
absl::StatusOr<std::vector<PodInfo>> ParsePods(std::string_view json, const KubeletParseLimits& limits,
                                               KubeletParseDrops* drops);

// "containerd://abc" -> {"containerd", "abc"}; no "://" -> {"", whole}.
std::pair<std::string, std::string> SplitContainerId(std::string_view container_id);

}  // namespace nodeproc
