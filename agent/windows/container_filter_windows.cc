// kube/container_filter.h on Windows: the filter is left out of this build. It only ever drops
// processes that run in a container, and Windows records have none (no cgroups; see
// collectors/windows/README.md); kube/container_filter.cc also needs RE2, which mingw lacks.
// --container-include/--container-exclude are refused at start-up (CheckWindowsConfig) and the
// pipeline gets no filter (PipelineParts::filter == nullptr), so these are never called: they
// only give the shared pipeline's references a definition, one that keeps everything.
#include "kube/container_filter.h"

namespace nodeproc {

bool ContainerFilter::Excluded(const ContainerRef&, const PodInfo*) const { return false; }

void ContainerFilter::Apply(std::vector<ProcessRecord>*, const std::vector<PodInfo>*) const {}

}  // namespace nodeproc
