// GEMM family, GPU: one cuBLASLt matmul per problem (precision triple, shape, layout), column-
// major as cuBLAS is. The heuristic's candidates are kept so a benchmark can time the first
// choice and the best of the top ones (as NVIDIA's LtSgemm autotuning sample does).
//   f64.f64.f64     COMPUTE_64F                    f32.f32.f32  COMPUTE_32F (strict: no TF32)
//   f32.tf32.f32    COMPUTE_32F_FAST_TF32          f16.f32.f16  16F in/out, COMPUTE_32F
//   f16.f16.f16     COMPUTE_16F (alpha in f16)     bf16.f32.bf16 / bf16.f32.f32
//   e4m3.f32.bf16, e5m2xe4m3.f32.bf16   8-bit floats, bf16 out, per-tensor scale factors
//                   (device floats), compute capability >= 8.9, TN only
//   i8.i32.i32      COMPUTE_32I (alpha in i32)
// A precision cuBLASLt or the chip lacks throws Unsupported (one line).
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>

#include "dtypebench/grid.hpp"
#include "kernels/cpu/gemm.hpp"

namespace dtypebench {
namespace cuda {

// What the chip is rated at, dense (no sparsity), in FLOP/s (OP/s for integers); 0 when the
// table has no figure for this chip or precision. Cited in gemm.cu.
double datasheet_peak(const Precision& p, int cc_major, int cc_minor, int sms);

// The copies of the inputs a timed GEMM rotates through, so that every run reads A and B from
// DRAM as a layer in a network would: each copy on a 256-byte boundary (what cuBLASLt's heuristic
// assumes unless told otherwise), as many as pass twice the L2 together.
struct InputRotation {
  size_t a_stride, b_stride, copies;
};
constexpr size_t kLtAlignment = 256;
inline InputRotation input_rotation(size_t a_bytes, size_t b_bytes, size_t l2_bytes) {
  const size_t sa = ceil_div(a_bytes, kLtAlignment) * kLtAlignment;
  const size_t sb = ceil_div(b_bytes, kLtAlignment) * kLtAlignment;
  return {sa, sb, sa + sb == 0 ? 1 : std::max<size_t>(1, ceil_div(2 * l2_bytes, sa + sb))};
}

class LtMatmul {
 public:
  // asks the heuristic for up to `candidates` algorithms (32 MiB of workspace offered);
  // fast_accum (8-bit floats only): CUBLASLT_MATMUL_DESC_FAST_ACCUM, the tensor cores' own
  // accumulator throughout, without the periodic promotion to f32
  LtMatmul(const Precision& p, const GemmShape& s, int candidates = 8, bool fast_accum = false);
  ~LtMatmul();
  LtMatmul(const LtMatmul&) = delete;
  LtMatmul& operator=(const LtMatmul&) = delete;

  int candidates() const;  // what the heuristic returned (>= 1)
  void choose(int i);      // run with the i-th candidate from now on
  int chosen() const;
  // times every candidate (warm-up, then `reps` runs on CUDA events) and chooses the fastest;
  // the runs take the `copies` inputs in turn (copy i at a + i * a_stride, b + i * b_stride), as
  // the timed loop does, so a candidate is not timed on inputs left in L2
  void autotune(const char* a, size_t a_stride, const char* b, size_t b_stride, size_t copies,
                void* c, int reps = 5);
  // a, b, c: device buffers of the precision's types, laid out per the shape
  void run(const void* a, const void* b, void* c);
  int algo_id() const;             // cuBLASLt's CUBLASLT_ALGO_CONFIG_ID of the chosen one
  size_t workspace_bytes() const;  // what the chosen one needs (of 32 MiB offered)
  // 8-bit floats: device floats that dequantize A and B (C = scale_a scale_b op(A) op(B))
  void set_scales(const float* scale_a, const float* scale_b);

 private:
  struct State;
  std::unique_ptr<State> st_;
};

}  // namespace cuda
}  // namespace dtypebench
