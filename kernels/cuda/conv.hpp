// Convolution family, GPU: cuDNN's convolution per problem (layer, pass, precision, layout), on
// the problem's tensors copied to the device in its layout (NCHW or NHWC, the filter KCRS or
// KRSC). The heuristic's candidates are kept, so a benchmark times its first choice that fits
// (algo:heuristic) beside the winner of cuDNN's own search (algo:best).
//   f32.f32.f32    f32 data, CUDNN_FMA_MATH: no tensor cores (fp32 strict)
//   f32.tf32.f32   f32 data, tensor cores allowed (TF32 on Ampere and later)
//   f16.f32.f16    f16 data, f32 accumulation (the convolution's compute type), tensor cores
//   bf16.f32.bf16  bf16 data, f32 accumulation, tensor cores
// A precision, layout or algorithm cuDNN lacks here throws Unsupported (one line); a workspace
// that cannot be allocated falls back to the next candidate that fits, and says so (fallback()).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "kernels/cpu/conv.hpp"

namespace dtypebench {
namespace cuda {

class CudnnConv {
 public:
  // x, w, y: device buffers of the problem's types and layout (the pass's output among them)
  CudnnConv(const ConvProblem& pr, void* x, void* w, void* y);
  ~CudnnConv();
  CudnnConv(const CudnnConv&) = delete;
  CudnnConv& operator=(const CudnnConv&) = delete;

  int candidates() const;  // what the heuristic returned (>= 1)
  // the heuristic's first choice whose workspace can be allocated
  void choose_heuristic();
  // cuDNN's search (cudnnFind...AlgorithmEx: every algorithm run and timed, with at most
  // max_workspace bytes), then the fastest whose workspace can be allocated
  void search(size_t max_workspace);
  void run();  // the pass on the default stream; does not synchronize
  int algo() const;              // cuDNN's algorithm enum value
  std::string algo_name() const;  // "fwd:IMPLICIT_PRECOMP_GEMM", ...
  size_t workspace_bytes() const;
  const std::string& fallback() const;  // "" or which algorithm could not have its workspace

 private:
  struct State;
  std::unique_ptr<State> st_;
};

}  // namespace cuda
}  // namespace dtypebench
