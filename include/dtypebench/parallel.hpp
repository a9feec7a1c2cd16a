// The slice of [0, n) this OpenMP thread owns, for kernels that split work by hand (to keep each
// thread's range contiguous, or to start every range on a vector boundary).
#pragma once

#include <omp.h>

#include <cstddef>

namespace dtypebench {

struct Range {
  size_t lo, hi;
};

// Call inside a parallel region. align: ranges start on multiples of it (the last ends at n).
inline Range thread_range(size_t n, size_t align = 1) {
  const size_t nt = static_cast<size_t>(omp_get_num_threads());
  const size_t t = static_cast<size_t>(omp_get_thread_num());
  const size_t lo = n * t / nt / align * align;
  const size_t hi = t + 1 == nt ? n : n * (t + 1) / nt / align * align;
  return {lo, hi};
}

}  // namespace dtypebench
