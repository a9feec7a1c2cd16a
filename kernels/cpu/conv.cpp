#include "kernels/cpu/conv.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "dtypebench/fill.hpp"

#ifdef DTYPEBENCH_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace dtypebench {
namespace {
constexpr uint64_t kSeedX = 301, kSeedW = 302, kSeedY = 303;  // 3 seeds a problem
}  // namespace

size_t ConvShape::p() const { return (h + 2 * pad - dilation * (r - 1) - 1) / stride + 1; }
size_t ConvShape::q() const { return (w + 2 * pad - dilation * (s - 1) - 1) / stride + 1; }
double ConvShape::flops() const {
  return 2.0 * static_cast<double>(n) * k * c * r * s * static_cast<double>(p()) * q();
}
double ConvShape::useful_flops() const {
  // the valid taps of one spatial dimension, summed over its outputs
  auto taps = [this](size_t in, size_t out, size_t filter) {
    size_t v = 0;
    for (size_t o = 0; o < out; ++o)
      for (size_t t = 0; t < filter; ++t) {
        const long at = static_cast<long>(o * stride + t * dilation) - static_cast<long>(pad);
        v += at >= 0 && at < static_cast<long>(in);
      }
    return static_cast<double>(v);
  };
  return 2.0 * static_cast<double>(n) * k * c * taps(h, p(), r) * taps(w, q(), s);
}
std::string ConvShape::invalid() const {
  if (!n || !c || !h || !w || !k || !r || !s || !stride || !dilation) return "a dimension of 0";
  if (h + 2 * pad < dilation * (r - 1) + 1 || w + 2 * pad < dilation * (s - 1) + 1)
    return "the filter is wider than the padded input";
  return "";
}

ConvTensor conv_output(ConvPass pass) {
  return pass == ConvPass::Forward        ? ConvTensor::Y
         : pass == ConvPass::BackwardData ? ConvTensor::X
                                          : ConvTensor::W;
}
size_t conv_terms(const ConvShape& s, ConvPass pass) {
  return pass == ConvPass::Forward        ? s.c * s.r * s.s
         : pass == ConvPass::BackwardData ? s.k * s.r * s.s
                                          : s.n * s.p() * s.q();
}

ConvProblem::ConvProblem(const ConvShape& shape, ConvPass ps, ConvLayout l, const Precision& pc,
                         uint64_t sd, bool ints)
    : s(shape),
      pass(ps),
      layout(l),
      prec(pc),
      x(shape.n * shape.c * shape.h * shape.w *
        dtype_bytes(conv_output(ps) == ConvTensor::X ? pc.out : pc.a)),
      w(shape.k * shape.c * shape.r * shape.s *
        dtype_bytes(conv_output(ps) == ConvTensor::W ? pc.out : pc.a)),
      y(shape.n * shape.k * shape.p() * shape.q() *
        dtype_bytes(conv_output(ps) == ConvTensor::Y ? pc.out : pc.a)),
      seed(sd),
      integers(ints) {
  const std::string why = s.invalid();
  if (!why.empty()) throw std::invalid_argument("not a convolution: " + why);
  const ConvTensor out = conv_output(ps);
  // each input by its NCHW (KCRS) index, stored at its place in the layout
  auto fill = [&](ConvTensor t, size_t d0, size_t d1, size_t d2, size_t d3, Buffer<char>& buf) {
    if (t == out) return;
#pragma omp parallel for collapse(2) schedule(static)
    for (size_t a = 0; a < d0; ++a)
      for (size_t b = 0; b < d1; ++b)
        for (size_t c = 0; c < d2; ++c)
          for (size_t d = 0; d < d3; ++d) {
            const size_t at = t == ConvTensor::X   ? x_at(a, b, c, d)
                              : t == ConvTensor::W ? w_at(a, b, c, d)
                                                   : y_at(a, b, c, d);
            store_value(prec.a, real(t, ((a * d1 + b) * d2 + c) * d3 + d), buf.data(), at);
          }
  };
  fill(ConvTensor::X, s.n, s.c, s.h, s.w, x);
  fill(ConvTensor::W, s.k, s.c, s.r, s.s, w);
  fill(ConvTensor::Y, s.n, s.k, s.p(), s.q(), y);
  poison_output();
}

double ConvProblem::real(ConvTensor t, size_t i) const {
  const uint64_t base = t == ConvTensor::X ? kSeedX : t == ConvTensor::W ? kSeedW : kSeedY;
  const double u = uniform_at(base + 3 * seed, i);
  return integers ? std::round(3 * u) : u;
}

size_t ConvProblem::x_at(size_t n, size_t c, size_t h, size_t w_) const {
  return layout == ConvLayout::Nhwc ? ((n * s.h + h) * s.w + w_) * s.c + c
                                    : ((n * s.c + c) * s.h + h) * s.w + w_;
}
size_t ConvProblem::w_at(size_t k, size_t c, size_t r, size_t t) const {
  return layout == ConvLayout::Nhwc ? ((k * s.r + r) * s.s + t) * s.c + c
                                    : ((k * s.c + c) * s.r + r) * s.s + t;
}
size_t ConvProblem::y_at(size_t n, size_t k, size_t p, size_t q) const {
  return layout == ConvLayout::Nhwc ? ((n * s.p() + p) * s.q() + q) * s.k + k
                                    : ((n * s.k + k) * s.p() + p) * s.q() + q;
}
Buffer<char>& ConvProblem::output() {
  const ConvTensor o = conv_output(pass);
  return o == ConvTensor::X ? x : o == ConvTensor::W ? w : y;
}
void ConvProblem::poison_output() {
  Buffer<char>& o = output();  // 0xff bytes: NaN in every float type
  std::memset(o.data(), 0xff, o.bytes());
}
double ConvProblem::min_bytes() const {
  return static_cast<double>(x.bytes() + w.bytes() + y.bytes());
}

ProductErrors check_conv(const ConvProblem& pr, size_t outputs) {
  const ConvShape& s = pr.s;
  const size_t P = s.p(), Q = s.q();
  const ConvTensor out = conv_output(pr.pass);
  const Dtype in = pr.prec.a;
  const size_t total = out == ConvTensor::Y   ? s.n * s.k * P * Q
                       : out == ConvTensor::X ? s.n * s.c * s.h * s.w
                                              : s.k * s.c * s.r * s.s;
  outputs = std::min(outputs, total);
  // an input's stored value (rounded) and its value before rounding, by its NCHW coordinates
  auto xv = [&](size_t n, size_t c, size_t h, size_t w_, double* real) {
    *real = pr.real(ConvTensor::X, ((n * s.c + c) * s.h + h) * s.w + w_);
    return load_value(in, pr.x.data(), pr.x_at(n, c, h, w_));
  };
  auto wv = [&](size_t k, size_t c, size_t r, size_t t, double* real) {
    *real = pr.real(ConvTensor::W, ((k * s.c + c) * s.r + r) * s.s + t);
    return load_value(in, pr.w.data(), pr.w_at(k, c, r, t));
  };
  auto yv = [&](size_t n, size_t k, size_t p, size_t q, double* real) {
    *real = pr.real(ConvTensor::Y, ((n * s.k + k) * P + p) * Q + q);
    return load_value(in, pr.y.data(), pr.y_at(n, k, p, q));
  };
  // the input row (or column) of the filter tap: h = p*stride - pad + r*dilation, or none
  auto tap = [&](size_t o, size_t r, size_t size, size_t* at) {
    const long v = static_cast<long>(o * s.stride + r * s.dilation) - static_cast<long>(s.pad);
    if (v < 0 || v >= static_cast<long>(size)) return false;
    *at = static_cast<size_t>(v);
    return true;
  };
  ProductCheck all(pr.prec, conv_terms(s, pr.pass));
#pragma omp parallel
  {
    ProductCheck mine(pr.prec, conv_terms(s, pr.pass));
#pragma omp for schedule(dynamic, 4)
    for (size_t j = 0; j < outputs; ++j) {
      const size_t e = outputs == total ? j : (j * total) / outputs + (total / outputs) / 2;
      DotReference ref;
      double ar = 0, br = 0;
      char where[64];
      double got = 0;
      if (out == ConvTensor::Y) {
        const size_t q = e % Q, p = e / Q % P, k = e / (P * Q) % s.k, n = e / (P * Q * s.k);
        for (size_t c = 0; c < s.c; ++c)
          for (size_t r = 0; r < s.r; ++r)
            for (size_t t = 0; t < s.s; ++t) {
              size_t h, w_;
              if (!tap(p, r, s.h, &h) || !tap(q, t, s.w, &w_)) continue;
              const double a = xv(n, c, h, w_, &ar), b = wv(k, c, r, t, &br);
              ref.add(a, b, ar, br);
            }
        std::snprintf(where, sizeof where, "y[%zu,%zu,%zu,%zu]", n, k, p, q);
        got = load_value(pr.prec.out, pr.y.data(), pr.y_at(n, k, p, q));
      } else if (out == ConvTensor::X) {
        const size_t w_ = e % s.w, h = e / s.w % s.h, c = e / (s.h * s.w) % s.c,
                     n = e / (s.h * s.w * s.c);
        for (size_t k = 0; k < s.k; ++k)
          for (size_t r = 0; r < s.r; ++r)
            for (size_t t = 0; t < s.s; ++t) {
              // the outputs p whose tap r lands on h: p*stride = h + pad - r*dilation
              const long hp = static_cast<long>(h + s.pad) - static_cast<long>(r * s.dilation);
              const long wq = static_cast<long>(w_ + s.pad) - static_cast<long>(t * s.dilation);
              if (hp < 0 || wq < 0 || hp % static_cast<long>(s.stride) ||
                  wq % static_cast<long>(s.stride))
                continue;
              const size_t p = static_cast<size_t>(hp) / s.stride,
                           q = static_cast<size_t>(wq) / s.stride;
              if (p >= P || q >= Q) continue;
              const double a = yv(n, k, p, q, &ar), b = wv(k, c, r, t, &br);
              ref.add(a, b, ar, br);
            }
        std::snprintf(where, sizeof where, "dx[%zu,%zu,%zu,%zu]", n, c, h, w_);
        got = load_value(pr.prec.out, pr.x.data(), pr.x_at(n, c, h, w_));
      } else {
        const size_t t = e % s.s, r = e / s.s % s.r, c = e / (s.s * s.r) % s.c,
                     k = e / (s.s * s.r * s.c);
        for (size_t n = 0; n < s.n; ++n)
          for (size_t p = 0; p < P; ++p)
            for (size_t q = 0; q < Q; ++q) {
              size_t h, w_;
              if (!tap(p, r, s.h, &h) || !tap(q, t, s.w, &w_)) continue;
              const double a = xv(n, c, h, w_, &ar), b = yv(n, k, p, q, &br);
              ref.add(a, b, ar, br);
            }
        std::snprintf(where, sizeof where, "dw[%zu,%zu,%zu,%zu]", k, c, r, t);
        got = load_value(pr.prec.out, pr.w.data(), pr.w_at(k, c, r, t));
      }
      mine.check(ref, got, where);
    }
#pragma omp critical
    all.merge(mine);
  }
  return all.result();
}

namespace cpu {

template <class T>
void conv_direct(const ConvShape& s, ConvPass pass, T* x, T* w, T* y) {
  const long P = static_cast<long>(s.p()), Q = static_cast<long>(s.q());
  const long H = static_cast<long>(s.h), W = static_cast<long>(s.w);
  const long st = static_cast<long>(s.stride), pad = static_cast<long>(s.pad),
             dil = static_cast<long>(s.dilation);
  auto xi = [&](size_t n, size_t c, long h, long v) { return ((n * s.c + c) * s.h + h) * s.w + v; };
  auto wi = [&](size_t k, size_t c, size_t r, size_t t) { return ((k * s.c + c) * s.r + r) * s.s + t; };
  auto yi = [&](size_t n, size_t k, long p, long q) { return ((n * s.k + k) * P + p) * Q + q; };
  // every (output, tap) pair, grouped by what the pass writes so each output has one writer
  auto taps = [&](size_t n, size_t k, size_t c, auto&& add) {
    for (long p = 0; p < P; ++p)
      for (size_t r = 0; r < s.r; ++r) {
        const long h = p * st - pad + static_cast<long>(r) * dil;
        if (h < 0 || h >= H) continue;
        for (long q = 0; q < Q; ++q)
          for (size_t t = 0; t < s.s; ++t) {
            const long v = q * st - pad + static_cast<long>(t) * dil;
            if (v >= 0 && v < W) add(xi(n, c, h, v), wi(k, c, r, t), yi(n, k, p, q));
          }
      }
  };
  if (pass == ConvPass::Forward) {
    std::fill(y, y + s.n * s.k * P * Q, T(0));
#pragma omp parallel for collapse(2) schedule(static)
    for (size_t n = 0; n < s.n; ++n)
      for (size_t k = 0; k < s.k; ++k)
        for (size_t c = 0; c < s.c; ++c)
          taps(n, k, c, [&](size_t a, size_t b, size_t o) { y[o] += x[a] * w[b]; });
  } else if (pass == ConvPass::BackwardData) {
    std::fill(x, x + s.n * s.c * s.h * s.w, T(0));
#pragma omp parallel for collapse(2) schedule(static)
    for (size_t n = 0; n < s.n; ++n)
      for (size_t c = 0; c < s.c; ++c)
        for (size_t k = 0; k < s.k; ++k)
          taps(n, k, c, [&](size_t a, size_t b, size_t o) { x[a] += y[o] * w[b]; });
  } else {
    std::fill(w, w + s.k * s.c * s.r * s.s, T(0));
#pragma omp parallel for collapse(2) schedule(static)
    for (size_t k = 0; k < s.k; ++k)
      for (size_t c = 0; c < s.c; ++c)
        for (size_t n = 0; n < s.n; ++n)
          taps(n, k, c, [&](size_t a, size_t b, size_t o) { w[b] += x[a] * y[o]; });
  }
}
template void conv_direct<double>(const ConvShape&, ConvPass, double*, double*, double*);
template void conv_direct<float>(const ConvShape&, ConvPass, float*, float*, float*);

#ifdef DTYPEBENCH_HAVE_ONEDNN
namespace {
// A blocked layout in oneDNN's own spelling (nChw16c, OIhw16i16o): the dimensions outermost
// first by stride, upper case where a block of it is inner, then the inner blocks
std::string tag_of(const dnnl::memory::desc& md, const char* letters) {
  const dnnl_memory_desc_t& d = md.data;
  if (d.format_kind != dnnl_blocked) return "?";
  const dnnl_blocking_desc_t& b = d.format_desc.blocking;
  std::vector<int> order(static_cast<size_t>(d.ndims));
  for (int i = 0; i < d.ndims; ++i) order[static_cast<size_t>(i)] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](int x, int y) { return b.strides[x] > b.strides[y]; });
  std::string out;
  for (int i : order) {
    bool blocked = false;
    for (int j = 0; j < b.inner_nblks; ++j) blocked |= b.inner_idxs[j] == i;
    out += blocked ? static_cast<char>(letters[i] - 'a' + 'A') : letters[i];
  }
  for (int j = 0; j < b.inner_nblks; ++j)
    out += std::to_string(b.inner_blks[j]) + letters[b.inner_idxs[j]];
  return out;
}
}  // namespace

struct DnnlConv::State {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  dnnl::primitive prim;
  std::unordered_map<int, dnnl::memory> args;
  std::vector<std::pair<dnnl::reorder, std::pair<dnnl::memory, dnnl::memory>>> in, out;
  Buffer<char> scratch;
  std::vector<Buffer<char>> blocked;  // the tensors in the primitive's layout (reordered)
  std::string impl, tags;
};

DnnlConv::DnnlConv(ConvProblem& pr, bool reference)
    : DnnlConv(pr.s, pr.pass, pr.layout, pr.prec, pr.x.data(), pr.w.data(), pr.y.data(),
               reference) {}

DnnlConv::DnnlConv(const ConvShape& s, ConvPass pass, ConvLayout layout, const Precision& prec,
                   void* xbuf, void* wbuf, void* ybuf, bool reference)
    : st_(std::make_unique<State>()) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  using dims = dnnl::memory::dims;
  if ((prec.a != Dtype::f32 && prec.a != Dtype::bf16 && prec.a != Dtype::f16) ||
      prec.acc != Dtype::f32 || prec.out != Dtype::f32)
    throw Unsupported("oneDNN has no " + prec.name() + " convolution");
#if defined(__x86_64__)
  if (prec.a == Dtype::f16 && !__builtin_cpu_supports("avx512fp16"))
    throw Unsupported("oneDNN's f16 convolution needs AVX512-FP16, which this CPU lacks");
#endif
  const dt in = prec.a == Dtype::f32 ? dt::f32 : prec.a == Dtype::bf16 ? dt::bf16 : dt::f16;
  const ConvTensor o = conv_output(pass);
  auto d = [](size_t v) { return static_cast<dnnl::memory::dim>(v); };
  const dims xd{d(s.n), d(s.c), d(s.h), d(s.w)}, wd{d(s.k), d(s.c), d(s.r), d(s.s)},
      yd{d(s.n), d(s.k), d(s.p()), d(s.q())};
  const bool blocked = layout == ConvLayout::Blocked;
  const tag act = layout == ConvLayout::Nhwc ? tag::nhwc : tag::nchw;
  const tag wt = layout == ConvLayout::Nhwc ? tag::ohwi : tag::oihw;
  // the weights are the primitive's choice in every layout (a framework reorders them once and
  // keeps them, as PyTorch's oneDNN path and benchdnn do); the activations are the user's layout
  // but for Blocked
  auto md = [&](const dims& dd, ConvTensor t, tag user) {
    return dnnl::memory::desc(dd, o == t ? dt::f32 : in,
                              blocked || t == ConvTensor::W ? tag::any : user);
  };
  const auto x_md = md(xd, ConvTensor::X, act), w_md = md(wd, ConvTensor::W, wt),
             y_md = md(yd, ConvTensor::Y, act);
  // oneDNN's dilation counts the gaps (0: none); the right padding makes P and Q come out exact
  const dims strides{d(s.stride), d(s.stride)}, dil{d(s.dilation - 1), d(s.dilation - 1)},
      pad_l{d(s.pad), d(s.pad)},
      pad_r{d((s.p() - 1) * s.stride + s.dilation * (s.r - 1) + 1 - s.h - s.pad),
            d((s.q() - 1) * s.stride + s.dilation * (s.s - 1) + 1 - s.w - s.pad)};
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // so its bytes are ours to count
  const auto algo = dnnl::algorithm::convolution_direct;
  dnnl::memory::desc xp, wp, yp, sp;  // the primitive's descs
  // the backward passes take a forward hint over the same tensors, in the input type
  auto hint = [&] {
    return dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(
            dnnl::prop_kind::forward_training, algo,
            dnnl::memory::desc(xd, in, blocked ? tag::any : act),
            dnnl::memory::desc(wd, in, tag::any),
            dnnl::memory::desc(yd, in, blocked ? tag::any : act), strides, dil, pad_l, pad_r),
        st_->eng);
  };
  try {
    if (pass == ConvPass::Forward) {
      const dnnl::convolution_forward::primitive_desc pd(
          dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, algo, x_md, w_md, y_md,
                                          strides, dil, pad_l, pad_r),
          attr, st_->eng);
      xp = pd.src_desc(), wp = pd.weights_desc(), yp = pd.dst_desc(), sp = pd.scratchpad_desc();
      st_->impl = pd.impl_info_str();
      st_->prim = dnnl::convolution_forward(pd);
    } else if (pass == ConvPass::BackwardData) {
      const dnnl::convolution_backward_data::primitive_desc pd(
          dnnl::convolution_backward_data::desc(algo, x_md, w_md, y_md, strides, dil, pad_l,
                                                pad_r),
          attr, st_->eng, hint());
      xp = pd.diff_src_desc(), wp = pd.weights_desc(), yp = pd.diff_dst_desc();
      sp = pd.scratchpad_desc();
      st_->impl = pd.impl_info_str();
      st_->prim = dnnl::convolution_backward_data(pd);
    } else {
      const dnnl::convolution_backward_weights::primitive_desc pd(
          dnnl::convolution_backward_weights::desc(algo, x_md, w_md, y_md, strides, dil, pad_l,
                                                   pad_r),
          attr, st_->eng, hint());
      xp = pd.src_desc(), wp = pd.diff_weights_desc(), yp = pd.diff_dst_desc();
      sp = pd.scratchpad_desc();
      st_->impl = pd.impl_info_str();
      st_->prim = dnnl::convolution_backward_weights(pd);
    }
  } catch (const dnnl::error& e) {
    throw Unsupported("oneDNN cannot make a " + prec.name() + " convolution here: " + e.what());
  }
  if (!reference && st_->impl.rfind("ref", 0) == 0)
    throw Unsupported("oneDNN has only its reference implementation for a " + prec.name() +
                      " convolution here");
  st_->scratch = Buffer<char>(sp.get_size());
  st_->args[DNNL_ARG_SCRATCHPAD] = dnnl::memory(sp, st_->eng, st_->scratch.data());
  const int xa = pass == ConvPass::BackwardData ? DNNL_ARG_DIFF_SRC : DNNL_ARG_SRC;
  const int wa = pass == ConvPass::BackwardWeights ? DNNL_ARG_DIFF_WEIGHTS : DNNL_ARG_WEIGHTS;
  const int ya = pass == ConvPass::Forward ? DNNL_ARG_DST : DNNL_ARG_DIFF_DST;
  auto bind = [&](int arg, const dnnl::memory::desc& prim_md, const dims& dd, tag user,
                  ConvTensor t, void* buf) {
    if (!blocked && t != ConvTensor::W) {
      st_->args[arg] = dnnl::memory(prim_md, st_->eng, buf);
      return;
    }
    const dnnl::memory user_mem(dnnl::memory::desc(dd, o == t ? dt::f32 : in, user), st_->eng,
                                buf);
    st_->blocked.emplace_back(prim_md.get_size());
    const dnnl::memory prim_mem(prim_md, st_->eng, st_->blocked.back().data());
    st_->args[arg] = prim_mem;
    if (o == t)
      st_->out.push_back({dnnl::reorder(prim_mem, user_mem), {prim_mem, user_mem}});
    else
      st_->in.push_back({dnnl::reorder(user_mem, prim_mem), {user_mem, prim_mem}});
    st_->tags += std::string(st_->tags.empty() ? "" : " ") +
                 (t == ConvTensor::X ? "x:" : t == ConvTensor::W ? "w:" : "y:") +
                 tag_of(prim_md, t == ConvTensor::W ? "oihw" : "nchw");
  };
  st_->blocked.reserve(3);  // the memories point into them
  bind(xa, xp, xd, act, ConvTensor::X, xbuf);
  bind(wa, wp, wd, wt, ConvTensor::W, wbuf);
  bind(ya, yp, yd, act, ConvTensor::Y, ybuf);
}

void DnnlConv::run() {
  st_->prim.execute(st_->strm, st_->args);
  st_->strm.wait();
}
void DnnlConv::reorder_in() {
  for (auto& [r, m] : st_->in) r.execute(st_->strm, m.first, m.second);
  st_->strm.wait();
}
void DnnlConv::reorder_out() {
  for (auto& [r, m] : st_->out) r.execute(st_->strm, m.first, m.second);
  st_->strm.wait();
}
size_t DnnlConv::scratchpad_bytes() const { return st_->scratch.bytes(); }
size_t DnnlConv::blocked_bytes() const {
  size_t b = 0;
  for (const auto& buf : st_->blocked) b += buf.bytes();
  return b;
}
#else
struct DnnlConv::State {
  std::string impl, tags;
};
DnnlConv::DnnlConv(ConvProblem&, bool) {
  throw Unsupported("built without oneDNN (install libdnnl-dev)");
}
DnnlConv::DnnlConv(const ConvShape&, ConvPass, ConvLayout, const Precision&, void*, void*, void*,
                   bool) {
  throw Unsupported("built without oneDNN (install libdnnl-dev)");
}
void DnnlConv::run() {}
void DnnlConv::reorder_in() {}
void DnnlConv::reorder_out() {}
size_t DnnlConv::scratchpad_bytes() const { return 0; }
size_t DnnlConv::blocked_bytes() const { return 0; }
#endif
DnnlConv::~DnnlConv() = default;
const std::string& DnnlConv::impl() const { return st_->impl; }
std::string DnnlConv::blocked_tags() const { return st_->tags; }

}  // namespace cpu
}  // namespace dtypebench
