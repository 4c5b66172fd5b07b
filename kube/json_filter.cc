#include "kube/json_filter.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rapidjson/encodedstream.h"
#include "rapidjson/error/en.h"
#include "rapidjson/memorystream.h"
#include "rapidjson/reader.h"

namespace nodeproc::kube_json {
namespace {

using rapidjson::SizeType;

// Accounting cost of one kept value or key (a rapidjson::Value is 16 bytes), plus its text.
constexpr size_t kValueBytes = 16;

enum class Shape { kScalar, kString, kObject, kArray };

// Forwards to `out` the SAX events of what the schema keeps (see json_filter.h).
class Filter {
 public:
  Filter(const SchemaNode& root, const KubeletParseLimits& limits, KubeletParseDrops* drops,
         rapidjson::Document* out)
      : root_(&root), limits_(limits), drops_(drops), out_(out) {}

  bool Null() { return Scalar(Shape::kScalar, 0, [&] { return out_->Null(); }); }
  bool Bool(bool b) { return Scalar(Shape::kScalar, 0, [&] { return out_->Bool(b); }); }
  bool Int(int i) { return Scalar(Shape::kScalar, 0, [&] { return out_->Int(i); }); }
  bool Uint(unsigned u) { return Scalar(Shape::kScalar, 0, [&] { return out_->Uint(u); }); }
  bool Int64(int64_t i) { return Scalar(Shape::kScalar, 0, [&] { return out_->Int64(i); }); }
  bool Uint64(uint64_t u) { return Scalar(Shape::kScalar, 0, [&] { return out_->Uint64(u); }); }
  bool Double(double d) { return Scalar(Shape::kScalar, 0, [&] { return out_->Double(d); }); }
  bool RawNumber(const char* s, SizeType n, bool copy) {
    return Scalar(Shape::kScalar, n, [&] { return out_->RawNumber(s, n, copy); });
  }
  bool String(const char* s, SizeType n, bool copy) {
    return Scalar(Shape::kString, n, [&] { return out_->String(s, n, copy); });
  }

  bool StartObject() { return Start(Shape::kObject); }
  bool StartArray() { return Start(Shape::kArray); }
  bool EndObject(SizeType) { return End(true); }
  bool EndArray(SizeType) { return End(false); }

  bool Key(const char* s, SizeType n, bool copy) {
    if (skip_depth_ > 0) return true;
    Frame& top = frames_.back();
    if (top.node->kind == SchemaNode::kMap) {
      top.key.assign(s, n);  // forwarded with its value, if that is kept
      return true;
    }
    top.next = nullptr;
    const std::string_view name(s, n);
    for (size_t i = 0; i < top.node->fields.size(); ++i) {
      if (top.node->fields[i].name != name) continue;
      const uint64_t bit = uint64_t{1} << i;
      if ((top.seen & bit) != 0) return true;  // a repeat: the first occurrence is the answer
      top.seen |= bit;
      top.next = top.node->fields[i].node;
      ++top.count;
      Account(n);
      return out_->Key(s, n, copy);
    }
    return true;  // not in the schema
  }

 private:
  struct Frame {
    const SchemaNode* node = nullptr;
    SizeType count = 0;  // members / elements forwarded
    size_t kept = 0;     // array elements / map entries kept (for the caps)
    uint64_t seen = 0;   // object: schema fields already forwarded
    const SchemaNode* next = nullptr;  // object: schema of the value after the last key
    std::string key;                   // map: the key waiting for its value
  };
  enum class Action { kDrop, kKeep, kNull };

  void Account(size_t text) { kept_bytes_ += kValueBytes + text; }
  bool OverBudget() const { return kept_bytes_ > limits_.max_kept_bytes; }

  size_t CapOf(Cap cap) const {
    switch (cap) {
      case Cap::kPods: return limits_.max_pods;
      case Cap::kContainers: return limits_.max_containers;
      case Cap::kItems: return limits_.max_items;
      case Cap::kNone: break;
    }
    return static_cast<size_t>(-1);
  }
  void CountDrop(Cap cap) {
    switch (cap) {
      case Cap::kPods: ++drops_->pods; break;
      case Cap::kContainers: ++drops_->containers; break;
      case Cap::kItems:
      case Cap::kNone: ++drops_->items; break;
    }
  }

  // What to do with the next value, of `shape` (and `len` bytes if a string); *node gets its
  // schema when kept. May forward a buffered map key.
  Action Decide(Shape shape, size_t len, const SchemaNode** node) {
    const bool container = shape == Shape::kObject || shape == Shape::kArray;
    if (frames_.empty()) {
      *node = root_;
    } else {
      Frame& top = frames_.back();
      switch (top.node->kind) {
        case SchemaNode::kObject:
          *node = top.next;
          top.next = nullptr;
          if (*node == nullptr) return Action::kDrop;
          break;
        case SchemaNode::kArray:
          if (shape != Shape::kObject) return Action::kDrop;  // readers skip non-objects
          if (top.kept >= CapOf(top.node->cap) || OverBudget()) {
            CountDrop(top.node->cap);
            return Action::kDrop;
          }
          ++top.kept;
          *node = top.node->element;
          break;
        case SchemaNode::kMap:
          if (shape != Shape::kString) return Action::kDrop;  // readers skip non-strings
          if (len > limits_.max_string_bytes || top.key.size() > limits_.max_string_bytes) {
            ++drops_->strings;
            return Action::kDrop;
          }
          if (top.kept >= CapOf(top.node->cap) || OverBudget()) {
            CountDrop(top.node->cap);
            return Action::kDrop;
          }
          ++top.kept;
          ++top.count;
          Account(top.key.size());
          out_->Key(top.key.data(), static_cast<SizeType>(top.key.size()), true);
          *node = SchemaNode::Leaf();
          return Action::kKeep;
        case SchemaNode::kLeaf:
          return Action::kDrop;  // not reached: leaves push no frame
      }
    }
    const SchemaNode::Kind kind = (*node)->kind;
    const bool fits = kind == SchemaNode::kLeaf ? !container
                      : kind == SchemaNode::kArray ? shape == Shape::kArray
                                                   : shape == Shape::kObject;
    if (!fits) return Action::kNull;
    if (shape == Shape::kString && len > limits_.max_string_bytes) {
      ++drops_->strings;
      return Action::kNull;
    }
    return Action::kKeep;
  }

  // An element of an array counts in its frame even when kept as null.
  void Counted() {
    if (!frames_.empty() && frames_.back().node->kind == SchemaNode::kArray) ++frames_.back().count;
  }

  template <typename Emit>
  bool Scalar(Shape shape, size_t len, Emit emit) {
    if (skip_depth_ > 0) return true;
    const SchemaNode* node = nullptr;
    switch (Decide(shape, len, &node)) {
      case Action::kDrop:
        return true;
      case Action::kNull:
        Counted();
        Account(0);
        return out_->Null();
      case Action::kKeep:
        Counted();
        Account(shape == Shape::kString ? len : 0);
        return emit();
    }
    return true;
  }

  bool Start(Shape shape) {
    if (skip_depth_ > 0) {
      ++skip_depth_;
      return true;
    }
    const SchemaNode* node = nullptr;
    switch (Decide(shape, 0, &node)) {
      case Action::kDrop:
        skip_depth_ = 1;
        return true;
      case Action::kNull:
        Counted();
        Account(0);
        skip_depth_ = 1;
        return out_->Null();
      case Action::kKeep:
        break;
    }
    Counted();
    Account(0);
    frames_.emplace_back();
    frames_.back().node = node;
    return shape == Shape::kObject ? out_->StartObject() : out_->StartArray();
  }

  bool End(bool object) {
    if (skip_depth_ > 0) {
      --skip_depth_;
      return true;
    }
    const SizeType count = frames_.back().count;
    frames_.pop_back();
    return object ? out_->EndObject(count) : out_->EndArray(count);
  }

  const SchemaNode* const root_;
  const KubeletParseLimits& limits_;
  KubeletParseDrops* const drops_;
  rapidjson::Document* const out_;
  std::vector<Frame> frames_;  // as deep as the schema, never the input
  size_t skip_depth_ = 0;      // > 0: inside a dropped subtree
  size_t kept_bytes_ = 0;
};

}  // namespace

const SchemaNode* SchemaNode::Leaf() {
  static const SchemaNode leaf;
  return &leaf;
}

SchemaNode SchemaNode::Object(std::initializer_list<SchemaField> fields) {
  SchemaNode n;
  n.kind = kObject;
  n.fields = fields;
  return n;
}

SchemaNode SchemaNode::Array(const SchemaNode* element, Cap cap) {
  SchemaNode n;
  n.kind = kArray;
  n.element = element;
  n.cap = cap;
  return n;
}

SchemaNode SchemaNode::StringMap() {
  SchemaNode n;
  n.kind = kMap;
  n.cap = Cap::kItems;
  return n;
}

absl::Status ParseFiltered(std::string_view json, std::string_view what, const SchemaNode& root,
                           const KubeletParseLimits& limits, KubeletParseDrops* drops,
                           rapidjson::Document* doc) {
  // The stream Document::Parse(str, length) uses, so errors and offsets are the same.
  rapidjson::MemoryStream ms(json.data(), json.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
  rapidjson::ParseResult result;
  auto generate = [&](rapidjson::Document& out) {
    Filter filter(root, limits, drops, &out);
    rapidjson::Reader reader;
    // Iterative: a deeply nested hostile body cannot exhaust the stack. Trailing garbage after
    // the document is an error too (no kParseStopWhenDoneFlag).
    result = reader.Parse<rapidjson::kParseIterativeFlag>(is, filter);
    return !result.IsError();
  };
  doc->Populate(generate);
  if (result.IsError()) {
    doc->SetNull();
    return absl::InvalidArgumentError(absl::StrCat("malformed ", std::string(what), " JSON at offset ",
                                                   result.Offset(), ": ",
                                                   rapidjson::GetParseError_En(result.Code())));
  }
  if (!doc->IsObject()) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(what), " JSON is not an object"));
  }
  return absl::OkStatus();
}

}  // namespace nodeproc::kube_json
