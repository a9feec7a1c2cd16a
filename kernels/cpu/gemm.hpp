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
#include "dtypebench/numeric.hpp"
#include "dtypebench/precision.hpp"

namespace dtypebench {

struct GemmShape {
  size_t m = 0, n = 0, k = 0;
  bool ta = false, tb = false;  // op(A) = A^T, op(B) = B^T
  double flops() const { return 2.0 * static_cast<double>(m) * n * k; }
};
// "NN", "NT", "TN", "TT" (op(A) then op(B)); throws std::invalid_argument for anything else
GemmShape gemm_shape(size_t m, size_t n, size_t k, const std::string& layout);

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

// the check's findings (numeric.hpp) and the rows of C it checked
struct GemmError : ProductErrors {
  size_t rows = 0;
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
