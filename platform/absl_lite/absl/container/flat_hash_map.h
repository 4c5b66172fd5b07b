#pragma once
// absl_lite (Windows build only): flat_hash_map is std::unordered_map (same interface subset).
#include <unordered_map>

namespace absl {
template <typename K, typename V, typename Hash = std::hash<K>, typename Eq = std::equal_to<K>>
using flat_hash_map = std::unordered_map<K, V, Hash, Eq>;
}  // namespace absl
