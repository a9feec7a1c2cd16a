#include "bench/stepped.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>

namespace dtypebench::bench {

void SteppedCase::run() {
  throw std::logic_error("a stepped case runs a step at a time (Timing::Stepped), never run()");
}

namespace {
double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}
}  // namespace

class SteppedTiming : public Strategy {
 public:
  explicit SteppedTiming(bool gpu) : gpu_(gpu) {}
  const char* name() const override { return gpu_ ? "stepped_gpu" : "stepped"; }
  bool on_gpu() const override { return gpu_; }
  // each row is one pass: an epoch once, never warmed (repeating it would train further)
  RunPolicy defaults(const Config&) const override {
    RunPolicy r;
    r.repetitions = 1;
    r.iterations = 1;
    r.warm = RunPolicy::Warm::Never;
    return r;
  }
  std::vector<std::string> parts(const Point& p) const override {
    std::vector<std::string> out;
    for (size_t k = 1; k <= p.size("epochs"); ++k) out.push_back("/epoch:" + std::to_string(k));
    out.push_back("");
    return out;
  }
  void time(Loop& l) const override {
    SteppedCase& c = as_stepped(l.c);
    const size_t epochs = l.p.size("epochs");
    const bool summary = l.part == epochs;
    const size_t before = summary ? epochs : l.part;  // epochs that must have run first
    if (c.record_.size() > before)
      throw std::logic_error("epoch " + std::to_string(l.part + 1) +
                             " has already run: a stepped case's rows run once, in order");
    while (c.record_.size() < before) run_epoch(c);
    l.cold = false;
    for (auto _ : l.state) {
      if (!summary) {
        run_epoch(c);
        l.state.SetIterationTime(c.record_.back().seconds);
      } else {
        double total = 0;
        for (const auto& e : c.record_) total += e.seconds;
        l.state.SetIterationTime(total);
      }
    }
  }
  void report(Loop& l) const override {
    SteppedCase& c = as_stepped(l.c);
    auto& k = l.state.counters;
    const size_t epochs = l.p.size("epochs");
    if (l.part < epochs) {
      const SteppedCase::Epoch& e = c.record_.at(l.part);
      k["epoch"] = static_cast<double>(l.part + 1);
      k["steps"] = static_cast<double>(e.step_seconds.size());
      k["step_seconds_median"] = median(e.step_seconds);
      k["step_seconds_max"] = *std::max_element(e.step_seconds.begin(), e.step_seconds.end());
      k["loss_first"] = e.loss.front();
      k["loss_last"] = e.loss.back();
      for (size_t i = 0; i < e.step_seconds.size(); ++i) {
        k["seconds[" + std::to_string(i) + "]"] = e.step_seconds[i];
        k["loss[" + std::to_string(i) + "]"] = e.loss[i];
      }
      peaks(l, e.host_peak, e.host_rss_peak, e.device_peak);
      for (const auto& [name, v] : e.after) k[name] = v;
      return;
    }
    // the summary: its time is every epoch's, so the per-epoch work counts once per epoch
    using C = benchmark::Counter;
    const Work w = c.work();
    const double n = static_cast<double>(epochs);
    if (w.flops > 0) k["flops"] = C(w.flops * n, C::kIsIterationInvariantRate);
    if (w.bytes > 0) k["bytes"] = C(w.bytes * n, C::kIsIterationInvariantRate);
    if (w.elements > 0) k["elements"] = C(w.elements * n, C::kIsIterationInvariantRate);
    std::vector<double> rest;
    size_t host = 0, rss = 0, dev = 0;
    for (size_t i = 0; i < c.record_.size(); ++i) {
      const auto& e = c.record_[i];
      k["epoch_seconds[" + std::to_string(i) + "]"] = e.seconds;
      if (i > 0) rest.push_back(e.seconds);
      host = std::max(host, e.host_peak), rss = std::max(rss, e.host_rss_peak);
      dev = std::max(dev, e.device_peak);
    }
    k["epochs"] = n;
    k["first_epoch_seconds"] = c.record_.front().seconds;
    if (!rest.empty()) {
      k["rest_epoch_seconds_median"] = median(rest);
      k["first_over_rest"] = c.record_.front().seconds / median(rest);
    }
    k["loss_last"] = c.record_.back().loss.back();
    for (const auto& [name, v] : c.record_.back().after) k[name] = v;
    peaks(l, host, rss, dev);
  }

 private:
  static SteppedCase& as_stepped(Case& c) {
    auto* s = dynamic_cast<SteppedCase*>(&c);
    if (!s) throw std::logic_error("Timing::Stepped needs a SteppedCase");
    return *s;
  }
  void peaks(Loop& l, size_t host, size_t rss, size_t dev) const {
    l.state.counters["loop_peak_bytes"] = static_cast<double>(host);
    l.state.counters["loop_peak_rss_bytes"] = static_cast<double>(rss);
    if (gpu_) l.state.counters["device_loop_peak_bytes"] = static_cast<double>(dev);
  }
  // every step timed on the wall clock (a GPU step closed by a device sync, as a training loop
  // that reads its loss is), with memory measured over the epoch
  void run_epoch(SteppedCase& c) const {
    using clock = std::chrono::steady_clock;
    auto secs = [](clock::time_point a, clock::time_point b) {
      return std::chrono::duration<double>(b - a).count();
    };
    if (c.steps() == 0) throw std::logic_error("a stepped case of no steps");
    SteppedCase::Epoch e;
    Device& dev = device();
    size_t dev0 = 0;
    if (gpu_) dev.reset_peak(), dev0 = dev.live_bytes();
    PeakScope host;
    const size_t epoch = c.record_.size();
    const auto start = clock::now();
    for (size_t i = 0; i < c.steps(); ++i) {
      const auto t0 = clock::now();
      e.loss.push_back(c.step(epoch, i));
      if (gpu_) dev.synchronize();
      e.step_seconds.push_back(secs(t0, clock::now()));
    }
    e.seconds = secs(start, clock::now());
    e.host_peak = host.tracked_peak();
    e.host_rss_peak = host.rss_peak();
    if (gpu_) e.device_peak = dev.peak_bytes() - dev0;
    e.after = c.after_epoch(epoch);
    c.record_.push_back(std::move(e));
  }
  bool gpu_;
};

namespace {
const SteppedTiming kStepped(false), kSteppedGpu(true);
}  // namespace
const Timing Timing::Stepped{&kStepped};
const Timing Timing::SteppedGpu{&kSteppedGpu};

}  // namespace dtypebench::bench
