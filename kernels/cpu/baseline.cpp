#include "kernels/cpu/baseline.hpp"

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "dtypebench/dtypes.hpp"
#include "kernels/cpu/vector_width.hpp"

#if defined(__AVX__)
#include <immintrin.h>
#endif

namespace dtypebench {
namespace cpu {

template <class T>
void stream_scale(const T* a, T* b, T q, size_t n) {
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; ++i) b[i] = q * a[i];
}

template <class T>
void stream_add(const T* a, const T* b, T* c, size_t n) {
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; ++i) c[i] = a[i] + b[i];
}

template <class T>
void stream_triad(T* a, const T* b, const T* c, T q, size_t n) {
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; ++i) a[i] = b[i] + q * c[i];
}

// DB_WIDEST_VECTORS: without it the peak is half what dgemm reaches (kernels/cpu/vector_width.hpp)

namespace {
// one thread's chains: one 64-byte vector per chain; 12 independent chains cover the FMA
// latency x pipes (outside the OpenMP region, whose outlined body would not get the attribute)
template <class T>
DB_WIDEST_VECTORS double fma_chains(size_t steps, T m, T c, T x0) {
  constexpr int W = 64 / sizeof(T);
  alignas(64) T x[kFmaChains][W];
  for (int k = 0; k < kFmaChains; ++k)
    for (int l = 0; l < W; ++l) x[k][l] = x0 + static_cast<T>(l) * static_cast<T>(1e-3);
  for (size_t s = 0; s < steps; ++s) {
    for (int k = 0; k < kFmaChains; ++k) {
#pragma omp simd
      for (int l = 0; l < W; ++l) x[k][l] = x[k][l] * m + c;
    }
  }
  double total = 0;
  for (int k = 0; k < kFmaChains; ++k)
    for (int l = 0; l < W; ++l) total += static_cast<double>(x[k][l]);
  return total;
}
}  // namespace

template <class T>
double fma_peak(size_t steps, T m, T c, T x0, double* flops) {
  double total = 0;
  int threads = 1;
#pragma omp parallel reduction(+ : total)
  {
#pragma omp single
    threads = omp_get_num_threads();
    total += fma_chains(steps, m, c, x0);
  }
  *flops = 2.0 * kFmaChains * (64 / sizeof(T)) * static_cast<double>(steps) * threads;
  return total;
}

double fma_chain_reference(size_t steps, double m, double c, double x) {
  for (size_t s = 0; s < steps; ++s) x = x * m + c;
  return x;
}

bool have_avx512_bf16() {
#if defined(__AVX512BF16__)
  return true;
#else
  return false;
#endif
}

double bf16_dot_peak(size_t steps, float a, float b, double* flops) {
#if defined(__AVX512BF16__)
  double total = 0;
  int threads = 1;
#pragma omp parallel reduction(+ : total)
  {
#pragma omp single
    threads = omp_get_num_threads();
    // 32 bf16 pairs per instruction, 2 FLOPs each, into 16 fp32 lanes
    const __m512bh va = _mm512_cvtne2ps_pbh(_mm512_set1_ps(a), _mm512_set1_ps(a));
    const __m512bh vb = _mm512_cvtne2ps_pbh(_mm512_set1_ps(b), _mm512_set1_ps(b));
    __m512 acc[kDotChains];
    for (int k = 0; k < kDotChains; ++k) acc[k] = _mm512_setzero_ps();
    for (size_t s = 0; s < steps; ++s) {
      for (int k = 0; k < kDotChains; ++k) acc[k] = _mm512_dpbf16_ps(acc[k], va, vb);
    }
    // stored and summed by hand: gcc 12 warns falsely inside _mm512_reduce_add_ps
    alignas(64) float lanes[16];
    for (int k = 0; k < kDotChains; ++k) {
      _mm512_store_ps(lanes, acc[k]);
      for (float v : lanes) total += v;
    }
  }
  *flops = 2.0 * 32 * kDotChains * static_cast<double>(steps) * threads;
  return total;
#else
  (void)steps, (void)a, (void)b, (void)flops;
  throw std::runtime_error("this build has no AVX512-BF16 (CPU or compiler flags)");
#endif
}

#define DTYPEBENCH_BASELINE(T)                                      \
  template void stream_scale<T>(const T*, T*, T, size_t);           \
  template void stream_add<T>(const T*, const T*, T*, size_t);      \
  template void stream_triad<T>(T*, const T*, const T*, T, size_t); \
  template double fma_peak<T>(size_t, T, T, T, double*);
DTYPEBENCH_BASELINE(double)
DTYPEBENCH_BASELINE(float)
#undef DTYPEBENCH_BASELINE
}  // namespace cpu
}  // namespace dtypebench
