// What every benchmark family shares: the run configuration, the name builder, the counters, the
// skip/fail conventions, and the derived results computed from finished runs.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dtypebench/context.hpp"
#include "dtypebench/gpu.hpp"
#include "dtypebench/memory.hpp"

namespace dtypebench {
namespace bench {

struct Config {
  bool quick = false;
  std::vector<Level> levels;      // the working sets to sweep
  std::vector<int> threads;       // OpenMP thread counts to sweep (1 and all cores by default)
  bool flush_l2 = false;          // GPU: flush L2 before every timed launch (cold runs)
  std::vector<size_t> chunk_mib;  // convert: chunk sizes for the chunked f64->f32 strategy
  std::string tmpdir;             // convert: where the memory-mapped source file goes
};

// One finished result, as the derivations see it: seconds per iteration (the median when repeated)
// and the counters as reported (rates already divided by time).
struct Result {
  double seconds = 0;
  std::map<std::string, double> counters;
};
using Results = std::map<std::string, Result>;  // by run name
struct Derived {
  std::string name;
  std::map<std::string, double> values;
};
using Derivation = std::function<std::vector<Derived>(const Results&)>;

struct Family {
  std::string name;
  std::string description;
  std::vector<std::string> axes;  // "key: values" lines for --list
  std::function<void(const Config&)> add;
  Derivation derive;  // may be empty
};
std::vector<Family>& families();
struct FamilyRegistrar {
  explicit FamilyRegistrar(Family f) { families().push_back(std::move(f)); }
};

// family/variant/key:value/...
class Name {
 public:
  Name(const std::string& family, const std::string& variant) : s_(family + "/" + variant) {}
  template <class V>
  Name& kv(const std::string& key, const V& value) {
    s_ += "/" + key + ":" + to_str(value);
    return *this;
  }
  const std::string& str() const { return s_; }

 private:
  static std::string to_str(const std::string& v) { return v; }
  static std::string to_str(const char* v) { return v; }
  template <class V>
  static std::string to_str(const V& v) {
    return std::to_string(v);
  }
  std::string s_;
};

// Parses "family/variant/k:v/..." back into its parts (for derivations and tests).
std::map<std::string, std::string> parse_name(const std::string& name);

// Every registered benchmark name, in order (main checks a filter against them before running).
std::vector<std::string>& registered_names();

// Registers a CPU benchmark timed in wall-clock time (OpenMP threads run beside the main thread).
benchmark::internal::Benchmark* add_cpu(const Name& name,
                                        std::function<void(benchmark::State&)> fn);
// A paired comparison: each iteration times a reference kernel and a subject kernel back to back
// (wall clock), so the machine's drift moves both sides alike; the ratio of their bandwidths is the
// median over the pairs (`subject_over_ref_bw`). Used where a ratio is the result.
benchmark::internal::Benchmark* add_cpu_pair(const Config& cfg, const Name& name,
                                             std::function<void(benchmark::State&)> fn);
// The levels paired comparisons run at: every level of the run, DRAM only in a quick run.
std::vector<Level> pair_levels(const Config& cfg);
void report_pair(benchmark::State& state, const std::vector<double>& t_ref,
                 const std::vector<double>& t_subject, double bytes_ref, double bytes_subject);
template <class Ref, class Subject>
void pair_loop(benchmark::State& state, double bytes_ref, double bytes_subject, Ref&& ref,
               Subject&& subject) {
  using clock = std::chrono::steady_clock;
  auto seconds = [](clock::time_point a, clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  };
  std::vector<double> tr, ts;
  for (auto _ : state) {
    // each timed run follows an untimed run of itself, so it starts from its own steady state
    // (the caches full of its own dirty lines, as in a plain repeated benchmark), not from the
    // other kernel's write-backs
    ref();
    benchmark::ClobberMemory();
    const auto t0 = clock::now();
    ref();
    benchmark::ClobberMemory();
    const auto t1 = clock::now();
    subject();
    benchmark::ClobberMemory();
    const auto t2 = clock::now();
    subject();
    benchmark::ClobberMemory();
    const auto t3 = clock::now();
    tr.push_back(seconds(t0, t1));
    ts.push_back(seconds(t2, t3));
    state.SetIterationTime(tr.back() + ts.back());
  }
  report_pair(state, tr, ts, bytes_ref, bytes_subject);
}

// Registers a GPU benchmark timed with CUDA events (manual time); it skips when there is no GPU.
benchmark::internal::Benchmark* add_gpu(const Name& name,
                                        std::function<void(benchmark::State&)> fn);

// True when the GPU benchmarks can run; otherwise registers one entry, family/gpu, that skips with
// the driver's reason (one line in the output instead of one per GPU benchmark).
bool gpu_or_skip(const std::string& family);

// GPU working sets: L2 (half the GPU's L2, resident) and DRAM (8x L2, at least 1 GiB), for the
// levels of cfg that a GPU has.
std::vector<Level> gpu_levels(const Config& cfg);

// Skips are reported and do not fail the run; failures do. Messages are one line.
void skip(benchmark::State& state, const std::string& why);
void fail(benchmark::State& state, const std::string& why);
bool is_skip_message(const std::string& msg);

// A benchmark's inputs, built and checked once and kept across the calls Google Benchmark makes
// for one benchmark (iteration-count probing, repetitions); freed when another benchmark starts,
// so only one working set is alive at a time. peak/peak_rss are measured while it was built.
struct Fixture {
  virtual ~Fixture() = default;
  size_t peak = 0, peak_rss = 0;
  std::string failure;  // non-empty when the check against the reference failed
};
using FixtureId = std::shared_ptr<const char>;  // one per registered benchmark
FixtureId new_fixture_id();
Fixture* find_fixture(const void* owner);  // frees any other benchmark's fixture
void keep_fixture(const void* owner, std::unique_ptr<Fixture> f);

// Returns the benchmark's fixture, running setup(fx) -> failure message ("" = checked) on first
// use; on a failed check it reports the failure and returns nullptr.
template <class Fx, class Setup>
Fx* fixture(benchmark::State& state, const FixtureId& id, Setup&& setup) {
  Fx* f = static_cast<Fx*>(find_fixture(id.get()));
  if (!f) {
    PeakScope scope;
    auto made = std::make_unique<Fx>();
    made->failure = setup(*made);
    made->peak = scope.tracked_peak();
    made->peak_rss = scope.rss_peak();
    f = made.get();
    keep_fixture(id.get(), std::move(made));
  }
  if (!f->failure.empty()) {
    fail(state, f->failure);
    return nullptr;
  }
  return f;
}

// Per-iteration work, reported as rates (per second) in the JSON: bytes, flops, elements.
void set_work(benchmark::State& state, double bytes, double flops, double elements);
void set_peak(benchmark::State& state, const PeakScope& scope);
void set_peak(benchmark::State& state, const Fixture& fx);
void set_verified(benchmark::State& state);
void set_working_set(benchmark::State& state, double bytes);  // and its cache level, as a number

// Runs body, turning OutOfMemory into a skip and any other exception into a failure.
void guarded(benchmark::State& state, const std::function<void()>& body);

// Times GPU work with CUDA events: one warm-up launch, then per iteration (optionally after an
// L2 flush) the launch between two events.
template <class F>
void gpu_loop(benchmark::State& state, bool flush_l2, F&& launch) {
  gpu::EventTimer timer;
  launch();
  gpu::synchronize();
  for (auto _ : state) {
    if (flush_l2) gpu::flush_l2();
    timer.start();
    launch();
    state.SetIterationTime(timer.stop());
  }
}

}  // namespace bench
}  // namespace dtypebench
