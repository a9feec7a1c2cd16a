// Where a kernel's stores go: through the caches, or around them. A non-temporal ("streaming")
// store of a whole 64-byte line skips the read-for-ownership an ordinary store pays for each
// destination line, so above the last-level cache, where the destination cannot stay cached
// anyway, it moves 1.5x the bytes per second of a cached copy (copy_nt against copy). Below it,
// it throws the result out of a cache the next kernel would have read it from.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "dtypebench/context.hpp"

namespace dtypebench {
namespace cpu {

// Auto streams when the working set (source and destination together) exceeds the LLC.
enum class Stores { Auto, Cached, Streaming };

inline bool streams(Stores s, double working_set_bytes) {
  return s == Stores::Streaming ||
         (s == Stores::Auto && working_set_bytes > static_cast<double>(cpu_info().l3_bytes));
}

// Copies `lines` whole 64-byte lines from s to d (64-byte aligned) with non-temporal stores, the
// widest the build has; the caller ends its streaming with fence_streams().
inline void stream_lines(const void* src, void* dst, size_t lines) {
  const char* s = static_cast<const char*>(src);
  char* d = static_cast<char*>(dst);
#if defined(__AVX512F__)
  for (size_t l = 0; l < lines; ++l)
    _mm512_stream_si512(reinterpret_cast<__m512i*>(d + 64 * l),
                        _mm512_loadu_si512(reinterpret_cast<const void*>(s + 64 * l)));
#elif defined(__AVX__)
  for (size_t l = 0; l < lines; ++l)
    for (size_t h = 0; h < 64; h += 32)
      _mm256_stream_si256(reinterpret_cast<__m256i*>(d + 64 * l + h),
                          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + 64 * l + h)));
#elif defined(__SSE2__)
  for (size_t l = 0; l < lines; ++l)
    for (size_t h = 0; h < 64; h += 16)
      _mm_stream_si128(reinterpret_cast<__m128i*>(d + 64 * l + h),
                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 64 * l + h)));
#else
  std::memcpy(d, s, 64 * lines);
#endif
}

// Orders this thread's streaming stores before what follows (they are weakly ordered).
inline void fence_streams() {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

// The tag of a span kernel that writes whole 64-byte-aligned lines of d with streaming stores
// itself (span(s, d, n, StreamLines{}), n a multiple of 256 bytes of output, d line-aligned).
struct StreamLines {};

// Runs span(s, d, n) (a kernel writing d[0, n) from s[0, n)) with its stores streamed: the
// elements up to d's first line boundary directly, then four lines of output at a time into a
// buffer in L1 and out to d with non-temporal stores, then the ragged end directly; the source is
// prefetched into L2 3 KiB ahead. Every kernel, vectorized by hand or by the compiler, streams
// the same way. Measured on the 2-core VM at DRAM against copy_nt (f64->f32): 4 KiB blocks
// 0.66-0.76 (long bursts of streaming stores hold the fill buffers the loads need), 256 B 0.80,
// 256 B with the prefetch 0.89-0.91; 1 KiB or 4 KiB of prefetch distance did worse.
template <class S, class D, class Span>
void streamed_span(const S* s, D* d, size_t n, Span span) {
  constexpr size_t kBlock = 256 / sizeof(D), kAhead = 3072;
  const size_t head =
      std::min(n, (64 - reinterpret_cast<uintptr_t>(d) % 64) % 64 / sizeof(D));
  span(s, d, head);
  alignas(64) D buf[kBlock];
  size_t i = head;
  for (; i + kBlock <= n; i += kBlock) {
    const char* ahead = reinterpret_cast<const char*>(s + i) + kAhead;
    for (size_t b = 0; b < kBlock * sizeof(S); b += 64) __builtin_prefetch(ahead + b, 0, 1);
    if constexpr (std::is_invocable_v<Span&, const S*, D*, size_t, StreamLines>) {
      span(s + i, d + i, kBlock, StreamLines{});
    } else {
      span(s + i, buf, kBlock);
      stream_lines(buf, d + i, kBlock * sizeof(D) / 64);
    }
  }
  span(s + i, d + i, n - i);
  fence_streams();
}

}  // namespace cpu
}  // namespace dtypebench
