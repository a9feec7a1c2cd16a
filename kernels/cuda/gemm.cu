#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "dtypebench/cuda_check.hpp"
#include "dtypebench/gpu.hpp"
#include "kernels/cuda/gemm.hpp"

namespace dtypebench {
namespace cuda {

// Dense figures from NVIDIA's datasheets (the sparsity figures halved where only they are
// given): "NVIDIA H100 Tensor Core GPU" datasheet (SXM5: 132 SMs; PCIe: 114 SMs), "NVIDIA H200
// Tensor Core GPU" datasheet (SXM: 132 SMs, the same compute as H100 SXM), "NVIDIA A100 Tensor Core
// GPU" datasheet (108 SMs). TFLOP/s: fp64 tensor, fp32 (no tensor cores), tf32, f16/bf16, fp8,
// int8.
namespace {
struct Rated {
  int cc_major, cc_minor, sms;
  double f64, f32, tf32, f16, fp8, i8;
};
constexpr Rated kRated[] = {
    {9, 0, 132, 67, 67, 494.7, 989.4, 1978.9, 1978.9},  // H100 SXM5, H200 SXM
    {9, 0, 114, 51, 51, 378, 756, 1513, 1513},          // H100 PCIe
    {8, 0, 108, 19.5, 19.5, 156, 312, 0, 624},          // A100
};
}  // namespace

double datasheet_peak(const Precision& p, int cc_major, int cc_minor, int sms) {
  for (const Rated& r : kRated) {
    if (r.cc_major != cc_major || r.cc_minor != cc_minor || r.sms != sms) continue;
    double t = 0;
    if (p.a == Dtype::f64) t = r.f64;
    if (p.a == Dtype::f32) t = p.acc == Dtype::tf32 ? r.tf32 : r.f32;
    if (p.a == Dtype::f16 || p.a == Dtype::bf16) t = r.f16;  // f16 accumulation: the same rate
    if (p.a == Dtype::e4m3 || p.a == Dtype::e5m2) t = r.fp8;
    if (p.a == Dtype::i8) t = r.i8;
    return t * 1e12;
  }
  return 0;
}

#ifdef DTYPEBENCH_HAVE_CUBLAS
namespace {
constexpr size_t kWorkspace = size_t(32) << 20;  // what Hopper's kernels want (NVIDIA's advice)

cublasLtHandle_t handle() {
  static cublasLtHandle_t h = [] {
    cublasLtHandle_t x = nullptr;
    DB_CUDA_CHECK(cublasLtCreate(&x));
    return x;
  }();
  return h;
}

cudaDataType_t data_type(Dtype d, const std::string& name) {
  switch (d) {
    case Dtype::f64:
      return CUDA_R_64F;
    case Dtype::f32:
      return CUDA_R_32F;
    case Dtype::f16:
      return CUDA_R_16F;
    case Dtype::bf16:
      return CUDA_R_16BF;
    case Dtype::e4m3:
      return CUDA_R_8F_E4M3;
    case Dtype::e5m2:
      return CUDA_R_8F_E5M2;
    case Dtype::i8:
      return CUDA_R_8I;
    case Dtype::i32:
      return CUDA_R_32I;
    default:
      throw Unsupported("cuBLASLt has no " + name + " GEMM");
  }
}

// the compute type and the type alpha and beta are given in
void compute_of(const Precision& p, cublasComputeType_t* compute, cudaDataType_t* scale) {
  const std::string name = p.name();
  if (name == "f64.f64.f64")
    *compute = CUBLAS_COMPUTE_64F, *scale = CUDA_R_64F;
  else if (name == "f32.f32.f32")
    *compute = CUBLAS_COMPUTE_32F, *scale = CUDA_R_32F;
  else if (name == "f32.tf32.f32")
    *compute = CUBLAS_COMPUTE_32F_FAST_TF32, *scale = CUDA_R_32F;
  else if (name == "f16.f16.f16")
    *compute = CUBLAS_COMPUTE_16F, *scale = CUDA_R_16F;
  else if (name == "i8.i32.i32")
    *compute = CUBLAS_COMPUTE_32I, *scale = CUDA_R_32I;
  else if (is_float(p.a) && p.acc == Dtype::f32 && p.a != Dtype::f32)
    *compute = CUBLAS_COMPUTE_32F, *scale = CUDA_R_32F;
  else
    throw Unsupported("cuBLASLt has no " + name + " GEMM");
}

// alpha = 1, beta = 0 in the scale type
struct Scalars {
  alignas(8) unsigned char one[8] = {}, zero[8] = {};
  explicit Scalars(cudaDataType_t t) {
    if (t == CUDA_R_64F) {
      const double v = 1;
      std::memcpy(one, &v, sizeof v);
    } else if (t == CUDA_R_32F) {
      const float v = 1;
      std::memcpy(one, &v, sizeof v);
    } else if (t == CUDA_R_16F) {
      const uint16_t v = 0x3c00;  // 1.0 in f16
      std::memcpy(one, &v, sizeof v);
    } else {
      const int32_t v = 1;
      std::memcpy(one, &v, sizeof v);
    }
  }
};
}  // namespace

struct LtMatmul::State {
  Precision p;
  GemmShape s;
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  std::vector<cublasLtMatmulHeuristicResult_t> found;
  int chosen = 0;
  gpu::DeviceBuffer<char> workspace;
  std::unique_ptr<Scalars> scalars;
  ~State() {
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    if (c) cublasLtMatrixLayoutDestroy(c);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (op) cublasLtMatmulDescDestroy(op);
  }
};

LtMatmul::LtMatmul(const Precision& p, const GemmShape& s, int candidates, bool fast_accum)
    : st_(std::make_unique<State>()) {
  const std::string name = p.name();
  const gpu::DeviceInfo& dev = gpu::device();
  const bool fp8 = p.a == Dtype::e4m3 || p.a == Dtype::e5m2;
  if (fp8 && dev.cc_major * 10 + dev.cc_minor < 89)
    throw Unsupported(name + " needs compute capability 8.9 or later (this GPU has " +
                      std::to_string(dev.cc_major) + "." + std::to_string(dev.cc_minor) + ")");
  if (fp8 && !(s.ta && !s.tb)) throw Unsupported("cuBLASLt's 8-bit float GEMM is TN only");
  if (fast_accum && !fp8) throw Unsupported("fast accumulation is for 8-bit floats only");
  st_->p = p;
  st_->s = s;
  cublasComputeType_t compute;
  cudaDataType_t scale;
  compute_of(p, &compute, &scale);
  st_->scalars = std::make_unique<Scalars>(scale);
  DB_CUDA_CHECK(cublasLtMatmulDescCreate(&st_->op, compute, scale));
  const cublasOperation_t ta = s.ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                          tb = s.tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  DB_CUDA_CHECK(
      cublasLtMatmulDescSetAttribute(st_->op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
  DB_CUDA_CHECK(
      cublasLtMatmulDescSetAttribute(st_->op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
  if (fast_accum) {
    const int8_t on = 1;
    DB_CUDA_CHECK(
        cublasLtMatmulDescSetAttribute(st_->op, CUBLASLT_MATMUL_DESC_FAST_ACCUM, &on, sizeof on));
  }
  // stored shapes: A is m x k (N) or k x m (T), B k x n or n x k; column-major, packed
  const uint64_t ar = s.ta ? s.k : s.m, ac = s.ta ? s.m : s.k;
  const uint64_t br = s.tb ? s.n : s.k, bc = s.tb ? s.k : s.n;
  DB_CUDA_CHECK(cublasLtMatrixLayoutCreate(&st_->a, data_type(p.a, name), ar, ac, ar));
  DB_CUDA_CHECK(cublasLtMatrixLayoutCreate(&st_->b, data_type(p.b, name), br, bc, br));
  DB_CUDA_CHECK(cublasLtMatrixLayoutCreate(&st_->c, data_type(p.out, name), s.m, s.n, s.m));
  st_->workspace = gpu::DeviceBuffer<char>(kWorkspace);
  DB_CUDA_CHECK(cublasLtMatmulPreferenceCreate(&st_->pref));
  const size_t ws = kWorkspace;
  DB_CUDA_CHECK(cublasLtMatmulPreferenceSetAttribute(
      st_->pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
  if (fp8) {  // scale pointers must be set before the heuristic sees the descriptor
    static float* ones = [] {  // kept for the process, outside the device accounting
      float* d = nullptr;
      DB_CUDA_CHECK(cudaMalloc(&d, 2 * sizeof(float)));
      const float h[2] = {1.0f, 1.0f};
      gpu::copy_to_device(d, h, sizeof h);
      return d;
    }();
    set_scales(ones, ones + 1);
  }
  st_->found.resize(static_cast<size_t>(std::max(candidates, 1)));
  int returned = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(
      handle(), st_->op, st_->a, st_->b, st_->c, st_->c, st_->pref,
      static_cast<int>(st_->found.size()), st_->found.data(), &returned);
  if (status == CUBLAS_STATUS_NOT_SUPPORTED || (status == CUBLAS_STATUS_SUCCESS && returned == 0))
    throw Unsupported("cuBLASLt has no algorithm for " + name + " " + (s.ta ? "T" : "N") +
                      (s.tb ? "T" : "N") + " " + std::to_string(s.m) + "x" + std::to_string(s.n) +
                      "x" + std::to_string(s.k) + " on this GPU");
  DB_CUDA_CHECK(status);
  st_->found.resize(static_cast<size_t>(returned));
}

LtMatmul::~LtMatmul() = default;
int LtMatmul::candidates() const { return static_cast<int>(st_->found.size()); }
void LtMatmul::choose(int i) { st_->chosen = std::clamp(i, 0, candidates() - 1); }
int LtMatmul::chosen() const { return st_->chosen; }

void LtMatmul::set_scales(const float* scale_a, const float* scale_b) {
  DB_CUDA_CHECK(cublasLtMatmulDescSetAttribute(st_->op, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER,
                                               &scale_a, sizeof scale_a));
  DB_CUDA_CHECK(cublasLtMatmulDescSetAttribute(st_->op, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER,
                                               &scale_b, sizeof scale_b));
}

void LtMatmul::run(const void* a, const void* b, void* c) {
  const auto& r = st_->found[static_cast<size_t>(st_->chosen)];
  DB_CUDA_CHECK(cublasLtMatmul(handle(), st_->op, st_->scalars->one, a, st_->a, b, st_->b,
                               st_->scalars->zero, c, st_->c, c, st_->c, &r.algo,
                               st_->workspace.data(), kWorkspace, nullptr));
}

void LtMatmul::autotune(const char* a, size_t a_stride, const char* b, size_t b_stride,
                        size_t copies, void* c, int reps) {
  gpu::EventTimer timer;
  double best = 0;
  int best_i = 0;
  size_t next = 0;
  const auto run_next = [&] {
    const size_t i = next++ % std::max<size_t>(copies, 1);
    run(a + i * a_stride, b + i * b_stride, c);
  };
  for (int i = 0; i < candidates(); ++i) {
    choose(i);
    try {
      run_next();  // warm-up (and a candidate that fails at run time is passed over)
    } catch (const gpu::CudaError&) {
      continue;
    }
    timer.start();
    for (int r = 0; r < reps; ++r) run_next();
    const double t = timer.stop() / reps;
    if (best == 0 || t < best) best = t, best_i = i;
  }
  choose(best_i);
}

int LtMatmul::algo_id() const {
  int id = -1;
  DB_CUDA_CHECK(
      cublasLtMatmulAlgoConfigGetAttribute(&st_->found[static_cast<size_t>(st_->chosen)].algo,
                                           CUBLASLT_ALGO_CONFIG_ID, &id, sizeof id, nullptr));
  return id;
}
size_t LtMatmul::workspace_bytes() const {
  return st_->found[static_cast<size_t>(st_->chosen)].workspaceSize;
}
#else
struct LtMatmul::State {};
LtMatmul::LtMatmul(const Precision&, const GemmShape&, int, bool) {
  throw Unsupported("built without cuBLASLt");
}
LtMatmul::~LtMatmul() = default;
int LtMatmul::candidates() const { return 0; }
void LtMatmul::choose(int) {}
int LtMatmul::chosen() const { return 0; }
void LtMatmul::set_scales(const float*, const float*) {}
void LtMatmul::run(const void*, const void*, void*) {}
void LtMatmul::autotune(const char*, size_t, const char*, size_t, size_t, void*, int) {}
int LtMatmul::algo_id() const { return -1; }
size_t LtMatmul::workspace_bytes() const { return 0; }
#endif

}  // namespace cuda
}  // namespace dtypebench
