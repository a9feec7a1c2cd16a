// How a benchmark family is declared. A family lists its specs; a spec names a variant, declares
// its axes once (values from the run's levels and threads, from the family's own options, or
// fixed), its timing strategy and run policy, and says how to make a case at one point of their
// product. The registry builds the product, the names family/variant/key:value/..., --list, and
// runs every case the same way: it sets the threads, builds and checks the case once, times it
// with the spec's strategy (wall clock, pairs, CUDA events, steps), and writes the counters and
// the row's disposition (the label: verified, skipped: why, failed: why).
#pragma once

#include <benchmark/benchmark.h>

#include <any>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "dtypebench/context.hpp"
#include "dtypebench/dtypes.hpp"
#include "dtypebench/gpu.hpp"
#include "dtypebench/memory.hpp"

namespace dtypebench {
namespace bench {

struct Config {
  bool quick = false;
  std::vector<Level> levels;    // the CPU working sets to sweep
  std::vector<int> threads;     // OpenMP thread counts to sweep (1 and all cores by default)
  bool flush_l2 = false;        // GPU: flush L2 before every timed launch (cold runs)
  bool cpu = true, gpu = true;  // which targets register (--targets)
  std::map<std::string, std::string> options;  // family options, defaults filled in

  const std::string& option(const std::string& name) const;
  std::vector<size_t> sizes(const std::string& name) const;  // a validated list of integers
};

// A family's own command-line option, --name=value: main parses, validates (one line, exit 2)
// and lists it; the family reads it from Config.
struct Option {
  std::string name;  // without the dashes
  std::string help;
  std::string def;        // the default ("" for none)
  std::string quick_def;  // the default in a quick run ("" = def)
  // "" when the value is acceptable, else why not (one line)
  std::function<std::string(const std::string&)> check;
};
// s cut at every sep ("" gives one empty part)
std::vector<std::string> split(const std::string& s, char sep);
// "" with *out set, or why t is not an integer in [1, max] (one phrase; used by every option)
std::string parse_count(const std::string& t, size_t max, size_t* out);
// A comma list of integers in [1, max]; duplicates refused.
Option sizes_option(const std::string& name, const std::string& help, const std::string& def,
                    const std::string& quick_def, size_t max);
// An existing, writable directory.
Option dir_option(const std::string& name, const std::string& help, const std::string& def);

// One value of an axis: its text in the name, a number the case may read (a level's bytes, a
// dtype's size, an integer axis's value), and a payload of any type (a variant's enum, a library,
// a layer of a table), which the case reads with Point::get<T> and never by its text.
struct Value {
  std::string text;
  double num = 0;
  std::any payload = {};
};

inline Value number(size_t n) { return {std::to_string(n), static_cast<double>(n)}; }

// One combination of axis values, with the computed keys (n, ...) added.
class Point {
 public:
  const std::string& operator[](const std::string& key) const;
  double num(const std::string& key) const;
  size_t size(const std::string& key) const { return static_cast<size_t>(num(key)); }
  bool has(const std::string& key) const;
  // the payload of a key's value; throws std::logic_error when it holds no T
  template <class T>
  const T& get(const std::string& key) const {
    const T* t = std::any_cast<T>(&at(key).payload);
    if (!t) throw std::logic_error("key '" + key + "' carries no payload of the type asked for");
    return *t;
  }
  const Value& value(const std::string& key) const { return at(key); }
  void set(const std::string& key, Value v);
  const std::vector<std::pair<std::string, Value>>& values() const { return kv_; }

 private:
  const Value& at(const std::string& key) const;
  std::vector<std::pair<std::string, Value>> kv_;
};

struct Axis {
  std::string key;
  std::function<std::vector<Value>(const Config&)> values;
  std::string list;  // what --list says of the values ("" = list them)
};
Axis axis(const std::string& key, const std::vector<std::string>& values);
// values named in the result and carrying a payload each: axis_of("variant", {{"gpu_copy",
// Stream::Copy}, ...}); the case reads p.get<Stream>("variant")
template <class T>
Axis axis_of(const std::string& key, const std::vector<std::pair<std::string, T>>& values) {
  std::vector<Value> v;
  for (const auto& [text, payload] : values) v.push_back({text, 0, payload});
  return {key, [v](const Config&) { return v; }, ""};
}
Axis int_axis(const std::string& key, const std::vector<int>& values);
Axis levels_axis();        // the run's CPU levels (num: working-set bytes)
Axis pair_levels_axis();   // the run's levels; DRAM only in a quick run
Axis gpu_levels_axis();    // L2 (half the GPU's L2) and DRAM (8x L2, >= 1 GiB) of the run's levels
Axis threads_axis();       // the run's thread counts
Axis peer_threads_axis();  // those and 1 in a quick run: rows an outside peer (NumPy) pairs with
Axis option_axis(const std::string& key, const std::string& option);  // a sizes option's values
// A type axis: dtype names from the one table (num: the element's bytes).
Axis axis_of_dtypes(const std::string& key, const std::vector<Value>& values);
template <class... Ts>
Axis dtype_axis(const std::string& key = "dtype") {
  return axis_of_dtypes(key, {Value{dtype_name<Ts>(), static_cast<double>(sizeof(Ts))}...});
}

// What one iteration does, declared so rates derive: bytes (moved, by the algorithm's minimum),
// flops and elements become per-second counters; the working set gets its cache level.
struct Work {
  double bytes = 0, flops = 0, elements = 0;
  double working_set = 0;
  double ref_bytes = 0;  // pairs: the reference kernel's bytes per run
};

// What the registry measured for a case: host memory while it was built and checked, and while
// it was timed (tracked and resident), and device memory while it was built.
struct Peaks {
  size_t setup = 0, setup_rss = 0, loop = 0, loop_rss = 0, device = 0;
  size_t device_loop = 0;  // GPU: device memory while timed, above what the case held before
  gpu::ClockSample clock_start, clock_end;  // GPU: the SM clock as timing began and ended
  size_t launches_per_timing = 1;           // GPU: launches between one pair of events
};

// A kernel whose working set is the bytes it moves, as most are.
inline Work streamed(double bytes, double elements, double flops = 0) {
  return {bytes, flops, elements, bytes};
}

// A benchmark at one point: built (and its buffers allocated) on first use, kept across the calls
// Google Benchmark makes for one benchmark, freed when another benchmark starts. A case reads its
// axes from p, in its members' initializers too: built by make_case, it has p before them.
class Case {
 public:
  Case();
  virtual ~Case() = default;
  // the timed body: first in every case, so a case opens with the kernel it measures
  virtual void run() = 0;
  // allocate, fill, poison the outputs, run once and compare with the reference: "" or the
  // failure (one line). Throwing OutOfMemory makes the row a skip.
  virtual std::string setup() = 0;
  virtual void ref() {}  // pairs: the reference kernel, timed beside run()
  virtual Work work() const = 0;
  // counters beyond the standard ones, or standard ones measured differently (called last)
  virtual void report(benchmark::State&, const Peaks&) {}
  // what the label says after "verified: " (the implementation a library chose), "" for nothing
  virtual std::string detail() const { return ""; }
  // untimed work before each timed run (refilling an input the kernel destroys)
  virtual void before_each() {}
  // the flags are read once setup() has run, so setup() may set them
  bool untimed_before_each = false;
  bool loop_peak = false;  // measure memory while timed too (Peaks::loop): allocating kernels
  const Point p;
  const size_t n;  // the point's n where it has one: read once, not in every timed run
};

// The point Case() takes: the one make_case is building (none outside it). The base is built
// before a case's members, so they may read p, and no case declares a constructor to pass it on.
const Point*& point_being_built();
// A C at p. A C with a constructor from the point (the older form) gets the point there too.
template <class C>
std::unique_ptr<Case> make_case(const Point& p) {
  struct Scope {
    explicit Scope(const Point& at) { point_being_built() = &at; }
    ~Scope() { point_being_built() = nullptr; }
  } scope(p);
  if constexpr (std::is_constructible_v<C, const Point&>)
    return std::make_unique<C>(p);
  else
    return std::make_unique<C>();
}

// What a spec's rows repeat, and for how long. A field left at 0 (Warm::Rule) is the timing
// strategy's default, and where that has none the run's: --benchmark_repetitions and
// --benchmark_min_time. A field set here goes to Google Benchmark for the spec's rows, which adds
// it to their names (/min_time:0.200, /repeats:1, /iterations:1, /min_warmup_time:0.050), as
// upstream does for any benchmark that sets its own.
struct RunPolicy {
  enum class Warm {
    Rule,    // the strategy's rule (CPU: one untimed run where a cold start would show)
    Always,  // one untimed run before the first timed loop of a case
    Never,   // every run is timed (steps, a first call measured on purpose)
  };
  int repetitions = 0;
  double min_time = 0;      // seconds a repetition runs at least
  int64_t iterations = 0;   // a fixed count instead of min_time
  double warm_up_time = 0;  // seconds Google Benchmark runs the case untimed before repetitions
  Warm warm = Warm::Rule;
  // this policy's set fields over base's
  RunPolicy over(const RunPolicy& base) const;
};

// One Google Benchmark call of a case built and checked: what a timing strategy times.
struct Loop {
  benchmark::State& state;
  const Point& p;
  Case& c;
  const RunPolicy& policy;
  bool flush_l2;   // --gpu-flush-l2
  bool& cold;      // no timed run since setup: the strategy warms the case and clears it
  size_t& memo;    // kept across the calls of one case (the GPU's launches per pair of events)
  Peaks& peaks;
  size_t part;     // which of the strategy's rows this is (parts())
};

// How a spec is timed: the registry's strategies are Timing::Cpu, Pair, Gpu, GpuWall and Stepped
// (bench/stepped.hpp); a family may bring its own, a Strategy with static storage that a Timing
// points to.
class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual const char* name() const = 0;  // --list's word: cpu, pair, gpu, gpu_wall, stepped
  virtual bool on_gpu() const { return false; }
  virtual bool manual_time() const { return true; }  // rows end /manual_time, else /real_time
  virtual RunPolicy defaults(const Config&) const { return {}; }
  // the rows one point makes, as suffixes of its name ({""}: one row, the point's name)
  virtual std::vector<std::string> parts(const Point&) const { return {""}; }
  virtual void time(Loop& l) const = 0;
  // after the registry's counters: the strategy's own, or standard ones measured its way
  virtual void report(Loop&) const {}
};
class Timing {
 public:
  constexpr explicit Timing(const Strategy* s) : s_(s) {}
  static const Timing Cpu;      // wall clock, OpenMP threads beside the main thread
  static const Timing Pair;     // each iteration times ref() then run(), back to back (pair_loop)
  static const Timing Gpu;      // CUDA events around back-to-back run()s; --gpu-flush-l2
  static const Timing GpuWall;  // wall clock closed by a device sync (host work in the region)
  static const Timing Stepped;     // a SteppedCase: every step timed, a row per epoch, a summary
  static const Timing SteppedGpu;  // the same on the GPU (bench/stepped.hpp)
  const Strategy* operator->() const { return s_; }
  const Strategy& operator*() const { return *s_; }
  bool operator==(const Timing& o) const { return s_ == o.s_; }
  bool operator!=(const Timing& o) const { return s_ != o.s_; }

 private:
  const Strategy* s_;
};

using Factory = std::function<std::unique_ptr<Case>(const Point&)>;

struct Spec {
  std::string variant;       // or "" when the variant is an axis named "variant"
  std::any variant_payload;  // what p.get<T>("variant") gives for the spec's own variant
  Timing timing = Timing::Cpu;
  RunPolicy policy;        // over the strategy's defaults (RunPolicy::over)
  std::vector<Axis> axes;  // in registration order (the first varies slowest)
  // keys computed from the axes, in order: each may read the point so far
  std::vector<std::pair<std::string, std::function<Value(const Point&)>>> computed;
  std::vector<std::pair<std::string, std::string>> options;  // (key, option) set before computed
  std::vector<std::string> name_keys;      // the name's key order (every axis and computed key)
  std::function<bool(const Point&)> keep;  // combinations not registered at all
  std::string keep_why;                    // what --list says of them
  std::function<std::string(const Point&)> skip;  // registered, skipped at run time: why
  Factory make;
  std::string list;  // one line for --list beyond the axes ("" = none)

  Spec(std::string v, Timing t = Timing::Cpu) : variant(std::move(v)), timing(t) {}
  // the spec's own variant carries a payload, as a variant axis's values may
  template <class T>
  Spec& variant_is(T payload) {
    variant_payload = std::move(payload);
    return *this;
  }
  Spec& with(Axis a) {
    axes.push_back(std::move(a));
    return *this;
  }
  // the run's sweep: a level axis (the run's levels unless another is given), then its threads
  Spec& sweep(Axis levels = levels_axis()) { return with(std::move(levels)).with(threads_axis()); }
  Spec& key(const std::string& k, std::function<Value(const Point&)> f) {
    computed.emplace_back(k, std::move(f));
    return *this;
  }
  // a key holding a family option's value (for the case; not in the name)
  Spec& from_option(const std::string& k, const std::string& option) {
    options.emplace_back(k, option);
    return *this;
  }
  Spec& name(std::vector<std::string> keys) {
    name_keys = std::move(keys);
    return *this;
  }
  // both accumulate: a point is registered when every only_if keeps it (--list names each
  // reason), and skipped with the first skip_if reason that is not ""
  Spec& only_if(std::function<bool(const Point&)> f, std::string why) {
    if (keep) {
      f = [a = std::move(keep), b = std::move(f)](const Point& p) { return a(p) && b(p); };
      why = keep_why + "; " + why;
    }
    keep = std::move(f);
    keep_why = std::move(why);
    return *this;
  }
  Spec& skip_if(std::function<std::string(const Point&)> f) {
    if (skip)
      f = [a = std::move(skip), b = std::move(f)](const Point& p) {
        std::string why = a(p);
        return why.empty() ? b(p) : why;
      };
    skip = std::move(f);
    return *this;
  }
  Spec& note(std::string l) {
    list = std::move(l);
    return *this;
  }
  Spec& cases(Factory f) {
    make = std::move(f);
    return *this;
  }
  Spec& run_policy(RunPolicy r) {
    policy = r;
    return *this;
  }
  bool on_gpu() const { return timing->on_gpu(); }
  // the policy its rows run with in cfg: the spec's over the strategy's defaults
  RunPolicy resolved(const Config& cfg) const { return policy.over(timing->defaults(cfg)); }
};

// A case class template instantiated for the point's dtype (read from `key`): one factory for a
// type axis, so no dtype is named twice.
template <template <class> class C, class... Ts>
Factory typed(const std::string& key = "dtype") {
  return [key](const Point& p) {
    std::unique_ptr<Case> out;
    ((p[key] == dtype_name<Ts>() ? (out = make_case<C<Ts>>(p), 0) : 0), ...);
    return out;
  };
}
// A conversion's (source, destination) types as one axis: values "src>dst" (num: the bytes of
// one element of each); the keys src and dst are computed from it, and typed_pairs dispatches.
template <class S, class D>
struct TypePair {};
Value pair_key(const Point& p, const std::string& axis_key, bool dst);
template <class S, class D>
Value pair_value(TypePair<S, D>) {
  return {std::string(dtype_name<S>()) + ">" + dtype_name<D>(),
          static_cast<double>(sizeof(S) + sizeof(D))};
}
template <class... Ps>
Axis type_pair_axis(const std::string& key = "cast") {
  return axis_of_dtypes(key, {pair_value(Ps{})...});
}
template <template <class, class> class C, class S, class D>
void make_if(TypePair<S, D> t, const Point& p, const std::string& key, std::unique_ptr<Case>* out) {
  if (p[key] == pair_value(t).text) *out = make_case<C<S, D>>(p);
}
template <template <class, class> class C, class... Ps>
Factory typed_pairs(const std::string& key = "cast") {
  return [key](const Point& p) {
    std::unique_ptr<Case> out;
    (make_if<C>(Ps{}, p, key, &out), ...);
    return out;
  };
}

template <class C>
Factory plain() {
  return [](const Point& p) { return make_case<C>(p); };
}

struct Family {
  std::string name;
  std::string description;
  std::vector<Spec> specs;
  std::vector<Option> options;
  // has GPU specs in a CUDA build: a build without CUDA still says so, in one family/gpu row
  bool gpu_code = true;
};
std::vector<Family>& families();
// Adds a family, or its specs and options to the family of that name already registered (a
// family's GPU specs register beside its CPU ones, in the same file, only in a CUDA build).
struct FamilyRegistrar {
  explicit FamilyRegistrar(Family f);
};

// What the registry needs of a GPU: the real one (gpu.hpp), or a host stand-in in tests.
class Device {
 public:
  virtual ~Device() = default;
  virtual bool available(std::string* why) const = 0;
  virtual size_t l2_bytes() const = 0;
  virtual void reset_peak() = 0;
  virtual size_t live_bytes() const = 0;
  virtual size_t peak_bytes() const = 0;
  virtual void synchronize() = 0;
  virtual void flush_l2() = 0;
  virtual void start() = 0;   // the timer: an event recorded before the work
  virtual double stop() = 0;  // seconds since start(), once the work is done
  virtual gpu::ClockSample clocks() { return gpu::sample_clocks(); }
};
Device& device();
void set_device(Device* d);  // nullptr: the real GPU

// A registered benchmark, by its full name (with Google Benchmark's /real_time or /manual_time).
struct Registered {
  std::string name;
};
// Registers every spec of every family (those of the families in `only` when it is non-empty);
// without a GPU a family's GPU specs become one row, family/gpu, that skips with the reason.
void register_all(const Config& cfg, const std::vector<std::string>& only = {});
void register_family(const Family& f, const Config& cfg);
std::vector<Registered>& registered();

// The points a spec expands to for cfg, with their names (for --list and the tests).
std::vector<std::pair<std::string, Point>> expand(const std::string& family, const Spec& s,
                                                  const Config& cfg);

// family/variant/key:value/...
std::string name_of(const std::string& family, const Spec& s, const Point& p);
std::map<std::string, std::string> parse_name(const std::string& name);

// The --list text of every family; as JSON (--list --format=json): families, their options, and
// per spec its variant, target (cpu or gpu), timing, policy, axes with their values in cfg, and
// computed keys, so no script copies a list the C++ declares.
std::string describe(const Config& cfg);
std::string describe_json(const Config& cfg, const std::vector<std::string>& only = {});
std::string family_json(const Family& f, const Config& cfg);  // one family of it

// Skips are reported and do not fail the run; failures do. Messages are one line.
void skip(benchmark::State& state, const std::string& why);
void fail(benchmark::State& state, const std::string& why);
bool is_skip_message(const std::string& msg);

// Two kernels interleaved on the same data so that the machine's drift moves both alike; the
// ratio of their bandwidths is the median over the pairs (`subject_over_ref_bw`). Any ratio a
// claim rests on is measured this way.
void report_pair(benchmark::State& state, const std::vector<double>& t_ref,
                 const std::vector<double>& t_subject, double bytes_ref, double bytes_subject);
template <class Ref, class Subject>
void pair_loop(benchmark::State& state, double bytes_ref, double bytes_subject, Ref&& ref,
               Subject&& subject) {
  using clock = std::chrono::steady_clock;
  auto seconds = [](clock::time_point a, clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  };
  // each timed run follows an untimed run of itself, so it starts from its own steady state (the
  // caches full of its own dirty lines, as in a plain repeated benchmark), not from the other
  // kernel's write-backs
  auto timed = [&](auto& kernel) {
    kernel();
    benchmark::ClobberMemory();
    const auto t0 = clock::now();
    kernel();
    benchmark::ClobberMemory();
    return seconds(t0, clock::now());
  };
  std::vector<double> tr, ts;
  for (auto _ : state) {
    tr.push_back(timed(ref));
    ts.push_back(timed(subject));
    state.SetIterationTime(tr.back() + ts.back());
  }
  report_pair(state, tr, ts, bytes_ref, bytes_subject);
}

// A buffer compared byte for byte: "" or "<bad> of <n> elements wrong".
std::string count_wrong(size_t bad, size_t n, const char* what = "elements");

}  // namespace bench
}  // namespace dtypebench
