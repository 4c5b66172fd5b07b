#include "kube/container_filter.h"

#include <algorithm>
#include <utility>

#include <re2/re2.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"

namespace nodeproc {
namespace {

const std::string* FieldValue(const ContainerRef& c, ContainerRule::Field f) {
  switch (f) {
    case ContainerRule::Field::kName:
      return &c.container_name;
    case ContainerRule::Field::kImage:
      return &c.image;
    case ContainerRule::Field::kNamespace:
      return &c.pod_namespace;
  }
  return nullptr;
}

bool IsSandboxProcessName(std::string_view name) { return name == "pause"; }

std::shared_ptr<const re2::RE2> Compile(std::string_view pattern) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  return std::make_shared<const re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
}

}  // namespace

absl::StatusOr<ContainerRule> ContainerRule::Parse(std::string_view rule) {
  size_t colon = rule.find(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("container rule \"", ToAbsl(rule), "\": expected name:RE, image:RE or namespace:RE"));
  }
  std::string_view field = rule.substr(0, colon);
  std::string_view pattern = rule.substr(colon + 1);
  ContainerRule out;
  if (field == "name") {
    out.field = Field::kName;
  } else if (field == "image") {
    out.field = Field::kImage;
  } else if (field == "namespace") {
    out.field = Field::kNamespace;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("container rule \"", ToAbsl(rule), "\": unknown field \"",
                                                   ToAbsl(field), "\" (use name, image or namespace)"));
  }
  if (pattern.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("container rule \"", ToAbsl(rule), "\": empty pattern"));
  }
  out.re = Compile(pattern);
  if (!out.re->ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "container rule \"", ToAbsl(rule), "\": bad regular expression: ", out.re->error()));
  }
  out.text = std::string(rule);
  return out;
}

bool ContainerRule::Matches(const ContainerRef& c) const {
  const std::string* value = FieldValue(c, field);
  if (value == nullptr || value->empty()) return false;
  return re2::RE2::FullMatch(*value, *re);  // anchored
}

const std::vector<std::string>& ContainerFilter::PauseImagePatterns() {
  static const auto* patterns = new std::vector<std::string>{
      // registry.k8s.io/pause, k8s.gcr.io/pause, gcr.io/google_containers/pause-amd64,
      // mcr.microsoft.com/oss/kubernetes/pause, <account>.dkr.ecr.<region>.amazonaws.com/eks/pause,
      // docker.io/rancher/pause, kubernetes/pause, and any mirror of them.
      R"((.+/)?pause(-(amd64|arm64|arm|ppc64le|s390x|win))?(:[^/]*)?(@sha256:[0-9a-f]+)?)",
      R"(gcr\.io/google[-_]containers/pause.*)",
      // docker.io/rancher/mirrored-pause (k3s, RKE2).
      R"((.+/)?mirrored-pause(:[^/]*)?(@sha256:[0-9a-f]+)?)",
      // OpenShift 3/4 pod infra images.
      R"((.+/)?(openshift/origin-pod|openshift3/ose-pod|openshift4/ose-pod)(:[^/]*)?(@sha256:[0-9a-f]+)?)",
  };
  return *patterns;
}

ContainerFilter::ContainerFilter(std::vector<ContainerRule> include, std::vector<ContainerRule> exclude,
                                 bool exclude_pause)
    : include_(std::move(include)), exclude_(std::move(exclude)), exclude_pause_(exclude_pause) {
  if (exclude_pause_) {
    for (const std::string& p : PauseImagePatterns()) pause_.push_back(Compile(p));
  }
}

absl::StatusOr<ContainerFilter> ContainerFilter::Create(const std::vector<std::string>& include,
                                                        const std::vector<std::string>& exclude,
                                                        bool exclude_pause_by_default) {
  std::vector<ContainerRule> inc, exc;
  for (const std::string& r : include) {
    absl::StatusOr<ContainerRule> rule = ContainerRule::Parse(r);
    if (!rule.ok()) return rule.status();
    inc.push_back(*std::move(rule));
  }
  for (const std::string& r : exclude) {
    absl::StatusOr<ContainerRule> rule = ContainerRule::Parse(r);
    if (!rule.ok()) return rule.status();
    exc.push_back(*std::move(rule));
  }
  return ContainerFilter(std::move(inc), std::move(exc), exclude_pause_by_default);
}

bool ContainerFilter::IsPauseImage(const std::string& image) const {
  if (image.empty()) return false;
  for (const std::shared_ptr<const re2::RE2>& re : pause_) {
    if (re2::RE2::FullMatch(image, *re)) return true;
  }
  return false;
}

bool ContainerFilter::Included(const ContainerRef& c) const {
  for (const ContainerRule& r : include_) {
    if (r.Matches(c)) return true;
  }
  return false;
}

bool ContainerFilter::Excluded(const ContainerRef& c, const PodInfo* pod) const {
  if (c.empty()) return false;  // host processes are never excluded
  if (Included(c)) return false;
  for (const ContainerRule& r : exclude_) {
    if (r.Matches(c)) return true;
  }
  if (pod != nullptr) {
    auto it = pod->annotations.find(kExcludeAnnotation);
    if (it != pod->annotations.end() && it->second == "true") return true;
  }
  return exclude_pause_ && IsPauseImage(c.image);
}

void ContainerFilter::Apply(std::vector<ProcessRecord>* processes, const std::vector<PodInfo>* pods) const {
  if (processes == nullptr) return;
  absl::flat_hash_map<std::string_view, const PodInfo*> pod_by_uid;
  if (pods != nullptr) {
    for (const PodInfo& p : *pods) {
      if (!p.uid.empty()) pod_by_uid.emplace(p.uid, &p);
    }
  }
  // Many processes share a container: decide once per container (regexes are not cheap).
  absl::flat_hash_map<std::string, bool> decided;
  auto keep_end = std::remove_if(processes->begin(), processes->end(), [&](const ProcessRecord& r) {
    const ContainerRef& c = r.container;
    if (c.empty()) return false;
    const PodInfo* pod = nullptr;
    if (auto it = pod_by_uid.find(c.pod_uid); it != pod_by_uid.end()) pod = it->second;
    // The sandbox: a pod process in no container the kubelet names, running `pause`.
    bool sandbox = exclude_pause_ && !c.pod_uid.empty() && c.container_name.empty() &&
                   IsSandboxProcessName(r.name);
    std::string key = absl::StrCat(c.container_id, "/", c.pod_uid, sandbox ? "/sandbox" : "");
    auto [it, inserted] = decided.try_emplace(key, false);
    if (inserted) it->second = sandbox ? !Included(c) : Excluded(c, pod);
    return it->second;
  });
  processes->erase(keep_end, processes->end());
}

}  // namespace nodeproc
