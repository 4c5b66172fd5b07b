#pragma once
// The last step before the text exposition: every label value is made valid UTF-8 with the
// one rule of core/utf8.h (invalid bytes and NUL -> U+FFFD), whatever collectable produced
// it. A process name or a kubelet pod name with invalid bytes would otherwise make
// Prometheus reject the whole scrape (`invalid UTF-8 label value`, up == 0).
//
// Should two series of a family become identical by the replacement (names that differ only
// in their invalid bytes), the first is kept and the others are dropped: a scrape never holds
// duplicate series. Process groups never reach that point: they are keyed by the replaced
// name already (exporters/metrics_collectable.cc).
#include <cstddef>
#include <vector>

#include "prometheus/metric_family.h"

namespace nodeproc {

// Returns the number of series dropped as duplicates.
size_t MakeLabelValuesValid(std::vector<prometheus::MetricFamily>* families);

}  // namespace nodeproc
