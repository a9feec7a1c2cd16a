// What a family's declaration file includes: the registry, the one check, the seeded fills, and
// the few steps every case's setup repeats. A family includes its own kernels beside it (and the
// shared streaming kernels, kernels/cpu/stream.hpp, where it measures against a copy or a read);
// the kernels/cuda headers are plain declarations, so they are included in a build without CUDA
// too, and only the code calling them is CUDA-only.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bench/registry.hpp"
#include "dtypebench/check.hpp"
#include "dtypebench/fill.hpp"

namespace dtypebench::bench {

// "" or why got is not within tol of want: close_enough for one value, n values, or a reference
// computed element by element
inline std::string check_value(double got, double want, double tol) {
  std::string why;
  close_enough(&got, &want, &tol, 1, &why);
  return why;
}
template <class G>
std::string check_values(const G* got, const double* want, const double* tol, size_t n) {
  std::string why;
  close_enough(got, want, tol, n, &why);
  return why;
}
template <class G, class Ref>
std::string check_by(const G* got, size_t n, Ref&& ref) {
  std::string why;
  close_enough_by(got, n, std::forward<Ref>(ref), &why);
  return why;
}

// n elements from fill_uniform (seeded, and placed by the threads that will read them)
template <class T>
Buffer<T> filled(size_t n, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Buffer<T> b(n);
  fill_uniform(b.data(), n, seed, lo, hi);
  return b;
}
// n elements of NaN: an output the kernel forgot to write fails the check
template <class T>
Buffer<T> poisoned(size_t n) {
  Buffer<T> b(n);
  poison(b.data(), n);
  return b;
}

#ifdef DTYPEBENCH_HAVE_CUDA
// a device copy of a host buffer
template <class T>
gpu::DeviceBuffer<T> to_device(const Buffer<T>& h) {
  gpu::DeviceBuffer<T> d(h.size());
  gpu::copy_to_device(d.data(), h.data(), d.bytes());
  return d;
}
// a device output poisoned: 0xff bytes are NaN for every float type
template <class T>
gpu::DeviceBuffer<T> poisoned_device(size_t n) {
  gpu::DeviceBuffer<T> d(n);
  gpu::memset_device(d.data(), 0xff, d.bytes());
  return d;
}
#endif

}  // namespace dtypebench::bench
