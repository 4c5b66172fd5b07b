#include "kube/json_util.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace nodeproc::kube_json {

const rapidjson::Value* Member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(name);
  if (it == v.MemberEnd()) return nullptr;
  return &it->value;
}

const rapidjson::Value* ObjectMember(const rapidjson::Value& v, const char* name) {
  const rapidjson::Value* m = Member(v, name);
  return (m != nullptr && m->IsObject()) ? m : nullptr;
}

const rapidjson::Value* ArrayMember(const rapidjson::Value& v, const char* name) {
  const rapidjson::Value* m = Member(v, name);
  return (m != nullptr && m->IsArray()) ? m : nullptr;
}

std::optional<uint64_t> Uint(const rapidjson::Value& v, const char* name) {
  const rapidjson::Value* m = Member(v, name);
  if (m == nullptr) return std::nullopt;
  if (m->IsUint64()) return m->GetUint64();
  if (m->IsDouble()) {
    double d = m->GetDouble();
    // 2^64 is exactly representable; anything at or above it does not fit.
    if (std::isfinite(d) && d >= 0 && d < 18446744073709551616.0 && d == std::floor(d)) {
      return static_cast<uint64_t>(d);
    }
  }
  return std::nullopt;
}

std::string String(const rapidjson::Value& v, const char* name) {
  const rapidjson::Value* m = Member(v, name);
  if (m == nullptr || !m->IsString()) return "";
  return std::string(m->GetString(), m->GetStringLength());
}

}  // namespace nodeproc::kube_json
