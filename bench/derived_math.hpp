// The arithmetic behind derived entries that is more than one division: header-only, so tests
// check it on made-up sweeps without Google Benchmark.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

namespace dtypebench {
namespace bench {

// sweep: (stride in elements, seconds per element), strides ascending. Returns the stride from
// which the cost per element stays on its plateau: the smallest stride whose time is at least
// 1/sqrt(2) of the sweep's largest (the geometric middle between one more doubling and none, so
// noise on the plateau does not move it). Where lines are the cost it lands at 64 bytes / element
// size, or a multiple when the hardware fetches lines in pairs; where the loop's instructions are
// the cost, the sweep is flat from its second stride. 0 for an empty sweep.
inline double stride_plateau(const std::vector<std::pair<double, double>>& sweep) {
  double top = 0;
  for (const auto& [stride, t] : sweep) top = std::max(top, t);
  for (const auto& [stride, t] : sweep)
    if (top > 0 && t >= top / std::sqrt(2.0)) return stride;
  return 0;
}

// After how many strided passes converting first pays: convert / (strided - contiguous), all
// seconds per element; -1 when the strided pass is no slower (converting never pays).
inline double breakeven_passes(double convert, double strided, double contiguous) {
  const double gain = strided - contiguous;
  return gain > 0 ? convert / gain : -1;
}

}  // namespace bench
}  // namespace dtypebench
