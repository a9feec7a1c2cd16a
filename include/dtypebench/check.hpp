// The one comparison used by tests and by every benchmark's check-before-timing:
// |got - want| <= tol (per element), NaN never passes, the first few mismatches are described.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

namespace dtypebench {

template <class G>
bool close_enough(const G* got, const double* want, const double* tol, size_t n, std::string* why) {
  size_t bad = 0;
  std::string msg;
  for (size_t i = 0; i < n; ++i) {
    const double g = static_cast<double>(got[i]);
    if (!(std::fabs(g - want[i]) <= tol[i])) {  // written so that NaN fails
      if (bad < 3) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "%s[%zu] got %.9g want %.9g (tol %.3g)", bad ? "; " : "", i,
                      g, want[i], tol[i]);
        msg += buf;
      }
      ++bad;
    }
  }
  if (bad && why) *why = std::to_string(bad) + " of " + std::to_string(n) + " mismatched: " + msg;
  return bad == 0;
}

}  // namespace dtypebench
