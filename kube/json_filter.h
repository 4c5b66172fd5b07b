#pragma once
// Streaming (SAX) parse of kubelet JSON that keeps only what a schema names, within
// KubeletParseLimits (internal to kube/). The RapidJSON Reader feeds a filter that forwards the
// kept events into a Document, so the DOM holds the kept data only: a 50 MB body of tiny array
// elements, or 100k pods, costs memory for what the caps let through, not for the body.
//
// The kept DOM answers the lenient getters of kube/json_util.h exactly as the whole-body DOM
// would: members not in the schema are dropped; a member repeated in an object keeps only its
// first occurrence (FindMember's answer); a value of the wrong shape (an object where a number
// is expected, ...) becomes null, which every getter reads as absent; non-object elements of
// object lists are dropped (the readers skip them). Parse errors are the Reader's, with the
// same offsets as Document::Parse.
#include <initializer_list>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "kube/kubelet_limits.h"
#include "rapidjson/document.h"

namespace nodeproc::kube_json {

struct SchemaNode;

// One member of an object schema.
struct SchemaField {
  std::string_view name;
  const SchemaNode* node;
};

enum class Cap { kNone, kPods, kContainers, kItems };

struct SchemaNode {
  enum Kind { kLeaf, kObject, kArray, kMap } kind = kLeaf;
  std::vector<SchemaField> fields;     // kObject
  const SchemaNode* element = nullptr;  // kArray: element schema (an object)
  Cap cap = Cap::kNone;                // kArray: its length cap; kMap: entries (kItems)

  static const SchemaNode* Leaf();  // a scalar (number, string, bool, null)
  static SchemaNode Object(std::initializer_list<SchemaField> fields);
  static SchemaNode Array(const SchemaNode* element, Cap cap);
  static SchemaNode StringMap();  // string -> string, entries capped by max_items
};

// Parses `json` keeping what `root` names. InvalidArgument naming `what` for malformed JSON or
// a document that is not an object. *drops (not reset) gets what the limits dropped.
absl::Status ParseFiltered(std::string_view json, std::string_view what, const SchemaNode& root,
                           const KubeletParseLimits& limits, KubeletParseDrops* drops,
                           rapidjson::Document* doc);

}  // namespace nodeproc::kube_json
