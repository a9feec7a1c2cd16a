// Convolution family, host side: the problem (a layer, its tensors in a precision and a memory
// layout), the fp64 reference of each pass and the error it allows, and a thin wrapper over
// oneDNN's convolution primitives.
//   forward          y[n,k,p,q]  = sum_{c,r,s} x[n,c,h(p,r),w(q,s)] w[k,c,r,s]
//   backward data    dx[n,c,h,w] = sum_{k,r,s} dy[n,k,p,q] w[k,c,r,s]   (h = p*stride - pad + r*dil)
//   backward weights dw[k,c,r,s] = sum_{n,p,q} x[n,c,h(p,r),w(q,s)] dy[n,k,p,q]
// Each pass reads two of x (N,C,H,W), w (K,C,R,S), y (N,K,P,Q) and writes the third. Layouts of
// the activations: NCHW, NHWC (PyTorch's channels_last), and the blocked layout oneDNN picks for
// "any". The weights are always in the layout the primitive picks (a framework reorders them once
// and keeps them), from KCRS (KRSC for NHWC). Every reorder, from the user's layout and back, is
// timed apart (reorder_in/out).
// Inputs are uniform in [-1, 1) from fixed seeds by their NCHW index, so every layout holds the
// same values, rounded once to the input type; the output is the precision's (oneDNN: f32).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "dtypebench/memory.hpp"
#include "dtypebench/numeric.hpp"
#include "dtypebench/precision.hpp"

namespace dtypebench {

struct ConvShape {
  size_t n = 1, c = 1, h = 1, w = 1, k = 1, r = 1, s = 1;
  size_t stride = 1, pad = 0, dilation = 1;  // dilation 1: none (PyTorch's convention)
  size_t p() const;  // output height
  size_t q() const;  // output width
  double flops() const;  // 2 N K C R S P Q, every pass (the nominal count, padded taps included)
  // 2 N K C times the (output, filter tap) pairs that land inside the input: the products a
  // kernel must do (one that skips the padding does no more), the count a share of a peak takes
  double useful_flops() const;
  // "" or why the shape cannot be a convolution (a filter wider than the padded input, a 0)
  std::string invalid() const;
};

enum class ConvPass { Forward, BackwardData, BackwardWeights };
enum class ConvLayout { Nchw, Nhwc, Blocked };
enum class ConvTensor { X, W, Y };
// what a pass writes, and the terms of each of its sums
ConvTensor conv_output(ConvPass pass);
size_t conv_terms(const ConvShape& s, ConvPass pass);

// One problem: the three tensors in the user layout (NCHW for Blocked), inputs filled, the
// output poisoned.
struct ConvProblem {
  ConvShape s;
  ConvPass pass;
  ConvLayout layout;
  Precision prec;  // inputs a = b, the accumulator, the output's type
  Buffer<char> x, w, y;
  uint64_t seed;
  bool integers;  // inputs in {-3, ..., 3}: every sum exact in f32 (benchdnn's fill)

  ConvProblem(const ConvShape& shape, ConvPass pass, ConvLayout layout, const Precision& prec,
              uint64_t seed = 0, bool integers = false);
  // an input's value before rounding to the input type, by tensor (X, W, Y) and NCHW index
  double real(ConvTensor t, size_t i) const;
  // element offsets in the user layout
  size_t x_at(size_t n, size_t c, size_t h, size_t w) const;
  size_t w_at(size_t k, size_t c, size_t r, size_t s) const;
  size_t y_at(size_t n, size_t k, size_t p, size_t q) const;
  Buffer<char>& output();
  void poison_output();
  double min_bytes() const;  // the two inputs read, the output written, once each
};

// Checks `outputs` output elements spread over the tensor (all when outputs >= its size) against
// the fp64 sum of the same rounded inputs, within the bound of the precision at the pass's terms.
ProductErrors check_conv(const ConvProblem& pr, size_t outputs);

namespace cpu {

bool have_onednn();  // this build has oneDNN (defined with the matmul wrapper, gemm.cpp)

// The pass by direct loops in T, on NCHW tensors (weights KCRS), OpenMP over the output: the
// fp64 trainer's convolution (oneDNN has no f64), the reference its gradients are checked by.
// Slow: for the small shapes of tests and gradient checks.
template <class T>
void conv_direct(const ConvShape& s, ConvPass pass, T* x, T* w, T* y);

// A oneDNN convolution of one problem: the primitive made once, on the problem's activations (but
// Blocked's) and on buffers in the primitive's layout for the rest, which reorder_in fills from
// the problem's inputs and reorder_out copies back to its output. Throws Unsupported where oneDNN lacks the precision or
// has only its reference loops here.
class DnnlConv {
 public:
  // reference: accept oneDNN's reference loops (tests; a benchmark refuses them: they would
  // describe oneDNN, not the CPU)
  explicit DnnlConv(ConvProblem& pr, bool reference = false);
  // the same on any buffers of the shape's tensors in the layout's user form (Blocked: NCHW), the
  // pass's output among them: what a trainer's layers are made of
  DnnlConv(const ConvShape& s, ConvPass pass, ConvLayout layout, const Precision& prec, void* x,
           void* w, void* y, bool reference = false);
  ~DnnlConv();
  void run();          // the pass, on data in the primitive's layout
  void reorder_in();   // the inputs not in the primitive's layout into it
  void reorder_out();  // the output, where it is not in the user's layout, back into it
  const std::string& impl() const;   // oneDNN's implementation, e.g. "brg:avx512_core"
  std::string blocked_tags() const;  // the layouts oneDNN chose, as "x:nChw16c w:OIhw16i16o"
  size_t scratchpad_bytes() const;
  size_t blocked_bytes() const;  // the buffers in the primitive's layout

 private:
  struct State;
  std::unique_ptr<State> st_;
};

}  // namespace cpu
}  // namespace dtypebench
