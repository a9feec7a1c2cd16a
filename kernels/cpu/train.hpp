// Training family, host side: the trainer's own kernels beside the library calls (the
// convolutions are conv.hpp's DnnlConv, or conv_direct in fp64): the loss, the bias, Adam and the
// dynamic loss scaler of mixed-precision training. Templates on the element type; OpenMP over the
// threads currently set.
//   bce_with_logits   mean over the batch of max(z,0) - z y + log(1 + exp(-|z|)), and its
//                     gradient (sigmoid(z) - y) / n, stable for any logit
//   add_bias          y[n, k, ...] += b[k] in NCHW or NHWC; bias_grad sums dy over all but k
//   adam_step         Kingma and Ba's update with bias correction, the step count from 1
//   LossScaler        PyTorch GradScaler's rule: start 2^16, an inf/NaN gradient halves the scale
//                     and skips the update, 2000 clean steps in a row double it
#pragma once

#include <cstddef>
#include <cstdint>

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

}  // namespace cpu
}  // namespace dtypebench
