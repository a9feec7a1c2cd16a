// One dtype story for CPU and GPU: the element types, their names, their accumulators.
// half and bfloat16 are 16-bit storage types; arithmetic happens in float.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "dtypebench/precision.hpp"

#if (defined(__F16C__) || defined(__AVX512F__)) && !defined(__CUDACC__)
#include <immintrin.h>
#define DTYPEBENCH_F16C 1
#endif

namespace dtypebench {

inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// IEEE binary16, round to nearest even; NaN stays NaN (quieted), overflow goes to inf,
// values under half the smallest subnormal (2^-25) flush to signed zero.
inline uint16_t f32_to_f16_bits_portable(float f) {
  const uint32_t x = f32_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
  if (ax >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520 rounds to inf
  if (ax < 0x38800000u) {                                               // below 2^-14: subnormal
    if (ax < 0x33000000u) return static_cast<uint16_t>(sign);           // <= 2^-25 rounds to 0
    const uint32_t e = ax >> 23;
    const uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126u - e;  // 14..24: aligns to units of 2^-24
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1u);
    const uint32_t halfway = 1u << (shift - 1u);
    if (rem > halfway || (rem == halfway && (r & 1u))) ++r;
    return static_cast<uint16_t>(sign | r);
  }
  // normal: rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits
  uint32_t r = (ax - 0x38000000u) >> 13;
  const uint32_t rem = ax & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r;  // a carry into the exponent is right
  return static_cast<uint16_t>(sign | r);
}

inline float f16_bits_to_f32_portable(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1fu;
  uint32_t m = h & 0x3ffu;
  if (e == 0x1f) return f32_from_bits(sign | 0x7f800000u | (m << 13));
  if (e != 0) return f32_from_bits(sign | ((e + 112u) << 23) | (m << 13));
  if (m == 0) return f32_from_bits(sign);
  // subnormal half: normalise into a float
  uint32_t exp = 113u;
  while (!(m & 0x400u)) {
    m <<= 1;
    --exp;
  }
  return f32_from_bits(sign | (exp << 23) | ((m & 0x3ffu) << 13));
}

// bfloat16 is the top half of a float: round the low 16 bits to nearest even; NaN stays quiet NaN.
inline uint16_t f32_to_bf16_bits(float f) {
  const uint32_t x = f32_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  const uint32_t lsb = (x >> 16) & 1u;
  return static_cast<uint16_t>((x + 0x7fffu + lsb) >> 16);
}
inline float bf16_bits_to_f32(uint16_t b) { return f32_from_bits(static_cast<uint32_t>(b) << 16); }

// The default path: the compiler's _Float16 where it has one (gcc >= 12 on x86 turns it into F16C
// vcvtph2ps / vcvtps2ph and, unlike the _cvtsh_ss intrinsic, vectorizes loops of it), else F16C
// intrinsics, else the portable code. Tests hold every path to the portable one, bit for bit.
#if defined(__FLT16_MAX__) && defined(__F16C__) && !defined(__CUDACC__)
#define DTYPEBENCH_FLOAT16 1
#endif
inline uint16_t f32_to_f16_bits(float f) {
#if defined(DTYPEBENCH_FLOAT16)
  const _Float16 h = static_cast<_Float16>(f);
  uint16_t b;
  std::memcpy(&b, &h, 2);
  return b;
#elif defined(DTYPEBENCH_F16C)
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
#else
  return f32_to_f16_bits_portable(f);
#endif
}
inline float f16_bits_to_f32(uint16_t h) {
#if defined(DTYPEBENCH_FLOAT16)
  _Float16 v;
  std::memcpy(&v, &h, 2);
  return static_cast<float>(v);
#elif defined(DTYPEBENCH_F16C)
  return _cvtsh_ss(h);
#else
  return f16_bits_to_f32_portable(h);
#endif
}

struct half {
  uint16_t bits = 0;
  half() = default;
  explicit half(float f) : bits(f32_to_f16_bits(f)) {}
  explicit operator float() const { return f16_bits_to_f32(bits); }
  static half from_bits(uint16_t b) {
    half h;
    h.bits = b;
    return h;
  }
};

struct bfloat16 {
  uint16_t bits = 0;
  bfloat16() = default;
  explicit bfloat16(float f) : bits(f32_to_bf16_bits(f)) {}
  explicit operator float() const { return bf16_bits_to_f32(bits); }
  static bfloat16 from_bits(uint16_t b) {
    bfloat16 h;
    h.bits = b;
    return h;
  }
};

static_assert(sizeof(half) == 2 && sizeof(bfloat16) == 2, "16-bit storage types");

// Bulk widening to f32, 8 lanes at a time (F16C vcvtph2ps for half, an AVX2 16-bit shift for
// bfloat16); compilers do not vectorize the scalar conversions above. (The 512-bit forms make
// gcc 12 warn falsely about its own headers.)
inline void widen(const half* src, float* dst, size_t n) {
  size_t i = 0;
#if defined(DTYPEBENCH_F16C) && defined(__AVX2__)
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i,
                     _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
#endif
  for (; i < n; ++i) dst[i] = f16_bits_to_f32(src[i].bits);
}
inline void widen(const bfloat16* src, float* dst, size_t n) {
  size_t i = 0;
#if defined(DTYPEBENCH_F16C) && defined(__AVX2__)
  for (; i + 8 <= n; i += 8) {
    const __m256i w =
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
    _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)));
  }
#endif
  for (; i < n; ++i) dst[i] = bf16_bits_to_f32(src[i].bits);
}

// Each storage type's entry in the one name table (precision.hpp) and its accumulator.
template <class T>
struct dtype_info;
template <>
struct dtype_info<double> {
  static constexpr Dtype id = Dtype::f64;
  using acc = double;
};
template <>
struct dtype_info<float> {
  static constexpr Dtype id = Dtype::f32;
  using acc = float;
};
template <>
struct dtype_info<half> {
  static constexpr Dtype id = Dtype::f16;
  using acc = float;  // 16-bit types accumulate in f32
};
template <>
struct dtype_info<bfloat16> {
  static constexpr Dtype id = Dtype::bf16;
  using acc = float;
};
template <>
struct dtype_info<int32_t> {
  static constexpr Dtype id = Dtype::i32;
  using acc = int64_t;
};
template <>
struct dtype_info<uint8_t> {
  static constexpr Dtype id = Dtype::u8;
  using acc = int64_t;
};

template <class T>
constexpr const char* dtype_name() {
  return dtype_name(dtype_info<T>::id);
}
template <class T>
using acc_t = typename dtype_info<T>::acc;

// Loads and stores through float for every floating type, so kernels are written once.
template <class T>
inline acc_t<T> load_acc(T v) {
  return static_cast<acc_t<T>>(v);
}
template <>
inline float load_acc<half>(half v) {
  return static_cast<float>(v);
}
template <>
inline float load_acc<bfloat16>(bfloat16 v) {
  return static_cast<float>(v);
}
template <class T>
inline T store_as(double v) {
  return static_cast<T>(v);
}
template <>
inline half store_as<half>(double v) {
  return half(static_cast<float>(v));
}
template <>
inline bfloat16 store_as<bfloat16>(double v) {
  return bfloat16(static_cast<float>(v));
}

// Unit roundoff of each type, for test tolerances scaled by the number of terms summed.
template <class T>
constexpr double unit_roundoff();
template <>
constexpr double unit_roundoff<double>() {
  return 0x1p-53;
}
template <>
constexpr double unit_roundoff<float>() {
  return 0x1p-24;
}
template <>
constexpr double unit_roundoff<half>() {
  return 0x1p-11;
}
template <>
constexpr double unit_roundoff<bfloat16>() {
  return 0x1p-8;
}

}  // namespace dtypebench
