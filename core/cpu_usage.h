#pragma once
// CPU utilisation of one process over the agent's three windows, in percent of one core
// (may exceed 100 for multi-threaded processes, like psutil). Empty when not yet known.
#include <optional>

namespace nodeproc {

struct CpuUsage {
  std::optional<double> pct_5s;
  std::optional<double> pct_2m;
  std::optional<double> pct_1h;
};

}  // namespace nodeproc
