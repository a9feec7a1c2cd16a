#include "kernels/cpu/gemm.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>

#include "dtypebench/dtypes.hpp"
#include "dtypebench/fill.hpp"

#ifdef DTYPEBENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif
#ifdef DTYPEBENCH_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace dtypebench {

GemmShape gemm_shape(size_t m, size_t n, size_t k, const std::string& layout) {
  if (layout.size() != 2 || (layout[0] != 'N' && layout[0] != 'T') ||
      (layout[1] != 'N' && layout[1] != 'T'))
    throw std::invalid_argument("unknown layout '" + layout + "' (NN, NT, TN or TT)");
  return {m, n, k, layout[0] == 'T', layout[1] == 'T'};
}

size_t dtype_bytes(Dtype d) { return static_cast<size_t>(info(d).storage_bits / 8); }

namespace {
struct Fp8Format {
  int mbits, bias;
  double max;
};
Fp8Format fp8_format(Dtype d) {
  if (d == Dtype::e4m3) return {3, 7, 448.0};
  if (d == Dtype::e5m2) return {2, 15, 57344.0};
  throw std::logic_error("not an 8-bit float");
}
}  // namespace

uint8_t fp8_encode(Dtype d, double v) {
  const Fp8Format f = fp8_format(d);
  const uint8_t sign = std::signbit(v) ? 0x80 : 0;
  if (std::isnan(v)) return d == Dtype::e4m3 ? 0x7f : 0x7e;
  double a = std::min(std::fabs(v), f.max);  // satfinite
  const int emin = 1 - f.bias;               // the smallest normal exponent
  int e = a > 0 ? std::max(static_cast<int>(std::floor(std::log2(a))), emin) : emin;
  const double q = std::ldexp(1.0, e - f.mbits);   // the spacing at a's binade
  a = std::min(std::nearbyint(a / q) * q, f.max);  // to nearest even (the default mode)
  if (a < std::ldexp(1.0, emin))                   // subnormal (or zero)
    return sign | static_cast<uint8_t>(std::nearbyint(a / std::ldexp(1.0, emin - f.mbits)));
  e = static_cast<int>(std::floor(std::log2(a)));
  const int mant = static_cast<int>(std::nearbyint((a / std::ldexp(1.0, e) - 1) * (1 << f.mbits)));
  return sign | static_cast<uint8_t>(((e + f.bias) << f.mbits) | mant);
}

double fp8_decode(Dtype d, uint8_t bits) {
  const Fp8Format f = fp8_format(d);
  const int ebits = 7 - f.mbits;
  const int E = (bits >> f.mbits) & ((1 << ebits) - 1), M = bits & ((1 << f.mbits) - 1);
  const double sign = (bits & 0x80) ? -1.0 : 1.0;
  if (d == Dtype::e4m3 && E == 15 && M == 7) return std::nan("");
  if (d == Dtype::e5m2 && E == 31) return M ? std::nan("") : sign * INFINITY;
  if (E == 0) return sign * std::ldexp(M, 1 - f.bias - f.mbits);
  return sign * std::ldexp(1.0 + static_cast<double>(M) / (1 << f.mbits), E - f.bias);
}

namespace {
template <class I>
I saturate(double v) {
  const double lo = static_cast<double>(std::numeric_limits<I>::min());
  const double hi = static_cast<double>(std::numeric_limits<I>::max());
  return static_cast<I>(std::min(std::max(std::nearbyint(v), lo), hi));
}
}  // namespace

void store_value(Dtype d, double v, void* p, size_t i) {
  switch (d) {
    case Dtype::f64:
      static_cast<double*>(p)[i] = v;
      return;
    case Dtype::f32:
    case Dtype::tf32:  // stored as f32; the engine rounds
      static_cast<float*>(p)[i] = static_cast<float>(v);
      return;
    case Dtype::f16:
      static_cast<half*>(p)[i] = store_as<half>(v);
      return;
    case Dtype::bf16:
      static_cast<bfloat16*>(p)[i] = store_as<bfloat16>(v);
      return;
    case Dtype::e4m3:
    case Dtype::e5m2:
      static_cast<uint8_t*>(p)[i] = fp8_encode(d, v);
      return;
    case Dtype::i8:
      static_cast<int8_t*>(p)[i] = saturate<int8_t>(v);
      return;
    case Dtype::u8:
      static_cast<uint8_t*>(p)[i] = saturate<uint8_t>(v);
      return;
    case Dtype::i32:
      static_cast<int32_t*>(p)[i] = saturate<int32_t>(v);
      return;
    default:
      throw Unsupported(std::string("no GEMM storage for ") + dtype_name(d));
  }
}

double load_value(Dtype d, const void* p, size_t i) {
  switch (d) {
    case Dtype::f64:
      return static_cast<const double*>(p)[i];
    case Dtype::f32:
    case Dtype::tf32:
      return static_cast<const float*>(p)[i];
    case Dtype::f16:
      return static_cast<float>(static_cast<const half*>(p)[i]);
    case Dtype::bf16:
      return static_cast<float>(static_cast<const bfloat16*>(p)[i]);
    case Dtype::e4m3:
    case Dtype::e5m2:
      return fp8_decode(d, static_cast<const uint8_t*>(p)[i]);
    case Dtype::i8:
      return static_cast<const int8_t*>(p)[i];
    case Dtype::u8:
      return static_cast<const uint8_t*>(p)[i];
    case Dtype::i32:
      return static_cast<const int32_t*>(p)[i];
    default:
      throw Unsupported(std::string("no GEMM storage for ") + dtype_name(d));
  }
}

namespace {
constexpr uint64_t kSeedA = 101, kSeedB = 202;
bool is_int(Dtype d) { return !is_float(d); }
size_t a_index(const GemmShape& s, size_t i, size_t p) { return s.ta ? p + i * s.k : i + p * s.m; }
size_t b_index(const GemmShape& s, size_t p, size_t j) { return s.tb ? j + p * s.n : p + j * s.k; }
}  // namespace

GemmProblem::GemmProblem(Precision p, GemmShape shape, uint64_t seed)
    : prec(p),
      s(shape),
      a(shape.m * shape.k * dtype_bytes(p.a)),
      b(shape.k * shape.n * dtype_bytes(p.b)),
      seed_a(kSeedA + 2 * seed),
      seed_b(kSeedB + 2 * seed) {
  // 8-bit integers: A in [-1, 1) to i8 (-127..127), B in [0, 1) to u8 (0..255) or i8 (0..127)
  if (is_int(p.a)) scale_a = 127;
  if (is_int(p.b)) scale_b = p.b == Dtype::u8 ? 255 : 127;
  const size_t na = s.m * s.k, nb = s.k * s.n;
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < na; ++i)
    store_value(p.a, uniform_at(seed_a, i, -1.0, 1.0) * scale_a, a.data(), i);
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < nb; ++i)
    store_value(p.b, uniform_at(seed_b, i, 0.0, 1.0) * scale_b, b.data(), i);
}

double GemmProblem::a_real(size_t i, size_t p) const {
  return uniform_at(seed_a, a_index(s, i, p), -1.0, 1.0);
}
double GemmProblem::b_real(size_t p, size_t j) const {
  return uniform_at(seed_b, b_index(s, p, j), 0.0, 1.0);
}
double GemmProblem::a_at(size_t i, size_t p) const {
  return load_value(prec.a, a.data(), a_index(s, i, p)) / scale_a;
}
double GemmProblem::b_at(size_t p, size_t j) const {
  return load_value(prec.b, b.data(), b_index(s, p, j)) / scale_b;
}
double GemmProblem::min_bytes() const {
  return static_cast<double>(a.bytes() + b.bytes() + c_bytes());
}

ErrorBound error_bound(const Precision& p, size_t k) {
  const double kd = static_cast<double>(k);
  ErrorBound b;
  b.out = is_float(p.out) ? unit_roundoff(p.out) : 0;
  b.abs = kd * 0x1p-53;
  if (!is_float(p.acc)) return b;  // integers with i32 accumulation are exact
  if (p.acc == Dtype::f16) {
    b.walk = 8 * unit_roundoff(Dtype::f16);
  } else if (p.a == Dtype::e4m3 || p.a == Dtype::e5m2) {
    b.walk = 8 * 0x1p-13;
    b.abs += (kd + 2) * unit_roundoff(Dtype::f32);
  } else if (p.acc == Dtype::tf32) {
    // f32 inputs rounded to tf32 by the engine, products and sums in f32
    b.abs += 4 * unit_roundoff(Dtype::tf32) + (kd + 2) * unit_roundoff(Dtype::f32);
  } else {
    b.abs += (kd + 2) * unit_roundoff(p.acc);
  }
  return b;
}

double accumulation_bound(const Precision& p, size_t k) { return error_bound(p, k).abs; }

GemmError check_gemm(const GemmProblem& pr, const void* c, size_t rows) {
  const GemmShape& s = pr.s;
  rows = std::min(rows, s.m);
  const ErrorBound bound = error_bound(pr.prec, s.k);
  const double c_scale = pr.scale_a * pr.scale_b;  // integer outputs are in the inputs' scale
  // the checked rows of op(A), rounded and unrounded, gathered once
  std::vector<size_t> row(rows);
  std::vector<double> a(rows * s.k), a_real(rows * s.k);
  for (size_t r = 0; r < rows; ++r) {
    row[r] = rows == s.m ? r : (r * s.m) / rows + (s.m / rows) / 2;
    for (size_t p = 0; p < s.k; ++p)
      a[r * s.k + p] = pr.a_at(row[r], p), a_real[r * s.k + p] = pr.a_real(row[r], p);
  }
  double err2 = 0, ref2 = 0, err2_real = 0, real2 = 0;
  size_t bad = 0;
  std::string msg;
#pragma omp parallel reduction(+ : err2, ref2, err2_real, real2, bad)
  {
    std::vector<double> bcol(s.k), bcol_real(s.k);
#pragma omp for schedule(dynamic, 4)
    for (size_t j = 0; j < s.n; ++j) {
      for (size_t p = 0; p < s.k; ++p) bcol[p] = pr.b_at(p, j), bcol_real[p] = pr.b_real(p, j);
      for (size_t r = 0; r < rows; ++r) {
        const double* ar = &a[r * s.k];
        const double* ar_real = &a_real[r * s.k];
        long double sum = 0, abs = 0, real = 0, walk2 = 0;
        for (size_t p = 0; p < s.k; ++p) {
          const long double x = ar[p] * static_cast<long double>(bcol[p]);
          sum += x;
          abs += std::fabs(x);
          walk2 += sum * sum + x * x;  // the partial sums and the products the engine rounds
          real += ar_real[p] * static_cast<long double>(bcol_real[p]);
        }
        const size_t i = row[r];
        const double got = load_value(pr.prec.out, c, i + j * s.m) / c_scale;
        const double want = static_cast<double>(sum), exact = static_cast<double>(real);
        // the long double reference's own slack keeps exact integer products exact
        const double tol = (bound.abs + 0x1p-60) * static_cast<double>(abs) +
                           bound.walk * std::sqrt(static_cast<double>(walk2)) +
                           bound.out * std::fabs(want);
        err2 += (got - want) * (got - want);
        ref2 += want * want;
        err2_real += (got - exact) * (got - exact);
        real2 += exact * exact;
        if (!(std::fabs(got - want) <= tol)) {  // NaN fails
          ++bad;
#pragma omp critical
          if (msg.size() < 300) {
            char buf[160];
            std::snprintf(buf, sizeof buf, "%sC[%zu,%zu] got %.9g want %.9g (tol %.3g)",
                          msg.empty() ? "" : "; ", i, j, got, want, tol);
            msg += buf;
          }
        }
      }
    }
  }
  GemmError e;
  e.rows = rows;
  e.rel_error = ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2);
  e.rel_error_unrounded = real2 > 0 ? std::sqrt(err2_real / real2) : std::sqrt(err2_real);
  if (bad)
    e.why = std::to_string(bad) + " of " + std::to_string(rows * s.n) +
            " checked elements of C outside the bound: " + msg;
  return e;
}

size_t check_rows(const GemmShape& s) {
  return std::min<size_t>(s.m, std::clamp<size_t>((size_t(1) << 27) / (s.n * s.k), 1, 32));
}

namespace cpu {

#ifdef DTYPEBENCH_HAVE_OPENBLAS
bool have_openblas() { return true; }
std::string openblas_config() { return openblas_get_config(); }
void blas_threads(int n) { openblas_set_num_threads(n); }
void blas_gemm(const GemmProblem& pr, void* c) {
  const GemmShape& s = pr.s;
  const auto ta = s.ta ? CblasTrans : CblasNoTrans, tb = s.tb ? CblasTrans : CblasNoTrans;
  const int m = static_cast<int>(s.m), n = static_cast<int>(s.n), k = static_cast<int>(s.k);
  const int lda = s.ta ? k : m, ldb = s.tb ? n : k;
  const std::string name = pr.prec.name();
  if (name == "f64.f64.f64")
    cblas_dgemm(CblasColMajor, ta, tb, m, n, k, 1.0, reinterpret_cast<const double*>(pr.a.data()),
                lda, reinterpret_cast<const double*>(pr.b.data()), ldb, 0.0,
                static_cast<double*>(c), m);
  else if (name == "f32.f32.f32")
    cblas_sgemm(CblasColMajor, ta, tb, m, n, k, 1.0f, reinterpret_cast<const float*>(pr.a.data()),
                lda, reinterpret_cast<const float*>(pr.b.data()), ldb, 0.0f, static_cast<float*>(c),
                m);
  else
    throw Unsupported("OpenBLAS has no " + name + " GEMM");
}
#else
bool have_openblas() { return false; }
std::string openblas_config() { return ""; }
void blas_threads(int) {}
void blas_gemm(const GemmProblem&, void*) {
  throw Unsupported("built without OpenBLAS (install libopenblas-dev)");
}
#endif

#ifdef DTYPEBENCH_HAVE_ONEDNN
bool have_onednn() { return true; }

struct DnnlMatmul::State {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  dnnl::matmul prim;
  dnnl::memory a, b, c;
  std::string impl;
};

DnnlMatmul::DnnlMatmul(const GemmProblem& pr, void* c) : st_(std::make_unique<State>()) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  const Precision& p = pr.prec;
  auto type = [&](Dtype d) {
    switch (d) {
      case Dtype::f32:
        return dt::f32;
      case Dtype::bf16:
        return dt::bf16;
      case Dtype::f16:
        return dt::f16;
      case Dtype::u8:
        return dt::u8;
      case Dtype::i8:
        return dt::s8;
      case Dtype::i32:
        return dt::s32;
      default:
        throw Unsupported("oneDNN has no " + p.name() + " matmul");
    }
  };
  // the accumulator is oneDNN's choice: f32 for floating inputs, s32 for integers
  if ((is_float(p.a) && p.acc != Dtype::f32) || (!is_float(p.a) && p.acc != Dtype::i32))
    throw Unsupported("oneDNN has no " + p.name() + " matmul");
#if defined(__x86_64__)
  // Without VNNI, oneDNN's u8 x s8 kernels add byte products in pairs with vpmaddubsw, which
  // saturates at 16 bits (its "Nuances of int8 computations"): 255 x 127 x 2 overflows, and on an
  // AVX2 EPYC 3003 of 3015 elements came out wrong. Wrong answers are not a rate.
  if (!is_float(p.a) && !__builtin_cpu_supports("avx512vnni") && !__builtin_cpu_supports("avxvnni"))
    throw Unsupported("oneDNN's " + p.name() +
                      " matmul needs VNNI here: without it byte pairs saturate at 16 bits "
                      "(vpmaddubsw), wrong over the full 8-bit range");
#endif
  const GemmShape& s = pr.s;
  const auto M = static_cast<dnnl::memory::dim>(s.m), N = static_cast<dnnl::memory::dim>(s.n),
             K = static_cast<dnnl::memory::dim>(s.k);
  // column-major C = op(A) op(B) is row-major C^T (n x m) = op(B)^T (n x k) op(A)^T (k x m); a
  // column-major matrix read row-major is its transpose, so an untransposed B is "ab" here
  const dnnl::memory::desc a_md({N, K}, type(p.b), s.tb ? tag::ba : tag::ab);
  const dnnl::memory::desc b_md({K, M}, type(p.a), s.ta ? tag::ba : tag::ab);
  const dnnl::memory::desc c_md({N, M}, type(p.out), tag::ab);
  try {
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), st_->eng);
    st_->impl = pd.impl_info_str();
    st_->prim = dnnl::matmul(pd);
  } catch (const dnnl::error& e) {
    throw Unsupported("oneDNN cannot make a " + p.name() + " matmul here: " + e.what());
  }
  if (st_->impl.rfind("ref", 0) == 0)  // the reference loops would describe oneDNN, not the CPU
    throw Unsupported("oneDNN has only its reference implementation for " + p.name() + " here");
  st_->a = dnnl::memory(a_md, st_->eng, const_cast<char*>(pr.b.data()));  // the source
  st_->b = dnnl::memory(b_md, st_->eng, const_cast<char*>(pr.a.data()));  // the weights
  st_->c = dnnl::memory(c_md, st_->eng, c);
}

void DnnlMatmul::run() {
  st_->prim.execute(st_->strm,
                    {{DNNL_ARG_SRC, st_->a}, {DNNL_ARG_WEIGHTS, st_->b}, {DNNL_ARG_DST, st_->c}});
  st_->strm.wait();
}
#else
bool have_onednn() { return false; }
struct DnnlMatmul::State {
  std::string impl;
};
DnnlMatmul::DnnlMatmul(const GemmProblem&, void*) {
  throw Unsupported("built without oneDNN (install libdnnl-dev)");
}
void DnnlMatmul::run() {}
#endif
DnnlMatmul::~DnnlMatmul() = default;
const std::string& DnnlMatmul::impl() const { return st_->impl; }

}  // namespace cpu
}  // namespace dtypebench
