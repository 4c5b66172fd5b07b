#pragma once
// --container-include / --container-exclude: which containers' processes are dropped from the
// CSV and the metrics. Rules are `name:RE`, `image:RE`, `namespace:RE` (RE2 syntax, as in
// Prometheus relabelling; anchored: the whole value must match, so `name:logging` does not drop
// `processing-logging`). RE2 matches in linear time: no pattern or value can stall a scan.
// A container is excluded when an exclude rule matches it, or its pod is annotated
// `nodeproc.io/exclude: "true"`, or (by default) it is a pod sandbox (pause image); an include
// rule that matches wins over all of these. A rule never matches a value that is unknown (empty),
// and host processes are never excluded.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/container_ref.h"
#include "core/pod_stats.h"
#include "core/process_record.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace nodeproc {

struct ContainerRule {
  enum class Field { kName, kImage, kNamespace };
  Field field = Field::kName;
  std::string text;  // the rule as written, e.g. "name:logging"
  std::shared_ptr<const re2::RE2> re;  // shared: rules are copied with the filter

  // Parses "name:RE" etc.; InvalidArgument naming the rule when the field or the regex is bad.
  static absl::StatusOr<ContainerRule> Parse(std::string_view rule);
  bool Matches(const ContainerRef& c) const;
};

class ContainerFilter {
 public:
  static constexpr char kExcludeAnnotation[] = "nodeproc.io/exclude";

  // Anchored image patterns of the pause (sandbox) images of the common runtimes/distributions.
  static const std::vector<std::string>& PauseImagePatterns();

  static absl::StatusOr<ContainerFilter> Create(const std::vector<std::string>& include,
                                                const std::vector<std::string>& exclude,
                                                bool exclude_pause_by_default = true);

  // A filter with no rules (still excludes pause images and annotated pods).
  ContainerFilter() : ContainerFilter({}, {}, true) {}

  // `pod` (from /pods, may be null) supplies the exclude annotation.
  bool Excluded(const ContainerRef& c, const PodInfo* pod) const;

  // Removes the rows of excluded containers. Besides Excluded(), a process of a pod that is
  // not any container the kubelet lists and whose name is the sandbox's (`pause`) is the pod
  // sandbox and is dropped when pause exclusion is on, so that it is dropped even when the
  // image is unknown (no /pods permission). `pods` may be null.
  void Apply(std::vector<ProcessRecord>* processes, const std::vector<PodInfo>* pods) const;

  bool exclude_pause() const { return exclude_pause_; }

 private:
  ContainerFilter(std::vector<ContainerRule> include, std::vector<ContainerRule> exclude, bool exclude_pause);
  bool IsPauseImage(const std::string& image) const;
  bool Included(const ContainerRef& c) const;

  std::vector<ContainerRule> include_;
  std::vector<ContainerRule> exclude_;
  std::vector<std::shared_ptr<const re2::RE2>> pause_;
  bool exclude_pause_ = true;
};

}  // namespace nodeproc
