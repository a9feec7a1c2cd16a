// Convolution family: what a precision and a memory layout buy for the convolutions real
// networks run (the seed CNN's and ResNet-50's layers), each pass, checked against fp64.
#include "kernels/cpu/conv.hpp"

#include <algorithm>
#include <chrono>

#include "bench/family.hpp"
#include "kernels/cuda/conv.hpp"
#include "kernels/cuda/gemm.hpp"  // the chip's datasheet peaks (cuda::datasheet_peak)

namespace dtypebench::bench {
namespace {

// One layer of the table: its shape without the batch (the --conv-batch axis gives it).
struct Layer {
  size_t c, hw, k, rs, stride, pad;
  ConvShape at(size_t batch) const { return {batch, c, hw, hw, k, rs, rs, stride, pad, 1}; }
};
// the seed CNN (256x256x3 -> a 2x2 conv to 128 channels, then two 1x1 at 128 on 255x255: one row
// stands for both), ResNet-50's stem, 3x3 and 1x1 layers, and a channel count that is no
// multiple of 8 (off the vector kernels' fast path)
const std::vector<std::pair<std::string, Layer>> kLayers = {
    {"seed_2x2", {3, 256, 128, 2, 1, 0}},      {"seed_1x1", {128, 255, 128, 1, 1, 0}},
    {"r50_stem", {3, 224, 64, 7, 2, 3}},       {"r50_3x3_64", {64, 56, 64, 3, 1, 1}},
    {"r50_3x3_128", {128, 28, 128, 3, 1, 1}},  {"r50_3x3_256", {256, 14, 256, 3, 1, 1}},
    {"r50_3x3_512", {512, 7, 512, 3, 1, 1}},   {"r50_1x1_256", {256, 56, 64, 1, 1, 0}},
    {"r50_1x1_512", {512, 28, 128, 1, 1, 0}},  {"r50_1x1_1024", {1024, 14, 256, 1, 1, 0}},
    {"r50_1x1_2048", {2048, 7, 512, 1, 1, 0}}, {"odd_3x3_60", {60, 56, 60, 3, 1, 1}},
};
const char* kQuickLayers = "seed_2x2,r50_3x3_64,r50_1x1_256,odd_3x3_60";

std::string layer_names() {
  std::string s;
  for (const auto& [name, l] : kLayers) s += (s.empty() ? "" : ",") + name;
  return s;
}

Option layers_option() {
  auto check = [](const std::string& v) -> std::string {
    for (const std::string& t : split(v, ',')) {
      if (std::none_of(kLayers.begin(), kLayers.end(), [&](const auto& l) { return l.first == t; }))
        return "has no layer '" + t + "' (the layers: " + layer_names() + ")";
    }
    return "";
  };
  return {"conv-layers", "the layers of the table to run", layer_names(), kQuickLayers, check};
}

const std::vector<std::pair<std::string, ConvPass>> kPasses = {
    {"fwd", ConvPass::Forward},
    {"bwd_data", ConvPass::BackwardData},
    {"bwd_weights", ConvPass::BackwardWeights}};

bool in_layers(const Point& p) {
  const std::vector<std::string> want = split(p["layers"], ',');
  return std::find(want.begin(), want.end(), p["layer"]) != want.end();
}

// the counters every conv row has: the problem as data (so a peer, scripts/torch_conv.py, runs
// the same one from the row), its error against fp64 and the bound it was held to
void report_problem(benchmark::State& state, const ConvShape& s, const ProductErrors& e,
                    double bound, size_t checked) {
  using C = benchmark::Counter;
  // what a kernel that skips the zero padding must do: the rate a share of a peak divides
  state.counters["useful_flops"] = C(s.useful_flops(), C::kIsIterationInvariantRate);
  for (const auto& [k, v] : {std::pair<const char*, size_t>{"conv_n", s.n}, {"conv_c", s.c},
                             {"conv_h", s.h}, {"conv_w", s.w}, {"conv_k", s.k}, {"conv_r", s.r},
                             {"conv_s", s.s}, {"conv_stride", s.stride}, {"conv_pad", s.pad},
                             {"conv_dilation", s.dilation}})
    state.counters[k] = static_cast<double>(v);
  state.counters["rel_error"] = e.rel_error;
  state.counters["rel_error_unrounded"] = e.rel_error_unrounded;
  state.counters["error_bound"] = bound;
  state.counters["outputs_checked"] = static_cast<double>(checked);
}

// how many outputs the check sums in full: about 2^26 terms in all, at least 16 outputs
size_t check_outputs(const ConvShape& s, ConvPass pass) {
  return std::clamp<size_t>((size_t(1) << 26) / conv_terms(s, pass), 16, 4096);
}

// One pass of one layer by oneDNN: made once, checked once against the fp64 direct sum of the
// same rounded inputs (and compared with the unrounded ones) before timing. The reorders are timed
// apart (reorder_seconds): the weights' in every layout, and for blocked what NCHW activations
// pay to get in and out too.
struct ConvCase : Case {
  std::string setup() override {
    pr_ = std::make_unique<ConvProblem>(shape_, pass_, layout_,
                                        Precision{in_, in_, Dtype::f32, Dtype::f32});
    conv_ = std::make_unique<cpu::DnnlConv>(*pr_);
    conv_->reorder_in();
    run();
    conv_->reorder_out();
    err_ = check_conv(*pr_, check_outputs(shape_, pass_));
    reorder_s_ = time_reorders();
    return err_.why;
  }
  void run() override { conv_->run(); }
  Work work() const override { return {pr_->min_bytes(), shape_.flops(), 0, pr_->min_bytes()}; }
  void report(benchmark::State& state, const Peaks&) override {
    report_problem(state, shape_, err_, error_bound(pr_->prec, conv_terms(shape_, pass_)).abs,
                   check_outputs(shape_, pass_));
    state.counters["scratchpad_bytes"] = static_cast<double>(conv_->scratchpad_bytes());
    state.counters["reorder_seconds"] = reorder_s_;
    state.counters["blocked_bytes"] = static_cast<double>(conv_->blocked_bytes());
  }
  std::string detail() const override {
    return conv_->impl() + " " + conv_->blocked_tags();
  }
  // the median of 5 rounds of the reorders in and out, after one untimed
  double time_reorders() {
    std::vector<double> t;
    for (int i = 0; i < 6; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      conv_->reorder_in();
      conv_->reorder_out();
      if (i) t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::nth_element(t.begin(), t.begin() + 2, t.end());
    return t[2];
  }

  const ConvPass pass_ = p.get<ConvPass>("pass");
  const ConvLayout layout_ = p.get<ConvLayout>("layout");
  const Dtype in_ = p.get<Dtype>("precision");
  const ConvShape shape_ = p.get<Layer>("layer").at(p.size("batch"));
  std::unique_ptr<ConvProblem> pr_;
  std::unique_ptr<cpu::DnnlConv> conv_;
  ProductErrors err_;
  double reorder_s_ = 0;
};

#ifdef DTYPEBENCH_HAVE_CUDA
bool is_3x3(const Point& p) { return p.get<Layer>("layer").rs == 3; }
enum class Algo { Heuristic, Best };
constexpr size_t kSearchWorkspace = size_t(1) << 30;  // what cuDNN's search may use at most

// One pass of one layer by cuDNN on the device, the heuristic's first choice that fits or the
// winner of cuDNN's search, checked once against the fp64 direct sum as on the CPU.
struct GpuConvCase : Case {
  std::string setup() override {
    pr_ = std::make_unique<ConvProblem>(shape_, pass_, layout_, prec_);
    x_ = to_device(pr_->x), w_ = to_device(pr_->w), y_ = to_device(pr_->y);
    conv_ = std::make_unique<cuda::CudnnConv>(*pr_, x_.data(), w_.data(), y_.data());
    if (algo_ == Algo::Best)
      conv_->search(kSearchWorkspace);
    else
      conv_->choose_heuristic();
    Buffer<char>& out = pr_->output();
    char* dout = out.data() == pr_->x.data() ? x_.data() : out.data() == pr_->w.data() ? w_.data()
                                                                                         : y_.data();
    gpu::memset_device(dout, 0xff, out.bytes());  // the search wrote it: poisoned again
    run();
    gpu::synchronize();
    gpu::copy_to_host(out.data(), dout, out.bytes());
    err_ = check_conv(*pr_, check_outputs(shape_, pass_));
    const gpu::DeviceInfo& d = gpu::device();
    peak_ = cuda::datasheet_peak(prec_, d.cc_major, d.cc_minor, d.sms);
    return err_.why;
  }
  void run() override { conv_->run(); }
  Work work() const override { return {pr_->min_bytes(), shape_.flops(), 0, pr_->min_bytes()}; }
  void report(benchmark::State& state, const Peaks&) override {
    using C = benchmark::Counter;
    report_problem(state, shape_, err_, error_bound(prec_, conv_terms(shape_, pass_)).abs,
                   check_outputs(shape_, pass_));
    state.counters["workspace_bytes"] = static_cast<double>(conv_->workspace_bytes());
    state.counters["candidates"] = conv_->candidates();
    state.counters["algo_id"] = conv_->algo();
    if (peak_ > 0) {
      state.counters["datasheet_peak_flops"] = peak_;
      state.counters["share_of_datasheet_peak"] =
          C(shape_.useful_flops() / peak_, C::kIsIterationInvariantRate);
    }
  }
  std::string detail() const override {
    return conv_->algo_name() + (conv_->fallback().empty() ? "" : "; " + conv_->fallback());
  }

  const ConvPass pass_ = p.get<ConvPass>("pass");
  const ConvLayout layout_ = p.get<ConvLayout>("layout");
  const Precision prec_ = precision_from_name(p["precision"]);
  const Algo algo_ = p.get<Algo>("algo");
  const ConvShape shape_ = p.get<Layer>("layer").at(p.size("batch"));
  std::unique_ptr<ConvProblem> pr_;
  gpu::DeviceBuffer<char> x_, w_, y_;
  std::unique_ptr<cuda::CudnnConv> conv_;
  ProductErrors err_;
  double peak_ = 0;
};

#endif

const FamilyRegistrar kConv(Family{
    "conv",
    "convolution by precision and memory layout: the seed CNN's and ResNet-50's layers, forward "
    "and both backward passes (oneDNN), each checked against fp64",
    {Spec("onednn")
         .with(axis_of<Layer>("layer", kLayers))
         .with(axis_of<ConvPass>("pass", kPasses))
         .with(axis_of<Dtype>("precision",
                              {{"f32.f32.f32", Dtype::f32}, {"bf16.f32.f32", Dtype::bf16},
                               {"f16.f32.f32", Dtype::f16}}))
         .with(axis_of<ConvLayout>("layout", {{"nchw", ConvLayout::Nchw},
                                              {"nhwc", ConvLayout::Nhwc},
                                              {"blocked", ConvLayout::Blocked}}))
         .with(option_axis("batch", "conv-batch"))
         .with(threads_axis())
         .from_option("layers", "conv-layers")
         .name({"layer", "pass", "precision", "layout", "batch", "threads"})
         .only_if(in_layers, "layers not in --conv-layers")
         .skip_if([](const Point&) -> std::string {
           return cpu::have_onednn() ? "" : "built without oneDNN (install libdnnl-dev)";
         })
         .note("inputs rounded to the precision, f32 accumulation and output; weights in the "
               "primitive's layout; blocked: the activations too; reorders timed apart "
               "(reorder_seconds)")
         .cases(plain<ConvCase>())},
    // the GPU rows' option in every build, so a command line means the same with or without CUDA
    {sizes_option("conv-batch", "the batch (N) of every CPU row", "50", "2", 4096),
     sizes_option("conv-gpu-batch", "the GPU rows' batches (above 50: the 3x3 layers only)",
                  "50,256", "50", 4096),
     layers_option()}});

#ifdef DTYPEBENCH_HAVE_CUDA
// the GPU rows, beside the CPU ones (registered after them: the family and its order are theirs)
const FamilyRegistrar kConvGpu(Family{
    "conv",
    "",
    {Spec("cudnn", Timing::Gpu)
         .with(axis_of<Layer>("layer", kLayers))
         .with(axis_of<ConvPass>("pass", kPasses))
         .with(axis("precision", {"f32.f32.f32", "f32.tf32.f32", "f16.f32.f16", "bf16.f32.bf16"}))
         .with(axis_of<ConvLayout>("layout", {{"nchw", ConvLayout::Nchw},
                                              {"nhwc", ConvLayout::Nhwc}}))
         .with(option_axis("batch", "conv-gpu-batch"))
         .with(axis_of<Algo>("algo", {{"heuristic", Algo::Heuristic}, {"best", Algo::Best}}))
         .from_option("layers", "conv-layers")
         .name({"layer", "pass", "precision", "layout", "batch", "algo"})
         .only_if(in_layers, "layers not in --conv-layers")
         .only_if([](const Point& p) { return p.size("batch") <= 50 || is_3x3(p); },
                  "batches above 50 only for the 3x3 layers (the peak)")
         .note("cudnnConvolution{Forward,BackwardData,BackwardFilter}; algo:heuristic is its "
               "first choice that fits, algo:best the winner of cudnnFind...AlgorithmEx")
         .cases(plain<GpuConvCase>())},
    {}});
#endif

}  // namespace
}  // namespace dtypebench::bench
