#pragma once
// Builds the kubelet source (HTTPS client, or recorded files with --kubelet-fixture-dir) and
// the stats cache from the agent's configuration.
#include <memory>

#include "absl/status/statusor.h"
#include "agent/config.h"
#include "kube/kubelet_cache.h"
#include "kube/kubelet_source.h"

namespace nodeproc {

absl::StatusOr<std::unique_ptr<KubeletSource>> MakeKubeletSource(const AgentConfig& config);

// background=false for one-shot use (`nodeproc snapshot`): only RefreshNow() fetches.
std::unique_ptr<KubeletCache> MakeKubeletCache(KubeletSource* source, const AgentConfig& config,
                                               bool background);

}  // namespace nodeproc
