#include "exporters/label_values.h"

#include <string>

#include "absl/container/flat_hash_set.h"
#include "core/utf8.h"

namespace nodeproc {
namespace {

std::string SeriesIdentity(const prometheus::ClientMetric& m) {
  std::string id;
  for (const prometheus::ClientMetric::Label& l : m.label) {
    id.append(l.name);
    id.push_back('\0');  // cannot occur in a valid value (NUL is replaced)
    id.append(l.value);
    id.push_back('\0');
  }
  return id;
}

}  // namespace

size_t MakeLabelValuesValid(std::vector<prometheus::MetricFamily>* families) {
  size_t dropped = 0;
  for (prometheus::MetricFamily& family : *families) {
    bool changed = false;
    for (prometheus::ClientMetric& m : family.metric) {
      for (prometheus::ClientMetric::Label& l : m.label) changed |= MakeValidUtf8(&l.value);
    }
    if (!changed) continue;  // the common case: nothing to check
    absl::flat_hash_set<std::string> seen;
    std::vector<prometheus::ClientMetric> kept;
    kept.reserve(family.metric.size());
    for (prometheus::ClientMetric& m : family.metric) {
      if (seen.insert(SeriesIdentity(m)).second) {
        kept.push_back(std::move(m));
      } else {
        ++dropped;
      }
    }
    family.metric = std::move(kept);
  }
  return dropped;
}

}  // namespace nodeproc
