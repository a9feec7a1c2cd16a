#include "kernels/cpu/stream.hpp"

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "dtypebench/parallel.hpp"
#include "kernels/cpu/stores.hpp"

namespace dtypebench {
namespace cpu {

template <class T>
T stream_read(const T* a, size_t n) {
  T s = 0;
#pragma omp parallel for simd schedule(static) reduction(+ : s)
  for (size_t i = 0; i < n; ++i) s += a[i];
  return s;
}

template <class T>
void stream_copy(const T* a, T* b, size_t n) {
#if DTYPEBENCH_SLOWDOWN_PERCENT > 0
  // the CI regression job's known slowdown (a build option, never in a normal build): each
  // thread copies its range, then the first P% of it again, in the same parallel region, so the
  // copy moves P% more bytes than it declares at every level (a second parallel loop cost a
  // fork, a join and other threads' lines: +130% at L2 for P = 10)
#pragma omp parallel
  {
    const auto [lo, hi] = thread_range(n);
#pragma omp simd
    for (size_t i = lo; i < hi; ++i) b[i] = a[i];
    const size_t again = lo + (hi - lo) * DTYPEBENCH_SLOWDOWN_PERCENT / 100;
#pragma omp simd
    for (size_t i = lo; i < again; ++i) b[i] = a[i];
  }
#else
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; ++i) b[i] = a[i];
#endif
}

template void stream_copy<uint16_t>(const uint16_t*, uint16_t*, size_t);

void copy_bytes_nt(const void* a, void* b, size_t bytes) {
  const char* src = static_cast<const char*>(a);
  char* dst = static_cast<char*>(b);
  // the lines wholly inside b, split among the threads; the ragged ends are copied plainly
  const size_t head = std::min(bytes, (64 - reinterpret_cast<uintptr_t>(dst) % 64) % 64);
  const size_t lines = (bytes - head) / 64;
  std::memcpy(dst, src, head);
  std::memcpy(dst + head + lines * 64, src + head + lines * 64, bytes - head - lines * 64);
#pragma omp parallel
  {
    const auto [lo, hi] = thread_range(lines);
    stream_lines(src + head + 64 * lo, dst + head + 64 * lo, hi - lo);
    fence_streams();
  }
}

template float stream_read<float>(const float*, size_t);
template double stream_read<double>(const double*, size_t);
template void stream_copy<float>(const float*, float*, size_t);
template void stream_copy<double>(const double*, double*, size_t);
// 16-bit copies (the ceiling the layout family compares its conversions with) move the bits as
// uint16_t: gcc does not vectorize the copy of the wrapper structs
template <>
void stream_copy<half>(const half* a, half* b, size_t n) {
  stream_copy(reinterpret_cast<const uint16_t*>(a), reinterpret_cast<uint16_t*>(b), n);
}
template <>
void stream_copy<bfloat16>(const bfloat16* a, bfloat16* b, size_t n) {
  stream_copy(reinterpret_cast<const uint16_t*>(a), reinterpret_cast<uint16_t*>(b), n);
}

}  // namespace cpu
}  // namespace dtypebench
