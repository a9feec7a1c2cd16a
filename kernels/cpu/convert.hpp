// Conversion family on the CPU: what NumPy's astype and friends cost in time and peak memory.
//   narrow/widen   dst[i] = T_dst(src[i]) for f64->f32, f32->f16, f32->bf16, f16->f32, bf16->f32,
//                  f64->i32 (truncation; NaN and out-of-range give INT32_MIN, as x86 does),
//                  u8->f32 (x / 255, image normalisation); each with a SIMD and a portable path,
//                  its stores streamed past the caches when the arrays exceed the LLC (Auto)
//   in place       f64 -> f32 narrowed inside the source buffer (front to back is safe: element i
//                  is written at byte 4i, over source bytes already read)
//   f16 range      check-then-cast (two passes) vs cast-and-count (one pass)
//   promotion      a_i32 * x_f32 + y_f32 with f64 temporaries (NumPy), f32 temporaries, or fused
//   byteswap       2/4/8-byte elements, SIMD (vectorized shuffles) vs scalar
//   AoS vs SoA     one field of a {f64, f32, i32, u8} record vs the same values in their own array
#pragma once

#include <cstddef>
#include <cstdint>

#include "dtypebench/dtypes.hpp"
#include "kernels/cpu/stores.hpp"

namespace dtypebench {
namespace cpu {

enum class Path { Simd, Portable };
inline const char* path_name(Path p) { return p == Path::Simd ? "simd" : "portable"; }

void convert(const double* src, float* dst, size_t n, Path p, Stores st = Stores::Auto);
void convert(const float* src, half* dst, size_t n, Path p, Stores st = Stores::Auto);
void convert(const float* src, bfloat16* dst, size_t n, Path p, Stores st = Stores::Auto);
void convert(const half* src, float* dst, size_t n, Path p, Stores st = Stores::Auto);
void convert(const bfloat16* src, float* dst, size_t n, Path p, Stores st = Stores::Auto);
void convert(const double* src, int32_t* dst, size_t n, Path p, Stores st = Stores::Auto);
void convert(const uint8_t* src, float* dst, size_t n, Path p,
             Stores st = Stores::Auto);  // x / 255

// The scalar rule every path must match (f64 -> i32: truncate, NaN/out of range -> INT32_MIN).
int32_t f64_to_i32(double x);

// Narrows n doubles at buf into n floats at the start of the same buffer (single pass, one
// thread: a second thread would overwrite doubles the first has not read yet). Returns the floats.
float* narrow_in_place(double* buf, size_t n);

// f16 range: counts of finite inputs that overflow to inf, nonzero inputs that flush to zero, and
// results that are subnormal.
struct F16Range {
  size_t overflow = 0, underflow = 0, subnormal = 0;
};
F16Range f16_range_check(const float* src, size_t n);              // pass 1 of check-then-cast
F16Range convert_counting(const float* src, half* dst, size_t n);  // fused: cast and count

// NumPy's result type for a binary op on two of NumPy's dtypes (int32 with float32 -> float64);
// bf16, tf32 and fp8 are not NumPy types: std::invalid_argument.
using dtypebench::Dtype;
Dtype promote(Dtype a, Dtype b);

// a * x + y three ways; out has n elements of the stated type.
void axpy_promoted_f64(const int32_t* a, const float* x, const float* y, double* out, size_t n);
void axpy_f32_temporaries(const int32_t* a, const float* x, const float* y, float* out, size_t n);
void axpy_fused_f32(const int32_t* a, const float* x, const float* y, float* out, size_t n);

// Reverses the bytes of each element of size `width` (2, 4 or 8); in and out may be the same.
void byteswap(const void* src, void* dst, size_t n, int width, Path p,
              Stores st = Stores::Auto);

struct Record {
  double f64;
  float f32;
  int32_t i32;
  uint8_t u8;
};  // 24 bytes with padding: reading f32 alone uses 4 of every 24 bytes fetched
double sum_field_aos(const Record* r, size_t n);  // sum of r[i].f32
double sum_soa(const float* f32, size_t n);

}  // namespace cpu
}  // namespace dtypebench
