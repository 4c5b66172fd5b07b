#pragma once
// absl_lite (Windows build only): flat_hash_set is std::unordered_set (same interface subset).
#include <unordered_set>

namespace absl {
template <typename K, typename Hash = std::hash<K>, typename Eq = std::equal_to<K>>
using flat_hash_set = std::unordered_set<K, Hash, Eq>;
}  // namespace absl
