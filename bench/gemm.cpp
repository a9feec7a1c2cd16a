// GEMM family: throughput by precision (fp64 ... 8-bit) and the error each precision costs
// against fp64, on the CPU (OpenBLAS, oneDNN) and on the GPU (cuBLASLt).
#include "kernels/cpu/gemm.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "bench/family.hpp"

namespace dtypebench::bench {
namespace {

// the CPU libraries and the precisions each has
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
  return has(p["variant"] == "openblas" ? kBlas : kDnnl, p["precision"]);
}

// The seed CNN (SEED-CLAIMS.md: 256x256x3 images, batch 50, Conv2D(128, 2x2) -> 2x Conv2D(128,
// 1x1) -> Flatten -> Dense(1)) has a dense layer of 255*255*128 features: as a GEMM, batch x
// features times features x 1, the activations batch-major (op(A) = A^T in column-major).
constexpr size_t kBatch = 50, kFeatures = 255 * 255 * 128;

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
// FMA chains (f64, f32) or AVX512-BF16 dot products (bf16 inputs), best of three short runs; 0
// where it has none (8-bit integers).
double fma_roof(const Precision& p) {
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    double flops = 0;
    const auto t0 = std::chrono::steady_clock::now();
    if (p.a == Dtype::f64)
      cpu::fma_peak<double>(20000, 0.999, 1e-3, 0.5, &flops);
    else if (p.a == Dtype::f32)
      cpu::fma_peak<float>(20000, 0.999f, 1e-3f, 0.5f, &flops);
    else if (p.a == Dtype::bf16 && cpu::have_avx512_bf16())
      cpu::bf16_dot_peak(20000, 0.5f, 0.25f, &flops);
    else
      return 0;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, flops / s);
  }
  return best;
}

// C = op(A) op(B) by one CPU library, checked once against the fp64 product of the same rounded
// inputs (and compared with the unrounded ones) before timing.
struct CpuGemmCase : Case {
  explicit CpuGemmCase(const Point& p)
      : blas_(p["variant"] == "openblas"),
        prec_(precision_from_name(p["precision"])),
        shape_(gemm_shape(p.size("m"), p.size("n"), p.size("k"), p["layout"])),
        threads_(static_cast<int>(p.num("threads"))) {}
  std::string setup() override {
    pr_ = std::make_unique<GemmProblem>(prec_, shape_);
    c_ = Buffer<char>(pr_->c_bytes());
    std::memset(c_.data(), 0xff, c_.bytes());  // NaN in every float type, -1 in i32
    if (blas_)
      cpu::blas_threads(threads_);
    else
      dnnl_ = std::make_unique<cpu::DnnlMatmul>(*pr_, c_.data());
    run();
    err_ = check_gemm(*pr_, c_.data(), check_rows(shape_));
    roof_ = fma_roof(prec_);
    return err_.why;
  }
  void run() override {
    if (blas_)
      cpu::blas_gemm(*pr_, c_.data());
    else
      dnnl_->run();
  }
  Work work() const override { return {pr_->min_bytes(), shape_.flops(), 0, pr_->min_bytes()}; }
  void report(benchmark::State& state, const Peaks&) override {
    state.counters["rel_error"] = err_.rel_error;
    state.counters["rel_error_unrounded"] = err_.rel_error_unrounded;
    state.counters["error_bound"] = accumulation_bound(prec_, shape_.k);
    state.counters["rows_checked"] = static_cast<double>(err_.rows);
    if (roof_ > 0) {
      using C = benchmark::Counter;
      state.counters["fma_roof_flops"] = roof_;
      // flops / roof per iteration, as a rate: the attained share of the roof
      state.counters["share_of_fma_peak"] = C(shape_.flops() / roof_, C::kIsIterationInvariantRate);
    }
  }
  std::string detail() const override { return blas_ ? "openblas" : dnnl_->impl(); }

  bool blas_;
  Precision prec_;
  GemmShape shape_;
  int threads_;
  std::unique_ptr<GemmProblem> pr_;
  Buffer<char> c_;
  std::unique_ptr<cpu::DnnlMatmul> dnnl_;
  GemmError err_;
  double roof_ = 0;
};

std::string cpu_skip(const Point& p) {
  if (p["variant"] == "openblas" && !cpu::have_openblas())
    return "built without OpenBLAS (install libopenblas-dev)";
  if (p["variant"] == "onednn" && !cpu::have_onednn())
    return "built without oneDNN (install libdnnl-dev)";
  return "";
}

// library x precision, only the pairs a library has
Spec cpu_spec(const char* what) {
  return Spec("")
      .with(axis("variant", {"openblas", "onednn"}))
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
          .key("n", [](const Point& p) { return number(p.size("m")); })
          .key("k", [](const Point& p) { return number(p.size("m")); })
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
          .key("m", [](const Point&) { return number(kBatch); })
          .key("n", [](const Point&) { return number(1); })
          .key("k", [](const Point&) { return number(kFeatures); })
          .key("layout",
               [](const Point&) {
                 return Value{"TN", 0};
               })
          .name(kNameKeys)
          .only_if([](const Point& p) { return lib_has(p) && wants_shape(p, "cnn_dense"); },
                   "a precision its library lacks"),
      // the error table: m = n = 128, k swept, every precision (the largest thread count)
      Spec("accuracy")
          .with(axis("lib", {"openblas", "onednn"}))
          .with(axis("precision", union_of(kBlas, kDnnl)))
          .with(option_axis("k", "gemm-k"))
          .with(all_threads_axis())
          .key("variant",
               [](const Point& p) {
                 return Value{p["lib"], 0};
               })
          .key("m", [](const Point&) { return number(128); })
          .key("n", [](const Point&) { return number(128); })
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
    if (s != "square" && s != "cnn_dense")
      return "'" + s + "' is not a shape set (square, cnn_dense)";
  return "";
}

const FamilyRegistrar reg{
    {"gemm",
     "GEMM by precision (fp64 ... 8-bit): TFLOP/s, share of the FMA peak, error against fp64; "
     "OpenBLAS and oneDNN on the CPU, cuBLASLt on the GPU",
     cpu_specs(),
     {sizes_option("gemm-sizes", "square GEMM edges (m = n = k)", "256,512,1024,2048,4096", "2048",
                   1 << 16),
      {"gemm-shapes", "shape sets: square, cnn_dense", "square,cnn_dense", "", shapes_check},
      sizes_option("gemm-k", "k of the error table (m = n = 128)", "256,1024,4096,16384",
                   "256,4096", 1 << 20)},
     false}};

}  // namespace
}  // namespace dtypebench::bench
