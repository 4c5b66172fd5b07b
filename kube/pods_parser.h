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

namespace nodeproc {

absl::StatusOr<std::vector<PodInfo>> ParsePods(std::string_view json);

// "containerd://abc" -> {"containerd", "abc"}; no "://" -> {"", whole}.
std::pair<std::string, std::string> SplitContainerId(std::string_view container_id);

}  // namespace nodeproc
