// The one comparison used by tests and by every benchmark's check-before-timing:
// |got - want| <= tol (per element), NaN never passes, the first few mismatches are described.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

namespace dtypebench {

// ref(i) returns {want, tol} for element i: a reference computed element by element, so that
// checking an array of DRAM size costs no fp64 copies of it (they would show in the benchmark's
// peak memory and could make a size that fits fail).
template <class G, class Ref>
bool close_enough_by(const G* got, size_t n, Ref&& ref, std::string* why) {
  size_t bad = 0;
  std::string msg;
  for (size_t i = 0; i < n; ++i) {
    const double g = static_cast<double>(got[i]);
    const auto [want, tol] = ref(i);
    if (!(std::fabs(g - want) <= tol)) {  // written so that NaN fails
      if (bad < 3) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "%s[%zu] got %.9g want %.9g (tol %.3g)", bad ? "; " : "", i,
                      g, want, tol);
        msg += buf;
      }
      ++bad;
    }
  }
  if (bad && why) *why = std::to_string(bad) + " of " + std::to_string(n) + " mismatched: " + msg;
  return bad == 0;
}

template <class G>
bool close_enough(const G* got, const double* want, const double* tol, size_t n, std::string* why) {
  return close_enough_by(
      got, n, [&](size_t i) { return std::pair<double, double>(want[i], tol[i]); }, why);
}

}  // namespace dtypebench
