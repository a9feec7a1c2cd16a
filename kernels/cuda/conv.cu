// Convolution family, GPU: cuDNN's legacy convolution API (still whole in cuDNN 9) for the three
// passes. One handle on the default stream; descriptors made once per problem; algorithms from
// cudnnGet...Algorithm_v7 (the heuristic, in its order) and cudnnFind...AlgorithmEx (the search).
#include "kernels/cuda/conv.hpp"

#include <algorithm>
#include <vector>

#include "dtypebench/cuda_check.hpp"
#include "dtypebench/gpu.hpp"

namespace dtypebench {
namespace cuda {

#ifdef DTYPEBENCH_HAVE_CUDNN
namespace {
// an algorithm of any pass: cuDNN's three perf structs have these fields alike
struct Algo {
  int id = 0;
  size_t memory = 0;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
};
template <class Perf>
std::vector<Algo> usable(const Perf* perf, int n, bool strict) {
  std::vector<Algo> out;
  for (int i = 0; i < n; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
    // fp32 strict: nothing that may round its inputs to TF32 or f16 on tensor cores
    if (strict && perf[i].mathType == CUDNN_TENSOR_OP_MATH) continue;
    out.push_back({static_cast<int>(perf[i].algo), perf[i].memory, perf[i].mathType});
  }
  return out;
}
cudnnHandle_t handle() {
  static cudnnHandle_t h = [] {
    cudnnHandle_t made = nullptr;
    DB_CUDA_CHECK(cudnnCreate(&made));
    return made;
  }();
  return h;
}
}  // namespace

struct CudnnConv::State {
  ConvPass pass = ConvPass::Forward;
  bool strict = false;
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  void *xp = nullptr, *wp = nullptr, *yp = nullptr;
  std::vector<Algo> heuristic;
  Algo chosen;
  gpu::DeviceBuffer<char> workspace;
  std::string fallback;

  ~State() {
    if (x) cudnnDestroyTensorDescriptor(x);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
  }
  // the first of algos whose workspace can be allocated
  void take(const std::vector<Algo>& algos) {
    fallback.clear();
    for (const Algo& a : algos) {
      try {
        workspace = gpu::DeviceBuffer<char>(a.memory);
      } catch (const OutOfMemory&) {
        fallback += (fallback.empty() ? "no workspace for algo " : ", ") + std::to_string(a.id) +
                    " (" + std::to_string(a.memory >> 20) + " MiB)";
        continue;
      }
      chosen = a;
      DB_CUDA_CHECK(cudnnSetConvolutionMathType(conv, a.math));
      return;
    }
    throw OutOfMemory("no algorithm's workspace can be allocated: " + fallback);
  }
};

CudnnConv::CudnnConv(const ConvProblem& pr, void* x, void* w, void* y)
    : st_(std::make_unique<State>()) {
  const Precision& p = pr.prec;
  const bool f32 = p.a == Dtype::f32 && p.out == Dtype::f32;
  cudnnDataType_t data;
  if (f32 && (p.acc == Dtype::f32 || p.acc == Dtype::tf32))
    data = CUDNN_DATA_FLOAT;
  else if (p.a == Dtype::f16 && p.acc == Dtype::f32 && p.out == Dtype::f16)
    data = CUDNN_DATA_HALF;
  else if (p.a == Dtype::bf16 && p.acc == Dtype::f32 && p.out == Dtype::bf16)
    data = CUDNN_DATA_BFLOAT16;
  else
    throw Unsupported("cuDNN has no " + p.name() + " convolution here");
  if (pr.layout == ConvLayout::Blocked) throw Unsupported("cuDNN has no blocked layout");
  State& st = *st_;
  st.pass = pr.pass;
  st.strict = f32 && p.acc == Dtype::f32;
  st.xp = x, st.wp = w, st.yp = y;
  const ConvShape& s = pr.s;
  const cudnnTensorFormat_t fmt =
      pr.layout == ConvLayout::Nhwc ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
  auto i = [](size_t v) { return static_cast<int>(v); };
  DB_CUDA_CHECK(cudnnCreateTensorDescriptor(&st.x));
  DB_CUDA_CHECK(cudnnCreateTensorDescriptor(&st.y));
  DB_CUDA_CHECK(cudnnCreateFilterDescriptor(&st.w));
  DB_CUDA_CHECK(cudnnCreateConvolutionDescriptor(&st.conv));
  DB_CUDA_CHECK(cudnnSetTensor4dDescriptor(st.x, fmt, data, i(s.n), i(s.c), i(s.h), i(s.w)));
  DB_CUDA_CHECK(cudnnSetTensor4dDescriptor(st.y, fmt, data, i(s.n), i(s.k), i(s.p()), i(s.q())));
  DB_CUDA_CHECK(cudnnSetFilter4dDescriptor(st.w, data, fmt, i(s.k), i(s.c), i(s.r), i(s.s)));
  DB_CUDA_CHECK(cudnnSetConvolution2dDescriptor(st.conv, i(s.pad), i(s.pad), i(s.stride),
                                                i(s.stride), i(s.dilation), i(s.dilation),
                                                CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  DB_CUDA_CHECK(cudnnSetConvolutionMathType(
      st.conv, st.strict ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION));
  constexpr int kAsk = 16;
  int n = 0;
  if (st.pass == ConvPass::Forward) {
    cudnnConvolutionFwdAlgoPerf_t perf[kAsk];
    DB_CUDA_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(handle(), st.x, st.w, st.conv, st.y,
                                                         kAsk, &n, perf));
    st.heuristic = usable(perf, n, st.strict);
  } else if (st.pass == ConvPass::BackwardData) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[kAsk];
    DB_CUDA_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle(), st.w, st.y, st.conv, st.x,
                                                              kAsk, &n, perf));
    st.heuristic = usable(perf, n, st.strict);
  } else {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[kAsk];
    DB_CUDA_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle(), st.x, st.y, st.conv,
                                                                st.w, kAsk, &n, perf));
    st.heuristic = usable(perf, n, st.strict);
  }
  if (st.heuristic.empty())
    throw Unsupported("cuDNN's heuristic has no " + p.name() + " algorithm for this layer");
}

CudnnConv::~CudnnConv() = default;
int CudnnConv::candidates() const { return static_cast<int>(st_->heuristic.size()); }
void CudnnConv::choose_heuristic() { st_->take(st_->heuristic); }

void CudnnConv::search(size_t max_workspace) {
  State& st = *st_;
  gpu::DeviceBuffer<char> scratch;
  for (size_t b = max_workspace; b >= (size_t(1) << 20); b /= 2) {
    try {
      scratch = gpu::DeviceBuffer<char>(b);
      break;
    } catch (const OutOfMemory&) {  // offer what there is
    }
  }
  constexpr int kAsk = 16;
  int n = 0;
  std::vector<Algo> found;
  // the search writes the pass's output: the benchmark checks after it, not before
  if (st.pass == ConvPass::Forward) {
    cudnnConvolutionFwdAlgoPerf_t perf[kAsk];
    DB_CUDA_CHECK(cudnnFindConvolutionForwardAlgorithmEx(handle(), st.x, st.xp, st.w, st.wp,
                                                         st.conv, st.y, st.yp, kAsk, &n, perf,
                                                         scratch.data(), scratch.bytes()));
    found = usable(perf, n, st.strict);
  } else if (st.pass == ConvPass::BackwardData) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[kAsk];
    DB_CUDA_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(
        handle(), st.w, st.wp, st.y, st.yp, st.conv, st.x, st.xp, kAsk, &n, perf, scratch.data(),
        scratch.bytes()));
    found = usable(perf, n, st.strict);
  } else {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[kAsk];
    DB_CUDA_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(
        handle(), st.x, st.xp, st.y, st.yp, st.conv, st.w, st.wp, kAsk, &n, perf, scratch.data(),
        scratch.bytes()));
    found = usable(perf, n, st.strict);
  }
  scratch.reset();  // the winner's own workspace is allocated next
  if (found.empty()) throw Unsupported("cuDNN's search found no algorithm that ran");
  st.take(found);  // found is sorted fastest first
}

void CudnnConv::run() {
  State& st = *st_;
  const float one = 1, zero = 0;
  void* ws = st.workspace.data();
  const size_t wsb = st.workspace.bytes();
  if (st.pass == ConvPass::Forward)
    DB_CUDA_CHECK(cudnnConvolutionForward(handle(), &one, st.x, st.xp, st.w, st.wp, st.conv,
                                          static_cast<cudnnConvolutionFwdAlgo_t>(st.chosen.id),
                                          ws, wsb, &zero, st.y, st.yp));
  else if (st.pass == ConvPass::BackwardData)
    DB_CUDA_CHECK(cudnnConvolutionBackwardData(
        handle(), &one, st.w, st.wp, st.y, st.yp, st.conv,
        static_cast<cudnnConvolutionBwdDataAlgo_t>(st.chosen.id), ws, wsb, &zero, st.x, st.xp));
  else
    DB_CUDA_CHECK(cudnnConvolutionBackwardFilter(
        handle(), &one, st.x, st.xp, st.y, st.yp, st.conv,
        static_cast<cudnnConvolutionBwdFilterAlgo_t>(st.chosen.id), ws, wsb, &zero, st.w, st.wp));
}

int CudnnConv::algo() const { return st_->chosen.id; }
std::string CudnnConv::algo_name() const {
  static const char* fwd[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT",
                              "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
  static const char* bwd_data[] = {"ALGO_0", "ALGO_1", "FFT", "FFT_TILING", "WINOGRAD",
                                   "WINOGRAD_NONFUSED"};
  static const char* bwd_filter[] = {"ALGO_0", "ALGO_1", "FFT", "ALGO_3", "WINOGRAD",
                                     "WINOGRAD_NONFUSED", "FFT_TILING"};
  const int id = st_->chosen.id;
  auto pick = [&](const char* const* names, int count, const char* pass) {
    return std::string(pass) + ":" + (id >= 0 && id < count ? names[id] : std::to_string(id));
  };
  const std::string math = st_->chosen.math == CUDNN_FMA_MATH ? " fma" : "";
  if (st_->pass == ConvPass::Forward) return pick(fwd, 8, "fwd") + math;
  if (st_->pass == ConvPass::BackwardData) return pick(bwd_data, 6, "bwd_data") + math;
  return pick(bwd_filter, 7, "bwd_filter") + math;
}
size_t CudnnConv::workspace_bytes() const { return st_->workspace.bytes(); }
const std::string& CudnnConv::fallback() const { return st_->fallback; }
#else
struct CudnnConv::State {
  std::string fallback;
};
CudnnConv::CudnnConv(const ConvProblem&, void*, void*, void*) {
  throw Unsupported("built without cuDNN");
}
CudnnConv::~CudnnConv() = default;
int CudnnConv::candidates() const { return 0; }
void CudnnConv::choose_heuristic() {}
void CudnnConv::search(size_t) {}
void CudnnConv::run() {}
int CudnnConv::algo() const { return 0; }
std::string CudnnConv::algo_name() const { return ""; }
size_t CudnnConv::workspace_bytes() const { return 0; }
const std::string& CudnnConv::fallback() const { return st_->fallback; }
#endif

}  // namespace cuda
}  // namespace dtypebench
