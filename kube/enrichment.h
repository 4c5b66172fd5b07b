#pragma once
// The join of processes with pods: pure, over core types. The resolver has already set
// container.container_id / pod_uid from the cgroup path; this fills namespace, pod, container
// name and image:
//   1. from /pods, by container id (name and image of that very container);
//   2. else from /pods by pod uid (namespace and pod; the container name is left empty: an id
//      the kubelet does not list is the pod sandbox or a container not started yet);
//   3. else from /stats/summary by pod uid (namespace and pod; the container name only when
//      the pod has exactly one container and the process is not the sandbox's `pause`).
// The summary join needs only the `nodes/stats` permission. Host processes are left alone.
#include <vector>

#include "core/pod_stats.h"
#include "core/process_record.h"

namespace nodeproc {

void EnrichProcesses(std::vector<ProcessRecord>* processes, const std::vector<PodInfo>* pods /*may be null*/,
                     const Summary* summary /*may be null*/);

}  // namespace nodeproc
