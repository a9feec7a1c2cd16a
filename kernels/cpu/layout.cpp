#include "kernels/cpu/layout.hpp"

#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "dtypebench/context.hpp"
#include "dtypebench/memory.hpp"
#include "dtypebench/parallel.hpp"

#if defined(__AVX2__)
#include <immintrin.h>
#endif
#if defined(__AVX512F__) && defined(__AVX512BW__)
#define DTYPEBENCH_SIMD_TRANSPOSE 1
#endif

namespace dtypebench {
namespace cpu {
namespace {

// 16-bit types are widened to f32 in chunks this long (on the stack, in L1) before the f32 loop
constexpr size_t kChunk = 512;

// Calls f(p, len) over contiguous a[0..n) as acc_t<T> values: directly for f32/f64, through
// an f32 chunk for 16-bit types.
template <class T, class F>
void for_chunks(const T* a, size_t n, F&& f) {
  if constexpr (sizeof(T) == 2) {
    alignas(64) float buf[kChunk];
    for (size_t k = 0; k < n; k += kChunk) {
      const size_t len = std::min(kChunk, n - k);
      widen(a + k, buf, len);
      f(static_cast<const float*>(buf), k, len);
    }
  } else {
    f(a, size_t(0), n);
  }
}

// 16-bit values widened to f32 in a register, kWide of them (AVX2: AVX-512 ran the 16-bit row sum
// at half the speed on Zen 4)
#if defined(__AVX2__) && defined(__F16C__)
#define DTYPEBENCH_WIDE 1
using Wide = __m256;
constexpr size_t kWide = 8;
inline Wide wide_load(const half* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline Wide wide_load(const bfloat16* p) {
  const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}
inline Wide wide_load(const float* p) { return _mm256_loadu_ps(p); }
inline void wide_store(float* p, Wide x) { _mm256_storeu_ps(p, x); }
inline Wide wide_add(Wide x, Wide y) { return _mm256_add_ps(x, y); }
inline Wide wide_zero() { return _mm256_setzero_ps(); }
#endif

// Sum of len elements starting at a, stride apart.
template <class T>
acc_t<T> sum_strided_run(const T* a, size_t len, size_t stride) {
  acc_t<T> s = 0;
#ifdef DTYPEBENCH_WIDE
  if constexpr (sizeof(T) == 2) {
    if (stride == 1) {
      // widened in registers into four accumulators (through an f32 chunk in L1, and with one
      // dependent add chain, the row sum of 16-bit types ran at half the f32 one's bytes/s)
      Wide acc[4] = {wide_zero(), wide_zero(), wide_zero(), wide_zero()};
      size_t k = 0;
      for (; k + 4 * kWide <= len; k += 4 * kWide)
        for (size_t u = 0; u < 4; ++u) acc[u] = wide_add(acc[u], wide_load(a + k + kWide * u));
      alignas(64) float lanes[kWide];
      wide_store(lanes, wide_add(wide_add(acc[0], acc[1]), wide_add(acc[2], acc[3])));
      for (float x : lanes) s += x;
      for (; k < len; ++k) s += load_acc(a[k]);
      return s;
    }
  }
#endif
  if (stride == 1) {
    for_chunks(a, len, [&](const acc_t<T>* p, size_t, size_t m) {
#pragma omp simd reduction(+ : s)
      for (size_t k = 0; k < m; ++k) s += p[k];
    });
  } else {
    for (size_t k = 0; k < len; ++k) s += load_acc(a[k * stride]);
  }
  return s;
}

// The stride sweep's walk: eight independent add chains, so that the loads, not the latency of one
// chain of adds (a few cycles each), set the pace and the sweep shows what lines cost. (With one
// chain, stride 2 ran at 3.2x stride 1's time per element at DRAM, where the lines predict 2x.)
// The naive reductions keep sum_strided_run's one chain, as the loop a person writes has.
template <class T>
acc_t<T> sum_strided_chains(const T* a, size_t len, size_t stride) {
  constexpr size_t kChains = 8;
  acc_t<T> s[kChains] = {};
  size_t k = 0;
  for (; k + kChains <= len; k += kChains)
#pragma GCC unroll 8
    for (size_t u = 0; u < kChains; ++u) s[u] += load_acc(a[(k + u) * stride]);
  for (; k < len; ++k) s[0] += load_acc(a[k * stride]);
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// out[0..len) += a[0..len)
template <class T>
void accumulate_run(const T* a, size_t len, acc_t<T>* out) {
  for_chunks(a, len, [&](const acc_t<T>* p, size_t off, size_t m) {
    acc_t<T>* o = out + off;
#pragma omp simd
    for (size_t k = 0; k < m; ++k) o[k] += p[k];
  });
}

#ifdef DTYPEBENCH_WIDE
// out[k] += the sum of a[r stride + k] over 16 runs r, for 16-bit types: their f32 out is twice
// their own bytes, so with four runs a pass the out traffic (through L2 once out outgrows L1)
// took DRAM misses' place and the column sum ran at 0.64x the row sum in fast-DRAM minutes; with
// sixteen, and each run prefetched 2 KiB ahead, at 0.82-0.95x.
template <class T>
void accumulate_16runs(const T* a, size_t stride, size_t len, float* out) {
  constexpr size_t kAhead = 2048 / sizeof(T), kLine = 64 / sizeof(T);
  size_t k = 0;
  for (; k + kWide <= len; k += kWide) {
    if (k % kLine == 0 && k + kAhead < len)
      for (size_t r = 0; r < 16; ++r) __builtin_prefetch(a + r * stride + k + kAhead, 0, 2);
    Wide sum[4];
    for (size_t r = 0; r < 4; ++r) sum[r] = wide_load(a + r * stride + k);
    for (size_t r = 4; r < 16; ++r)
      sum[r % 4] = wide_add(sum[r % 4], wide_load(a + r * stride + k));
    wide_store(out + k, wide_add(wide_load(out + k),
                                 wide_add(wide_add(sum[0], sum[1]), wide_add(sum[2], sum[3]))));
  }
  for (; k < len; ++k)
    for (size_t r = 0; r < 16; ++r) out[k] += load_acc(a[r * stride + k]);
}
#endif

// out[k] += a[k] + a[stride + k] + a[2 stride + k] + a[3 stride + k]: four lines per pass over
// out, so out is loaded and stored a quarter as often and four read streams stay in flight
template <class T>
void accumulate_4runs(const T* a, size_t stride, size_t len, acc_t<T>* out) {
  if constexpr (sizeof(T) == 2) {
    size_t k = 0;
#ifdef DTYPEBENCH_WIDE
    // kWide elements of each line widened in registers and summed into out in one pass
    for (; k + kWide <= len; k += kWide) {
      const Wide sum =
          wide_add(wide_add(wide_load(a + k), wide_load(a + stride + k)),
                   wide_add(wide_load(a + 2 * stride + k), wide_load(a + 3 * stride + k)));
      wide_store(out + k, wide_add(wide_load(out + k), sum));
    }
#endif
    for (; k < len; ++k)
      out[k] += (load_acc(a[k]) + load_acc(a[stride + k])) +
                (load_acc(a[2 * stride + k]) + load_acc(a[3 * stride + k]));
  } else {
    const T *a0 = a, *a1 = a + stride, *a2 = a + 2 * stride, *a3 = a + 3 * stride;
#pragma omp simd
    for (size_t k = 0; k < len; ++k) out[k] += (a0[k] + a1[k]) + (a2[k] + a3[k]);
  }
}

#ifdef DTYPEBENCH_SIMD_TRANSPOSE
// A K x K block (K = 64 / element size: one 64-byte vector per row) transposed in registers in
// log2(K) stages; stage d swaps bit d of the row index with bit d of the column index through
// two-source permutes, so every load and store is a full 64-byte row.
template <int S>
struct Vec;
template <>
struct Vec<8> {
  using V = __m512d;
  static V load(const void* p) { return _mm512_loadu_pd(p); }
  static void store(void* p, V v) { _mm512_storeu_pd(p, v); }
  static void stream(void* p, V v) { _mm512_stream_pd(static_cast<double*>(p), v); }
  static V perm(V a, __m512i idx, V b) { return _mm512_permutex2var_pd(a, idx, b); }
  static __m512i index(const int* x) {
    return _mm512_set_epi64(x[7], x[6], x[5], x[4], x[3], x[2], x[1], x[0]);
  }
};
template <>
struct Vec<4> {
  using V = __m512;
  static V load(const void* p) { return _mm512_loadu_ps(p); }
  static void store(void* p, V v) { _mm512_storeu_ps(p, v); }
  static void stream(void* p, V v) { _mm512_stream_ps(static_cast<float*>(p), v); }
  static V perm(V a, __m512i idx, V b) { return _mm512_permutex2var_ps(a, idx, b); }
  static __m512i index(const int* x) { return _mm512_loadu_si512(x); }
};
template <int S>
class BlockTranspose {
 public:
  static constexpr int K = 64 / S;
  static constexpr int KI = K, KJ = K;  // source rows x columns per block
  BlockTranspose() {
    int s = 0;
    for (int d = K / 2; d >= 1; d /= 2, ++s) {
      int lo[32], hi[32];
      for (int c = 0; c < K; ++c) {
        lo[c] = (c & d) ? K + c - d : c;
        hi[c] = (c & d) ? K + c : c + d;
      }
      lo_[s] = Vec<S>::index(lo);
      hi_[s] = Vec<S>::index(hi);
    }
  }
  // rows of src at src + r * src_stride elements; rows of dst likewise
  void operator()(const void* src, size_t src_stride, void* dst, size_t dst_stride,
                  bool nt = false) const {
    using W = Vec<S>;
    typename W::V r[K];
    const char* s8 = static_cast<const char*>(src);
    char* d8 = static_cast<char*>(dst);
#pragma GCC unroll 32
    for (int i = 0; i < K; ++i) r[i] = W::load(s8 + i * src_stride * S);
    int s = 0;
#pragma GCC unroll 8
    for (int d = K / 2; d >= 1; d /= 2, ++s)
#pragma GCC unroll 32
      for (int i = 0; i < K; ++i)
        if (!(i & d)) {
          const typename W::V x = W::perm(r[i], lo_[s], r[i + d]);
          r[i + d] = W::perm(r[i], hi_[s], r[i + d]);
          r[i] = x;
        }
    if (nt) {
#pragma GCC unroll 32
      for (int i = 0; i < K; ++i) W::stream(d8 + i * dst_stride * S, r[i]);
    } else {
#pragma GCC unroll 32
      for (int i = 0; i < K; ++i) W::store(d8 + i * dst_stride * S, r[i]);
    }
  }

 private:
  __m512i lo_[6], hi_[6];
};

// 16-bit elements as 32-bit words: 32 source rows x 16 columns, rows 2r and 2r + 1 interleaved into
// one word per column (row 2r in the low half), then a 16 x 16 word transpose: each result row is
// the 32 halves of one source column, a whole 64-byte line. (A 32 x 32 transpose of halves in 32
// zmm registers spilled and ran at ~0.67x of the copy; this at ~0.76x.)
template <>
class BlockTranspose<2> {
 public:
  static constexpr int KI = 32, KJ = 16;
  BlockTranspose() {
    int s = 0;
    for (int d = 8; d >= 1; d /= 2, ++s) {
      int lo[16], hi[16];
      for (int c = 0; c < 16; ++c) {
        lo[c] = (c & d) ? 16 + c - d : c;
        hi[c] = (c & d) ? 16 + c : c + d;
      }
      lo_[s] = _mm512_loadu_si512(lo);
      hi_[s] = _mm512_loadu_si512(hi);
    }
    int16_t x[32];
    for (int c = 0; c < 16; ++c) {
      x[2 * c] = static_cast<int16_t>(c);
      x[2 * c + 1] = static_cast<int16_t>(32 + c);  // the second source's halves
    }
    interleave_ = _mm512_loadu_si512(x);
  }
  void operator()(const void* src, size_t src_stride, void* dst, size_t dst_stride,
                  bool nt = false) const {
    const uint16_t* a = static_cast<const uint16_t*>(src);
    uint16_t* b = static_cast<uint16_t*>(dst);
    __m512i w[16];
#pragma GCC unroll 16
    for (int r = 0; r < 16; ++r) {
      // 16 halves of each row in the low half of a zmm (the permute never reads the high half)
      const __m512i l = _mm512_castsi256_si512(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 2 * r * src_stride)));
      const __m512i h = _mm512_castsi256_si512(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + (2 * r + 1) * src_stride)));
      w[r] = _mm512_permutex2var_epi16(l, interleave_, h);
    }
    int s = 0;
#pragma GCC unroll 4
    for (int d = 8; d >= 1; d /= 2, ++s)
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i)
        if (!(i & d)) {
          const __m512i x = _mm512_permutex2var_epi32(w[i], lo_[s], w[i + d]);
          w[i + d] = _mm512_permutex2var_epi32(w[i], hi_[s], w[i + d]);
          w[i] = x;
        }
    if (nt) {
#pragma GCC unroll 16
      for (int c = 0; c < 16; ++c)
        _mm512_stream_si512(reinterpret_cast<__m512i*>(b + c * dst_stride), w[c]);
    } else {
#pragma GCC unroll 16
      for (int c = 0; c < 16; ++c)
        _mm512_storeu_si512(reinterpret_cast<__m512i*>(b + c * dst_stride), w[c]);
    }
  }

 private:
  __m512i lo_[4], hi_[4], interleave_;
};
#endif

// b[j, i] = a[i, j] over a tile, element by element (tile edges, and CPUs without AVX-512)
template <class T>
void transpose_scalar(const T* a, T* b, size_t rows, size_t cols, size_t i0, size_t i1, size_t j0,
                      size_t j1) {
  for (size_t j = j0; j < j1; ++j)
    for (size_t i = i0; i < i1; ++i) b[j * rows + i] = a[i * cols + j];
}

}  // namespace

template <class T>
void reduce(const T* a, size_t rows, size_t cols, Order o, Axis axis, Method m, acc_t<T>* out) {
  const size_t nout = axis == Axis::Rows ? rows : cols;
  const size_t ninner = axis == Axis::Rows ? cols : rows;
  // does the reduced dimension run along memory? (row sums on C, column sums on F)
  const bool contiguous = (axis == Axis::Rows) == (o == Order::C);
  if (m == Method::Naive || contiguous) {
    // one output at a time; the inner walk has stride 1 or stride nout
    const size_t stride = contiguous ? 1 : nout;
    const size_t step = contiguous ? ninner : 1;
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < nout; ++r) out[r] = sum_strided_run(a + r * step, ninner, stride);
    return;
  }
  // aware: walk storage order; each stored line adds into the whole output vector. Each thread
  // reads a contiguous run of lines, as the row sum does, into its own vector (thread 0's is
  // out), and the vectors are added at the end: n x threads more work against n^2. (Threads
  // owning output ranges instead walked half-lines and jumped: 0.7x the row sum at DRAM.)
  // The other threads' vectors are tracked scratch, so the benchmark's peak_bytes counts them
  // (small: no huge pages, and each call allocates them).
  const size_t nt = static_cast<size_t>(omp_get_max_threads());
  Buffer<acc_t<T>> partial((nt - 1) * nout, /*huge_pages=*/false);
#pragma omp parallel
  {
    const size_t t = static_cast<size_t>(omp_get_thread_num());
    acc_t<T>* mine = t == 0 ? out : partial.data() + (t - 1) * nout;
    std::fill(mine, mine + nout, acc_t<T>(0));
    const auto [lo, hi] = thread_range(ninner);
    size_t line = lo;
#ifdef DTYPEBENCH_WIDE
    if constexpr (sizeof(T) == 2)
      for (; line + 16 <= hi; line += 16) accumulate_16runs(a + line * nout, nout, nout, mine);
#endif
    for (; line + 4 <= hi; line += 4) accumulate_4runs(a + line * nout, nout, nout, mine);
    for (; line < hi; ++line) accumulate_run(a + line * nout, nout, mine);
#pragma omp barrier
    const auto [c0, c1] = thread_range(nout);
    for (size_t u = 1; u < static_cast<size_t>(omp_get_num_threads()); ++u)
      accumulate_run(partial.data() + (u - 1) * nout + c0, c1 - c0, out + c0);
  }
}

template <class T>
acc_t<T> strided_sum(const T* a, size_t n, size_t stride) {
  acc_t<T> total = 0;
#pragma omp parallel reduction(+ : total)
  {
    // each thread owns a contiguous chunk and walks it offset by offset with the given stride
    const auto [lo, hi] = thread_range(n);
    const size_t len = hi - lo;
    for (size_t off = 0; off < std::min(stride, len); ++off) {
      const size_t m = (len - off + stride - 1) / stride;
      total +=
          stride == 1 ? sum_strided_run(a + lo, m, 1) : sum_strided_chains(a + lo + off, m, stride);
    }
  }
  return total;
}

template <class T>
void to_fortran_naive(const T* a, T* b, size_t rows, size_t cols) {
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < cols; ++j) b[j * rows + i] = a[i * cols + j];
}

template <class T>
void to_fortran_blocked(const T* a, T* b, size_t rows, size_t cols, Stores stores) {
  // outer tiles of 128 x 128 stay in L2; inside, register transposes (K x K, K = 64 / sizeof(T);
  // 32 x 16 for 16-bit types) store full 64-byte rows
  constexpr size_t B = 128;
#ifdef DTYPEBENCH_SIMD_TRANSPOSE
  static const BlockTranspose<sizeof(T)> block;
  constexpr size_t KI = BlockTranspose<sizeof(T)>::KI, KJ = BlockTranspose<sizeof(T)>::KJ;
  // stores that bypass the caches when the destination cannot stay in them anyway: a 64-byte
  // block row is a whole line, so no read-for-ownership is needed (0.6x -> 0.9x copy at DRAM)
  // (every destination row of a block must start on a line: rows a multiple of KI)
  const bool stream =
      rows % KI == 0 &&
streams(stores, 2.0 * static_cast<double>(rows * cols * sizeof(T)));
#else
  // without AVX-512 the tiles are transposed element by element, with ordinary stores
  constexpr size_t KI = 8, KJ = 8;
  (void)stores;
#endif
  constexpr size_t kLine = 64 / sizeof(T);  // elements per cache line
  const size_t tiles_i = (rows + B - 1) / B, tiles = tiles_i * ((cols + B - 1) / B);
  const bool straddle = (cols * sizeof(T)) % 64 != 0 || reinterpret_cast<uintptr_t>(a) % 64 != 0;
#pragma omp parallel
  {
    // each thread walks a contiguous run of tiles, down the rows first
    const auto [t0, t1] = thread_range(tiles);
    for (size_t t = t0; t < t1; ++t) {
      const size_t ii = t % tiles_i * B, jj = t / tiles_i * B;
      const size_t ie = std::min(ii + B, rows), je = std::min(jj + B, cols);
      // the next tile's source lines go to L2 a slice per block of this tile, in the order they
      // will be used (a line of columns down all rows, then the next): the walk jumps 128 rows
      // at a time, which the hardware prefetchers do not follow, and a block or two ahead was
      // too late for DRAM
      const size_t tn = t + 1 < t1 ? t + 1 : t;
      const size_t in = tn % tiles_i * B, jn = tn / tiles_i * B;
      const size_t rn = std::min(in + B, rows) - in, cn = std::min(jn + B, cols) - jn;
      // lines per row: one more when rows do not start on a line
      const size_t per_row = (cn + kLine - 1) / kLine + straddle;
      const size_t steps = ((ie - ii + KI - 1) / KI) * ((je - jj + KJ - 1) / KJ);
      const size_t per_step = tn == t ? 0 : (rn * per_row + steps - 1) / steps;
      size_t pr = 0, pc = 0;  // the next line to prefetch: row pr, line pc of the next tile
      for (size_t j0 = jj; j0 < je; j0 += KJ)
        for (size_t i0 = ii; i0 < ie; i0 += KI) {
          for (size_t q = 0; q < per_step && pc < per_row; ++q) {
            __builtin_prefetch(a + (in + pr) * cols + std::min(jn + pc * kLine, jn + cn - 1), 0, 2);
            if (++pr == rn) pr = 0, ++pc;
          }
          const size_t i1 = std::min(i0 + KI, ie), j1 = std::min(j0 + KJ, je);
#ifdef DTYPEBENCH_SIMD_TRANSPOSE
          if (i1 - i0 == KI && j1 - j0 == KJ) {
            T* dst = b + j0 * rows + i0;
            block(a + i0 * cols + j0, cols, dst, rows,
                  stream && reinterpret_cast<uintptr_t>(dst) % 64 == 0);
            continue;
          }
#endif
          transpose_scalar(a, b, rows, cols, i0, i1, j0, j1);
        }
    }
  }
#ifdef DTYPEBENCH_SIMD_TRANSPOSE
  if (stream) _mm_sfence();
#endif
}

template <class T>
void matvec(const T* a, const T* x, size_t rows, size_t cols, Order o, MatvecForm f, acc_t<T>* y) {
  using A = acc_t<T>;
  if (f == MatvecForm::Dot) {
    // y[i] = a[i, :] . x : contiguous rows on C, stride rows on F
    const size_t stride = o == Order::C ? 1 : rows;
    const size_t step = o == Order::C ? cols : 1;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < rows; ++i) {
      const T* row = a + i * step;
      A s = 0;
      if (stride == 1) {
        for_chunks(row, cols, [&](const A* p, size_t off, size_t m) {
          const T* xo = x + off;
#pragma omp simd reduction(+ : s)
          for (size_t j = 0; j < m; ++j) s += p[j] * load_acc(xo[j]);
        });
      } else {
        for (size_t j = 0; j < cols; ++j) s += load_acc(row[j * stride]) * load_acc(x[j]);
      }
      y[i] = s;
    }
    return;
  }
  // axpy: y += x[j] * a[:, j]; contiguous columns on F, stride cols on C. threads own row ranges.
#pragma omp parallel
  {
    const auto [lo, hi] = thread_range(rows);
    for (size_t i = lo; i < hi; ++i) y[i] = 0;
    for (size_t j = 0; j < cols; ++j) {
      const A xj = load_acc(x[j]);
      if (o == Order::F) {
        for_chunks(a + j * rows + lo, hi - lo, [&](const A* p, size_t off, size_t m) {
          A* yo = y + lo + off;
#pragma omp simd
          for (size_t i = 0; i < m; ++i) yo[i] += xj * p[i];
        });
      } else {
        for (size_t i = lo; i < hi; ++i) y[i] += xj * load_acc(a[i * cols + j]);
      }
    }
  }
}

#define DTYPEBENCH_LAYOUT(T)                                                         \
  template void reduce<T>(const T*, size_t, size_t, Order, Axis, Method, acc_t<T>*); \
  template acc_t<T> strided_sum<T>(const T*, size_t, size_t);                        \
  template void to_fortran_naive<T>(const T*, T*, size_t, size_t);                   \
  template void to_fortran_blocked<T>(const T*, T*, size_t, size_t, Stores);         \
  template void matvec<T>(const T*, const T*, size_t, size_t, Order, MatvecForm, acc_t<T>*);
DTYPEBENCH_LAYOUT(double)
DTYPEBENCH_LAYOUT(float)
DTYPEBENCH_LAYOUT(half)
DTYPEBENCH_LAYOUT(bfloat16)
#undef DTYPEBENCH_LAYOUT

}  // namespace cpu
}  // namespace dtypebench
