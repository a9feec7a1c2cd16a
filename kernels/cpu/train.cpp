#include "kernels/cpu/train.hpp"

#include <cmath>

namespace dtypebench {
namespace cpu {

template <class T>
double bce_with_logits(const T* z, const T* labels, size_t n, T* grad) {
  double sum = 0;
#pragma omp parallel for reduction(+ : sum) schedule(static)
  for (size_t i = 0; i < n; ++i) {
    const double x = static_cast<double>(z[i]), y = static_cast<double>(labels[i]);
    // log(1 + exp(-|x|)) never overflows; max(x, 0) - x y is the rest of -log(sigmoid) terms
    sum += std::fmax(x, 0.0) - x * y + std::log1p(std::exp(-std::fabs(x)));
    if (grad) {
      const double s = x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
      grad[i] = static_cast<T>((s - y) / static_cast<double>(n));
    }
  }
  return sum / static_cast<double>(n);
}

template <class T>
void add_bias(T* y, const T* b, size_t n, size_t k, size_t hw, bool nhwc) {
#pragma omp parallel for collapse(2) schedule(static)
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < (nhwc ? hw : k); ++j) {
      T* row = y + (i * (nhwc ? hw : k) + j) * (nhwc ? k : hw);
      if (nhwc)
        for (size_t c = 0; c < k; ++c) row[c] += b[c];
      else
        for (size_t p = 0; p < hw; ++p) row[p] += b[j];
    }
}

template <class T>
void bias_grad(const T* dy, T* db, size_t n, size_t k, size_t hw, bool nhwc) {
#pragma omp parallel for schedule(static)
  for (size_t c = 0; c < k; ++c) {
    double s = 0;  // a channel's sum in double: n hw terms
    for (size_t i = 0; i < n; ++i)
      for (size_t p = 0; p < hw; ++p)
        s += static_cast<double>(nhwc ? dy[(i * hw + p) * k + c] : dy[(i * k + c) * hw + p]);
    db[c] = static_cast<T>(s);
  }
}

template <class T>
void adam_step(T* w, const T* g, T* m, T* v, size_t n, const Adam& a, size_t step) {
  const double c1 = 1 - std::pow(a.beta1, static_cast<double>(step));
  const double c2 = 1 - std::pow(a.beta2, static_cast<double>(step));
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; ++i) {
    const double gi = static_cast<double>(g[i]);
    const double mi = a.beta1 * static_cast<double>(m[i]) + (1 - a.beta1) * gi;
    const double vi = a.beta2 * static_cast<double>(v[i]) + (1 - a.beta2) * gi * gi;
    m[i] = static_cast<T>(mi), v[i] = static_cast<T>(vi);
    w[i] = static_cast<T>(static_cast<double>(w[i]) -
                          a.lr * (mi / c1) / (std::sqrt(vi / c2) + a.eps));
  }
}

template <class T>
bool all_finite(const T* g, size_t n) {
  bool ok = true;
#pragma omp parallel for reduction(&& : ok) schedule(static)
  for (size_t i = 0; i < n; ++i) ok = ok && std::isfinite(static_cast<double>(g[i]));
  return ok;
}

#define DTYPEBENCH_TRAIN(T)                                                          \
  template double bce_with_logits<T>(const T*, const T*, size_t, T*);                \
  template void add_bias<T>(T*, const T*, size_t, size_t, size_t, bool);             \
  template void bias_grad<T>(const T*, T*, size_t, size_t, size_t, bool);            \
  template void adam_step<T>(T*, const T*, T*, T*, size_t, const Adam&, size_t);     \
  template bool all_finite<T>(const T*, size_t);
DTYPEBENCH_TRAIN(double)
DTYPEBENCH_TRAIN(float)
#undef DTYPEBENCH_TRAIN

}  // namespace cpu
}  // namespace dtypebench
