#pragma once
// Kubelet /stats/summary JSON -> Summary. Pure. Every field is optional (kubelets of different
// versions omit different ones); a wrong-typed field is ignored. Malformed JSON or a document
// that is not an object => InvalidArgument with the offset of the error.
#include <string_view>

#include "absl/status/statusor.h"
#include "core/pod_stats.h"

namespace nodeproc {

absl::StatusOr<Summary> ParseSummary(std::string_view json);

}  // namespace nodeproc
