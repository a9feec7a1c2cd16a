#include "bench/registry.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "dtypebench/gpu.hpp"

namespace dtypebench {
namespace bench {

std::vector<Family>& families() {
  static std::vector<Family> f;
  return f;
}

std::map<std::string, std::string> parse_name(const std::string& name) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  int part = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    const std::string tok = name.substr(start, end - start);
    const size_t colon = tok.find(':');
    if (part == 0) {
      out["family"] = tok;
    } else if (part == 1) {
      out["variant"] = tok;
    } else if (colon != std::string::npos) {
      out[tok.substr(0, colon)] = tok.substr(colon + 1);
    }
    ++part;
    start = end + 1;
  }
  return out;
}

std::vector<std::string>& registered_names() {
  static std::vector<std::string> names;
  return names;
}

benchmark::internal::Benchmark* add_cpu(const Name& name,
                                        std::function<void(benchmark::State&)> fn) {
  registered_names().push_back(name.str());
  return benchmark::RegisterBenchmark(name.str().c_str(),
                                      [fn](benchmark::State& s) { guarded(s, [&] { fn(s); }); })
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
}

benchmark::internal::Benchmark* add_cpu_pair(const Config& cfg, const Name& name,
                                             std::function<void(benchmark::State&)> fn) {
  registered_names().push_back(name.str());
  return benchmark::RegisterBenchmark(name.str().c_str(),
                                      [fn](benchmark::State& s) { guarded(s, [&] { fn(s); }); })
      ->UseManualTime()
      ->MinTime(cfg.quick ? 0.1 : 0.2)  // 10-20 pairs at DRAM size for a stable median
      ->Unit(benchmark::kMicrosecond);
}

std::vector<Level> pair_levels(const Config& cfg) {
  if (!cfg.quick) return cfg.levels;
  std::vector<Level> out;
  for (const Level& l : cfg.levels)
    if (l.name == "DRAM") out.push_back(l);
  return out;
}

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

benchmark::internal::Benchmark* add_gpu(const Name& name,
                                        std::function<void(benchmark::State&)> fn) {
  registered_names().push_back(name.str());
  return benchmark::RegisterBenchmark(name.str().c_str(),
                                      [fn](benchmark::State& s) {
                                        const gpu::DeviceInfo& d = gpu::device();
                                        if (!d.available) return skip(s, d.reason);
                                        guarded(s, [&] { fn(s); });
                                      })
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
}

bool gpu_or_skip(const std::string& family) {
  if (gpu::device().available) return true;
  add_gpu(Name(family, "gpu"), [](benchmark::State&) {})->Repetitions(1);
  return false;
}

std::vector<Level> gpu_levels(const Config& cfg) {
  const size_t l2 = gpu::device().l2_bytes ? gpu::device().l2_bytes : (50u << 20);
  const size_t dram = std::max<size_t>(8 * l2, size_t(1) << 30);
  std::vector<Level> out;
  for (const Level& l : cfg.levels) {
    if (l.name == "L2") out.push_back({"L2", l2 / 2});
    if (l.name == "DRAM") out.push_back({"DRAM", dram});
  }
  if (out.empty()) out.push_back({"DRAM", dram});
  return out;
}

void set_work(benchmark::State& state, double bytes, double flops, double elements) {
  using C = benchmark::Counter;
  if (bytes > 0) state.counters["bytes"] = C(bytes, C::kIsIterationInvariantRate);
  if (flops > 0) state.counters["flops"] = C(flops, C::kIsIterationInvariantRate);
  if (elements > 0) state.counters["elements"] = C(elements, C::kIsIterationInvariantRate);
}

void set_peak(benchmark::State& state, const PeakScope& scope) {
  state.counters["peak_bytes"] = static_cast<double>(scope.tracked_peak());
  state.counters["peak_rss_bytes"] = static_cast<double>(scope.rss_peak());
}

void set_peak(benchmark::State& state, const Fixture& fx) {
  state.counters["peak_bytes"] = static_cast<double>(fx.peak);
  state.counters["peak_rss_bytes"] = static_cast<double>(fx.peak_rss);
}

namespace {
std::unique_ptr<Fixture> g_fixture;
const void* g_fixture_owner = nullptr;
}  // namespace

FixtureId new_fixture_id() { return std::make_shared<const char>('f'); }

Fixture* find_fixture(const void* owner) {
  if (g_fixture_owner == owner && g_fixture) return g_fixture.get();
  g_fixture.reset();
  g_fixture_owner = nullptr;
  return nullptr;
}

void keep_fixture(const void* owner, std::unique_ptr<Fixture> f) {
  g_fixture = std::move(f);
  g_fixture_owner = owner;
}

void set_verified(benchmark::State& state) { state.counters["verified"] = 1; }

void set_working_set(benchmark::State& state, double bytes) {
  static const char* names[] = {"L1", "L2", "L3", "DRAM"};
  const std::string lvl = level_of(static_cast<size_t>(bytes));
  double idx = 0;
  for (int i = 0; i < 4; ++i)
    if (lvl == names[i]) idx = i + 1;
  state.counters["working_set_bytes"] = bytes;
  state.counters["cache_level"] = idx;  // 1=L1 2=L2 3=L3 4=DRAM, by the detected sizes
}

void skip(benchmark::State& state, const std::string& why) {
  state.SkipWithError(("skip: " + why).c_str());
}
void fail(benchmark::State& state, const std::string& why) {
  state.SkipWithError(("error: " + why).c_str());
}
bool is_skip_message(const std::string& msg) { return msg.rfind("skip: ", 0) == 0; }

void guarded(benchmark::State& state, const std::function<void()>& body) {
  try {
    body();
  } catch (const OutOfMemory& e) {
    skip(state, std::string("does not fit: ") + e.what());
  } catch (const std::exception& e) {
    fail(state, e.what());
  }
}

}  // namespace bench
}  // namespace dtypebench
