#include "bench/registry.hpp"

#include <omp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>

#include "dtypebench/gpu.hpp"
#include "dtypebench/grid.hpp"

namespace dtypebench {
namespace bench {

const std::string& Config::option(const std::string& name) const {
  const auto it = options.find(name);
  if (it == options.end()) throw std::logic_error("no option --" + name + " was declared");
  return it->second;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

std::string parse_count(const std::string& t, size_t max, size_t* out) {
  if (t.empty()) return "an empty value";
  for (char c : t)
    if (c < '0' || c > '9') return "'" + t + "' is not a positive integer";
  errno = 0;
  const unsigned long long v = std::strtoull(t.c_str(), nullptr, 10);
  if (errno == ERANGE || v == 0 || v > max)
    return "'" + t + "' is out of range (1.." + std::to_string(max) + ")";
  *out = static_cast<size_t>(v);
  return "";
}

std::vector<size_t> Config::sizes(const std::string& name) const {
  std::vector<size_t> out;
  for (const std::string& t : split(option(name), ',')) {
    size_t v = 0;
    parse_count(t, SIZE_MAX, &v);
    out.push_back(v);
  }
  return out;
}

Option sizes_option(const std::string& name, const std::string& help, const std::string& def,
                    const std::string& quick_def, size_t max) {
  auto check = [max](const std::string& v) -> std::string {
    std::set<size_t> seen;
    for (const std::string& t : split(v, ',')) {
      size_t x = 0;
      const std::string why = parse_count(t, max, &x);
      if (!why.empty()) return "needs positive integers up to " + std::to_string(max) + ": " + why;
      if (!seen.insert(x).second) return "lists " + t + " twice";
    }
    return "";
  };
  return {name, help, def, quick_def, check};
}

Option dir_option(const std::string& name, const std::string& help, const std::string& def) {
  auto check = [](const std::string& v) -> std::string {
    if (v.empty()) return "needs a directory";
    struct stat st {};
    if (::stat(v.c_str(), &st) != 0) return "'" + v + "': " + std::strerror(errno);
    if (!S_ISDIR(st.st_mode)) return "'" + v + "' is not a directory";
    if (::access(v.c_str(), W_OK | X_OK) != 0) return "'" + v + "' is not writable";
    return "";
  };
  return {name, help, def, "", check};
}

const Value& Point::at(const std::string& key) const {
  for (const auto& [k, v] : kv_)
    if (k == key) return v;
  throw std::logic_error("no key '" + key + "' at this point");
}
const std::string& Point::operator[](const std::string& key) const { return at(key).text; }
double Point::num(const std::string& key) const { return at(key).num; }
bool Point::has(const std::string& key) const {
  return std::any_of(kv_.begin(), kv_.end(), [&](const auto& kv) { return kv.first == key; });
}
void Point::set(const std::string& key, Value v) {
  for (auto& kv : kv_)
    if (kv.first == key) {
      kv.second = std::move(v);
      return;
    }
  kv_.emplace_back(key, std::move(v));
}

Axis axis(const std::string& key, const std::vector<std::string>& values) {
  std::vector<Value> v;
  for (const std::string& s : values) v.push_back({s, 0});
  return {key, [v](const Config&) { return v; }, ""};
}
namespace {
template <class Int>
std::vector<Value> numbers(const std::vector<Int>& xs) {
  std::vector<Value> v;
  for (Int x : xs) v.push_back({std::to_string(x), static_cast<double>(x)});
  return v;
}
}  // namespace

Axis int_axis(const std::string& key, const std::vector<int>& values) {
  return {key, [v = numbers(values)](const Config&) { return v; }, ""};
}
Axis axis_of_dtypes(const std::string& key, const std::vector<Value>& values) {
  return {key, [values](const Config&) { return values; }, ""};
}

namespace {
std::vector<Value> level_values(const std::vector<Level>& levels) {
  std::vector<Value> v;
  for (const Level& l : levels) v.push_back({l.name, static_cast<double>(l.bytes)});
  return v;
}

// a level axis whose levels come from the run
Axis level_axis(std::function<std::vector<Level>(const Config&)> pick, std::string list) {
  return {"level", [pick](const Config& c) { return level_values(pick(c)); }, std::move(list)};
}
}  // namespace

Axis levels_axis() {
  return level_axis([](const Config& c) { return c.levels; }, "");
}
Axis pair_levels_axis() {
  return level_axis(
      [](const Config& c) {
        std::vector<Level> out;
        for (const Level& l : c.levels)
          if (!c.quick || l.name == "DRAM") out.push_back(l);
        return out;
      },
      "the run's levels (DRAM only in a quick run)");
}
Axis gpu_levels_axis() {
  return level_axis(
      [](const Config& c) {
        const size_t l2 = device().l2_bytes() ? device().l2_bytes() : (50u << 20);
        const size_t dram = std::max<size_t>(8 * l2, size_t(1) << 30);
        std::vector<Level> out;
        for (const Level& l : c.levels) {
          if (l.name == "L2") out.push_back({"L2", l2 / 2});
          if (l.name == "DRAM") out.push_back({"DRAM", dram});
        }
        if (out.empty()) out.push_back({"DRAM", dram});
        return out;
      },
      "L2 DRAM of the run's levels (half the GPU's L2; 8x L2, at least 1 GiB)");
}
Axis threads_axis() {
  return {"threads", [](const Config& c) { return numbers(c.threads); }, ""};
}
Axis peer_threads_axis() {
  return {"threads",
          [](const Config& c) {
            std::vector<int> t = c.threads;
            if (c.quick && std::find(t.begin(), t.end(), 1) == t.end()) t.insert(t.begin(), 1);
            return numbers(t);
          },
          "the run's thread counts, and 1 in a quick run (NumPy's side runs on one thread)"};
}
Axis option_axis(const std::string& key, const std::string& option) {
  return {key, [option](const Config& c) { return numbers(c.sizes(option)); }, ""};
}

Value pair_key(const Point& p, const std::string& axis_key, bool dst) {
  const std::string& v = p[axis_key];
  const size_t gt = v.find('>');
  return {dst ? v.substr(gt + 1) : v.substr(0, gt), 0};
}

std::string name_of(const std::string& family, const Spec& s, const Point& p) {
  std::string out = family + "/" + (s.variant.empty() ? p["variant"] : s.variant);
  if (!s.name_keys.empty()) {
    for (const std::string& k : s.name_keys) out += "/" + k + ":" + p[k];
    return out;
  }
  for (const auto& [k, v] : p.values())
    if (k != "variant") out += "/" + k + ":" + v.text;
  return out;
}

std::vector<std::pair<std::string, Point>> expand(const std::string& family, const Spec& s,
                                                  const Config& cfg) {
  std::vector<std::vector<Value>> values;
  for (const Axis& a : s.axes) values.push_back(a.values(cfg));
  std::vector<std::pair<std::string, Point>> out;
  std::vector<size_t> idx(s.axes.size(), 0);
  for (const auto& v : values)
    if (v.empty()) return out;
  while (true) {
    Point p;
    // a spec's own variant is a key of its points too, as a variant axis's value is
    if (!s.variant.empty()) p.set("variant", {s.variant, 0, s.variant_payload});
    for (size_t i = 0; i < s.axes.size(); ++i) p.set(s.axes[i].key, values[i][idx[i]]);
    for (const auto& [k, o] : s.options) p.set(k, {cfg.option(o), 0});
    for (const auto& [k, f] : s.computed) p.set(k, f(p));
    if (!s.keep || s.keep(p)) out.emplace_back(name_of(family, s, p), std::move(p));
    size_t i = s.axes.size();  // odometer: the last axis varies fastest
    while (i > 0 && ++idx[i - 1] == values[i - 1].size()) idx[--i] = 0;
    if (i == 0) return out;
  }
}

std::map<std::string, std::string> parse_name(const std::string& name) {
  std::map<std::string, std::string> out;
  const std::vector<std::string> parts = split(name, '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    const size_t colon = parts[i].find(':');
    if (i == 0) {
      out["family"] = parts[i];
    } else if (i == 1) {
      out["variant"] = parts[i];
    } else if (colon != std::string::npos) {
      out[parts[i].substr(0, colon)] = parts[i].substr(colon + 1);
    }
  }
  return out;
}

const Point*& point_being_built() {
  thread_local const Point* p = nullptr;
  return p;
}
Case::Case()
    : p(point_being_built() ? *point_being_built() : Point()), n(p.has("n") ? p.size("n") : 0) {}

namespace {
class RealDevice : public Device {
 public:
  bool available(std::string* why) const override {
    if (!gpu::device().available && why) *why = gpu::device().reason;
    return gpu::device().available;
  }
  size_t l2_bytes() const override { return gpu::device().l2_bytes; }
  void reset_peak() override { gpu::device_reset_peak(); }
  size_t live_bytes() const override { return gpu::device_live_bytes(); }
  size_t peak_bytes() const override { return gpu::device_peak_bytes(); }
  void synchronize() override { gpu::synchronize(); }
  void flush_l2() override { gpu::flush_l2(); }
  void start() override {
    if (!timer_) timer_ = std::make_unique<gpu::EventTimer>();
    timer_->start();
  }
  double stop() override { return timer_->stop(); }

 private:
  std::unique_ptr<gpu::EventTimer> timer_;
};
Device* g_device = nullptr;
}  // namespace

Device& device() {
  static RealDevice real;
  return g_device ? *g_device : real;
}
void set_device(Device* d) { g_device = d; }

namespace {
// The one case alive: only one working set is allocated at a time.
struct Held {
  const void* owner = nullptr;
  std::unique_ptr<Case> c;
  std::string failure;
  Peaks peaks;
  bool cold = true;  // no run since setup: the next timed loop gets an untimed run first
  size_t memo = 0;   // the strategy's, across the calls of this case (Loop::memo)
};
Held& held() {
  static Held h;
  return h;
}

Case* build(benchmark::State& state, const Spec& s, const Point& p, const void* owner,
            Peaks* peaks) {
  Held& h = held();
  if (h.owner != owner || !h.c) {
    h = Held{};  // frees the previous case first
    Device& dev = device();
    const bool gpu = s.on_gpu();
    size_t dev0 = 0;
    if (gpu) dev.reset_peak(), dev0 = dev.live_bytes();
    PeakScope scope;
    h.c = s.make(p);
    if (!h.c) throw std::logic_error("no case for " + name_of("?", s, p));
    try {
      h.failure = h.c->setup();
    } catch (...) {
      h = Held{};  // a case that could not be built frees what it had
      throw;
    }
    h.peaks.setup = scope.tracked_peak();
    h.peaks.setup_rss = scope.rss_peak();
    if (gpu) h.peaks.device = dev.peak_bytes() - dev0;
    h.owner = owner;
  }
  if (!h.failure.empty()) {
    fail(state, h.failure);
    return nullptr;
  }
  *peaks = h.peaks;
  return h.c.get();
}

// 1=L1 2=L2 3=L3 4=DRAM: by the detected CPU caches, or the GPU's L2 for a GPU case
double cache_level(double bytes, bool gpu) {
  if (gpu) return bytes <= static_cast<double>(device().l2_bytes()) ? 2 : 4;
  static const char* names[] = {"L1", "L2", "L3", "DRAM"};
  const std::string lvl = level_of(static_cast<size_t>(bytes));
  for (int i = 0; i < 4; ++i)
    if (lvl == names[i]) return i + 1;
  return 0;
}

// --- the registry's timing strategies ---------------------------------------------------------
class CpuTiming : public Strategy {
 public:
  const char* name() const override { return "cpu"; }
  bool manual_time() const override { return false; }
  void time(Loop& l) const override {
    Case& c = l.c;
    // A case's setup ends with its check (a reference computed on one thread, buffers compared),
    // which leaves the caches and a library's threads as no timed run finds them: the first
    // repetition's first iteration ran 8-26% slow for a 2048^3 sgemm on 2 threads. A CPU case
    // that works in a cache or does more than a FLOP per byte starts its timed loop after one
    // untimed run; a pass over DRAM starts no colder than it runs, and the naive walks' passes
    // take seconds (warming them too, layout's quick run took 1315 s, against 1180 s without).
    const Work w = c.work();
    const bool warms = l.policy.warm == RunPolicy::Warm::Always ||
                       (l.policy.warm == RunPolicy::Warm::Rule &&
                        (w.bytes == 0 || w.flops > w.bytes || cache_level(w.working_set, false) < 4));
    if (l.cold && warms) {
      if (c.untimed_before_each) c.before_each();
      c.run();
    }
    l.cold = false;
    for (auto _ : l.state) {
      if (c.untimed_before_each) {
        l.state.PauseTiming();
        c.before_each();
        l.state.ResumeTiming();
      }
      c.run();
      benchmark::ClobberMemory();
    }
  }
};

class PairTiming : public Strategy {
 public:
  const char* name() const override { return "pair"; }
  // 10-20 pairs at DRAM; each timed run follows an untimed run of itself (pair_loop)
  RunPolicy defaults(const Config& cfg) const override {
    RunPolicy r;
    r.min_time = cfg.quick ? 0.1 : 0.2;
    return r;
  }
  void time(Loop& l) const override {
    const Work w = l.c.work();
    l.cold = false;
    pair_loop(
        l.state, w.ref_bytes, w.bytes, [&] { l.c.ref(); }, [&] { l.c.run(); });
  }
};

class GpuTiming : public Strategy {
 public:
  const char* name() const override { return "gpu"; }
  bool on_gpu() const override { return true; }
  void time(Loop& l) const override {
    Device& dev = device();
    Case& c = l.c;
    const bool cold = l.flush_l2 && l.p.has("level");
    // One launch per pair of events times the launch latency as much as a short kernel (L2
    // copies read below DRAM's rate so), so a pair times back-to-back launches filling 200 us,
    // sized from one timed launch after an untimed one, once a case (Google Benchmark calls a
    // case several times: its first calls size the iterations); a cold run flushes L2 before
    // each launch, so one a pair.
    if (l.cold || l.memo == 0) {
      if (l.policy.warm != RunPolicy::Warm::Never) {
        c.run();
        dev.synchronize();
      }
      size_t batch = 1;
      if (!cold) {
        dev.start();
        c.run();
        batch = launches_per_timing(dev.stop());
      }
      l.memo = batch;
      l.cold = false;
    }
    const size_t batch = l.memo;
    l.peaks.launches_per_timing = batch;
    l.peaks.clock_start = dev.clocks();  // under load: the case has just run
    // a Google Benchmark iteration is one launch still: the pair's time is given once for the
    // launches it covers (manual time adds up), the last pair cut short at the iteration count
    auto left = l.state.max_iterations;
    size_t in_pair = 0;
    for (auto _ : l.state) {
      if (in_pair == 0) {
        if (cold) dev.flush_l2();
        dev.start();
      }
      c.run();
      --left;
      if (++in_pair == batch || left == 0) {
        l.state.SetIterationTime(dev.stop());
        in_pair = 0;
      }
    }
    l.peaks.clock_end = dev.clocks();
  }
  void report(Loop& l) const override {
    l.state.counters["launches_per_timing"] = static_cast<double>(l.peaks.launches_per_timing);
  }
};

class GpuWallTiming : public Strategy {
 public:
  const char* name() const override { return "gpu_wall"; }
  bool on_gpu() const override { return true; }
  void time(Loop& l) const override {
    l.cold = false;
    l.peaks.clock_start = device().clocks();
    for (auto _ : l.state) {
      const auto t0 = std::chrono::steady_clock::now();
      l.c.run();
      device().synchronize();
      l.state.SetIterationTime(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    l.peaks.clock_end = device().clocks();
  }
};

const CpuTiming kCpuTiming;
const PairTiming kPairTiming;
const GpuTiming kGpuTiming;
const GpuWallTiming kGpuWallTiming;
}  // namespace

const Timing Timing::Cpu{&kCpuTiming};
const Timing Timing::Pair{&kPairTiming};
const Timing Timing::Gpu{&kGpuTiming};
const Timing Timing::GpuWall{&kGpuWallTiming};

RunPolicy RunPolicy::over(const RunPolicy& base) const {
  RunPolicy r = base;
  if (repetitions) r.repetitions = repetitions;
  if (min_time > 0) r.min_time = min_time;
  if (iterations) r.iterations = iterations;
  if (warm_up_time > 0) r.warm_up_time = warm_up_time;
  if (warm != Warm::Rule) r.warm = warm;
  return r;
}

namespace {
void write_counters(benchmark::State& state, const Spec& s, Case& c, const Peaks& peaks) {
  using C = benchmark::Counter;
  const Work w = c.work();
  if (w.bytes > 0 && s.timing != Timing::Pair)
    state.counters["bytes"] = C(w.bytes, C::kIsIterationInvariantRate);
  if (w.flops > 0) state.counters["flops"] = C(w.flops, C::kIsIterationInvariantRate);
  if (w.elements > 0 && s.timing != Timing::Pair)
    state.counters["elements"] = C(w.elements, C::kIsIterationInvariantRate);
  if (w.working_set > 0) {
    state.counters["working_set_bytes"] = w.working_set;
    state.counters["cache_level"] = cache_level(w.working_set, s.on_gpu());
  }
  // the row's target as data (Google Benchmark writes no counters for a skipped row: its
  // target is its spec's, in --list --format=json)
  state.counters["on_gpu"] = s.on_gpu();
  state.counters["peak_bytes"] = static_cast<double>(peaks.setup);
  state.counters["peak_rss_bytes"] = static_cast<double>(peaks.setup_rss);
  if (s.on_gpu()) {
    state.counters["device_peak_bytes"] = static_cast<double>(peaks.device);
    state.counters["device_loop_peak_bytes"] = static_cast<double>(peaks.device_loop);
    // the clock during the run, and a flag when it fell below 90% of its start (as nvbench's
    // throttle detection); clocks_sampled 0 says there was no NVML to ask
    const bool sampled = peaks.clock_start.ok && peaks.clock_end.ok;
    state.counters["clocks_sampled"] = sampled;
    if (sampled) {
      state.counters["sm_clock_mhz"] = peaks.clock_start.sm_mhz;
      state.counters["sm_clock_mhz_end"] = peaks.clock_end.sm_mhz;
      state.counters["power_w"] = peaks.clock_end.power_w;
      state.counters["throttled"] = peaks.clock_end.sm_mhz < 0.9 * peaks.clock_start.sm_mhz;
    }
  }
  state.counters["verified"] = 1;
  c.report(state, peaks);
}

void run_benchmark(benchmark::State& state, const Spec& s, const RunPolicy& policy, const Point& p,
                   const void* owner, bool flush, size_t part) {
  try {
    std::string why;
    if (s.on_gpu() && !device().available(&why)) return skip(state, why);
    if (s.skip && !(why = s.skip(p)).empty()) return skip(state, why);
    if (p.has("threads")) omp_set_num_threads(static_cast<int>(p.num("threads")));
    Peaks peaks;
    Case* c = build(state, s, p, owner, &peaks);
    if (!c) return;
    Loop loop{state, p, *c, policy, flush, held().cold, held().memo, peaks, part};
    std::unique_ptr<PeakScope> host = c->loop_peak ? std::make_unique<PeakScope>() : nullptr;
    Device& dev = device();
    size_t dev0 = 0;
    if (s.on_gpu()) dev.reset_peak(), dev0 = dev.live_bytes();
    s.timing->time(loop);
    if (s.on_gpu()) peaks.device_loop = dev.peak_bytes() - dev0;
    if (host) peaks.loop = host->tracked_peak(), peaks.loop_rss = host->rss_peak();
    write_counters(state, s, *c, peaks);
    s.timing->report(loop);
    const std::string detail = c->detail();
    state.SetLabel(detail.empty() ? "verified" : "verified: " + detail);
  } catch (const OutOfMemory& e) {
    skip(state, std::string("does not fit: ") + e.what());
  } catch (const Unsupported& e) {
    skip(state, e.what());
  } catch (const std::exception& e) {
    fail(state, e.what());
  }
}

const char* suffix(const Strategy& t) { return t.manual_time() ? "/manual_time" : "/real_time"; }
}  // namespace

std::vector<Family>& families() {
  static std::vector<Family> f;
  return f;
}
FamilyRegistrar::FamilyRegistrar(Family f) {
  for (Family& have : families())
    if (have.name == f.name) {
      for (Spec& s : f.specs) have.specs.push_back(std::move(s));
      for (Option& o : f.options) have.options.push_back(std::move(o));
      return;
    }
  families().push_back(std::move(f));
}

std::vector<Registered>& registered() {
  static std::vector<Registered> r;
  return r;
}

void register_family(const Family& f, const Config& cfg) {
  std::string no_gpu;
  const bool have_gpu = device().available(&no_gpu);
  bool gpu_specs = false;
  for (const Spec& spec : f.specs) {
    if (spec.on_gpu() ? !cfg.gpu : !cfg.cpu) continue;
    if (spec.on_gpu() && !have_gpu) {
      gpu_specs = true;
      continue;
    }
    auto s = std::make_shared<const Spec>(spec);
    const RunPolicy policy = spec.resolved(cfg);
    for (auto& [name, point] : expand(f.name, spec, cfg)) {
      // one owner for a point's rows: a stepped case's epochs and summary share its case
      auto owner = std::make_shared<const char>('c');
      const std::vector<std::string> parts = spec.timing->parts(point);
      for (size_t part = 0; part < parts.size(); ++part) {
        const std::string row = name + parts[part];
        auto* b = benchmark::RegisterBenchmark(
            row.c_str(),
            [s, policy, p = point, owner, flush = cfg.flush_l2, part](benchmark::State& st) {
              run_benchmark(st, *s, policy, p, owner.get(), flush, part);
            });
        b->Unit(benchmark::kMicrosecond);
        if (spec.timing->manual_time())
          b->UseManualTime();
        else
          b->UseRealTime();
        std::string tail;  // what Google Benchmark adds to the name, in its order
        if (policy.min_time > 0) {
          b->MinTime(policy.min_time);
          char t[32];
          std::snprintf(t, sizeof t, "/min_time:%0.3f", policy.min_time);
          tail += t;
        }
        if (policy.warm_up_time > 0) {
          b->MinWarmUpTime(policy.warm_up_time);
          char t[40];
          std::snprintf(t, sizeof t, "/min_warmup_time:%0.3f", policy.warm_up_time);
          tail += t;
        }
        if (policy.iterations > 0) {
          b->Iterations(policy.iterations);
          tail += "/iterations:" + std::to_string(policy.iterations);
        }
        if (policy.repetitions > 0) {
          b->Repetitions(policy.repetitions);
          tail += "/repeats:" + std::to_string(policy.repetitions);
        }
        registered().push_back({row + tail + suffix(*spec.timing)});
      }
    }
  }
#ifndef DTYPEBENCH_HAVE_CUDA
  gpu_specs |= f.gpu_code && cfg.gpu;
#endif
  if (gpu_specs) {
    // one row instead of one per GPU benchmark: the reason there is no GPU
    const std::string name = f.name + "/gpu";
    benchmark::RegisterBenchmark(name.c_str(),
                                 [no_gpu](benchmark::State& st) { skip(st, no_gpu); })
        ->UseManualTime()
        ->Repetitions(1)
        ->Unit(benchmark::kMicrosecond);
    registered().push_back({name + "/repeats:1/manual_time"});
  }
}

void register_all(const Config& cfg, const std::vector<std::string>& only) {
  for (const Family& f : families())
    if (only.empty() || std::find(only.begin(), only.end(), f.name) != only.end())
      register_family(f, cfg);
}

std::string describe(const Config& cfg) {
  std::ostringstream o;
  o << "families:\n";
  for (const Family& f : families()) {
    o << "  " << f.name << ": " << f.description << "\n";
    for (const Option& opt : f.options) {
      o << "      --" << opt.name << "=" << (opt.def.empty() ? "..." : opt.def) << ": " << opt.help;
      if (!opt.quick_def.empty()) o << " (quick: " << opt.quick_def << ")";
      o << "\n";
    }
    for (const Spec& s : f.specs) {
      o << "    " << (s.variant.empty() ? "" : s.variant) << (s.on_gpu() ? " [gpu]" : "")
        << (s.timing == Timing::Cpu || s.timing == Timing::Gpu || s.timing == Timing::GpuWall
                ? std::string()
                : std::string(" [") + s.timing->name() + "]")
        << "\n";
      for (const Axis& a : s.axes) {
        o << "        " << a.key << ": ";
        if (!a.list.empty()) {
          o << a.list;
        } else {
          bool first = true;
          for (const Value& v : a.values(cfg)) o << (first ? "" : " ") << v.text, first = false;
        }
        o << "\n";
      }
      for (const auto& kv : s.computed) o << "        " << kv.first << ": from the axes\n";
      if (s.keep) o << "        not run: " << s.keep_why << "\n";
      if (!s.list.empty()) o << "        " << s.list << "\n";
    }
  }
  return o.str();
}

namespace {
std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      o += '\\';
      o += ch;
    } else if (c < 0x20) {
      char u[8];
      std::snprintf(u, sizeof u, "\\u%04x", c);
      o += u;
    } else {
      o += ch;
    }
  }
  return o + "\"";
}
std::string json_list(const std::vector<std::string>& items) {
  std::string o = "[";
  for (size_t i = 0; i < items.size(); ++i) o += (i ? ", " : "") + items[i];
  return o + "]";
}
std::string json_number(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.17g", x);
  return b;
}
}  // namespace

std::string family_json(const Family& f, const Config& cfg) {
  std::vector<std::string> opts, specs;
  for (const Option& o : f.options)
    opts.push_back("{\"name\": " + json_string(o.name) + ", \"help\": " + json_string(o.help) +
                   ", \"default\": " + json_string(o.def) + ", \"quick_default\": " +
                   json_string(o.quick_def.empty() ? o.def : o.quick_def) + ", \"value\": " +
                   json_string(cfg.options.count(o.name) ? cfg.option(o.name) : o.def) + "}");
  for (const Spec& s : f.specs) {
    if (s.on_gpu() ? !cfg.gpu : !cfg.cpu) continue;
    std::vector<std::string> axes, computed;
    for (const Axis& a : s.axes) {
      std::vector<std::string> values;
      for (const Value& v : a.values(cfg)) values.push_back(json_string(v.text));
      axes.push_back("{\"key\": " + json_string(a.key) + ", \"values\": " + json_list(values) +
                     (a.list.empty() ? "" : ", \"about\": " + json_string(a.list)) + "}");
    }
    for (const auto& kv : s.computed) computed.push_back(json_string(kv.first));
    const RunPolicy r = s.resolved(cfg);
    const char* warm = r.warm == RunPolicy::Warm::Rule     ? "rule"
                       : r.warm == RunPolicy::Warm::Always ? "always"
                                                           : "never";
    specs.push_back("{\"variant\": " + json_string(s.variant) +
                    ", \"target\": " + json_string(s.on_gpu() ? "gpu" : "cpu") +
                    ", \"timing\": " + json_string(s.timing->name()) +
                    ", \"axes\": " + json_list(axes) + ", \"computed\": " + json_list(computed) +
                    ", \"policy\": {\"repetitions\": " + std::to_string(r.repetitions) +
                    ", \"min_time\": " + json_number(r.min_time) +
                    ", \"iterations\": " + std::to_string(r.iterations) +
                    ", \"warm_up_time\": " + json_number(r.warm_up_time) + ", \"warm\": \"" +
                    warm + "\"}" + (s.keep ? ", \"not_run\": " + json_string(s.keep_why) : "") +
                    "}");
  }
  return "{\"name\": " + json_string(f.name) + ", \"description\": " + json_string(f.description) +
         ", \"options\": " + json_list(opts) + ", \"specs\": " + json_list(specs) + "}";
}

std::string describe_json(const Config& cfg, const std::vector<std::string>& only) {
  std::vector<std::string> fams;
  for (const Family& f : families())
    if (only.empty() || std::find(only.begin(), only.end(), f.name) != only.end())
      fams.push_back(family_json(f, cfg));
  return "{\"families\": " + json_list(fams) + "}\n";
}

void skip(benchmark::State& state, const std::string& why) {
  state.SkipWithError(("skip: " + why).c_str());
  state.SetLabel("skipped: " + why);
}
void fail(benchmark::State& state, const std::string& why) {
  state.SkipWithError(("error: " + why).c_str());
  state.SetLabel("failed: " + why);
}
bool is_skip_message(const std::string& msg) { return msg.rfind("skip: ", 0) == 0; }

namespace {
double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}
}  // namespace

void report_pair(benchmark::State& state, const std::vector<double>& t_ref,
                 const std::vector<double>& t_subject, double bytes_ref, double bytes_subject) {
  std::vector<double> ratio(t_ref.size());
  for (size_t i = 0; i < t_ref.size(); ++i)
    ratio[i] = (bytes_subject / t_subject[i]) / (bytes_ref / t_ref[i]);
  state.counters["subject_over_ref_bw"] = median_of(ratio);
  state.counters["ref_bytes_per_s"] = bytes_ref / median_of(t_ref);
  state.counters["subject_bytes_per_s"] = bytes_subject / median_of(t_subject);
  state.counters["pairs"] = static_cast<double>(t_ref.size());
}

std::string count_wrong(size_t bad, size_t n, const char* what) {
  return bad ? std::to_string(bad) + " of " + std::to_string(n) + " " + what + " wrong" : "";
}

}  // namespace bench
}  // namespace dtypebench
