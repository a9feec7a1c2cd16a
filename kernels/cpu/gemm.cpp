#include "kernels/cpu/gemm.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>

#include "dtypebench/context.hpp"
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

GemmError check_gemm(const GemmProblem& pr, const void* c, size_t rows) {
  const GemmShape& s = pr.s;
  rows = std::min(rows, s.m);
  const double c_scale = pr.scale_a * pr.scale_b;  // integer outputs are in the inputs' scale
  // the checked rows of op(A), rounded and unrounded, gathered once
  std::vector<size_t> row(rows);
  std::vector<double> a(rows * s.k), a_real(rows * s.k);
  for (size_t r = 0; r < rows; ++r) {
    row[r] = rows == s.m ? r : (r * s.m) / rows + (s.m / rows) / 2;
    for (size_t p = 0; p < s.k; ++p)
      a[r * s.k + p] = pr.a_at(row[r], p), a_real[r * s.k + p] = pr.a_real(row[r], p);
  }
  ProductCheck all(pr.prec, s.k);
#pragma omp parallel
  {
    ProductCheck mine(pr.prec, s.k);
    std::vector<double> bcol(s.k), bcol_real(s.k);
#pragma omp for schedule(dynamic, 4)
    for (size_t j = 0; j < s.n; ++j) {
      for (size_t p = 0; p < s.k; ++p) bcol[p] = pr.b_at(p, j), bcol_real[p] = pr.b_real(p, j);
      for (size_t r = 0; r < rows; ++r) {
        DotReference ref;
        for (size_t p = 0; p < s.k; ++p)
          ref.add(a[r * s.k + p], bcol[p], a_real[r * s.k + p], bcol_real[p]);
        const size_t i = row[r];
        char where[48];
        std::snprintf(where, sizeof where, "C[%zu,%zu]", i, j);
        mine.check(ref, load_value(pr.prec.out, c, i + j * s.m) / c_scale, where);
      }
    }
#pragma omp critical
    all.merge(mine);
  }
  GemmError e;
  static_cast<ProductErrors&>(e) = all.result();
  e.rows = rows;
  return e;
}

size_t check_rows(const GemmShape& s) {
  return std::min<size_t>(s.m, std::clamp<size_t>((size_t(1) << 27) / (s.n * s.k), 1, 32));
}

namespace cpu {
namespace {
// the CPU libraries' lines in the run's context: OpenBLAS's build config, the BLIS config it runs,
// oneDNN's version
const bool kContextAdded = add_context_lines([] {
  ContextLines kv = {{"openblas_config", openblas_config()}, {"blis_config", blis_config()}};
#ifdef DTYPEBENCH_HAVE_ONEDNN
  const dnnl_version_t* v = dnnl_version();
  kv.push_back({"onednn_version", std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                                      std::to_string(v->patch)});
#endif
  return kv;
});
}  // namespace

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
