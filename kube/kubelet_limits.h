#pragma once
// Caps on what the kubelet parsers keep from a /stats/summary or /pods body, so that memory
// follows what is kept, not what the kubelet (or whoever answers in its place) sends. Data past
// a cap is dropped and counted by kind (nodeproc_kubelet_dropped_total{endpoint,kind}).
#include <cstddef>
#include <cstdint>

namespace nodeproc {

struct KubeletParseLimits {
  size_t max_pods = 1000;       // --kubelet-max-pods: pods kept per body
  size_t max_containers = 64;   // --kubelet-max-containers: per list (containers, init, statuses, system)
  size_t max_items = 64;        // interfaces, volumes, labels, annotations: per list or map
  size_t max_string_bytes = 4096;        // a longer string value or map key reads as absent
  size_t max_kept_bytes = size_t{16} << 20;  // JSON values kept per body (16 B per value + text)
};

// What a parse dropped, by kind. Zero when nothing passed a cap.
struct KubeletParseDrops {
  uint64_t pods = 0;
  uint64_t containers = 0;
  uint64_t items = 0;    // list items and map entries
  uint64_t strings = 0;  // strings over max_string_bytes
  uint64_t total() const { return pods + containers + items + strings; }
};

}  // namespace nodeproc
