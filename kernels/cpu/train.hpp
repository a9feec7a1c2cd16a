// Training family, host side: the seed CNN and its trainer, and the trainer's own kernels beside
// the library calls (the convolutions are conv.hpp's DnnlConv, or conv_direct in fp64; the dense
// layer is BLAS's gemv): the loss, the bias, Adam and the dynamic loss scaler of mixed-precision
// training. Templates on the element type; OpenMP over the threads currently set.
//   SeedCnn   Conv2D(C, 2x2 valid) -> Conv2D(C, 1x1) -> Conv2D(C, 1x1) -> Flatten -> Dense(1),
//             each with a bias and no activation (the published model names none), the logit
//             into binary cross-entropy, Adam; random-uniform images in [0, 1) and random binary
//             labels, as the seed experiment (claims T1-T6)
//   bce_with_logits   mean over the batch of max(z,0) - z y + log(1 + exp(-|z|)), and its
//                     gradient (sigmoid(z) - y) / n, stable for any logit
//   add_bias          y[n, k, ...] += b[k] in NCHW or NHWC; bias_grad sums dy over all but k
//   adam_step         Kingma and Ba's update with bias correction, the step count from 1
//   LossScaler        PyTorch GradScaler's rule: start 2^16, an inf/NaN gradient halves the scale
//                     and skips the update, 2000 clean steps in a row double it
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dtypebench {
namespace cpu {

// the batch's mean loss; grad (n values, may be nullptr) gets d loss / d z
template <class T>
double bce_with_logits(const T* z, const T* labels, size_t n, T* grad);

// y (n x k x hw, or n x hw x k when nhwc) += b[k]; db[k] = the sum of dy over n and hw
template <class T>
void add_bias(T* y, const T* b, size_t n, size_t k, size_t hw, bool nhwc);
template <class T>
void bias_grad(const T* dy, T* db, size_t n, size_t k, size_t hw, bool nhwc);

struct Adam {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-7;  // Keras's defaults
};
// w -= lr m_hat / (sqrt(v_hat) + eps), m and v the moving moments of g; step counts from 1
template <class T>
void adam_step(T* w, const T* g, T* m, T* v, size_t n, const Adam& a, size_t step);

// true when every value is finite (the loss scaler's overflow check)
template <class T>
bool all_finite(const T* g, size_t n);

class LossScaler {
 public:
  explicit LossScaler(double initial = 65536.0, size_t growth_interval = 2000)
      : scale_(initial), interval_(growth_interval) {}
  double scale() const { return scale_; }
  size_t skipped() const { return skipped_; }
  // after a backward pass: whether to apply the update (gradients finite), the scale adjusted
  bool update(bool finite) {
    if (!finite) {
      scale_ *= 0.5;
      clean_ = 0;
      ++skipped_;
      return false;
    }
    if (++clean_ == interval_) scale_ *= 2.0, clean_ = 0;
    return true;
  }

 private:
  double scale_;
  size_t interval_, clean_ = 0, skipped_ = 0;
};

// The model's size and data. The seed's: 256x256x3, 128 channels, batch 50, 800 images.
struct SeedCnnConfig {
  size_t image = 64, channels = 128, batch = 50, images = 800;
  uint64_t seed = 0;
  bool nhwc = true;  // activations (and the flattened order the dense layer reads) channels-last
  std::string invalid() const;  // "" or why not (a batch larger than the data, a 0)
};
// F64: direct loops, NCHW (the reference); F32: oneDNN; Bf16Mixed: the convolutions' inputs
// (activations, weights, incoming gradients) rounded to bf16 and their outputs in f32, f32 master
// weights, the rest (bias, dense, loss, Adam) in f32, as PyTorch's bf16 autocast does
enum class TrainMode { F64, F32, Bf16Mixed };

class SeedCnn {
 public:
  SeedCnn(const SeedCnnConfig& cfg, TrainMode mode);
  ~SeedCnn();
  size_t steps_per_epoch() const;
  // one training step on batch b (images b*batch ...): forward, backward, Adam; the batch's loss
  double step(size_t b);
  // the loss on batch b and every parameter's gradient (w1 b1 w2 b2 w3 b3 wd bd, each by its
  // logical index: KCRS, and the dense weights in (c, h, w) order), weights unchanged
  double gradients(size_t b, std::vector<std::vector<double>>* grads);
  std::vector<std::vector<double>> parameters() const;  // the same order and indexing
  void set_parameter(size_t tensor, size_t i, double v);  // for finite differences
  double accuracy();  // the share of every image classified right (logit > 0 <=> label 1)
  double flops_per_step() const;  // forward 1x, backward 2x of the convolutions and the dense
  size_t parameter_bytes() const;
  std::string implementations() const;  // what oneDNN ran ("" in fp64)

  struct State;  // opaque: the trainer's buffers and primitives (train.cpp's loops take it)

 private:
  std::unique_ptr<State> st_;
};

}  // namespace cpu
}  // namespace dtypebench
