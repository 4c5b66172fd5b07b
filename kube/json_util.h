#pragma once
// Small RapidJSON helpers shared by the kubelet parsers (internal to kube/). Every getter is
// lenient: a missing or wrong-typed member reads as "absent", never as an error or a crash.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "rapidjson/document.h"

namespace nodeproc::kube_json {

// The member `name` of `v` if `v` is an object holding it, else nullptr.
const rapidjson::Value* Member(const rapidjson::Value& v, const char* name);
const rapidjson::Value* ObjectMember(const rapidjson::Value& v, const char* name);
const rapidjson::Value* ArrayMember(const rapidjson::Value& v, const char* name);

// Non-negative integers (a whole, in-range double counts too); anything else is absent.
std::optional<uint64_t> Uint(const rapidjson::Value& v, const char* name);
// A string member, "" when absent or not a string.
std::string String(const rapidjson::Value& v, const char* name);

}  // namespace nodeproc::kube_json
