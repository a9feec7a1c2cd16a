// The numeric vocabulary every family with a precision triple shares (GEMM now, convolution and
// training next): values stored in and loaded from any type of the one table, the 8-bit float
// codecs, and the check of products against a long double reference of the same rounded inputs,
// within a bound per precision triple that a wrong answer fails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "dtypebench/precision.hpp"

namespace dtypebench {

size_t dtype_bytes(Dtype d);
// v rounded to d (to nearest even; 8-bit floats saturate to their largest finite value, as
// NVIDIA's satfinite conversion does; integers round and saturate)
void store_value(Dtype d, double v, void* p, size_t i);
double load_value(Dtype d, const void* p, size_t i);
// the bit patterns of the 8-bit floats (e4m3: no infinities, largest 448; e5m2: IEEE-like)
uint8_t fp8_encode(Dtype d, double v);
double fp8_decode(Dtype d, uint8_t bits);

// How far an output c may be from the fp64 value r of a k-term dot product of the rounded
// inputs, per element:
//   |c - r| <= abs * sum_p |a_p b_p| + walk * sqrt(sum_p s_p^2 + sum_p (a_p b_p)^2) + out * |r|
// where s_p is the p-th prefix sum of the products. Two models of the accumulation:
//   worst case (f64, f32 accumulation; exact integers): abs = (k + 2) u_acc, the bound of a
//     k-term recursive sum, plus what the engine rounds its inputs by (tf32: 4 u_tf32, both
//     factors rounded to tf32 by the engine, by truncation at worst);
//   probabilistic (accumulators too narrow for the worst case to tell a wrong answer from a right
//     one, since sum |a_p b_p| grows as k and r as sqrt(k)): every rounding an independent error
//     of at most u_acc times the partial sum it rounds (Higham and Mary's model), held to
//     walk = 8 u_acc, about 14 standard deviations. f16 accumulation; 8-bit floats, whose tensor
//     cores keep about 14 bits between promotions to f32 (u_acc = 2^-13 taken).
// Both add k 2^-53, the fp64 reference's own error, and out = u_out, the rounding to the output
// type.
struct ErrorBound {
  double abs = 0, walk = 0, out = 0;
};
ErrorBound error_bound(const Precision& p, size_t k);
// abs alone: a row's error_bound counter
double accumulation_bound(const Precision& p, size_t k);

// One output element's reference: its products added in long double, in index order, from the
// inputs as rounded and as they were before rounding.
struct DotReference {
  long double sum = 0, abs = 0, walk2 = 0, real = 0;
  void add(double a, double b, double a_real, double b_real) {
    const long double x = a * static_cast<long double>(b);
    sum += x;
    abs += x < 0 ? -x : x;
    walk2 += sum * sum + x * x;  // the partial sums and the products the engine rounds
    real += a_real * static_cast<long double>(b_real);
  }
};

// What a check of many outputs found: "" or why it failed (how many outside the bound, the first
// few), and the relative Frobenius errors against the rounded and the unrounded inputs.
struct ProductErrors {
  std::string why;
  double rel_error = 0;            // ||C - R||_F / ||R||_F, R from the rounded inputs
  double rel_error_unrounded = 0;  // ... R from the unrounded fp64 inputs
};

// Checks outputs one at a time against their references; thread-safe only as one per thread,
// merged afterwards (merge), as an OpenMP reduction would.
class ProductCheck {
 public:
  ProductCheck(const Precision& p, size_t k) : bound_(error_bound(p, k)) {}
  // got: the output as the engine gave it, in the inputs' scale; where: "C[3,4]" for messages
  void check(const DotReference& r, double got, const char* where);
  void merge(const ProductCheck& o);
  ProductErrors result() const;
  size_t checked() const { return checked_; }

 private:
  ErrorBound bound_;
  double err2_ = 0, ref2_ = 0, err2_real_ = 0, real2_ = 0;
  size_t checked_ = 0, bad_ = 0;
  std::string msg_;
};

}  // namespace dtypebench
