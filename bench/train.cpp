// Training family: the seed CNN trained end to end (claims T1-T6) as a stepped case, every step
// timed, the first epoch apart from the rest, loss per step and accuracy per epoch.
#include "kernels/cpu/train.hpp"

#include <cmath>

#include "bench/family.hpp"
#include "bench/stepped.hpp"
#include "kernels/cpu/conv.hpp"
#include "kernels/cpu/gemm.hpp"  // blas_threads: the dense layer's BLAS at the row's threads

namespace dtypebench::bench {
namespace {

cpu::SeedCnnConfig config_at(const Point& p) {
  cpu::SeedCnnConfig c;
  c.image = p.size("image"), c.channels = p.size("channels"), c.batch = p.size("batch");
  c.images = p.size("images"), c.nhwc = p["layout"] == "nhwc";
  return c;
}

// The relative Frobenius distance of two gradient sets, the largest over the tensors
double worst_gradient_error(const std::vector<std::vector<double>>& got,
                            const std::vector<std::vector<double>>& want) {
  double worst = 0;
  for (size_t t = 0; t < want.size(); ++t) {
    double err = 0, norm = 0;
    for (size_t i = 0; i < want[t].size(); ++i)
      err += (got[t][i] - want[t][i]) * (got[t][i] - want[t][i]), norm += want[t][i] * want[t][i];
    worst = std::max(worst, norm > 0 ? std::sqrt(err / norm) : std::sqrt(err));
  }
  return worst;
}

// One training run: steps() batches an epoch, the point's epochs. Checked once before it is
// timed: the gradients of one image's step against the fp64 trainer's, same weights and data.
struct TrainCase : SteppedCase {
  std::string setup() override {
    cpu::blas_threads(static_cast<int>(p.num("threads")));
    cpu::SeedCnnConfig one = cfg_;
    one.batch = one.images = 1;
    cpu::SeedCnnConfig one64 = one;
    one64.nhwc = false;
    std::vector<std::vector<double>> got, want;
    cpu::SeedCnn(one, mode_).gradients(0, &got);
    cpu::SeedCnn(one64, cpu::TrainMode::F64).gradients(0, &want);
    check_error_ = worst_gradient_error(got, want);
    net_ = std::make_unique<cpu::SeedCnn>(cfg_, mode_);
    // f32 sums of up to C*P*P terms: 1e-4 relative is far above their rounding, far below a bug;
    // bf16-mixed: a few roundings of 2^-9 through three layers, 3e-2
    const double bound = mode_ == cpu::TrainMode::F32 ? 1e-4 : 3e-2;
    if (!(check_error_ <= bound))
      return "gradients " + std::to_string(check_error_) + " from fp64's (relative, worst tensor)";
    return "";
  }
  size_t steps() const override { return net_->steps_per_epoch(); }
  double step(size_t, size_t i) override { return net_->step(i); }
  std::vector<std::pair<std::string, double>> after_epoch(size_t) override {
    return {{"accuracy", net_->accuracy()}};
  }
  // one epoch: its FLOPs, and its images (elements: images/s)
  Work work() const override {
    const double steps = static_cast<double>(net_->steps_per_epoch());
    return {0, net_->flops_per_step() * steps, static_cast<double>(cfg_.images), 0};
  }
  void report(benchmark::State& state, const Peaks&) override {
    state.counters["gradient_error"] = check_error_;
    state.counters["parameter_bytes"] = static_cast<double>(net_->parameter_bytes());
  }
  std::string detail() const override { return net_->implementations(); }

  const cpu::SeedCnnConfig cfg_ = config_at(p);
  const cpu::TrainMode mode_ = p.get<cpu::TrainMode>("mode");
  std::unique_ptr<cpu::SeedCnn> net_;
  double check_error_ = 0;
};

const FamilyRegistrar kTrain(Family{
    "train",
    "the seed CNN (2x2 conv, two 1x1 convs, dense, sigmoid) trained on random images and labels "
    "with Adam: ms a step, the first epoch apart, loss and accuracy per epoch",
    {Spec("seed_cnn", Timing::Stepped)
         .with(axis_of<cpu::TrainMode>("mode", {{"f32", cpu::TrainMode::F32},
                                                 {"bf16_mixed", cpu::TrainMode::Bf16Mixed}}))
         .with(axis("layout", {"nchw", "nhwc"}))
         .with(option_axis("image", "train-image"))
         .with(option_axis("channels", "train-channels"))
         .with(option_axis("batch", "train-batch"))
         .with(option_axis("images", "train-images"))
         .with(option_axis("epochs", "train-epochs"))
         .with(threads_axis())
         .skip_if([](const Point& p) -> std::string {
           if (!cpu::have_onednn()) return "built without oneDNN (install libdnnl-dev)";
           const std::string why = config_at(p).invalid();
           return why.empty() ? "" : "the seed CNN cannot be trained so: " + why;
         })
         .note("f32 and bf16-mixed (bf16 convolution inputs, f32 master weights) on oneDNN "
               "(convolutions) and BLAS (the dense layer); epoch:k rows and a summary (claims "
               "T1, T5, T6); fp16-mixed and the GPU are to come")
         .cases(plain<TrainCase>())},
    {sizes_option("train-image", "the images' edge (the seed's: 256)", "64", "32", 4096),
     sizes_option("train-channels", "the convolutions' channels (the seed's: 128)", "128", "32",
                  4096),
     sizes_option("train-batch", "images a step (the seed's: 50)", "50", "50", 1 << 20),
     sizes_option("train-images", "the data set (the seed's: 800)", "800", "200", 1 << 24),
     sizes_option("train-epochs", "epochs (the seed's: 10)", "10", "3", 1000)},
    false});

}  // namespace
}  // namespace dtypebench::bench
