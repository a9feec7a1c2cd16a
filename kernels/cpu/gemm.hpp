// GEMM family, host side: the problem (shapes, inputs in any precision of the one table), the
// fp64 reference and the error it allows, and thin wrappers over the CPU libraries.
//   OpenBLAS   dgemm, sgemm (cblas, column-major)
//   BLIS       dgemm, sgemm (its typed API; loaded at run time, see gemm_blis.cpp)
//   oneDNN     matmul: f32, bf16 (f32 or bf16 out), f16, s8 x u8 -> s32; the primitive is made
//              once per problem and its implementation ("brg:avx512_core_amx", ...) recorded.
//              oneDNN is row-major, so it computes C^T = op(B)^T op(A)^T: B is its source (u8
//              for integers) and A its weights (s8).
// Matrices are column-major as in BLAS: C (m x n) = op(A) op(B), A stored m x k (N) or k x m (T),
// B stored k x n (N) or n x k (T). Inputs: A uniform in [-1, 1), B uniform in [0, 1), from fixed
// seeds, rounded once to the input type (8-bit integers: scaled by 127 or 255 first).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "dtypebench/memory.hpp"
#include "dtypebench/precision.hpp"

namespace dtypebench {

struct GemmShape {
  size_t m = 0, n = 0, k = 0;
  bool ta = false, tb = false;  // op(A) = A^T, op(B) = B^T
  double flops() const { return 2.0 * static_cast<double>(m) * n * k; }
};
// "NN", "NT", "TN", "TT" (op(A) then op(B)); throws std::invalid_argument for anything else
GemmShape gemm_shape(size_t m, size_t n, size_t k, const std::string& layout);

size_t dtype_bytes(Dtype d);
// v rounded to d (to nearest even; 8-bit floats saturate to their largest finite value, as
// NVIDIA's satfinite conversion does; integers round and saturate)
void store_value(Dtype d, double v, void* p, size_t i);
double load_value(Dtype d, const void* p, size_t i);
// the bit patterns of the 8-bit floats (e4m3: no infinities, largest 448; e5m2: IEEE-like)
uint8_t fp8_encode(Dtype d, double v);
double fp8_decode(Dtype d, uint8_t bits);

// The inputs of one problem, rounded to the precision's input types, and what the check needs.
struct GemmProblem {
  Precision prec;
  GemmShape s;
  Buffer<char> a, b;
  double scale_a = 1, scale_b = 1;  // integers hold round(x * scale)
  uint64_t seed_a, seed_b;

  // allocates and fills A and B (the benchmarks' inputs with seed 0; tests draw fresh ones)
  GemmProblem(Precision p, GemmShape shape, uint64_t seed = 0);
  double a_real(size_t i, size_t p) const;  // the unrounded value of op(A)(i, p)
  double b_real(size_t p, size_t j) const;
  double a_at(size_t i, size_t p) const;  // the stored value, in the real scale
  double b_at(size_t p, size_t j) const;
  size_t c_elems() const { return s.m * s.n; }
  size_t c_bytes() const { return c_elems() * dtype_bytes(prec.out); }
  double min_bytes() const;  // A and B read once, C written once
};

// How far C may be from the fp64 product r of the rounded inputs, per element:
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
// abs alone: the row's error_bound counter
double accumulation_bound(const Precision& p, size_t k);

struct GemmError {
  std::string why;                 // "" when every checked element is within the bound
  double rel_error = 0;            // ||C - R||_F / ||R||_F, R from the rounded inputs
  double rel_error_unrounded = 0;  // ... R from the unrounded fp64 inputs
  size_t rows = 0;                 // rows of C checked
};
// Checks `rows` evenly spaced rows of C (all of them when rows >= m) against the fp64 product,
// computed here in long double; c is m x n column-major in the precision's output type.
GemmError check_gemm(const GemmProblem& pr, const void* c, size_t rows);
// rows to check: up to 32, fewer as n * k grows (the reference costs rows * n * k, kept near 2^27)
size_t check_rows(const GemmShape& s);

namespace cpu {

bool have_openblas();
std::string openblas_config();  // "" without OpenBLAS
void blas_threads(int n);
// C = op(A) op(B) for f64.f64.f64 and f32.f32.f32; throws Unsupported for any other precision
void blas_gemm(const GemmProblem& pr, void* c);

// "" when BLIS can run here, else why not (one line)
std::string blis_missing();
std::string blis_config();  // "BLIS 0.9.0, config skx", "" without BLIS
std::string blis_arch();    // its config alone: "skx"
void blis_threads(int n);
// C = op(A) op(B) for f64.f64.f64 and f32.f32.f32; throws Unsupported for any other precision
void blis_gemm(const GemmProblem& pr, void* c);

bool have_onednn();
// One oneDNN matmul primitive for a problem, made once and run many times on the same buffers.
class DnnlMatmul {
 public:
  DnnlMatmul(const GemmProblem& pr, void* c);  // throws Unsupported when oneDNN cannot
  ~DnnlMatmul();
  void run();
  const std::string& impl() const;  // oneDNN's name for the implementation it chose

 private:
  struct State;
  std::unique_ptr<State> st_;
};

}  // namespace cpu
}  // namespace dtypebench
