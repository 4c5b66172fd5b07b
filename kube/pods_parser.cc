#include "kube/pods_parser.h"

#include "absl/strings/str_cat.h"
#include "kube/json_filter.h"
#include "kube/json_util.h"
#include "rapidjson/document.h"

namespace nodeproc {
namespace {

using kube_json::ArrayMember;
using kube_json::ObjectMember;
using kube_json::String;
using rapidjson::Value;
using kube_json::Cap;
using kube_json::SchemaNode;

// What the readers below look at, and nothing else (kube/json_filter.h).
const SchemaNode& PodListSchema() {
  static const SchemaNode* const root = [] {
    const SchemaNode* leaf = SchemaNode::Leaf();
    auto* map = new SchemaNode(SchemaNode::StringMap());
    auto* spec_containers = new SchemaNode(SchemaNode::Array(
        new SchemaNode(SchemaNode::Object({{"name", leaf}, {"image", leaf}})), Cap::kContainers));
    auto* statuses = new SchemaNode(SchemaNode::Array(
        new SchemaNode(SchemaNode::Object({{"name", leaf}, {"containerID", leaf}, {"image", leaf}})),
        Cap::kContainers));
    auto* pod = new SchemaNode(SchemaNode::Object(
        {{"metadata", new SchemaNode(SchemaNode::Object({{"uid", leaf}, {"namespace", leaf}, {"name", leaf},
                                                         {"labels", map}, {"annotations", map}}))},
         {"spec", new SchemaNode(SchemaNode::Object({{"initContainers", spec_containers},
                                                     {"containers", spec_containers},
                                                     {"ephemeralContainers", spec_containers}}))},
         {"status", new SchemaNode(SchemaNode::Object({{"initContainerStatuses", statuses},
                                                       {"containerStatuses", statuses},
                                                       {"ephemeralContainerStatuses", statuses}}))}}));
    return new SchemaNode(SchemaNode::Object(
        {{"kind", leaf}, {"message", leaf}, {"items", new SchemaNode(SchemaNode::Array(pod, Cap::kPods))}}));
  }();
  return *root;
}

std::map<std::string, std::string> ReadStringMap(const Value* v) {
  std::map<std::string, std::string> out;
  if (v == nullptr) return out;
  for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
    if (!it->value.IsString()) continue;
    out.emplace(std::string(it->name.GetString(), it->name.GetStringLength()),
                std::string(it->value.GetString(), it->value.GetStringLength()));
  }
  return out;
}

PodContainer* FindByName(std::vector<PodContainer>* list, const std::string& name) {
  for (PodContainer& c : *list) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

void ReadSpecContainers(const Value* list, bool init, bool ephemeral, std::vector<PodContainer>* out) {
  if (list == nullptr) return;
  for (const Value& c : list->GetArray()) {
    if (!c.IsObject()) continue;
    PodContainer pc;
    pc.name = String(c, "name");
    pc.image = String(c, "image");
    pc.init = init;
    pc.ephemeral = ephemeral;
    out->push_back(std::move(pc));
  }
}

// Statuses carry the runtime id. A status whose container is not in the spec (a truncated or
// hand-made list) still yields a container.
void ReadStatuses(const Value* list, bool init, bool ephemeral, std::vector<PodContainer>* out) {
  if (list == nullptr) return;
  for (const Value& s : list->GetArray()) {
    if (!s.IsObject()) continue;
    std::string name = String(s, "name");
    PodContainer* pc = name.empty() ? nullptr : FindByName(out, name);
    if (pc == nullptr) {
      out->push_back(PodContainer{});
      pc = &out->back();
      pc->name = std::move(name);
      pc->init = init;
      pc->ephemeral = ephemeral;
    }
    auto [runtime, id] = SplitContainerId(String(s, "containerID"));
    if (!id.empty()) {
      pc->container_id = std::move(id);
      pc->runtime = std::move(runtime);
    }
    // The spec image is what the user wrote (and what include/exclude rules are written
    // against); the status image (resolved, e.g. docker.io/library/...) only fills a gap.
    if (pc->image.empty()) pc->image = String(s, "image");
  }
}

PodInfo ReadPod(const Value& v) {
  PodInfo out;
  if (const Value* meta = ObjectMember(v, "metadata")) {
    out.uid = String(*meta, "uid");
    out.pod_namespace = String(*meta, "namespace");
    out.name = String(*meta, "name");
    out.labels = ReadStringMap(ObjectMember(*meta, "labels"));
    out.annotations = ReadStringMap(ObjectMember(*meta, "annotations"));
  }
  if (const Value* spec = ObjectMember(v, "spec")) {
    ReadSpecContainers(ArrayMember(*spec, "initContainers"), true, false, &out.containers);
    ReadSpecContainers(ArrayMember(*spec, "containers"), false, false, &out.containers);
    ReadSpecContainers(ArrayMember(*spec, "ephemeralContainers"), false, true, &out.containers);
  }
  if (const Value* status = ObjectMember(v, "status")) {
    ReadStatuses(ArrayMember(*status, "initContainerStatuses"), true, false, &out.containers);
    ReadStatuses(ArrayMember(*status, "containerStatuses"), false, false, &out.containers);
    ReadStatuses(ArrayMember(*status, "ephemeralContainerStatuses"), false, true, &out.containers);
  }
  return out;
}

}  // namespace

std::pair<std::string, std::string> SplitContainerId(std::string_view container_id) {
  size_t sep = container_id.find("://");
  if (sep == std::string_view::npos) return {"", std::string(container_id)};
  return {std::string(container_id.substr(0, sep)), std::string(container_id.substr(sep + 3))};
}

absl::StatusOr<std::vector<PodInfo>> ParsePods(std::string_view json) {
  KubeletParseDrops drops;
  return ParsePods(json, KubeletParseLimits{}, &drops);
}

absl::StatusOr<std::vector<PodInfo>> ParsePods(std::string_view json, const KubeletParseLimits& limits,
                                               KubeletParseDrops* drops) {
  rapidjson::Document doc;
  if (absl::Status s = kube_json::ParseFiltered(json, "/pods", PodListSchema(), limits, drops, &doc);
      !s.ok()) {
    return s;
  }
  if (String(doc, "kind") == "Status") {
    return absl::InvalidArgumentError(absl::StrCat("/pods returned a Status, not a PodList: ",
                                                   String(doc, "message")));
  }
  std::vector<PodInfo> out;
  if (const Value* items = ArrayMember(doc, "items")) {
    out.reserve(items->Size());
    for (const Value& p : items->GetArray()) {
      if (p.IsObject()) out.push_back(ReadPod(p));
    }
  }
  return out;
}

}  // namespace nodeproc
