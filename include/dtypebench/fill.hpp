// Seeded random inputs and poisoned outputs, fast enough to fill DRAM-sized buffers per run.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "dtypebench/dtypes.hpp"

namespace dtypebench {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Uniform in [lo, hi), a pure function of (seed, i) so threads fill disjoint parts independently.
inline double uniform_at(uint64_t seed, size_t i, double lo = -1.0, double hi = 1.0) {
  const double u = static_cast<double>(splitmix64(seed * 0x100000001b3ull + i) >> 11) * 0x1p-53;
  return lo + (hi - lo) * u;
}

// Parallel fill (OpenMP), which also places the pages: the first touch decides.
template <class T>
void fill_uniform(T* a, size_t n, uint64_t seed, double lo = -1.0, double hi = 1.0) {
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; ++i) a[i] = store_as<T>(uniform_at(seed, i, lo, hi));
}

// NaN in every element, so an output the kernel forgot to write fails the check.
template <class T>
void poison(T* a, size_t n) {
  const T nan = store_as<T>(std::numeric_limits<double>::quiet_NaN());
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; ++i) a[i] = nan;
}

}  // namespace dtypebench
