// dtypebench: one Google Benchmark binary for every family, with the machine's context in the JSON,
// our own options (--quick, --list, --family, --levels, --threads, --dram-mib) and derived results
// (ratios, break-evens) appended as ordinary entries computed from the finished runs.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <regex>
#include <set>
#include <sstream>

#include "bench/registry.hpp"
#include "dtypebench/context.hpp"
#include "dtypebench/gpu.hpp"
#include "dtypebench/memory.hpp"

namespace db = dtypebench;
namespace bench = dtypebench::bench;

namespace {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* kUsage =
    "usage: dtypebench [options] [google-benchmark flags]\n"
    "  --list               families, their variants and parameters (axes), then exit\n"
    "  --list-families      family names, one per line (for scripts)\n"
    "  --family=a,b         run only these families (see --list)\n"
    "  --quick              a short run: fewer levels, threads and repetitions\n"
    "  --levels=L1,L2,L3,DRAM  cache levels to sweep (working sets sized from this CPU's caches)\n"
    "  --threads=1,N|all    OpenMP thread counts to sweep (default: 1 and all cores)\n"
    "  --dram-mib=N         DRAM working set in MiB (default: 4x the last-level cache)\n"
    "  --chunk-mib=a,b      convert: chunk sizes of the chunked f64->f32 (default 1,16; quick 16)\n"
    "  --tmpdir=DIR         convert: where the memory-mapped source file is written (default\n"
    "                       $TMPDIR or /tmp)\n"
    "  --gpu-flush-l2       GPU: flush the L2 before every timed launch (cold-cache runs)\n"
    "Google Benchmark flags (--benchmark_filter, --benchmark_out, --benchmark_repetitions, ...)\n"
    "pass through. Exit status: 0 all ran or skipped, 1 a benchmark failed, 2 bad usage.\n";

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string tok;
  while (std::getline(ss, tok, sep))
    if (!tok.empty()) out.push_back(tok);
  return out;
}

long parse_positive(const std::string& opt, const std::string& v) {
  char* end = nullptr;
  const long x = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || x <= 0) {
    throw UsageError(opt + " needs a positive integer, got '" + v + "'");
  }
  return x;
}

bool starts(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// Collects finished runs (for the derivations and the exit status) and forwards them to the
// reporter it wraps; at the end it appends the derived entries.
class DerivingReporter : public benchmark::BenchmarkReporter {
 public:
  DerivingReporter(std::unique_ptr<benchmark::BenchmarkReporter> inner, bool count)
      : inner_(std::move(inner)), count_(count) {}
  bool ReportContext(const Context& c) override {
    inner_->SetOutputStream(&GetOutputStream());
    inner_->SetErrorStream(&GetErrorStream());
    return inner_->ReportContext(c);
  }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.error_occurred) {
        if (count_) (bench::is_skip_message(r.error_message) ? skipped : failed)++;
        continue;
      }
      if (count_) ran_.insert(r.run_name.str());
      const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
      const std::string key = r.run_name.str();
      if (!median && r.run_type != Run::RT_Iteration) continue;
      if (!median && have_median_.count(key)) continue;
      if (median) have_median_.insert(key);
      bench::Result res;
      res.seconds = r.GetAdjustedRealTime() * unit_seconds(r.time_unit);
      for (const auto& [k, c] : r.counters) res.counters[k] = c.value;
      results_[key] = res;
    }
    inner_->ReportRuns(runs);
  }
  void Finalize() override {
    std::vector<Run> derived;
    for (const bench::Family& f : bench::families()) {
      if (!f.derive) continue;
      for (const bench::Derived& d : f.derive(results_)) {
        Run run;
        run.run_name.function_name = d.name;
        run.family_index = -1;  // not a registered benchmark
        run.per_family_instance_index = static_cast<int64_t>(derived.size());
        run.repetition_index = 0;
        run.run_type = Run::RT_Iteration;
        run.iterations = 1;
        run.threads = 1;
        run.repetitions = 1;
        run.time_unit = benchmark::kMicrosecond;
        run.report_label = "derived";
        for (const auto& [k, v] : d.values) run.counters[k] = benchmark::Counter(v);
        derived.push_back(run);
      }
    }
    if (!derived.empty()) inner_->ReportRuns(derived);
    inner_->Finalize();
  }
  int ran() const { return static_cast<int>(ran_.size()); }
  int skipped = 0, failed = 0;

 private:
  static double unit_seconds(benchmark::TimeUnit u) {
    switch (u) {
      case benchmark::kNanosecond:
        return 1e-9;
      case benchmark::kMicrosecond:
        return 1e-6;
      case benchmark::kMillisecond:
        return 1e-3;
      default:
        return 1.0;
    }
  }
  std::unique_ptr<benchmark::BenchmarkReporter> inner_;
  bool count_;
  bench::Results results_;
  std::set<std::string> have_median_, ran_;
};

// Google Benchmark prints its own lines for a bad or empty filter; check first so the user gets
// one line from us. A leading '-' negates, as in Google Benchmark.
void check_filter(const std::string& filter) {
  const bool negate = !filter.empty() && filter[0] == '-';
  std::regex re;
  try {
    re = std::regex(negate ? filter.substr(1) : filter, std::regex::extended);
  } catch (const std::regex_error&) {
    throw UsageError("--benchmark_filter='" + filter + "' is not a valid regex");
  }
  for (const std::string& n : bench::registered_names())
    if (std::regex_search(n, re) != negate) return;
  // without a GPU the GPU benchmarks are never registered, so a GPU filter lands here: say why
  const std::string no_gpu =
      db::gpu::device().available
          ? ""
          : "; GPU benchmarks are not registered here: " + db::gpu::device().reason;
  throw UsageError("no benchmark matches '" + filter + "' (see --list for the families and names" +
                   no_gpu + ")");
}

// The first DRAM-sized benchmark of a process ran up to 25% slow on our VM (page allocation,
// clocks): touch and copy a DRAM-sized buffer once before anything is timed.
void warm_up(size_t bytes) {
  // best effort, never the failure: at most the default DRAM set and a quarter of free memory
  bytes = std::min({bytes, 4 * db::cpu_info().l3_bytes, db::mem::available_bytes() / 4});
  db::Buffer<char> a(bytes / 2), b(bytes / 2);
  std::memset(a.data(), 1, a.size());
  for (int k = 0; k < 3; ++k) std::memcpy(b.data(), a.data(), a.size());
  benchmark::DoNotOptimize(b.data());
}

void list_families(const bench::Config& cfg) {
  std::cout << "families:\n";
  for (const bench::Family& f : bench::families()) {
    std::cout << "  " << f.name << ": " << f.description << "\n";
    for (const std::string& a : f.axes) std::cout << "      " << a << "\n";
  }
  std::cout << "cache levels on this machine (working set per benchmark):\n";
  for (const db::Level& l : cfg.levels)
    std::cout << "  " << l.name << ": " << db::mem::format_bytes(static_cast<double>(l.bytes))
              << "\n";
}

int run(int argc, char** argv) {
  bench::Config cfg;
  std::vector<std::string> fams, level_names, pass;
  std::string threads_opt;
  size_t dram = 0;
  bool list = false, user_reps = false, user_min_time = false, user_filter = false;
  std::string user_filter_re;
  pass.push_back(argv[0]);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--list") {
      list = true;
    } else if (a == "--list-families") {
      for (const bench::Family& f : bench::families()) std::cout << f.name << "\n";
      return 0;
    } else if (a == "--quick") {
      cfg.quick = true;
    } else if (starts(a, "--family=")) {
      fams = split(a.substr(9), ',');
    } else if (starts(a, "--levels=")) {
      level_names = split(a.substr(9), ',');
    } else if (starts(a, "--threads=")) {
      threads_opt = a.substr(10);
    } else if (starts(a, "--chunk-mib=")) {
      for (const std::string& c : split(a.substr(12), ','))
        cfg.chunk_mib.push_back(static_cast<size_t>(parse_positive("--chunk-mib", c)));
      if (cfg.chunk_mib.empty()) throw UsageError("--chunk-mib needs at least one size");
    } else if (starts(a, "--tmpdir=")) {
      cfg.tmpdir = a.substr(9);
      if (cfg.tmpdir.empty()) throw UsageError("--tmpdir needs a directory");
    } else if (a == "--gpu-flush-l2") {
      cfg.flush_l2 = true;
    } else if (starts(a, "--dram-mib=")) {
      dram = static_cast<size_t>(parse_positive("--dram-mib", a.substr(11))) << 20;
    } else if (starts(a, "--benchmark_")) {
      user_reps |= starts(a, "--benchmark_repetitions");
      user_min_time |= starts(a, "--benchmark_min_time");
      if (starts(a, "--benchmark_filter=")) {
        user_filter = true;
        user_filter_re = a.substr(19);
      }
      pass.push_back(a);
    } else {
      throw UsageError("unknown option '" + a + "' (see --help)");
    }
  }

  if (cfg.chunk_mib.empty())
    cfg.chunk_mib = cfg.quick ? std::vector<size_t>{16} : std::vector<size_t>{1, 16};
  if (cfg.tmpdir.empty()) cfg.tmpdir = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  const std::vector<db::Level> all = db::cache_levels(dram);
  if (level_names.empty())
    level_names = cfg.quick ? std::vector<std::string>{"L2", "DRAM"}
                            : std::vector<std::string>{"L1", "L2", "L3", "DRAM"};
  for (const std::string& n : level_names) {
    bool found = false;
    for (const db::Level& l : all)
      if (l.name == n) cfg.levels.push_back(l), found = true;
    if (!found) throw UsageError("unknown cache level '" + n + "' (known: L1, L2, L3, DRAM)");
  }
  const int cores = db::cpu_info().cores;
  if (threads_opt.empty()) threads_opt = cfg.quick ? "all" : "1,all";
  for (const std::string& t : split(threads_opt, ',')) {
    const int n = t == "all" ? cores : static_cast<int>(parse_positive("--threads", t));
    bool dup = false;
    for (int x : cfg.threads) dup |= x == n;
    if (!dup) cfg.threads.push_back(n);
  }

  std::set<std::string> known;
  for (const bench::Family& f : bench::families()) known.insert(f.name);
  for (const std::string& f : fams) {
    if (!known.count(f)) {
      std::string k;
      for (const std::string& n : known) k += (k.empty() ? "" : ", ") + n;
      throw UsageError("unknown family '" + f + "' (known: " + k + ")");
    }
  }
  if (list) {
    list_families(cfg);
    return 0;
  }
  if (user_filter && !fams.empty())
    throw UsageError("use --family or --benchmark_filter, not both");
  std::string filter = user_filter ? user_filter_re : "";
  if (!fams.empty()) {
    filter = "^(";
    for (size_t i = 0; i < fams.size(); ++i) filter += (i ? "|" : "") + fams[i];
    filter += ")/";
    pass.push_back("--benchmark_filter=" + filter);
  }
  if (!user_reps)
    pass.push_back(cfg.quick ? "--benchmark_repetitions=3" : "--benchmark_repetitions=5");
  if (!user_min_time)
    pass.push_back(cfg.quick ? "--benchmark_min_time=0.02" : "--benchmark_min_time=0.1");
  pass.push_back("--benchmark_report_aggregates_only=true");

  for (const auto& [k, v] : db::machine_context(dram)) benchmark::AddCustomContext(k, v);
  std::string lv, th;
  for (const db::Level& l : cfg.levels) lv += (lv.empty() ? "" : ",") + l.name;
  for (int t : cfg.threads) th += (th.empty() ? "" : ",") + std::to_string(t);
  benchmark::AddCustomContext("run_mode", cfg.quick ? "quick" : "full");
  benchmark::AddCustomContext("run_levels", lv);
  benchmark::AddCustomContext("run_threads", th);

  for (const bench::Family& f : bench::families()) f.add(cfg);
  if (!filter.empty()) check_filter(filter);

  std::vector<char*> args;
  for (std::string& s : pass) args.push_back(s.data());
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());

  std::string out_path;
  for (const std::string& s : pass)
    if (starts(s, "--benchmark_out=")) out_path = s.substr(16);
  DerivingReporter display(
      std::unique_ptr<benchmark::BenchmarkReporter>(benchmark::CreateDefaultDisplayReporter()),
      true);
  std::unique_ptr<DerivingReporter> file;
  if (!out_path.empty()) {
    file = std::make_unique<DerivingReporter>(std::make_unique<benchmark::JSONReporter>(), false);
  }
  warm_up(all.back().bytes);
  const size_t matched = benchmark::RunSpecifiedBenchmarks(&display, file.get());
  benchmark::Shutdown();
  if (matched == 0)
    throw UsageError("no benchmark matched (see --list for the families and names)");
  std::fprintf(stderr, "dtypebench: %d ran, %d skipped, %d failed\n", display.ran(),
               display.skipped, display.failed);
  return display.failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "dtypebench: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dtypebench: %s\n", e.what());
    return 1;
  }
}
