// The trainer's own kernels against scalar long double references on fresh random inputs: the
// loss and its gradient (and finite differences of it), the bias and its gradient in both
// layouts, Adam's update, and the loss scaler's rule.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "kernels/cpu/conv.hpp"
#include "kernels/cpu/train.hpp"
#include "tests/test_util.hpp"

namespace dtypebench {
namespace {

std::vector<double> uniform(size_t n, uint64_t seed, double lo, double hi) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = u(g);
  return v;
}

TEST(Train, LossAndGradientMatchTheScalarFormulaAndFiniteDifferences) {
  const uint64_t seed = test::fresh_seed();
  // logits up to +-60: the naive log(1 + exp(-x)) and sigmoid overflow at the ends
  std::vector<double> z = uniform(257, seed, -60, 60), y(257), grad(257, NAN);
  for (size_t i = 0; i < y.size(); ++i) y[i] = (i * 7 + seed) % 3 == 0;
  z[3] = 0, z[4] = 1e-9, z[5] = -700;
  const double loss = cpu::bce_with_logits(z.data(), y.data(), z.size(), grad.data());
  long double want = 0;
  for (size_t i = 0; i < z.size(); ++i) {
    const long double x = z[i];
    // -[y log s + (1 - y) log(1 - s)], s = sigmoid(x), in long double
    const long double log_s = -std::log1p(std::exp(-x)), log_1ms = -x + log_s;
    want += -(y[i] * log_s + (1 - y[i]) * log_1ms);
    const long double s = 1 / (1 + std::exp(-x));
    EXPECT_NEAR(grad[i], static_cast<double>((s - y[i]) / z.size()), 1e-15) << i;
  }
  EXPECT_NEAR(loss, static_cast<double>(want / z.size()), 1e-12 * std::fabs(loss));
  // the gradient is the loss's derivative: central differences where the curve is not flat
  for (size_t i : {0, 1, 2, 3, 4}) {
    const double h = 1e-5;
    std::vector<double> zp = z, zm = z;
    zp[i] += h, zm[i] -= h;
    const double fd = (cpu::bce_with_logits(zp.data(), y.data(), z.size(), (double*)nullptr) -
                       cpu::bce_with_logits(zm.data(), y.data(), z.size(), (double*)nullptr)) /
                      (2 * h);
    EXPECT_NEAR(fd, grad[i], 1e-9) << i;
  }
  std::vector<float> zf = {1.5f, -2.f}, yf = {1.f, 0.f}, gf(2, NAN);
  EXPECT_NEAR(cpu::bce_with_logits(zf.data(), yf.data(), 2, gf.data()),
              0.5 * (std::log1p(std::exp(-1.5)) + std::log1p(std::exp(-2.0))), 1e-7);
}

TEST(Train, BiasAndItsGradientInBothLayouts) {
  const uint64_t seed = test::fresh_seed();
  const size_t n = 3, k = 5, hw = 7;
  for (bool nhwc : {false, true}) {
    std::vector<double> y = uniform(n * k * hw, seed, -1, 1), b = uniform(k, seed + 1, -1, 1);
    const std::vector<double> before = y;
    cpu::add_bias(y.data(), b.data(), n, k, hw, nhwc);
    std::vector<long double> sum(k, 0);
    for (size_t i = 0; i < n; ++i)
      for (size_t c = 0; c < k; ++c)
        for (size_t p = 0; p < hw; ++p) {
          const size_t at = nhwc ? (i * hw + p) * k + c : (i * k + c) * hw + p;
          EXPECT_EQ(y[at], before[at] + b[c]) << nhwc << " " << at;
          sum[c] += before[at];
        }
    std::vector<double> db(k, NAN);
    cpu::bias_grad(before.data(), db.data(), n, k, hw, nhwc);
    for (size_t c = 0; c < k; ++c) EXPECT_NEAR(db[c], static_cast<double>(sum[c]), 1e-13) << c;
  }
}

TEST(Train, AdamMatchesTheScalarUpdate) {
  const uint64_t seed = test::fresh_seed();
  const size_t n = 1000;
  const cpu::Adam a;
  std::vector<double> w = uniform(n, seed, -1, 1), m(n, 0), v(n, 0);
  std::vector<long double> wr(w.begin(), w.end()), mr(n, 0), vr(n, 0);
  for (size_t step = 1; step <= 5; ++step) {
    const std::vector<double> g = uniform(n, seed + step, -2, 2);
    const std::vector<double> w_before = w;
    cpu::adam_step(w.data(), g.data(), m.data(), v.data(), n, a, step);
    const long double c1 = 1 - std::pow(0.9L, step), c2 = 1 - std::pow(0.999L, step);
    for (size_t i = 0; i < n; ++i) {
      mr[i] = 0.9L * mr[i] + 0.1L * g[i];
      vr[i] = 0.999L * vr[i] + 0.001L * g[i] * g[i];
      wr[i] -= 1e-3L * (mr[i] / c1) / (std::sqrt(vr[i] / c2) + 1e-7L);
      EXPECT_NEAR(w[i], static_cast<double>(wr[i]), 1e-14) << step << " " << i;
      // the first step moves every weight by the learning rate against its gradient's sign
      // (less lr eps / |g|, eps's share of the denominator)
      if (step == 1) {
        EXPECT_NEAR(w_before[i] - w[i], std::copysign(1e-3, g[i]),
                    1.01e-10 / std::fabs(g[i]) + 1e-15);
      }
    }
  }
}

TEST(Train, LossScalerHalvesOnOverflowAndDoublesAfterCleanSteps) {
  cpu::LossScaler s;
  EXPECT_EQ(s.scale(), 65536.0);
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> g = {1.f, 2.f, inf};
  EXPECT_FALSE(cpu::all_finite(g.data(), g.size()));
  g[2] = NAN;
  EXPECT_FALSE(cpu::all_finite(g.data(), g.size()));
  g[2] = 3.f;
  EXPECT_TRUE(cpu::all_finite(g.data(), g.size()));
  EXPECT_FALSE(s.update(false)) << "an overflow skips the update";
  EXPECT_EQ(s.scale(), 32768.0);
  EXPECT_EQ(s.skipped(), 1u);
  for (int i = 0; i < 1999; ++i) ASSERT_TRUE(s.update(true));
  EXPECT_EQ(s.scale(), 32768.0) << "1999 clean steps: not yet";
  EXPECT_TRUE(s.update(true));
  EXPECT_EQ(s.scale(), 65536.0) << "the 2000th doubles it";
  for (int i = 0; i < 1000; ++i) s.update(true);
  s.update(false);  // an overflow restarts the count
  for (int i = 0; i < 1999; ++i) s.update(true);
  EXPECT_EQ(s.scale(), 32768.0);
}

}  // namespace
}  // namespace dtypebench

namespace dtypebench {
namespace {

cpu::SeedCnnConfig tiny(bool nhwc) {
  cpu::SeedCnnConfig c;
  c.image = 6, c.channels = 4, c.batch = 3, c.images = 6, c.seed = 7, c.nhwc = nhwc;
  return c;
}

// Every parameter's gradient in fp64 against central differences of the loss: the trainer's
// forward and backward, layer by layer (a few entries of every tensor, the largest ones first)
TEST(Train, Fp64GradientsMatchFiniteDifferences) {
  cpu::SeedCnn net(tiny(false), cpu::TrainMode::F64);
  std::vector<std::vector<double>> g;
  net.gradients(1, &g);
  const std::vector<std::vector<double>> p = net.parameters();
  const char* names[] = {"w1", "b1", "w2", "b2", "w3", "b3", "wd", "bd"};
  ASSERT_EQ(g.size(), 8u);
  for (size_t t = 0; t < 8; ++t) {
    std::vector<size_t> order(g[t].size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return std::fabs(g[t][a]) > std::fabs(g[t][b]); });
    for (size_t j = 0; j < std::min<size_t>(4, order.size()); ++j) {
      const size_t i = order[j];
      const double h = 1e-6;
      std::vector<std::vector<double>> unused;
      net.set_parameter(t, i, p[t][i] + h);
      const double up = net.gradients(1, &unused);
      net.set_parameter(t, i, p[t][i] - h);
      const double down = net.gradients(1, &unused);
      net.set_parameter(t, i, p[t][i]);
      EXPECT_NEAR((up - down) / (2 * h), g[t][i], 1e-6 * std::fabs(g[t][i]) + 1e-9)
          << names[t] << "[" << i << "]";
    }
  }
}

// One fp32 step (oneDNN, both layouts) against the fp64 step from the same weights and data:
// every gradient within a relative Frobenius error of 1e-4 (f32 sums over a few thousand terms)
TEST(Train, Fp32StepMatchesFp64) {
  if (!cpu::have_onednn()) GTEST_SKIP() << "built without oneDNN";
  cpu::SeedCnn ref(tiny(false), cpu::TrainMode::F64);
  std::vector<std::vector<double>> want;
  const double loss64 = ref.gradients(0, &want);
  for (bool nhwc : {false, true}) {
    cpu::SeedCnn net(tiny(nhwc), cpu::TrainMode::F32);
    std::vector<std::vector<double>> got;
    const double loss32 = net.gradients(0, &got);
    EXPECT_NEAR(loss32, loss64, 1e-6 * loss64) << nhwc;
    for (size_t t = 0; t < 8; ++t) {
      double err = 0, norm = 0;
      for (size_t i = 0; i < want[t].size(); ++i)
        err += (got[t][i] - want[t][i]) * (got[t][i] - want[t][i]),
            norm += want[t][i] * want[t][i];
      EXPECT_LE(std::sqrt(err), 1e-4 * std::sqrt(norm) + 1e-12) << "tensor " << t << " nhwc " << nhwc;
    }
    // and a step moves the weights by Adam's first step: the learning rate, against the sign
    const auto before = net.parameters();
    net.step(0);
    const auto after = net.parameters();
    EXPECT_NEAR(before[6][0] - after[6][0], std::copysign(1e-3, got[6][0]), 1e-6);
  }
}

// bf16-mixed: the convolutions' inputs rounded to bf16 (8 bits), so its gradients sit within a
// few bf16 roundings of fp64's (2^-9 each): relative Frobenius at most 3e-2 and above 1e-4 (a
// run that did not round would be f32's, 1e-7)
TEST(Train, Bf16MixedStepIsWithinBf16OfFp64) {
  if (!cpu::have_onednn()) GTEST_SKIP() << "built without oneDNN";
  std::unique_ptr<cpu::SeedCnn> net;
  try {
    net = std::make_unique<cpu::SeedCnn>(tiny(true), cpu::TrainMode::Bf16Mixed);
  } catch (const Unsupported& e) {
    GTEST_SKIP() << e.what();
  }
  cpu::SeedCnn ref(tiny(false), cpu::TrainMode::F64);
  std::vector<std::vector<double>> want, got;
  ref.gradients(0, &want);
  net->gradients(0, &got);
  double worst = 0;
  for (size_t t = 0; t < 8; ++t) {
    double err = 0, norm = 0;
    for (size_t i = 0; i < want[t].size(); ++i)
      err += (got[t][i] - want[t][i]) * (got[t][i] - want[t][i]), norm += want[t][i] * want[t][i];
    EXPECT_LE(std::sqrt(err), 3e-2 * std::sqrt(norm)) << "tensor " << t;
    worst = std::max(worst, std::sqrt(err / norm));
  }
  EXPECT_GT(worst, 1e-4) << "no tensor shows bf16's rounding";
}

// The seed experiment's claim T6 in small: random labels are learnt to 100% (a linear model of
// more inputs than images), the loss falling, on the CPU within seconds
TEST(Train, TinyConfigurationLearnsRandomLabels) {
  if (!cpu::have_onednn()) GTEST_SKIP() << "built without oneDNN";
  cpu::SeedCnnConfig c;
  c.image = 32, c.channels = 16, c.batch = 16, c.images = 64, c.seed = test::fresh_seed();
  for (cpu::TrainMode mode : {cpu::TrainMode::F32, cpu::TrainMode::Bf16Mixed}) {
    const char* name = mode == cpu::TrainMode::F32 ? "f32" : "bf16-mixed";
    std::unique_ptr<cpu::SeedCnn> net;
    try {
      net = std::make_unique<cpu::SeedCnn>(c, mode);
    } catch (const Unsupported& e) {
      std::printf("[ skipped  ] %s: %s\n", name, e.what());
      continue;
    }
    double first = 0, last = 0, acc = 0;
    int epoch = 0;
    for (; epoch < 40 && acc < 1.0; ++epoch) {
      double sum = 0;
      for (size_t b = 0; b < net->steps_per_epoch(); ++b) sum += net->step(b);
      last = sum / static_cast<double>(net->steps_per_epoch());
      if (epoch == 0) first = last;
      acc = net->accuracy();
    }
    EXPECT_EQ(acc, 1.0) << name << " after " << epoch << " epochs";
    EXPECT_LT(last, first) << name;
    std::printf("[ train    ] %s: 100%% after %d epochs, loss %.3f -> %.3f\n", name, epoch, first,
                last);
  }
}

TEST(Train, BadConfigurationsAreRefused) {
  cpu::SeedCnnConfig c = tiny(false);
  c.batch = 7;
  EXPECT_THROW(cpu::SeedCnn(c, cpu::TrainMode::F64), std::invalid_argument);  // > images
  c.batch = 4;
  EXPECT_THROW(cpu::SeedCnn(c, cpu::TrainMode::F64), std::invalid_argument);  // 6 % 4
  EXPECT_THROW(cpu::SeedCnn(tiny(true), cpu::TrainMode::F64), std::invalid_argument);  // nhwc
  c = tiny(false);
  c.images = 0;
  EXPECT_NE(c.invalid(), "");
}

}  // namespace
}  // namespace dtypebench
