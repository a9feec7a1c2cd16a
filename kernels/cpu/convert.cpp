#include "kernels/cpu/convert.hpp"

#include <omp.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "dtypebench/parallel.hpp"
#include "kernels/cpu/vector_width.hpp"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

// the portable paths are the scalar rules, kept scalar so the JSON shows what SIMD buys
#define DB_SCALAR __attribute__((optimize("no-tree-vectorize")))

namespace dtypebench {
namespace cpu {
namespace {

// Every cast is a span kernel, span(s, d, n) writing d[0, n) on one thread; cast() splits it
// among the threads and streams the stores past the caches when asked (kernels/cpu/stores.hpp).
template <class S, class D, class Span>
void cast(const S* s, D* d, size_t n, Stores st, Span span) {
  const bool nt = streams(st, static_cast<double>(n) * (sizeof(S) + sizeof(D)));
  if (omp_get_max_threads() == 1) {  // no parallel region to enter and leave (a microsecond)
    nt ? streamed_span(s, d, n, span) : span(s, d, n);
    return;
  }
#pragma omp parallel
  {
    // ranges start on 64-element boundaries: on a whole line of d when d is line-aligned, and on
    // a 16-element vector boundary for the hand-vectorized kernels
    const auto [lo, hi] = thread_range(n, 64);
    if (nt)
      streamed_span(s + lo, d + lo, hi - lo, span);
    else
      span(s + lo, d + lo, hi - lo);
  }
}

#ifdef __AVX512F__
// One 64-byte line of d: streamed (d line-aligned) or an ordinary store.
template <bool NT>
inline void store_line(void* d, __m512i v) {
  if constexpr (NT)
    _mm512_stream_si512(static_cast<__m512i*>(d), v);
  else
    _mm512_storeu_si512(d, v);
}

// A cast made of line(s), the 64 bytes of d that s[0, 64 / sizeof(D)) becomes, and a span kernel
// for the elements left over. Called with StreamLines (streamed_span does, on line-aligned
// blocks) it streams each line from the register it was computed in instead of staging it in L1.
// Measured at DRAM against copy_nt, 2 threads, five interleaved rounds on the 2-core VM:
// f32->bf16 0.92-0.95 from registers against 0.92-0.94 staged (higher in 3 rounds, equal in 2);
// f64->f32, f32->f16 and f64->i32 came out the same either way and u8->f32 better staged, so
// only f32->bf16 uses it.
template <class D, class Line, class Rest>
struct ByLines {
  Line line;
  Rest rest;

  template <bool NT, class S>
  void run(const S* s, D* d, size_t n) const {
    constexpr size_t kLine = 64 / sizeof(D);
    size_t i = 0;
    for (; i + kLine <= n; i += kLine) store_line<NT>(d + i, line(s + i));
    rest(s + i, d + i, n - i);
  }
  template <class S>
  void operator()(const S* s, D* d, size_t n) const {
    run<false>(s, d, n);
  }
  template <class S>
  void operator()(const S* s, D* d, size_t n, StreamLines) const {
    run<true>(s, d, n);
  }
};
template <class D, class Line, class Rest>
ByLines<D, Line, Rest> by_lines(Line line, Rest rest) {
  return {line, rest};
}
#endif

DB_SCALAR void f64_f32_portable(const double* s, float* d, size_t n) {
  for (size_t i = 0; i < n; ++i) d[i] = static_cast<float>(s[i]);
}
DB_WIDEST_VECTORS void f64_f32_simd(const double* s, float* d, size_t n) {
#pragma omp simd
  for (size_t i = 0; i < n; ++i) d[i] = static_cast<float>(s[i]);
}

DB_SCALAR void f32_f16_portable(const float* s, half* d, size_t n) {
  for (size_t i = 0; i < n; ++i) d[i].bits = f32_to_f16_bits_portable(s[i]);
}
void f32_f16_simd(const float* s, half* d, size_t n) {
  size_t i = 0;
#ifdef __AVX512F__
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i),
                        _mm512_cvtps_ph(_mm512_loadu_ps(s + i), _MM_FROUND_TO_NEAREST_INT));
#endif
#ifdef DTYPEBENCH_F16C
  // vcvtps2ph with round-to-nearest-even, 8 floats per instruction
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(s + i), _MM_FROUND_TO_NEAREST_INT));
#endif
  for (; i < n; ++i) d[i].bits = f32_to_f16_bits(s[i]);
}

DB_SCALAR void f32_bf16_portable(const float* s, bfloat16* d, size_t n) {
  for (size_t i = 0; i < n; ++i) d[i].bits = f32_to_bf16_bits(s[i]);
}
// Integer round-to-nearest-even on the bit pattern, 8 lanes at a time. (AVX512-BF16's
// vcvtneps2bf16 flushes subnormal inputs to zero, so it is not the exact rule.)
#ifdef __AVX512F__
// the same steps 16 lanes wide, NaNs by mask; the bf16 is in each lane's high half
inline __m512i f32_bf16_round16(const float* p) {
  const __m512i x = _mm512_loadu_si512(reinterpret_cast<const void*>(p));
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_add_epi32(x, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), lsb));
  const __mmask16 is_nan = _mm512_cmpgt_epi32_mask(
      _mm512_and_si512(x, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
  return _mm512_mask_blend_epi32(is_nan, rounded,
                                 _mm512_or_si512(x, _mm512_set1_epi32(0x00400000)));
}
#endif
#ifdef __AVX512BW__
// 32 at a time: one vpermt2w gathers the high halves of two vectors into a whole line
inline __m512i f32_bf16_line(const float* s) {
#ifdef __AVX512BF16__
  // vcvtne2ps2bf16 rounds to nearest even and quiets NaNs as the rule does, but reads subnormal
  // inputs as zero: vectors without one take it, the rest the integer steps
  const __m512i exp = _mm512_set1_epi32(0x7f800000), man = _mm512_set1_epi32(0x007fffff);
  const __m512i a = _mm512_loadu_si512(reinterpret_cast<const void*>(s));
  const __m512i b = _mm512_loadu_si512(reinterpret_cast<const void*>(s + 16));
  const __mmask16 sub_a = _mm512_mask_test_epi32_mask(_mm512_testn_epi32_mask(a, exp), a, man);
  const __mmask16 sub_b = _mm512_mask_test_epi32_mask(_mm512_testn_epi32_mask(b, exp), b, man);
  if (!(sub_a | sub_b))
    return _mm512_castps_si512(reinterpret_cast<__m512>(
        _mm512_cvtne2ps_pbh(_mm512_castsi512_ps(b), _mm512_castsi512_ps(a))));
#endif
  alignas(64) static constexpr uint16_t kHigh[32] = {
      1,  3,  5,  7,  9,  11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31,
      33, 35, 37, 39, 41, 43, 45, 47, 49, 51, 53, 55, 57, 59, 61, 63};
  return _mm512_permutex2var_epi16(f32_bf16_round16(s), _mm512_load_si512(kHigh),
                                   f32_bf16_round16(s + 16));
}
#endif
void f32_bf16_simd(const float* s, bfloat16* d, size_t n) {
  size_t i = 0;
#ifdef __AVX512F__
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i),
                        _mm512_cvtepi32_epi16(_mm512_srli_epi32(f32_bf16_round16(s + i), 16)));
#endif
#ifdef __AVX2__
  const __m256i bias = _mm256_set1_epi32(0x7fff), one = _mm256_set1_epi32(1);
  const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
  const __m256i quiet = _mm256_set1_epi32(0x00400000);
  for (; i + 8 <= n; i += 8) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i));
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(x, 16), one);
    const __m256i rounded = _mm256_add_epi32(x, _mm256_add_epi32(bias, lsb));
    const __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(x, abs_mask), inf);
    const __m256i r = _mm256_blendv_epi8(rounded, _mm256_or_si256(x, quiet), is_nan);
    // keep the high halves: pack 32-bit lanes to 16 bits (packus works per 128-bit lane)
    const __m256i hi16 = _mm256_srli_epi32(r, 16);
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(hi16, hi16), 0x08);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i), _mm256_castsi256_si128(packed));
  }
#endif
  for (; i < n; ++i) d[i].bits = f32_to_bf16_bits(s[i]);
}

DB_SCALAR void f16_f32_portable(const half* s, float* d, size_t n) {
  for (size_t i = 0; i < n; ++i) d[i] = f16_bits_to_f32_portable(s[i].bits);
}
DB_SCALAR void bf16_f32_portable(const bfloat16* s, float* d, size_t n) {
  for (size_t i = 0; i < n; ++i) d[i] = bf16_bits_to_f32(s[i].bits);
}
template <class T>
void widen_simd(const T* s, float* d, size_t n) {
  widen(s, d, n);
}

DB_SCALAR void f64_i32_portable(const double* s, int32_t* d, size_t n) {
  for (size_t i = 0; i < n; ++i) d[i] = f64_to_i32(s[i]);
}
void f64_i32_simd(const double* s, int32_t* d, size_t n) {
  size_t i = 0;
#ifdef __AVX512F__
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i),
                        _mm512_cvttpd_epi32(_mm512_loadu_pd(s + i)));
#endif
#ifdef __AVX__
  // vcvttpd2dq truncates and gives INT32_MIN for NaN and out-of-range values: the rule itself
  for (; i + 4 <= n; i += 4)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i),
                     _mm256_cvttpd_epi32(_mm256_loadu_pd(s + i)));
#endif
  for (; i < n; ++i) d[i] = f64_to_i32(s[i]);
}

DB_SCALAR void u8_f32_portable(const uint8_t* s, float* d, size_t n) {
  for (size_t i = 0; i < n; ++i) d[i] = static_cast<float>(s[i]) / 255.0f;
}
// x / 255 without a division: q = x r with r = 1/255 rounded, then one Markstein correction
// q + r (x - 255 q), both steps fused multiply-adds, which gives the correctly rounded quotient
// for every one of the 256 inputs (the test checks all of them). vdivps ran at 29 GB/s in L2.
DB_WIDEST_VECTORS void u8_f32_simd(const uint8_t* s, float* d, size_t n) {
#ifdef __FMA__
  constexpr float r = 1.0f / 255.0f;
  size_t i = 0;
#ifdef __AVX512F__
  // vpmovzxbd straight to 16 lanes (gcc widens through 16 bits with extracts). Four bytes out per
  // byte in: in L2 the stores' read-for-ownership is the limit, so each line of d is prefetched
  // for writing 16 lines ahead (60-65 -> 65-72 GB/s at L2 on one thread), and only within the
  // span: the 256-byte blocks streamed_span stages in L1 get no prefetch past their end.
  const __m512 vr = _mm512_set1_ps(r), v255 = _mm512_set1_ps(255.0f);
  constexpr size_t kAhead = 16 * 64 / sizeof(float);
  const auto line = [&](size_t i) {
    const __m512 x = _mm512_cvtepi32_ps(
        _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i))));
    const __m512 q = _mm512_mul_ps(x, vr);
    _mm512_storeu_ps(d + i, _mm512_fmadd_ps(_mm512_fnmadd_ps(q, v255, x), vr, q));
  };
  for (; i + kAhead + 16 <= n; i += 16) {
    __builtin_prefetch(d + i + kAhead, 1, 3);
    line(i);
  }
  for (; i + 16 <= n; i += 16) line(i);
#endif
  s += i, d += i, n -= i;
#pragma omp simd
  for (size_t i = 0; i < n; ++i) {
    const float x = static_cast<float>(s[i]), q = x * r;
    d[i] = __builtin_fmaf(__builtin_fmaf(-q, 255.0f, x), r, q);
  }
#else
#pragma omp simd
  for (size_t i = 0; i < n; ++i) d[i] = static_cast<float>(s[i]) / 255.0f;
#endif
}

template <class Int>
Int bswap(Int x) {
  if constexpr (sizeof(Int) == 2) return __builtin_bswap16(x);
  if constexpr (sizeof(Int) == 4) return __builtin_bswap32(x);
  if constexpr (sizeof(Int) == 8) return __builtin_bswap64(x);
}
template <class Int>
DB_SCALAR void bswap_portable(const Int* s, Int* d, size_t n) {
  for (size_t i = 0; i < n; ++i) d[i] = bswap(s[i]);
}
// gcc turns the bswap loop into vpshufb byte shuffles, a whole vector at a time
template <class Int>
void bswap_simd(const Int* s, Int* d, size_t n) {
#pragma omp simd
  for (size_t i = 0; i < n; ++i) d[i] = bswap(s[i]);
}
template <class Int>
void bswap(const void* s, void* d, size_t n, Path p, Stores st) {
  const auto* si = static_cast<const Int*>(s);
  auto* di = static_cast<Int*>(d);
  p == Path::Simd ? cast(si, di, n, st, bswap_simd<Int>) : cast(si, di, n, st, bswap_portable<Int>);
}

}  // namespace

int32_t f64_to_i32(double x) {
  // NaN fails both comparisons; the range is where truncation fits in int32
  if (!(x > -2147483649.0 && x < 2147483648.0)) return INT32_MIN;
  return static_cast<int32_t>(x);
}

#define DB_CONVERT(S, D, simd, portable)                                  \
  void convert(const S* s, D* d, size_t n, Path p, Stores st) {          \
    p == Path::Simd ? cast(s, d, n, st, simd) : cast(s, d, n, st, portable); \
  }
DB_CONVERT(double, float, f64_f32_simd, f64_f32_portable)
DB_CONVERT(float, half, f32_f16_simd, f32_f16_portable)
#ifdef __AVX512BW__
// (lambdas, not function pointers: each is its own type, so the loop inlines them)
DB_CONVERT(float, bfloat16,
           by_lines<bfloat16>([](const float* s) { return f32_bf16_line(s); },
                              [](const float* s, bfloat16* d, size_t n) { f32_bf16_simd(s, d, n); }),
           f32_bf16_portable)
#else
DB_CONVERT(float, bfloat16, f32_bf16_simd, f32_bf16_portable)
#endif
DB_CONVERT(half, float, widen_simd<half>, f16_f32_portable)
DB_CONVERT(bfloat16, float, widen_simd<bfloat16>, bf16_f32_portable)
DB_CONVERT(double, int32_t, f64_i32_simd, f64_i32_portable)
DB_CONVERT(uint8_t, float, u8_f32_simd, u8_f32_portable)
#undef DB_CONVERT

float* narrow_in_place(double* buf, size_t n) {
  float* out = reinterpret_cast<float*>(buf);
  // blocks of 8: all eight doubles are loaded before any float is stored, and the stores of
  // block k land on bytes [32k, 32k+32) which hold doubles of block k/2 <= k, already read
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    float t[8];
    for (int k = 0; k < 8; ++k) t[k] = static_cast<float>(buf[i + k]);
    std::memcpy(out + i, t, sizeof t);
  }
  for (; i < n; ++i) {
    const float f = static_cast<float>(buf[i]);
    std::memcpy(out + i, &f, sizeof f);
  }
  return out;
}

F16Range f16_range_check(const float* s, size_t n) {
  size_t over = 0, under = 0, sub = 0;
#pragma omp parallel for schedule(static) reduction(+ : over, under, sub)
  for (size_t b = 0; b < n; b += 4096) {
    // 32-bit lane counters over a block vectorize; size_t ones across the loop do not
    uint32_t o = 0, u = 0, w = 0;
    const size_t e = std::min(n, b + 4096);
#pragma omp simd reduction(+ : o, u, w)
    for (size_t i = b; i < e; ++i) {
      const uint32_t x = f32_bits(s[i]) & 0x7fffffffu;
      o += x >= 0x477ff000u && x < 0x7f800000u;  // finite and >= 65520: rounds to inf
      u += x != 0 && x <= 0x33000000u;           // nonzero and <= 2^-25: rounds to zero
      w += x > 0x33000000u && x < 0x387fe000u;   // between: lands among the subnormals
    }
    over += o, under += u, sub += w;
  }
  return {over, under, sub};
}

F16Range convert_counting(const float* s, half* d, size_t n) {
  size_t over = 0, under = 0, sub = 0;
#pragma omp parallel reduction(+ : over, under, sub)
  {
    const auto [lo, hi] = thread_range(n, 16);  // ranges start on 16-element boundaries
    size_t i = lo;
    constexpr size_t B = 256;  // convert a block, then count on the results while in L1
    for (; i < hi; i += B) {
      const size_t e = std::min(hi, i + B);
      size_t k = i;
#ifdef DTYPEBENCH_F16C
      for (; k + 8 <= e; k += 8)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + k),
                         _mm256_cvtps_ph(_mm256_loadu_ps(s + k), _MM_FROUND_TO_NEAREST_INT));
#endif
      for (; k < e; ++k) d[k].bits = f32_to_f16_bits(s[k]);
#pragma omp simd reduction(+ : over, under, sub)
      for (size_t j = i; j < e; ++j) {
        const uint16_t h = d[j].bits & 0x7fff;
        const uint32_t x = f32_bits(s[j]) & 0x7fffffffu;
        over += h == 0x7c00 && x < 0x7f800000u;
        under += h == 0 && x != 0;
        sub += h != 0 && h < 0x0400;
      }
    }
  }
  return {over, under, sub};
}

namespace {
bool numpy_float(Dtype d) { return d == Dtype::f16 || d == Dtype::f32 || d == Dtype::f64; }
int rank_of(Dtype d) { return d == Dtype::f16 ? 0 : d == Dtype::f32 ? 1 : 2; }
Dtype float_of_rank(int r) { return r == 0 ? Dtype::f16 : r == 1 ? Dtype::f32 : Dtype::f64; }
// the smallest float that holds every value of the integer type exactly (NumPy's rule)
int float_rank_for_int(Dtype d) {
  switch (d) {
    case Dtype::i8:
    case Dtype::u8:
      return 0;  // f16 has 11 significant bits
    case Dtype::i16:
    case Dtype::u16:
      return 1;  // f32 has 24
    default:
      return 2;  // 32- and 64-bit integers go to f64
  }
}
int int_bits(Dtype d) {
  switch (d) {
    case Dtype::i8:
    case Dtype::u8:
      return 8;
    case Dtype::i16:
    case Dtype::u16:
      return 16;
    case Dtype::i32:
    case Dtype::u32:
      return 32;
    default:
      return 64;
  }
}
bool is_signed(Dtype d) {
  return d == Dtype::i8 || d == Dtype::i16 || d == Dtype::i32 || d == Dtype::i64;
}
Dtype signed_of_bits(int bits) {
  return bits == 8 ? Dtype::i8 : bits == 16 ? Dtype::i16 : bits == 32 ? Dtype::i32 : Dtype::i64;
}
Dtype unsigned_of_bits(int bits) {
  return bits == 8 ? Dtype::u8 : bits == 16 ? Dtype::u16 : bits == 32 ? Dtype::u32 : Dtype::u64;
}
}  // namespace

Dtype promote(Dtype a, Dtype b) {
  for (Dtype d : {a, b})
    if (is_float(d) && !numpy_float(d))
      throw std::invalid_argument(std::string(dtype_name(d)) + " is not a NumPy dtype");
  if (numpy_float(a) && numpy_float(b)) return float_of_rank(std::max(rank_of(a), rank_of(b)));
  if (numpy_float(a) || numpy_float(b)) {
    const Dtype f = numpy_float(a) ? a : b, i = numpy_float(a) ? b : a;
    return float_of_rank(std::max(rank_of(f), float_rank_for_int(i)));
  }
  // two integers: same signedness keeps the wider; mixed needs a signed type wider than the
  // unsigned one (u64 with any signed type has none: NumPy goes to f64)
  const int ba = int_bits(a), bb = int_bits(b);
  if (is_signed(a) == is_signed(b))
    return is_signed(a) ? signed_of_bits(std::max(ba, bb)) : unsigned_of_bits(std::max(ba, bb));
  const int ub = is_signed(a) ? bb : ba, sb = is_signed(a) ? ba : bb;
  if (sb > ub) return signed_of_bits(sb);
  if (ub == 64) return Dtype::f64;
  return signed_of_bits(2 * ub);
}

// NumPy evaluates a * x + y as (a * x) -> f64 temporary, then + y -> f64 result: two f64 arrays
void axpy_promoted_f64(const int32_t* a, const float* x, const float* y, double* out, size_t n) {
  double* tmp = out;  // NumPy's temporary elision reuses the first temporary for the sum
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; ++i) tmp[i] = static_cast<double>(a[i]) * static_cast<double>(x[i]);
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; ++i) out[i] = tmp[i] + static_cast<double>(y[i]);
}

// a.astype(f32) * x + y: an f32 temporary per step, as NumPy does with explicit f32 casts
void axpy_f32_temporaries(const int32_t* a, const float* x, const float* y, float* out, size_t n) {
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(a[i]);
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; ++i) out[i] = out[i] * x[i];
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; ++i) out[i] = out[i] + y[i];
}

void axpy_fused_f32(const int32_t* a, const float* x, const float* y, float* out, size_t n) {
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(a[i]) * x[i] + y[i];
}

void byteswap(const void* src, void* dst, size_t n, int width, Path p, Stores st) {
  switch (width) {
    case 2:
      return bswap<uint16_t>(src, dst, n, p, st);
    case 4:
      return bswap<uint32_t>(src, dst, n, p, st);
    case 8:
      return bswap<uint64_t>(src, dst, n, p, st);
  }
  throw std::invalid_argument("byteswap width must be 2, 4 or 8, got " + std::to_string(width));
}

double sum_field_aos(const Record* r, size_t n) {
  double s = 0;
#pragma omp parallel for simd schedule(static) reduction(+ : s)
  for (size_t i = 0; i < n; ++i) s += r[i].f32;
  return s;
}

double sum_soa(const float* f, size_t n) {
  double s = 0;
#pragma omp parallel for simd schedule(static) reduction(+ : s)
  for (size_t i = 0; i < n; ++i) s += f[i];
  return s;
}

}  // namespace cpu
}  // namespace dtypebench
