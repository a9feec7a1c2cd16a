// GEMM family: throughput by precision (fp64 ... 8-bit) and the error each precision costs
// against fp64, on the CPU (OpenBLAS, BLIS, oneDNN) and on the GPU (cuBLASLt).
#include "kernels/cpu/gemm.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "bench/family.hpp"
#include "kernels/cpu/baseline.hpp"  // the FMA roof beside each CPU row
#ifdef DTYPEBENCH_HAVE_CUDA
#include "kernels/cuda/gemm.hpp"
#endif

namespace dtypebench::bench {
namespace {

// the CPU libraries and the precisions each has (the BLAS libraries: OpenBLAS and BLIS)
enum class CpuLib { OpenBlas, Blis, OneDnn };
// the libraries as an axis (the variant of the sweeps, "lib" of the error table)
Axis cpu_libs(const std::string& key) {
  return axis_of<CpuLib>(
      key, {{"openblas", CpuLib::OpenBlas}, {"blis", CpuLib::Blis}, {"onednn", CpuLib::OneDnn}});
}
const std::vector<std::string> kBlas = {"f64.f64.f64", "f32.f32.f32"};
const std::vector<std::string> kDnnl = {"f32.f32.f32", "bf16.f32.bf16", "bf16.f32.f32",
                                        "f16.f32.f16", "i8xu8.i32.i32"};
bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}
std::vector<std::string> union_of(std::vector<std::string> a, const std::vector<std::string>& b) {
  for (const std::string& x : b)
    if (!has(a, x)) a.push_back(x);
  return a;
}
bool lib_has(const Point& p) {
  return has(p["variant"] == "onednn" ? kDnnl : kBlas, p["precision"]);
}

// The seed CNN (SEED-CLAIMS.md: 256x256x3 images, batch 50, Conv2D(128, 2x2) -> 2x Conv2D(128,
// 1x1) -> Flatten -> Dense(1)) has a dense layer of 255*255*128 features: as a GEMM, batch x
// features times features x 1, the activations batch-major (op(A) = A^T in column-major).
constexpr size_t kBatch = 50, kFeatures = 255 * 255 * 128;

// a key with one value whatever the point
std::function<Value(const Point&)> constant(size_t v) {
  return [v](const Point&) { return number(v); };
}
std::function<Value(const Point&)> constant(const char* v) {
  return [v](const Point&) { return Value{v, 0}; };
}
Value same_as_m(const Point& p) { return number(p.size("m")); }

// the run's largest thread count only (accuracy does not depend on it)
Axis all_threads_axis() {
  return {"threads",
          [](const Config& c) {
            return std::vector<Value>{
                number(static_cast<size_t>(*std::max_element(c.threads.begin(), c.threads.end())))};
          },
          "the run's largest thread count"};
}

bool wants_shape(const Point& p, const std::string& shape) {
  const std::string list = "," + p["shapes"] + ",";
  return list.find("," + shape + ",") != std::string::npos;
}

// This machine's arithmetic roof for a precision, at the threads now set: the baseline family's
// FMA chains (f64, f32) or AVX512-BF16 dot products (bf16 inputs), the median of 15 runs of
// 10-20 ms each after one untimed run; 0 where it has none (8-bit integers). Runs of 0.2 ms
// caught frequency peaks a GEMM never holds, and on a 2-core VM whose second core comes and goes
// for tens of ms, even the median of 21 such runs read one core's rate at times (shares of 1.6);
// the untimed run wakes a core the single-threaded check left idle.
double fma_roof(const Precision& p) {
  std::vector<double> rates;
  for (int rep = 0; rep < 16; ++rep) {
    double flops = 0;
    const auto t0 = std::chrono::steady_clock::now();
    if (p.a == Dtype::f64)
      cpu::fma_peak<double>(6000000, 0.999, 1e-3, 0.5, &flops);
    else if (p.a == Dtype::f32)
      cpu::fma_peak<float>(6000000, 0.999f, 1e-3f, 0.5f, &flops);
    else if (p.a == Dtype::bf16 && cpu::have_avx512_bf16())
      cpu::bf16_dot_peak(1500000, 0.5f, 0.25f, &flops);
    else
      return 0;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (rep > 0) rates.push_back(flops / s);
  }
  std::nth_element(rates.begin(), rates.begin() + rates.size() / 2, rates.end());
  return rates[rates.size() / 2];
}

// The counters every GEMM row has: its error against fp64 (rounded and unrounded inputs), the
// bound it was held to, and where a roof is known, the roof and the share of it attained
// (<roof>_peak_flops, share_of_<roof>_peak).
void report_gemm(benchmark::State& state, const GemmError& e, const Precision& p,
                 const GemmShape& s, const std::string& roof, double roof_flops) {
  using C = benchmark::Counter;
  state.counters["rel_error"] = e.rel_error;
  state.counters["rel_error_unrounded"] = e.rel_error_unrounded;
  const ErrorBound bound = error_bound(p, s.k);
  state.counters["error_bound"] = bound.abs;
  if (bound.walk > 0) state.counters["error_bound_walk"] = bound.walk;  // the probabilistic term
  state.counters["rows_checked"] = static_cast<double>(e.rows);
  if (roof_flops > 0) {
    state.counters[roof + "_peak_flops"] = roof_flops;
    // flops / roof per iteration, as a rate: the attained share of the roof
    state.counters["share_of_" + roof + "_peak"] =
        C(s.flops() / roof_flops, C::kIsIterationInvariantRate);
  }
}

// C = op(A) op(B) by one CPU library, checked once against the fp64 product of the same rounded
// inputs (and compared with the unrounded ones) before timing.
struct CpuGemmCase : Case {
  std::string setup() override {
    pr_ = std::make_unique<GemmProblem>(prec_, shape_);
    c_ = Buffer<char>(pr_->c_bytes());
    std::memset(c_.data(), 0xff, c_.bytes());  // NaN in every float type, -1 in i32
    if (lib_ == CpuLib::OpenBlas)
      cpu::blas_threads(threads_);
    else if (lib_ == CpuLib::Blis)
      cpu::blis_threads(threads_);
    else
      dnnl_ = std::make_unique<cpu::DnnlMatmul>(*pr_, c_.data());
    run();
    err_ = check_gemm(*pr_, c_.data(), check_rows(shape_));
    roof_ = fma_roof(prec_);
    return err_.why;
  }
  void run() override {
    if (dnnl_)
      dnnl_->run();
    else if (lib_ == CpuLib::OpenBlas)
      cpu::blas_gemm(*pr_, c_.data());
    else
      cpu::blis_gemm(*pr_, c_.data());
  }
  Work work() const override { return {pr_->min_bytes(), shape_.flops(), 0, pr_->min_bytes()}; }
  void report(benchmark::State& state, const Peaks&) override {
    report_gemm(state, err_, prec_, shape_, "fma", roof_);
  }
  std::string detail() const override {
    return dnnl_ ? dnnl_->impl() : lib_ == CpuLib::Blis ? "blis:" + cpu::blis_arch() : p["variant"];
  }

  const CpuLib lib_ = p.get<CpuLib>("variant");
  const Precision prec_ = precision_from_name(p["precision"]);
  const GemmShape shape_ = gemm_shape(p.size("m"), p.size("n"), p.size("k"), p["layout"]);
  const int threads_ = static_cast<int>(p.num("threads"));
  std::unique_ptr<GemmProblem> pr_;
  Buffer<char> c_;
  std::unique_ptr<cpu::DnnlMatmul> dnnl_;
  GemmError err_;
  double roof_ = 0;
};

std::string cpu_skip(const Point& p) {
  if (p["variant"] == "openblas" && !cpu::have_openblas())
    return "built without OpenBLAS (install libopenblas-dev)";
  if (p["variant"] == "blis") return cpu::blis_missing();
  if (p["variant"] == "onednn" && !cpu::have_onednn())
    return "built without oneDNN (install libdnnl-dev)";
  return "";
}

// library x precision, only the pairs a library has
Spec cpu_spec(const char* what) {
  return Spec("")
      .with(cpu_libs("variant"))
      .with(axis("precision", union_of(kBlas, kDnnl)))
      .from_option("shapes", "gemm-shapes")
      .skip_if(cpu_skip)
      .note(what)
      .cases(plain<CpuGemmCase>());
}
const std::vector<std::string> kNameKeys = {"precision", "shape",  "m",      "n",
                                            "k",         "layout", "threads"};

std::vector<Spec> cpu_specs() {
  return {
      // the square sweep (NN), and NT/TN at its largest size
      cpu_spec("square: m = n = k from --gemm-sizes; NT and TN at the largest size only")
          .with(axis("shape", {"square"}))
          .with(option_axis("m", "gemm-sizes"))
          .with(axis("layout", {"NN", "NT", "TN"}))
          .with(threads_axis())
          .from_option("sizes", "gemm-sizes")
          .key("n", same_as_m)
          .key("k", same_as_m)
          .name(kNameKeys)
          .only_if(
              [](const Point& p) {
                size_t top = 0;
                for (const std::string& t : split(p["sizes"], ','))
                  top = std::max(top, std::stoul(t));
                return lib_has(p) && wants_shape(p, "square") &&
                       (p["layout"] == "NN" || p.size("m") == top);
              },
              "a precision its library lacks; NT and TN below the largest size"),
      cpu_spec("cnn_dense: the seed CNN's Dense(1) on 255*255*128 features, batch 50")
          .with(axis("shape", {"cnn_dense"}))
          .with(threads_axis())
          .key("m", constant(kBatch))
          .key("n", constant(1))
          .key("k", constant(kFeatures))
          .key("layout", constant("TN"))
          .name(kNameKeys)
          .only_if([](const Point& p) { return lib_has(p) && wants_shape(p, "cnn_dense"); },
                   "a precision its library lacks"),
      // the error table: m = n = 128, k swept, every precision (the largest thread count)
      Spec("accuracy")
          .with(cpu_libs("lib"))
          .with(axis("precision", union_of(kBlas, kDnnl)))
          .with(option_axis("k", "gemm-k"))
          .with(all_threads_axis())
          .key("variant", [](const Point& p) { return p.value("lib"); })
          .key("m", constant(128))
          .key("n", constant(128))
          .key("layout",
               [](const Point&) {
                 return Value{"NN", 0};
               })
          .name({"lib", "precision", "m", "n", "k", "threads"})
          .only_if([](const Point& p) { return lib_has(p); }, "a precision its library lacks")
          .skip_if(cpu_skip)
          .note("rel_error: against fp64 of the rounded inputs; rel_error_unrounded: of the "
                "unrounded ones")
          .cases(plain<CpuGemmCase>()),
  };
}

std::string shapes_check(const std::string& v) {
  for (const std::string& s : split(v, ','))
    if (s != "square" && s != "cnn_dense" && s != "transformer" && s != "cnn" && s != "align")
      return "'" + s + "' is not a shape set (square, cnn_dense, transformer, cnn, align)";
  return "";
}

const FamilyRegistrar reg{
    {"gemm",
     "GEMM by precision (fp64 ... 8-bit): TFLOP/s, share of the FMA peak, error against fp64; "
     "OpenBLAS, BLIS and oneDNN on the CPU, cuBLASLt on the GPU",
     cpu_specs(),
     {sizes_option("gemm-sizes", "square GEMM edges (m = n = k)", "256,512,1024,2048,4096", "2048",
                   1 << 16),
      {"gemm-shapes", "shape sets: square, cnn_dense (CPU); square, transformer, cnn, align (GPU)",
       "square,cnn_dense,transformer,cnn,align", "", shapes_check},
      sizes_option("gemm-k", "k of the error table (m = n = 128)", "256,1024,4096,16384",
                   "256,4096", 1 << 20)}}};

#ifdef DTYPEBENCH_HAVE_CUDA
// the triples cuBLASLt is asked for (i8xu8 is oneDNN's; cuBLASLt's integers are i8 x i8)
std::vector<std::string> gpu_precisions() {
  std::vector<std::string> v;
  for (const Precision& p : kMatrixPrecisions)
    if (p.b != Dtype::u8) v.push_back(p.name());
  return v;
}
std::vector<std::string> fp8_precisions() {
  std::vector<std::string> v;
  for (const Precision& p : kMatrixPrecisions)
    if (p.a == Dtype::e4m3 || p.a == Dtype::e5m2) v.push_back(p.name());
  return v;
}
bool tn_only(const std::string& precision) {
  const Precision p = precision_from_name(precision);
  return p.a == Dtype::e4m3 || p.a == Dtype::e5m2 || p.a == Dtype::i8;
}

// One cuBLASLt GEMM: inputs made and rounded on the host, uploaded in as many 256-byte aligned
// copies as it takes to pass twice the L2 (so a small shape is not timed out of L2), the
// heuristic's first choice or the best of its top 8 timed on the same rotation, checked once on
// the host against the fp64 product.
struct GpuGemmCase : Case {
  std::string setup() override {
    const GemmProblem pr(prec_, shape_);
    const cuda::InputRotation rot =
        cuda::input_rotation(pr.a.bytes(), pr.b.bytes(), gpu::device().l2_bytes);
    copies_ = rot.copies, abytes_ = rot.a_stride, bbytes_ = rot.b_stride;
    a_ = gpu::DeviceBuffer<char>(copies_ * abytes_);
    b_ = gpu::DeviceBuffer<char>(copies_ * bbytes_);
    c_ = gpu::DeviceBuffer<char>(pr.c_bytes());
    for (size_t i = 0; i < copies_; ++i) {
      gpu::copy_to_device(a_.data() + i * abytes_, pr.a.data(), pr.a.bytes());
      gpu::copy_to_device(b_.data() + i * bbytes_, pr.b.data(), pr.b.bytes());
    }
    own_bytes_ = pr.a.bytes() + pr.b.bytes() + pr.c_bytes(), min_bytes_ = pr.min_bytes();
    mm_ = std::make_unique<cuda::LtMatmul>(prec_, shape_, 8, fast_accum_);
    if (best_) mm_->autotune(a_.data(), abytes_, b_.data(), bbytes_, copies_, c_.data());
    gpu::memset_device(c_.data(), 0xff, c_.bytes());
    run();
    Buffer<char> c(pr.c_bytes());
    gpu::copy_to_host(c.data(), c_.data(), c.bytes());
    err_ = check_gemm(pr, c.data(), check_rows(shape_));
    const gpu::DeviceInfo& d = gpu::device();
    peak_ = cuda::datasheet_peak(prec_, d.cc_major, d.cc_minor, d.sms);
    return err_.why;
  }
  void run() override {
    const size_t i = next_++ % copies_;
    mm_->run(a_.data() + i * abytes_, b_.data() + i * bbytes_, c_.data());
  }
  Work work() const override { return {min_bytes_, shape_.flops(), 0, min_bytes_}; }
  void report(benchmark::State& state, const Peaks&) override {
    report_gemm(state, err_, prec_, shape_, "datasheet", peak_);
    state.counters["algo_id"] = mm_->algo_id();
    state.counters["algo_rank"] = mm_->chosen();  // its place in the heuristic's order
    state.counters["algo_candidates"] = mm_->candidates();
    state.counters["workspace_bytes"] = static_cast<double>(mm_->workspace_bytes());
    state.counters["input_copies"] = static_cast<double>(copies_);
    // what the GEMM itself needs (A, B, C, the workspace its algorithm uses), beside
    // device_peak_bytes, which counts the copies rotated through and the search's buffers too
    state.counters["gemm_device_bytes"] = static_cast<double>(own_bytes_ + mm_->workspace_bytes());
  }
  std::string detail() const override {
    return "cublaslt algo " + std::to_string(mm_->algo_id()) + " (candidate " +
           std::to_string(mm_->chosen() + 1) + " of " + std::to_string(mm_->candidates()) + ")";
  }

  const bool best_ = p.has("algo") && p["algo"] == "best";
  const bool fast_accum_ = p.has("accum") && p["accum"] == "fast";
  const Precision prec_ = precision_from_name(p["precision"]);
  GemmShape shape_ = gemm_shape(p.size("m"), p.size("n"), p.size("k"), p["layout"]);  // peak: found
  size_t copies_ = 1, next_ = 0, abytes_ = 0, bbytes_ = 0, own_bytes_ = 0;  // bytes: strides
  double min_bytes_ = 0, peak_ = 0;
  gpu::DeviceBuffer<char> a_, b_, c_;
  std::unique_ptr<cuda::LtMatmul> mm_;
  GemmError err_;
};

// The achievable peak: the heuristic's choice timed on shapes near the large sizes (in the
// spirit of the "maximum achievable matmul FLOPS" finders); the best is then timed and checked.
const GemmShape kPeakShapes[] = {{8192, 8192, 8192},    {8192, 8192, 16384},  {16384, 8192, 8192},
                                 {12288, 12288, 12288}, {16384, 16384, 8192}, {10240, 10240, 10240},
                                 {6144, 6144, 6144},    {16384, 16384, 16384}};

struct GpuPeakCase : GpuGemmCase {
  std::string setup() override {
    const std::string layout = tn_only(prec_.name()) ? "TN" : "NN";
    size_t most_a = 0, most_b = 0;
    for (const GemmShape& s : kPeakShapes)
      most_a = std::max(most_a, s.m * s.k), most_b = std::max(most_b, s.k * s.n);
    {  // one set of random inputs, as large as the largest shape needs, viewed by every shape
      const GemmProblem big(prec_, gemm_shape(most_a / 8192, 8192, 8192, "NN"));
      const GemmProblem bigb(prec_, gemm_shape(8192, most_b / 8192, 8192, "NN"));
      a_ = gpu::DeviceBuffer<char>(big.a.bytes());
      b_ = gpu::DeviceBuffer<char>(bigb.b.bytes());
      gpu::copy_to_device(a_.data(), big.a.data(), big.a.bytes());
      gpu::copy_to_device(b_.data(), bigb.b.data(), bigb.b.bytes());
    }
    double best = 0;
    gpu::EventTimer timer;
    for (const GemmShape& s0 : kPeakShapes) {
      const GemmShape s = gemm_shape(s0.m, s0.n, s0.k, layout);
      try {
        gpu::DeviceBuffer<char> c(s.m * s.n * dtype_bytes(prec_.out));
        cuda::LtMatmul mm(prec_, s);
        mm.run(a_.data(), b_.data(), c.data());
        timer.start();
        for (int r = 0; r < 3; ++r) mm.run(a_.data(), b_.data(), c.data());
        const double rate = 3 * s.flops() / timer.stop();
        if (rate > best) best = rate, shape_ = s;
      } catch (const OutOfMemory&) {
      } catch (const Unsupported&) {
      }
    }
    if (best == 0) throw Unsupported("no peak-search shape runs " + prec_.name() + " here");
    a_.reset(), b_.reset();
    return GpuGemmCase::setup();  // the best shape, made, checked and timed as any other
  }
  void report(benchmark::State& state, const Peaks& peaks) override {
    GpuGemmCase::report(state, peaks);
    state.counters["m"] = static_cast<double>(shape_.m);
    state.counters["n"] = static_cast<double>(shape_.n);
    state.counters["k"] = static_cast<double>(shape_.k);
  }
};

Value natural_layout(const Point& p) { return {tn_only(p["precision"]) ? "TN" : "NN", 0}; }
// the combinations of one shape set at the given precisions only
std::function<bool(const Point&)> shape_at(const char* shape, std::vector<std::string> precisions) {
  return [shape, precisions](const Point& p) {
    return wants_shape(p, shape) && has(precisions, p["precision"]);
  };
}
Spec gpu_spec(const char* variant, const char* what) {
  return Spec(variant, Timing::Gpu)
      .with(axis("precision", gpu_precisions()))
      .from_option("shapes", "gemm-shapes")
      .note(what)
      .cases(plain<GpuGemmCase>());
}
const std::vector<std::string> kGpuKeys = {"precision", "algo", "shape", "m", "n", "k", "layout"};
bool gpu_layout_ok(const Point& p, bool all_layouts) {
  if (tn_only(p["precision"])) return p["layout"] == "TN";
  return all_layouts || p["layout"] == "NN";
}
size_t largest(const std::string& list) {
  size_t top = 0;
  for (const std::string& t : split(list, ',')) top = std::max(top, std::stoul(t));
  return top;
}

// the error table on the GPU: m = n = 128, k swept
Spec gpu_accuracy(const char* lib, const std::vector<std::string>& precisions) {
  return Spec("accuracy", Timing::Gpu)
      .with(axis("lib", {lib}))
      .with(axis("precision", precisions))
      .with(option_axis("k", "gemm-k"))
      .key("m", constant(128))
      .key("n", constant(128))
      .key("layout", natural_layout)
      .name({"lib", "precision", "m", "n", "k"})
      .cases(plain<GpuGemmCase>());
}

std::vector<Spec> gpu_specs() {
  constexpr size_t kTokens = 8192;
  const size_t conv_m = kBatch * 255 * 255;  // the seed CNN's output pixels
  std::vector<Spec> specs = {
      gpu_spec("cublaslt",
               "square: m = n = k from --gemm-gpu-sizes (NT, TN at the largest); "
               "8-bit types TN only")
          .with(axis("algo", {"heuristic", "best"}))
          .with(axis("shape", {"square"}))
          .with(option_axis("m", "gemm-gpu-sizes"))
          .with(axis("layout", {"NN", "NT", "TN"}))
          .from_option("sizes", "gemm-gpu-sizes")
          .key("n", same_as_m)
          .key("k", same_as_m)
          .name(kGpuKeys)
          .only_if(
              [](const Point& p) {
                return wants_shape(p, "square") &&
                       gpu_layout_ok(p, p.size("m") == largest(p["sizes"]));
              },
              "NT and TN below the largest size; 8-bit types other than TN"),
      gpu_spec("cublaslt", "transformer MLP: 8192 tokens x hidden x 4 hidden (up) and back (down)")
          .with(axis("algo", {"heuristic"}))
          .with(axis("shape", {"mlp_up", "mlp_down"}))
          .with(option_axis("hidden", "gemm-hidden"))
          .with(axis("layout", {"NN", "TN"}))
          .key("m", constant(kTokens))
          .key("n",
               [](const Point& p) {
                 return number(p["shape"] == "mlp_up" ? 4 * p.size("hidden") : p.size("hidden"));
               })
          .key("k",
               [](const Point& p) {
                 return number(p["shape"] == "mlp_up" ? p.size("hidden") : 4 * p.size("hidden"));
               })
          .name({"precision", "algo", "shape", "hidden", "m", "n", "k", "layout"})
          .only_if(
              [](const Point& p) {
                return wants_shape(p, "transformer") && gpu_layout_ok(p, false);
              },
              "8-bit types other than TN; others other than NN"),
      gpu_spec("cublaslt",
               "the seed CNN's layers as GEMMs: conv 2x2 (k = 12), conv 1x1 (k = "
               "128), dense (batch 50)")
          .with(axis("algo", {"heuristic"}))
          .with(axis("shape", {"cnn_conv2x2", "cnn_conv1x1", "cnn_dense"}))
          .key("m",
               [conv_m](const Point& p) {
                 return number(p["shape"] == "cnn_dense" ? kBatch : conv_m);
               })
          .key("n", [](const Point& p) { return number(p["shape"] == "cnn_dense" ? 1 : 128); })
          .key("k",
               [](const Point& p) {
                 return number(p["shape"] == "cnn_dense"     ? kFeatures
                               : p["shape"] == "cnn_conv2x2" ? 12
                                                             : 128);
               })
          .key("layout", constant("TN"))
          .name(kGpuKeys)
          .only_if(shape_at("cnn", {"f32.f32.f32", "f32.tf32.f32", "f16.f32.f16", "bf16.f32.bf16"}),
                   "precisions other than the training ones (f32, tf32, f16, bf16)"),
      gpu_spec("cublaslt",
               "alignment: m = n = k around 8192, where tensor cores want multiples "
               "of 16 bytes")
          .with(axis("algo", {"heuristic"}))
          .with(axis("shape", {"align"}))
          .with(option_axis("m", "gemm-align"))
          .key("n", same_as_m)
          .key("k", same_as_m)
          .key("layout", natural_layout)
          .name(kGpuKeys)
          .only_if(
              shape_at("align", {"bf16.f32.bf16", "f16.f32.f16", "f32.tf32.f32", "e4m3.f32.bf16"}),
              "precisions other than bf16, f16, tf32 and e4m3"),
      Spec("cublaslt_peak", Timing::Gpu)
          .with(axis("precision", gpu_precisions()))
          .key("m", constant(8192))
          .key("n", constant(8192))
          .key("k", constant(8192))
          .key("layout", natural_layout)
          .name({"precision"})
          .note("the best TFLOP/s of the heuristic's choice over shapes near the large sizes; "
                "its shape in the counters m, n, k")
          .cases(plain<GpuPeakCase>()),
      gpu_spec("cublaslt_fast_accum",
               "8-bit floats with CUBLASLT_MATMUL_DESC_FAST_ACCUM (no promotion to f32 along k): "
               "the square sweep's largest size, TN")
          .with(axis("algo", {"heuristic"}))
          .with(axis("shape", {"square"}))
          .from_option("sizes", "gemm-gpu-sizes")
          .key("m", [](const Point& p) { return number(largest(p["sizes"])); })
          .key("n", same_as_m)
          .key("k", same_as_m)
          .key("layout", constant("TN"))
          .key("accum", constant("fast"))
          .name(kGpuKeys)
          .only_if(shape_at("square", fp8_precisions()), "precisions other than the 8-bit floats"),
      gpu_accuracy("cublaslt", gpu_precisions()),
      gpu_accuracy("cublaslt_fast_accum", fp8_precisions()).key("accum", constant("fast")),
  };
  return specs;
}
const FamilyRegistrar gpu_reg{
    {"gemm",
     "",
     gpu_specs(),
     {sizes_option("gemm-gpu-sizes", "GPU square GEMM edges", "256,1024,4096,8192,16384", "8192",
                   1 << 16),
      sizes_option("gemm-hidden", "transformer hidden sizes", "1024,4096,8192", "4096", 1 << 16),
      sizes_option("gemm-align", "the alignment sweep's edges",
                   "8184,8188,8190,8191,8192,8193,8194,8196,8200", "8184,8192,8193", 1 << 16)}}};
#endif

}  // namespace
}  // namespace dtypebench::bench
