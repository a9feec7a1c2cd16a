#include "kernels/cpu/train.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "dtypebench/fill.hpp"
#include "dtypebench/memory.hpp"
#include "kernels/cpu/conv.hpp"

#ifdef DTYPEBENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif

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
  if (!nhwc) {
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < k; ++c) {
      double s = 0;  // a channel's sum in double: n hw terms, each image's run contiguous
      for (size_t i = 0; i < n; ++i)
        for (size_t p = 0; p < hw; ++p) s += static_cast<double>(dy[(i * k + c) * hw + p]);
      db[c] = static_cast<T>(s);
    }
    return;
  }
  // NHWC: a pixel's k channels are contiguous, so each thread sums whole rows into k partial
  // sums and the threads' partials are added (a channel at a time read with stride k would pass
  // over the tensor k times: 13 GB a layer for the scaled model)
  std::vector<double> total(k, 0.0);
#pragma omp parallel
  {
    std::vector<double> mine(k, 0.0);
#pragma omp for schedule(static)
    for (size_t row = 0; row < n * hw; ++row)
      for (size_t c = 0; c < k; ++c) mine[c] += static_cast<double>(dy[row * k + c]);
#pragma omp critical
    for (size_t c = 0; c < k; ++c) total[c] += mine[c];
  }
  for (size_t c = 0; c < k; ++c) db[c] = static_cast<T>(total[c]);
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

namespace {
// y = A x for A rows x cols row-major (trans: y = A^T x), through BLAS where the build has it
template <class T>
void gemv(const T* A, size_t rows, size_t cols, const T* x, T* y, bool trans) {
#ifdef DTYPEBENCH_HAVE_OPENBLAS
  const auto op = trans ? CblasTrans : CblasNoTrans;
  const int m = static_cast<int>(rows), n = static_cast<int>(cols);
  if constexpr (std::is_same_v<T, double>)
    cblas_dgemv(CblasRowMajor, op, m, n, 1.0, A, n, x, 1, 0.0, y, 1);
  else
    cblas_sgemv(CblasRowMajor, op, m, n, 1.0f, A, n, x, 1, 0.0f, y, 1);
#else
  const size_t out = trans ? cols : rows;
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < out; ++i) {
    double s = 0;
    for (size_t j = 0; j < (trans ? rows : cols); ++j)
      s += static_cast<double>(trans ? A[j * cols + i] : A[i * cols + j]) * x[j];
    y[i] = static_cast<T>(s);
  }
#endif
}
constexpr uint64_t kSeedImages = 401, kSeedLabels = 402, kSeedWeights = 403;  // + 4 per seed
}  // namespace

std::string SeedCnnConfig::invalid() const {
  if (!image || !channels || !batch || !images) return "a size of 0";
  if (image < 2) return "an image smaller than the 2x2 filter";
  if (batch > images) return "a batch larger than the data set";
  if (images % batch) return "images not a multiple of the batch";
  return "";
}

// Parameters in the order w1 b1 w2 b2 w3 b3 wd bd; activations [batch, C, P, P] in the layout.
struct SeedCnn::State {
  SeedCnnConfig cfg;
  TrainMode mode;
  size_t P = 0, F = 0, t = 0;  // output edge, dense inputs, Adam's step
  ConvShape s1, s2;            // the 2x2 layer, the 1x1 layers
  Adam adam;
  // everything in T, as raw bytes: one code for both modes, cast at the use
  size_t elem = 0;
  Buffer<char> images, labels, xb, a1, a2, a3, z, yb, dz, da1, da2, da3;
  std::vector<Buffer<char>> param, grad, m, v;
  std::vector<std::unique_ptr<DnnlConv>> f32;  // f1 f2 f3 bw3 bd3 bw2 bd2 bw1
  // bf16-mixed: the convolutions' bf16 inputs (the batch, a1, a2; da1..da3; the weights' copies)
  Buffer<char> xb16, a1_16, a2_16, da1_16, da2_16, da3_16;
  Buffer<char> w16[3];
  bool mixed() const { return mode == TrainMode::Bf16Mixed; }
  size_t n(size_t t) const { return param[t].bytes() / elem; }
};

namespace {
template <class T>
T* at(Buffer<char>& b) {
  return reinterpret_cast<T*>(b.data());
}

// the logical (KCRS; dense: c, h, w) index of parameter t's stored element i, and back
struct Index {
  size_t C, P;
  bool nhwc;
  size_t w1_stored(size_t k, size_t c, size_t r, size_t s) const {
    return nhwc ? ((k * 2 + r) * 2 + s) * 3 + c : ((k * 3 + c) * 2 + r) * 2 + s;
  }
  size_t wd_stored(size_t c, size_t h, size_t w) const {
    return nhwc ? (h * P + w) * C + c : (c * P + h) * P + w;
  }
  // stored position of logical element i of tensor t
  size_t stored(size_t t, size_t i) const {
    if (t == 0) return w1_stored(i / 12, i / 4 % 3, i / 2 % 2, i % 2);
    if (t == 6) return wd_stored(i / (P * P), i / P % P, i % P);
    return i;  // biases; 1x1 weights are K x C in both layouts
  }
};

// f32 -> bf16, round to nearest even (the convolutions' inputs in bf16-mixed)
void to_bf16(const Buffer<char>& from, Buffer<char>& to) {
  const float* f = reinterpret_cast<const float*>(from.data());
  bfloat16* t = reinterpret_cast<bfloat16*>(to.data());
  const size_t n = to.bytes() / 2;
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; ++i) t[i] = bfloat16(f[i]);
}

template <class T>
void forward(SeedCnn::State& st, size_t b) {
  const SeedCnnConfig& c = st.cfg;
  const size_t img = 3 * c.image * c.image, hw = st.P * st.P, act = c.batch * c.channels * hw;
  std::memcpy(st.xb.data(), st.images.data() + b * c.batch * img * st.elem, st.xb.bytes());
  std::memcpy(st.yb.data(), st.labels.data() + b * c.batch * st.elem, st.yb.bytes());
  T* a[3] = {at<T>(st.a1), at<T>(st.a2), at<T>(st.a3)};
  const T* in[3] = {at<T>(st.xb), a[0], a[1]};
  if (st.mixed()) to_bf16(st.xb, st.xb16);
  for (int l = 0; l < 3; ++l) {
    if (st.mode == TrainMode::F64) {
      conv_direct(l == 0 ? st.s1 : st.s2, ConvPass::Forward, const_cast<T*>(in[l]),
                  at<T>(st.param[2 * l]), a[l]);
    } else {
      if (st.mixed()) to_bf16(st.param[2 * l], st.w16[l]);  // the master weights, rounded
      DnnlConv& f = *st.f32[l];
      f.reorder_in();  // the weights, changed by the last step
      f.run();
    }
    add_bias(a[l], at<T>(st.param[2 * l + 1]), c.batch, c.channels, hw, c.nhwc);
    if (st.mixed() && l < 2) to_bf16(l == 0 ? st.a1 : st.a2, l == 0 ? st.a1_16 : st.a2_16);
  }
  (void)act;
  gemv(a[2], c.batch, st.F, at<T>(st.param[6]), at<T>(st.z), false);
  const T bd = at<T>(st.param[7])[0];
  for (size_t i = 0; i < c.batch; ++i) at<T>(st.z)[i] += bd;
}

// the batch's loss, and every gradient into st.grad
template <class T>
double backward(SeedCnn::State& st, size_t b) {
  const SeedCnnConfig& c = st.cfg;
  const size_t hw = st.P * st.P;
  forward<T>(st, b);
  const double loss = bce_with_logits(at<T>(st.z), at<T>(st.yb), c.batch, at<T>(st.dz));
  // the dense layer: dwd = a3^T dz, dbd = sum dz, da3 = dz wd^T
  gemv(at<T>(st.a3), c.batch, st.F, at<T>(st.dz), at<T>(st.grad[6]), true);
  double sum = 0;
  for (size_t i = 0; i < c.batch; ++i) sum += static_cast<double>(at<T>(st.dz)[i]);
  at<T>(st.grad[7])[0] = static_cast<T>(sum);
  const T* wd = at<T>(st.param[6]);
  T* da3 = at<T>(st.da3);
#pragma omp parallel for collapse(2) schedule(static)
  for (size_t i = 0; i < c.batch; ++i)
    for (size_t f = 0; f < st.F; ++f) da3[i * st.F + f] = at<T>(st.dz)[i] * wd[f];
  // the convolutions, last first: each one's bias and weights, then what reaches its input
  T* x[3] = {at<T>(st.xb), at<T>(st.a1), at<T>(st.a2)};
  T* d[3] = {at<T>(st.da1), at<T>(st.da2), at<T>(st.da3)};
  for (int l = 2; l >= 0; --l) {
    bias_grad(d[l], at<T>(st.grad[2 * l + 1]), c.batch, c.channels, hw, c.nhwc);
    if (st.mixed())
      to_bf16(l == 2 ? st.da3 : l == 1 ? st.da2 : st.da1,
              l == 2 ? st.da3_16 : l == 1 ? st.da2_16 : st.da1_16);
    const ConvShape& s = l == 0 ? st.s1 : st.s2;
    if (st.mode == TrainMode::F64) {
      conv_direct(s, ConvPass::BackwardWeights, x[l], at<T>(st.grad[2 * l]), d[l]);
      if (l > 0) conv_direct(s, ConvPass::BackwardData, d[l - 1], at<T>(st.param[2 * l]), d[l]);
    } else {
      // f32 holds f1 f2 f3, then per layer 2, 1 its bwd_weights and bwd_data, then bw1
      DnnlConv& bw = *st.f32[l == 2 ? 3 : l == 1 ? 5 : 7];
      bw.reorder_in();
      bw.run();
      bw.reorder_out();
      if (l > 0) {
        DnnlConv& bd = *st.f32[l == 2 ? 4 : 6];
        bd.reorder_in();
        bd.run();
        bd.reorder_out();
      }
    }
  }
  return loss;
}

template <class T>
void adam(SeedCnn::State& st) {
  ++st.t;
  for (size_t p = 0; p < st.param.size(); ++p)
    adam_step(at<T>(st.param[p]), at<T>(st.grad[p]), at<T>(st.m[p]), at<T>(st.v[p]), st.n(p),
              st.adam, st.t);
}
}  // namespace

SeedCnn::SeedCnn(const SeedCnnConfig& cfg, TrainMode mode) : st_(std::make_unique<State>()) {
  const std::string why = cfg.invalid();
  if (!why.empty()) throw std::invalid_argument("the seed CNN cannot be trained so: " + why);
  if (mode == TrainMode::F64 && cfg.nhwc)
    throw std::invalid_argument("the fp64 trainer is NCHW only (its loops are)");
  State& st = *st_;
  st.cfg = cfg, st.mode = mode;
  st.elem = mode == TrainMode::F64 ? 8 : 4;
#if defined(__x86_64__)
  // without them oneDNN has only its reference loops for bf16: a rate of oneDNN, not the CPU
  if (mode == TrainMode::Bf16Mixed && !__builtin_cpu_supports("avx512bf16") &&
      !__builtin_cpu_supports("amx-bf16"))
    throw Unsupported("bf16-mixed training needs AVX512-BF16 or AMX here");
#endif
  const size_t H = cfg.image, C = cfg.channels, B = cfg.batch;
  st.P = H - 1, st.F = C * st.P * st.P;
  st.s1 = {B, 3, H, H, C, 2, 2, 1, 0, 1};
  st.s2 = {B, C, st.P, st.P, C, 1, 1, 1, 0, 1};
  const size_t img = 3 * H * H, act = B * C * st.P * st.P, e = st.elem;
  st.images = Buffer<char>(cfg.images * img * e);
  st.labels = Buffer<char>(cfg.images * e);
  st.xb = Buffer<char>(B * img * e), st.yb = Buffer<char>(B * e);
  for (Buffer<char>* b : {&st.a1, &st.a2, &st.a3, &st.da1, &st.da2, &st.da3})
    *b = Buffer<char>(act * e);
  st.z = Buffer<char>(B * e), st.dz = Buffer<char>(B * e);
  const Dtype dt = mode == TrainMode::F64 ? Dtype::f64 : Dtype::f32;
  const uint64_t sd = 4 * cfg.seed;
  // images uniform in [0, 1) by their NCHW index, stored in the layout; labels 0 or 1
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < cfg.images; ++i)
    for (size_t ch = 0; ch < 3; ++ch)
      for (size_t h = 0; h < H; ++h)
        for (size_t w = 0; w < H; ++w) {
          const size_t logical = ((i * 3 + ch) * H + h) * H + w;
          const size_t stored = i * img + (cfg.nhwc ? (h * H + w) * 3 + ch : (ch * H + h) * H + w);
          store_value(dt, uniform_at(kSeedImages + sd, logical, 0.0, 1.0), st.images.data(),
                      stored);
        }
  for (size_t i = 0; i < cfg.images; ++i)
    store_value(dt, uniform_at(kSeedLabels + sd, i, 0.0, 1.0) < 0.5 ? 0.0 : 1.0,
                st.labels.data(), i);
  // Keras's defaults: glorot-uniform kernels (limit sqrt(6 / (fan_in + fan_out))), zero biases
  const size_t counts[8] = {C * 12, C, C * C, C, C * C, C, st.F, 1};
  const double limits[8] = {std::sqrt(6.0 / (12 + 4 * C)), 0, std::sqrt(6.0 / (2 * C)), 0,
                            std::sqrt(6.0 / (2 * C)), 0, std::sqrt(6.0 / (st.F + 1)), 0};
  const Index ix{C, st.P, cfg.nhwc};
  for (size_t t = 0; t < 8; ++t) {
    st.param.emplace_back(counts[t] * e), st.grad.emplace_back(counts[t] * e);
    st.m.emplace_back(counts[t] * e), st.v.emplace_back(counts[t] * e);
    std::memset(st.m.back().data(), 0, st.m.back().bytes());
    std::memset(st.v.back().data(), 0, st.v.back().bytes());
    for (size_t i = 0; i < counts[t]; ++i)
      store_value(dt, limits[t] * uniform_at(kSeedWeights + sd + 16 * t, i), st.param[t].data(),
                  ix.stored(t, i));
  }
  if (mode == TrainMode::Bf16Mixed) {
    st.xb16 = Buffer<char>(B * img * 2);
    for (Buffer<char>* b : {&st.a1_16, &st.a2_16, &st.da1_16, &st.da2_16, &st.da3_16})
      *b = Buffer<char>(act * 2);
    for (int l = 0; l < 3; ++l) st.w16[l] = Buffer<char>(counts[2 * l] * 2);
  }
  if (mode != TrainMode::F64) {
    const ConvLayout lay = cfg.nhwc ? ConvLayout::Nhwc : ConvLayout::Nchw;
    const bool mixed = mode == TrainMode::Bf16Mixed;
    const Precision p = mixed ? Precision{Dtype::bf16, Dtype::bf16, Dtype::f32, Dtype::f32}
                              : Precision{Dtype::f32, Dtype::f32, Dtype::f32, Dtype::f32};
    // a convolution's inputs: bf16 copies in bf16-mixed, the f32 tensors themselves otherwise
    auto in = [mixed](Buffer<char>& f32, Buffer<char>& bf16) -> Buffer<char>& {
      return mixed ? bf16 : f32;
    };
    auto make = [&](const ConvShape& s, ConvPass pass, Buffer<char>& x, Buffer<char>& w,
                    Buffer<char>& y) {
      // the reference loops too where oneDNN has nothing faster (a small channel count)
      st.f32.push_back(std::make_unique<DnnlConv>(s, pass, lay, p, x.data(), w.data(), y.data(),
                                                  true));
    };
    Buffer<char>&x = in(st.xb, st.xb16), &a1 = in(st.a1, st.a1_16), &a2 = in(st.a2, st.a2_16);
    Buffer<char>&w1 = in(st.param[0], st.w16[0]), &w2 = in(st.param[2], st.w16[1]),
                &w3 = in(st.param[4], st.w16[2]);
    Buffer<char>&d1 = in(st.da1, st.da1_16), &d2 = in(st.da2, st.da2_16),
                &d3 = in(st.da3, st.da3_16);
    make(st.s1, ConvPass::Forward, x, w1, st.a1);
    make(st.s2, ConvPass::Forward, a1, w2, st.a2);
    make(st.s2, ConvPass::Forward, a2, w3, st.a3);
    make(st.s2, ConvPass::BackwardWeights, a2, st.grad[4], d3);
    make(st.s2, ConvPass::BackwardData, st.da2, w3, d3);
    make(st.s2, ConvPass::BackwardWeights, a1, st.grad[2], d2);
    make(st.s2, ConvPass::BackwardData, st.da1, w2, d2);
    make(st.s1, ConvPass::BackwardWeights, x, st.grad[0], d1);
  }
}
SeedCnn::~SeedCnn() = default;

size_t SeedCnn::steps_per_epoch() const { return st_->cfg.images / st_->cfg.batch; }

double SeedCnn::step(size_t b) {
  State& st = *st_;
  double loss;
  if (st.mode == TrainMode::F64) {
    loss = backward<double>(st, b);
    adam<double>(st);
  } else {
    loss = backward<float>(st, b);
    adam<float>(st);
  }
  return loss;
}

double SeedCnn::gradients(size_t b, std::vector<std::vector<double>>* grads) {
  State& st = *st_;
  const double loss = st.mode == TrainMode::F64 ? backward<double>(st, b) : backward<float>(st, b);
  const Dtype dt = st.mode == TrainMode::F64 ? Dtype::f64 : Dtype::f32;
  const Index ix{st.cfg.channels, st.P, st.cfg.nhwc};
  grads->assign(st.grad.size(), {});
  for (size_t t = 0; t < st.grad.size(); ++t)
    for (size_t i = 0; i < st.n(t); ++i)
      (*grads)[t].push_back(load_value(dt, st.grad[t].data(), ix.stored(t, i)));
  return loss;
}

std::vector<std::vector<double>> SeedCnn::parameters() const {
  const State& st = *st_;
  const Dtype dt = st.mode == TrainMode::F64 ? Dtype::f64 : Dtype::f32;
  const Index ix{st.cfg.channels, st.P, st.cfg.nhwc};
  std::vector<std::vector<double>> out(st.param.size());
  for (size_t t = 0; t < st.param.size(); ++t)
    for (size_t i = 0; i < st.n(t); ++i)
      out[t].push_back(load_value(dt, st.param[t].data(), ix.stored(t, i)));
  return out;
}

void SeedCnn::set_parameter(size_t t, size_t i, double v) {
  State& st = *st_;
  const Index ix{st.cfg.channels, st.P, st.cfg.nhwc};
  store_value(st.mode == TrainMode::F64 ? Dtype::f64 : Dtype::f32, v, st.param.at(t).data(),
              ix.stored(t, i));
}

double SeedCnn::accuracy() {
  State& st = *st_;
  size_t right = 0;
  const Dtype dt = st.mode == TrainMode::F64 ? Dtype::f64 : Dtype::f32;
  for (size_t b = 0; b < steps_per_epoch(); ++b) {
    st.mode == TrainMode::F64 ? forward<double>(st, b) : forward<float>(st, b);
    for (size_t i = 0; i < st.cfg.batch; ++i)
      right += (load_value(dt, st.z.data(), i) > 0) == (load_value(dt, st.yb.data(), i) > 0.5);
  }
  return static_cast<double>(right) / static_cast<double>(st.cfg.images);
}

double SeedCnn::flops_per_step() const {
  const State& st = *st_;
  const double conv1 = st.s1.useful_flops(), conv2 = st.s2.useful_flops();
  const double dense = 2.0 * static_cast<double>(st.cfg.batch) * static_cast<double>(st.F);
  // forward: the three layers; backward: every layer's weights, and the data of the 1x1 two
  return (conv1 + 2 * conv2) + (conv1 + 2 * conv2) + 2 * conv2 + 3 * dense;
}

size_t SeedCnn::parameter_bytes() const {
  size_t b = 0;
  for (const auto& p : st_->param) b += p.bytes();
  return b;
}

std::string SeedCnn::implementations() const {
  std::set<std::string> seen;
  for (const auto& c : st_->f32) seen.insert(c->impl());
  std::string out;
  for (const std::string& s : seen) out += (out.empty() ? "" : " ") + s;
  return out;
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
