// The registry: the product of declared axes and its names, the counters and dispositions it
// writes for CPU and GPU cases (a host stand-in for the device where there is none), the one
// dtype table, and the GPU names of a committed H200 run held to the families' declarations.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "bench/registry.hpp"
#include "bench/stepped.hpp"
#include "dtypebench/precision.hpp"
#ifdef DTYPEBENCH_HAVE_CUDA
#include "dtypebench/cuda_check.hpp"
#endif

namespace dtypebench {
namespace bench {
namespace {

Config small_config() {
  Config c;
  c.levels = {{"L2", 1 << 20}, {"DRAM", 64 << 20}};
  c.threads = {1, 2};
  return c;
}

TEST(Registry, ProductNamesComputedKeysAndExclusions) {
  Spec s("");
  s.with(dtype_axis<double, float>())
      .with(axis("variant", {"a", "b"}))
      .with(levels_axis())
      .key("n",
           [](const Point& p) {
             const size_t n = p.size("level") / p.size("dtype");
             return Value{std::to_string(n), static_cast<double>(n)};
           })
      .name({"dtype", "level", "n"})
      .only_if([](const Point& p) { return !(p["variant"] == "b" && p["dtype"] == "f32"); },
               "b on f32");
  const auto pts = expand("fam", s, small_config());
  std::vector<std::string> names;
  for (const auto& [n, p] : pts) names.push_back(n);
  const std::vector<std::string> want = {
      "fam/a/dtype:f64/level:L2/n:131072", "fam/a/dtype:f64/level:DRAM/n:8388608",
      "fam/b/dtype:f64/level:L2/n:131072", "fam/b/dtype:f64/level:DRAM/n:8388608",
      "fam/a/dtype:f32/level:L2/n:262144", "fam/a/dtype:f32/level:DRAM/n:16777216"};
  EXPECT_EQ(names, want);
  const auto kv = parse_name(names[1]);
  EXPECT_EQ(kv.at("family"), "fam");
  EXPECT_EQ(kv.at("variant"), "a");
  EXPECT_EQ(kv.at("n"), "8388608");
}

// A value's payload reaches the case (p.get<T>), for an axis and for a spec's own variant; the
// names are the values' text alone
TEST(Registry, PayloadsReachTheCase) {
  enum class Op { Add, Mul };
  struct Layer {
    int c, k;
  };
  Spec s("v");
  s.variant_is(Op::Mul)
      .with(axis_of<Layer>("layer", {{"small", {3, 8}}, {"big", {64, 128}}}))
      .name({"layer"});
  const auto pts = expand("fam", s, small_config());
  ASSERT_EQ(pts.size(), 2u);
  EXPECT_EQ(pts[1].first, "fam/v/layer:big");
  EXPECT_EQ(pts[1].second.get<Layer>("layer").k, 128);
  EXPECT_EQ(pts[0].second.get<Op>("variant"), Op::Mul);
  EXPECT_EQ(pts[0].second["variant"], "v");
  EXPECT_THROW(pts[0].second.get<int>("layer"), std::logic_error);  // a payload of another type
}

// only_if and skip_if accumulate (a second one used to replace the first, silently)
TEST(Registry, OnlyIfAndSkipIfAccumulate) {
  Spec s("v");
  s.with(axis("x", {"1", "2", "3"}))
      .name({"x"})
      .only_if([](const Point& p) { return p["x"] != "1"; }, "not 1")
      .only_if([](const Point& p) { return p["x"] != "2"; }, "not 2")
      .skip_if([](const Point& p) { return p["x"] == "3" ? "first" : ""; })
      .skip_if([](const Point&) { return "second"; });
  const auto pts = expand("fam", s, small_config());
  ASSERT_EQ(pts.size(), 1u);
  EXPECT_EQ(pts[0].first, "fam/v/x:3");
  EXPECT_EQ(s.keep_why, "not 1; not 2");
  EXPECT_EQ(s.skip(pts[0].second), "first");
  Point other;
  other.set("x", {"4", 4});
  EXPECT_EQ(s.skip(other), "second");
}

TEST(Registry, QuickPairLevelsAndOptionAxes) {
  Config c = small_config();
  c.quick = true;
  c.options["sizes"] = "1,16";
  Spec s("v");
  s.with(pair_levels_axis()).with(option_axis("size", "sizes"));
  std::vector<std::string> names;
  for (const auto& [n, p] : expand("f", s, c)) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"f/v/level:DRAM/size:1", "f/v/level:DRAM/size:16"}));
}

TEST(Registry, OptionsRefuseBadValuesInOneLine) {
  const Option o = sizes_option("chunk-mib", "", "1", "", 1024);
  EXPECT_EQ(o.check("1,16"), "");
  for (const char* bad : {"", "0", "1,,2", "abc", "2048", "99999999999999999999999", "4,4", "1,"})
    EXPECT_NE(o.check(bad), "") << bad;
  const Option d = dir_option("tmpdir", "", "/tmp");
  EXPECT_EQ(d.check("/tmp"), "");
  EXPECT_NE(d.check("/nonexistent/dir"), "");
  EXPECT_NE(d.check("/etc/hostname"), "");
}

// A device on the host: counts the bytes cases "allocate" on it and times with the wall clock.
class StandIn : public Device {
 public:
  bool available(std::string*) const override { return true; }
  size_t l2_bytes() const override { return 8 << 20; }
  void reset_peak() override { peak_ = live_; }
  size_t live_bytes() const override { return live_; }
  size_t peak_bytes() const override { return peak_; }
  void synchronize() override {}
  void flush_l2() override { ++flushes; }
  void start() override {
    ++starts;
    open = true;
    t0_ = std::chrono::steady_clock::now();
  }
  double stop() override {
    open = false;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }
  gpu::ClockSample clocks() override {  // 1980 MHz as timing starts, then throttled to 1700
    gpu::ClockSample c;
    c.ok = true;
    c.sm_mhz = clock_samples++ % 2 == 0 ? 1980 : 1700;
    c.power_w = 650;
    return c;
  }
  int clock_samples = 0;
  void allocate(size_t b) { live_ += b, peak_ = std::max(peak_, live_); }
  void release(size_t b) { live_ -= b; }
  int flushes = 0, starts = 0;
  bool open = false;  // between start() and stop(): a launch now is timed

 private:
  size_t live_ = 0, peak_ = 0;
  std::chrono::steady_clock::time_point t0_;
};
StandIn* g_standin = nullptr;

// "device" buffers of n floats, one of them scratch freed after setup: the peak is 3n floats
class FakeGpuCase : public Case {
 public:
  explicit FakeGpuCase(const Point& p) : n_(p.size("n")) {}
  ~FakeGpuCase() override { g_standin->release(2 * n_ * 4); }
  std::string setup() override {
    g_standin->allocate(3 * n_ * 4);
    g_standin->release(n_ * 4);
    return "";
  }
  void run() override { benchmark::DoNotOptimize(n_); }
  Work work() const override { return {8.0 * n_, 0, double(n_), 8.0 * n_}; }

 private:
  size_t n_;
};

// A short "kernel": 20 us of work a launch, the launches counted
class SpinCase : public Case {
 public:
  std::string setup() override { return ""; }
  void run() override {
    ++runs;
    if (!g_standin->open) ++untimed;
    if (g_standin->starts != last_start) ++pairs, last_start = g_standin->starts;
    const auto t0 = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::microseconds(20)) {
    }
  }
  Work work() const override { return {1e6, 0, 0, 1e6}; }
  static inline int runs = 0, pairs = 0, last_start = -1;  // pairs: of events, around runs
  static inline int untimed = 0;  // launches outside a pair of events
};

// Holds 1 MiB of "device" memory while it runs: the peak while timed, not while built
class GrowingGpuCase : public Case {
 public:
  std::string setup() override { return ""; }
  void run() override { g_standin->allocate(1 << 20), g_standin->release(1 << 20); }
  Work work() const override { return {1e3, 0, 0, 1e3}; }
};

class BadCase : public Case {
 public:
  explicit BadCase(const Point&) {}
  std::string setup() override { return "3 of 4 values wrong"; }
  void run() override {}
  Work work() const override { return {}; }
};

// Slow on its first call only (a cold cache, a sleeping thread pool): the registry runs that one
// untimed, so the time reported is the fast one.
class ColdFirstCase : public Case {
 public:
  void run() override {
    if (calls_++ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::string setup() override { return ""; }
  Work work() const override { return {}; }

 private:
  int calls_ = 0;
};

// The same over a working set far beyond any cache, with no arithmetic: a DRAM pass, which the
// registry times from its first run (a cold start is noise against seconds of DRAM).
class ColdFirstDramCase : public ColdFirstCase {
 public:
  Work work() const override { return {1e6, 0, 0, 1e15}; }
};

// Keeps the runs Google Benchmark reports, for the test to read.
class Capture : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) this->runs.push_back(r);
  }
  std::vector<Run> runs;
};

void init_benchmark() {
  static bool initialized = false;
  if (!initialized) {
    const char* argv[] = {"test", "--benchmark_min_time=0.001", "--benchmark_repetitions=1"};
    int argc = 3;
    benchmark::Initialize(&argc, const_cast<char**>(argv));
    initialized = true;
  }
}

TEST(Registry, GpuCaseCarriesTheCpuCountersAndItsDevicePeak) {
  StandIn dev;
  g_standin = &dev;
  set_device(&dev);
  init_benchmark();
  Config cfg = small_config();
  cfg.flush_l2 = true;
  Family f{"regtest", "registry test", {}, {}};
  f.specs.push_back(Spec("gpu_fake", Timing::Gpu)
                        .with(gpu_levels_axis())
                        .key("n",
                             [](const Point& p) {
                               const size_t n = p.size("level") / 8;
                               return Value{std::to_string(n), static_cast<double>(n)};
                             })
                        .name({"n", "level"})
                        .cases(plain<FakeGpuCase>()));
  f.specs.push_back(Spec("gpu_spin", Timing::Gpu).cases(plain<SpinCase>()));
  f.specs.push_back(Spec("gpu_grow", Timing::Gpu).cases(plain<GrowingGpuCase>()));
  f.specs.push_back(Spec("cpu_bad").with(threads_axis()).cases(plain<BadCase>()));
  f.specs.push_back(Spec("cpu_cold").cases(plain<ColdFirstCase>()));
  f.specs.push_back(Spec("cpu_cold_dram").cases(plain<ColdFirstDramCase>()));
  f.specs.push_back(Spec("cpu_skip")
                        .skip_if([](const Point&) { return "not on this machine"; })
                        .cases(plain<BadCase>()));
  register_family(f, cfg);
  Capture cap;
  benchmark::RunSpecifiedBenchmarks(&cap, "^regtest/");
  set_device(nullptr);

  std::map<std::string, const benchmark::BenchmarkReporter::Run*> by;
  for (const auto& r : cap.runs) by[r.benchmark_name()] = &r;
  // the stand-in's L2 is 8 MiB: half of it for the L2 level, 8x (at least 1 GiB) for DRAM
  const auto* l2 = by.at("regtest/gpu_fake/n:524288/level:L2/manual_time");
  const auto* dram = by.at("regtest/gpu_fake/n:134217728/level:DRAM/manual_time");
  for (const auto* r : {l2, dram}) {
    ASSERT_FALSE(r->error_occurred) << r->error_message;
    EXPECT_EQ(r->report_label, "verified");
    const double n = r == l2 ? 524288 : 134217728;
    EXPECT_EQ(r->counters.at("working_set_bytes").value, 8 * n);
    EXPECT_EQ(r->counters.at("device_peak_bytes").value, 12 * n);  // the scratch counted once
    EXPECT_EQ(r->counters.at("verified").value, 1);
    EXPECT_TRUE(r->counters.count("peak_bytes") && r->counters.count("peak_rss_bytes"));
    EXPECT_GT(r->counters.at("bytes").value, 0);
    EXPECT_EQ(r->counters.at("clocks_sampled").value, 1);
    EXPECT_EQ(r->counters.at("sm_clock_mhz").value, 1980);
    EXPECT_EQ(r->counters.at("sm_clock_mhz_end").value, 1700);
    EXPECT_EQ(r->counters.at("throttled").value, 1);  // below 90% of its start
  }
  EXPECT_EQ(l2->counters.at("cache_level").value, 2);
  EXPECT_EQ(dram->counters.at("cache_level").value, 4);
  EXPECT_GT(dev.flushes, 0);  // --gpu-flush-l2 reaches a case with a level
  EXPECT_EQ(l2->counters.at("launches_per_timing").value, 1);  // flushed: one launch a pair

  // a 20 us launch: about 10 back-to-back launches between two events, and the time reported is
  // one launch's, not the pair's
  const auto* spin = by.at("regtest/gpu_spin/manual_time");
  ASSERT_FALSE(spin->error_occurred) << spin->error_message;
  EXPECT_GE(spin->counters.at("launches_per_timing").value, 2);
  EXPECT_LE(spin->counters.at("launches_per_timing").value, 11);
  // a pair covers ~10 launches (200 us): reported as one launch's it would read ~200; the margin
  // is for a loaded machine, where a 20 us spin takes longer (77 us once under ctest -j2 and a build)
  EXPECT_LT(spin->GetAdjustedRealTime(), 150) << "a pair's time given as one launch's (us)";
  EXPECT_GE(spin->GetAdjustedRealTime(), 19);
  EXPECT_LE(2 * SpinCase::pairs, SpinCase::runs) << "one launch per pair of events";
  // the untimed launch and the sizing one once a case, not before every Google Benchmark call
  EXPECT_EQ(SpinCase::untimed, 1);
  EXPECT_EQ(spin->counters.at("on_gpu").value, 1);
  EXPECT_EQ(spin->counters.at("device_loop_peak_bytes").value, 0);
  const auto* grow = by.at("regtest/gpu_grow/manual_time");
  EXPECT_EQ(grow->counters.at("device_loop_peak_bytes").value, 1 << 20);
  EXPECT_EQ(grow->counters.at("device_peak_bytes").value, 0);

  const auto* bad = by.at("regtest/cpu_bad/threads:2/real_time");
  EXPECT_TRUE(bad->error_occurred);
  EXPECT_EQ(bad->report_label, "failed: 3 of 4 values wrong");
  const auto* cold = by.at("regtest/cpu_cold/real_time");
  ASSERT_FALSE(cold->error_occurred) << cold->error_message;
  EXPECT_LT(cold->GetAdjustedRealTime(), 5000) << "the first, slow run was timed (us)";
  const auto* cold_dram = by.at("regtest/cpu_cold_dram/real_time");
  EXPECT_GE(cold_dram->GetAdjustedRealTime(), 50000) << "a DRAM pass got an untimed run (us)";
  const auto* skipped = by.at("regtest/cpu_skip/real_time");
  EXPECT_EQ(skipped->report_label, "skipped: not on this machine");
  EXPECT_TRUE(is_skip_message(skipped->error_message));
}

// A trainer on the host whose steps take known times and report known losses: 5 steps an epoch,
// at least 10 ms each in the first epoch (a lazy start) and 1 ms after (sleeps: more under load); the loss of the k-th step of the
// run is 1 / (k + 1). Step 2 of the second epoch holds 4 MiB of host memory, step 0 of the third
// 1 MiB of "device" memory.
class FakeTrainer : public SteppedCase {
 public:
  size_t steps() const override { return 5; }
  double step(size_t epoch, size_t i) override {
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(epoch == 0 ? 10 : 1));
    if (epoch == 1 && i == 2) Buffer<char> scratch(4 << 20);
    if (epoch == 2 && i == 0 && g_standin) g_standin->allocate(1 << 20), g_standin->release(1 << 20);
    return 1.0 / static_cast<double>(epoch * steps() + i + 1);
  }
  std::string setup() override { return ""; }
  Work work() const override { return {0, 1e6, 5, 0}; }  // per epoch: 1 MFLOP, 5 samples
  std::vector<std::pair<std::string, double>> after_epoch(size_t e) override {
    return {{"accuracy", 0.25 * static_cast<double>(e + 1)}};
  }
  static inline int calls = 0;
};

TEST(Registry, SteppedCaseTimesEveryStepWithTheFirstEpochApart) {
  StandIn dev;
  g_standin = &dev;
  set_device(&dev);
  init_benchmark();
  Family f{"regstep", "stepped test", {}, {}};
  f.specs.push_back(
      Spec("train", Timing::Stepped).with(int_axis("epochs", {3})).cases(plain<FakeTrainer>()));
  f.specs.push_back(Spec("train_gpu", Timing::SteppedGpu)
                        .with(int_axis("epochs", {3}))
                        .cases(plain<FakeTrainer>()));
  register_family(f, small_config());
  Capture cap;
  FakeTrainer::calls = 0;
  benchmark::RunSpecifiedBenchmarks(&cap, "^regstep/");
  std::map<std::string, const benchmark::BenchmarkReporter::Run*> by;
  for (const auto& r : cap.runs) by[r.benchmark_name()] = &r;
  EXPECT_EQ(FakeTrainer::calls, 2 * 15) << "every step once: no warm-up, no repetition";
  for (const std::string v : {"train", "train_gpu"}) {
    const std::string base = "regstep/" + v + "/epochs:3";
    const std::string tail = "/iterations:1/repeats:1/manual_time";
    std::vector<const benchmark::BenchmarkReporter::Run*> e;
    for (int k = 1; k <= 3; ++k) {
      const auto it = by.find(base + "/epoch:" + std::to_string(k) + tail);
      ASSERT_NE(it, by.end()) << base << "/epoch:" << k;
      ASSERT_FALSE(it->second->error_occurred) << it->second->error_message;
      e.push_back(it->second);
    }
    const auto* sum = by.at(base + tail);
    ASSERT_FALSE(sum->error_occurred) << sum->error_message;
    auto at = [](const benchmark::BenchmarkReporter::Run* r, const std::string& k) {
      const auto it = r->counters.find(k);
      return it == r->counters.end() ? NAN : it->second.value;
    };
    // the first epoch apart: its own row, 5 steps of at least 10 ms; the others at least 1 ms a
    // step, and far below 50 ms (the first epoch's steps are not theirs)
    EXPECT_EQ(at(e[0], "epoch"), 1);
    EXPECT_EQ(at(e[0], "steps"), 5);
    EXPECT_GE(e[0]->GetAdjustedRealTime(), 50000) << "us";
    EXPECT_GE(at(e[0], "seconds[0]"), 0.010);
    EXPECT_GE(at(e[0], "seconds[4]"), 0.010);
    EXPECT_TRUE(std::isnan(at(e[0], "seconds[5]")));
    for (int k = 1; k < 3; ++k) {
      EXPECT_GE(e[k]->GetAdjustedRealTime(), 5000);
      EXPECT_LT(e[k]->GetAdjustedRealTime(), 45000) << "epoch " << k + 1 << " (us)";
      EXPECT_GE(at(e[k], "step_seconds_median"), 0.001);
    }
    // the losses, per step and per epoch, in the run's order
    EXPECT_DOUBLE_EQ(at(e[0], "loss[0]"), 1.0);
    EXPECT_DOUBLE_EQ(at(e[1], "loss_first"), 1.0 / 6);
    EXPECT_DOUBLE_EQ(at(e[2], "loss[4]"), 1.0 / 15);
    EXPECT_DOUBLE_EQ(at(sum, "loss_last"), 1.0 / 15);
    EXPECT_EQ(at(e[1], "accuracy"), 0.5);  // after_epoch's values, untimed
    EXPECT_EQ(at(sum, "accuracy"), 0.75);
    // memory during the loop: the 4 MiB of epoch 2 alone; the summary has the highest
    EXPECT_EQ(at(e[0], "loop_peak_bytes"), 0);
    EXPECT_EQ(at(e[1], "loop_peak_bytes"), 4 << 20);
    EXPECT_EQ(at(e[2], "loop_peak_bytes"), 0);
    EXPECT_EQ(at(sum, "loop_peak_bytes"), 4 << 20);
    if (v == "train_gpu") {
      EXPECT_EQ(at(e[1], "device_loop_peak_bytes"), 0);
      EXPECT_EQ(at(e[2], "device_loop_peak_bytes"), 1 << 20);
      EXPECT_EQ(at(sum, "device_loop_peak_bytes"), 1 << 20);
      EXPECT_EQ(at(sum, "on_gpu"), 1);
    } else {
      EXPECT_TRUE(std::isnan(at(sum, "device_loop_peak_bytes")));
      EXPECT_EQ(at(sum, "on_gpu"), 0);
    }
    // the summary: the three epochs' time, the first against the rest, rates over all epochs
    EXPECT_EQ(at(sum, "epochs"), 3);
    EXPECT_NEAR(sum->GetAdjustedRealTime(),
                e[0]->GetAdjustedRealTime() + e[1]->GetAdjustedRealTime() +
                    e[2]->GetAdjustedRealTime(),
                1.0);
    EXPECT_GT(at(sum, "first_over_rest"), 1.1);
    EXPECT_DOUBLE_EQ(at(sum, "first_over_rest"),
                     at(sum, "first_epoch_seconds") / at(sum, "rest_epoch_seconds_median"));
    EXPECT_NEAR(at(sum, "first_epoch_seconds"), e[0]->GetAdjustedRealTime() * 1e-6, 1e-9);
    EXPECT_NEAR(at(sum, "flops"), 3e6 / (sum->GetAdjustedRealTime() * 1e-6), 1e-3 * at(sum, "flops"));
  }
  set_device(nullptr);
  g_standin = nullptr;
}

// A family's own timing strategy: each iteration "takes" 1 ms, and the row says it was timed so
class FixedMsTiming : public Strategy {
 public:
  const char* name() const override { return "fixed_ms"; }
  void time(Loop& l) const override {
    for (auto _ : l.state) l.state.SetIterationTime(1e-3);
  }
  void report(Loop& l) const override { l.state.counters["fixed"] = 1; }
};
const FixedMsTiming kFixedMs;

// A spec's own policy reaches Google Benchmark (and so its names, as upstream writes them), over
// the strategy's defaults; a strategy a family brings runs as the registry's own do.
TEST(Registry, SpecPolicyAndOwnStrategy) {
  init_benchmark();
  RunPolicy three, seven;
  three.repetitions = 3;
  seven.iterations = 7;
  seven.warm = RunPolicy::Warm::Never;
  Family f{"regpolicy", "policy test", {}, {}};
  f.specs.push_back(Spec("reps").run_policy(three).cases(plain<ColdFirstCase>()));
  f.specs.push_back(Spec("fixed").run_policy(seven).cases(plain<ColdFirstCase>()));
  f.specs.push_back(Spec("own", Timing(&kFixedMs)).cases(plain<ColdFirstCase>()));
  f.specs.push_back(Spec("pair_pinned", Timing::Pair).run_policy(three));
  EXPECT_EQ(f.specs[3].resolved(small_config()).min_time, 0.2) << "the pair's default stays";
  EXPECT_EQ(f.specs[3].resolved(small_config()).repetitions, 3);
  f.specs.pop_back();
  register_family(f, small_config());
  Capture cap;
  benchmark::RunSpecifiedBenchmarks(&cap, "^regpolicy/");
  int reps = 0;
  const benchmark::BenchmarkReporter::Run *fixed = nullptr, *own = nullptr;
  for (const auto& r : cap.runs) {
    if (r.benchmark_name() == "regpolicy/reps/repeats:3/real_time" &&
        r.run_type == benchmark::BenchmarkReporter::Run::RT_Iteration)
      ++reps;
    if (r.benchmark_name() == "regpolicy/fixed/iterations:7/real_time") fixed = &r;
    if (r.benchmark_name() == "regpolicy/own/manual_time") own = &r;
  }
  EXPECT_EQ(reps, 3);
  ASSERT_TRUE(fixed && own);
  EXPECT_EQ(fixed->iterations, 7);
  // never warmed: the first, 50 ms run is among the 7 timed
  EXPECT_GE(fixed->GetAdjustedRealTime(), 50000.0 / 7);
  ASSERT_FALSE(own->error_occurred) << own->error_message;
  EXPECT_NEAR(own->GetAdjustedRealTime(), 1000, 1e-6);
  EXPECT_EQ(own->counters.at("fixed").value, 1);
  EXPECT_EQ(own->counters.at("on_gpu").value, 0);
  const std::string json = family_json(f, small_config());
  EXPECT_NE(json.find("\"variant\": \"own\", \"target\": \"cpu\", \"timing\": \"fixed_ms\""),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"repetitions\": 3"), std::string::npos) << json;
}

// A row whose earlier epochs were filtered out still is its epoch: the case runs them first.
TEST(Registry, SteppedRowRunsTheEpochsBeforeIt) {
  init_benchmark();
  Family f{"regstep2", "stepped test", {}, {}};
  f.specs.push_back(
      Spec("train", Timing::Stepped).with(int_axis("epochs", {3})).cases(plain<FakeTrainer>()));
  register_family(f, small_config());
  Capture cap;
  FakeTrainer::calls = 0;
  benchmark::RunSpecifiedBenchmarks(&cap, "^regstep2/.*/epoch:2/");
  ASSERT_EQ(cap.runs.size(), 1u);
  const auto& r = cap.runs[0];
  ASSERT_FALSE(r.error_occurred) << r.error_message;
  EXPECT_EQ(r.counters.at("epoch").value, 2);
  EXPECT_DOUBLE_EQ(r.counters.at("loss_first").value, 1.0 / 6);
  EXPECT_EQ(FakeTrainer::calls, 10);
  EXPECT_LT(r.GetAdjustedRealTime(), 45000) << "epoch 1's slow steps counted in epoch 2 (us)";
}

TEST(Registry, ClockSampleReadsOrSaysWhy) {
  const gpu::ClockSample c = gpu::sample_clocks();
  if (c.ok)
    EXPECT_GT(c.sm_mhz, 0);
  else
    EXPECT_NE(c.why, "");
}

TEST(Precision, OneTableForNamesAndTriples) {
  std::set<std::string> names;
  for (size_t i = 0; i < std::size(kDtypes); ++i) {
    EXPECT_EQ(static_cast<size_t>(kDtypes[i].id), i) << "table out of enum order";
    EXPECT_TRUE(names.insert(kDtypes[i].name).second) << kDtypes[i].name;
    EXPECT_EQ(dtype_from_name(kDtypes[i].name), kDtypes[i].id);
  }
  EXPECT_STREQ(dtype_name<double>(), "f64");
  EXPECT_STREQ(dtype_name<bfloat16>(), "bf16");
  EXPECT_EQ(unit_roundoff(Dtype::f32), unit_roundoff<float>());
  EXPECT_EQ(unit_roundoff(Dtype::f16), unit_roundoff<half>());
  EXPECT_EQ(unit_roundoff(Dtype::bf16), unit_roundoff<bfloat16>());
  EXPECT_EQ(dtype_names().substr(0, 12), "f64,f32,tf32");
  EXPECT_EQ((Precision{Dtype::f32, Dtype::f32, Dtype::tf32, Dtype::f32}.name()), "f32.tf32.f32");
  EXPECT_EQ((Precision{Dtype::i8, Dtype::u8, Dtype::i32, Dtype::i32}.name()), "i8xu8.i32.i32");
  std::set<std::string> triples;
  for (const Precision& p : kMatrixPrecisions) {
    EXPECT_TRUE(triples.insert(p.name()).second) << p.name();
    EXPECT_EQ(precision_from_name(p.name()).name(), p.name());
  }
  EXPECT_THROW(precision_from_name("f32.f32"), std::invalid_argument);
  for (const char* bad : {"", ".", "..", "f32..f32", "f32.f32.f32.f32", "f32xf32.f32.f32",
                          "f128.f32.f32", "f32.f32.", "x.f32.f32", "f32x.f32.f32"})
    EXPECT_THROW(precision_from_name(bad), std::invalid_argument) << bad;
  EXPECT_EQ(precision_from_name("e5m2xe4m3.f32.bf16").b, Dtype::e4m3);
  EXPECT_THROW(dtype_from_name("f128"), std::invalid_argument);
}

#ifdef DTYPEBENCH_HAVE_CUDA
TEST(CudaCheck, ThrowsWithFileLineAndTheLibrarysMessage) {
  try {
    DB_CUDA_CHECK(cudaErrorInvalidValue);
    FAIL() << "no throw";
  } catch (const gpu::CudaError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("test_registry.cpp:"), std::string::npos) << m;
    EXPECT_NE(m.find("invalid argument"), std::string::npos) << m;
  }
  EXPECT_NO_THROW(DB_CUDA_CHECK(cudaSuccess));
#ifdef DTYPEBENCH_HAVE_CUBLAS
  EXPECT_THROW(DB_CUDA_CHECK(CUBLAS_STATUS_NOT_INITIALIZED), gpu::CudaError);
#endif
#ifdef DTYPEBENCH_HAVE_CUDNN
  EXPECT_THROW(DB_CUDA_CHECK(CUDNN_STATUS_BAD_PARAM), gpu::CudaError);
#endif
}

// Every declared case can be made at every point of its spec, CPU and GPU (on a stand-in with the
// H200's L2): a case reads its axes in its members' initializers, so a key its spec does not give
// (a fixed variant read as p["variant"]) throws there, before any GPU work, on the device alone.
TEST(Registry, EveryCaseIsMadeAtEveryPoint) {
  class H200 : public StandIn {
   public:
    size_t l2_bytes() const override { return 62914560; }
  } dev;
  set_device(&dev);
  for (bool quick : {true, false}) {
    Config cfg = small_config();
    cfg.quick = quick;
    for (const Family& f : families())
      for (const Option& o : f.options)
        cfg.options[o.name] = quick && !o.quick_def.empty() ? o.quick_def : o.def;
    size_t made = 0;
    for (const Family& f : families())
      for (const Spec& s : f.specs)
        for (const auto& [name, p] : expand(f.name, s, cfg)) {
          try {
            if (s.skip) s.skip(p);  // its run-time skip reads the point too
            EXPECT_TRUE(s.make(p)) << name;
            ++made;
          } catch (const std::exception& e) {
            ADD_FAILURE() << name << ": " << e.what();
          }
        }
    EXPECT_GT(made, 300u);
  }
  set_device(nullptr);
}

// The GPU benchmarks of the committed H200 run (whose names the binary cannot list here): every
// one is still declared, with the same name, for a device with the H200's L2.
TEST(Registry, GpuNamesOfTheCommittedH200RunAreStillDeclared) {
  class H200 : public StandIn {
   public:
    size_t l2_bytes() const override { return 62914560; }
  } dev;
  set_device(&dev);
  Config cfg = small_config();
  for (const Family& f : families())
    for (const Option& o : f.options) cfg.options[o.name] = o.def;
  std::set<std::string> declared;
  for (const Family& f : families())
    for (const Spec& s : f.specs)
      if (s.on_gpu())
        for (const auto& [name, p] : expand(f.name, s, cfg))
          declared.insert(name + (s.timing == Timing::Cpu ? "/real_time" : "/manual_time"));
  set_device(nullptr);
  std::ifstream in(std::string(DTYPEBENCH_SOURCE_DIR) + "/tests/names/gpu-h200.txt");
  ASSERT_TRUE(in) << "tests/names/gpu-h200.txt";
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    EXPECT_TRUE(declared.count(line)) << line;
    ++n;
  }
  EXPECT_GT(n, 100);
}
#endif

}  // namespace
}  // namespace bench
}  // namespace dtypebench
