// dtypebench: one Google Benchmark binary for every family, with the machine's context in the JSON.
// Our options (--quick, --list, --family, --levels, --threads, --targets, each family's own) and
// the Google Benchmark flags we rely on are validated before anything is registered or run.
#include <benchmark/benchmark.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
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
    "  --list               families, their variants, axes and options, then exit\n"
    "  --format=json        with --list: the same as JSON (per spec its target, timing, run\n"
    "                       policy and the axes' values in this run), for scripts\n"
    "  --list-families      family names, one per line (with --targets=gpu: those with GPU code)\n"
    "  --family=a,b         run only these families (see --list)\n"
    "  --quick              a short run: levels L2,DRAM, all cores, 3 repetitions\n"
    "  --levels=L1,L2,L3,DRAM  cache levels to sweep (working sets sized from this CPU's caches;\n"
    "                       default all four)\n"
    "  --threads=1,N|all    OpenMP thread counts to sweep, 1..4x the cores (default: 1,all;\n"
    "                       quick: all)\n"
    "  --oversubscribe      allow more than 4 threads per core\n"
    "  --targets=cpu,gpu    register the CPU benchmarks, the GPU ones, or both (default)\n"
    "  --dram-mib=N         DRAM working set in MiB (default: 4x the last-level cache)\n"
    "  --gpu-flush-l2       GPU: flush the L2 before every timed launch (cold-cache runs)\n"
    "%s"
    "Google Benchmark flags pass through; these are checked first: --benchmark_filter (a regex,\n"
    "as in the result names; with --family, among that family's), --benchmark_repetitions\n"
    "(default 5, quick 3), --benchmark_min_time (seconds, default 0.1, quick 0.02), "
    "--benchmark_out,\n"
    "--benchmark_out_format and --benchmark_format (json console csv).\n"
    "Exit status: 0 all ran or skipped, 1 a benchmark failed, 2 bad usage.\n";

bool starts(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// Every error line goes through here, and so does every value it echoes (by shown()): control
// characters are escaped (\x1b), so an escape sequence or a newline in an argument cannot reach
// the terminal or split the line, and the text is cut after `max` bytes, so a 100 KB argument is
// not echoed whole.
std::string printable(const std::string& s, size_t max) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    // cut between UTF-8 characters (a continuation byte is 10xxxxxx), within 3 bytes
    if (out.size() >= max && ((c & 0xc0) != 0x80 || out.size() - max >= 3)) return out + "...";
    const unsigned char next = i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0;
    char esc[8];
    if (c < 0x20 || c == 0x7f) {
      std::snprintf(esc, sizeof esc, "\\x%02x", c);
      out += esc;
    } else if (c == 0xc2 && next >= 0x80 && next <= 0x9f) {  // C1 controls (U+0080..U+009F)
      std::snprintf(esc, sizeof esc, "\\u%04x", next);
      out += esc, ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// a value as an error line shows it: quoted, escaped, at most 80 characters of it
std::string shown(const std::string& v) { return "'" + printable(v, 80) + "'"; }

// The line main prints: escaped too, because the families' option checks echo values as typed;
// a long one loses its middle, so the reason at the end survives.
std::string error_line(const std::string& msg) {
  const std::string s = printable(msg, SIZE_MAX);
  if (s.size() <= 400) return s;
  size_t head = 300, tail = s.size() - 100;
  while ((s[head] & 0xc0) == 0x80) ++head;  // not inside a UTF-8 character
  while ((s[tail] & 0xc0) == 0x80) ++tail;
  return s.substr(0, head) + "..." + s.substr(tail);
}

// Comma lists: an empty list or an empty item is an error, not "the default".
std::vector<std::string> list_of(const std::string& opt, const std::string& v) {
  if (v.empty()) throw UsageError(opt + " needs a value");
  std::vector<std::string> out;
  for (const std::string& tok : bench::split(v, ',')) {
    if (tok.empty()) throw UsageError(opt + "=" + shown(v) + " has an empty item");
    if (std::find(out.begin(), out.end(), tok) != out.end())
      throw UsageError(opt + " lists " + shown(tok) + " twice");
    out.push_back(tok);
  }
  return out;
}

// `hint` says how to go past `max`, where there is a way
unsigned long long parse_positive(const std::string& opt, const std::string& v,
                                  unsigned long long max, const std::string& hint = "") {
  size_t x = 0;
  if (!bench::parse_count(v, max, &x).empty())
    throw UsageError(opt + " needs a positive integer up to " + std::to_string(max) + hint +
                     ", got " + shown(v));
  return x;
}

double parse_seconds(const std::string& opt, std::string v) {
  if (!v.empty() && v.back() == 's') v.pop_back();  // Google Benchmark 1.8's "0.5s" form
  char* end = nullptr;
  const double x = v.empty() ? 0 : std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !(x > 0) || !std::isfinite(x))
    throw UsageError(opt + " needs a positive number of seconds, got " + shown(v));
  return x;
}

// Between Google Benchmark and the reporter it would use: counts the rows by disposition (once
// per benchmark, not per repetition) for the last line; drops counter values that are not finite
// (a cv of a counter whose mean is 0), so the JSON is strict JSON and a value that cannot be
// computed is absent.
class OutputReporter : public benchmark::BenchmarkReporter {
 public:
  explicit OutputReporter(std::unique_ptr<benchmark::BenchmarkReporter> inner)
      : inner_(std::move(inner)) {}
  bool ReportContext(const Context& c) override {
    inner_->SetOutputStream(&GetOutputStream());
    inner_->SetErrorStream(&GetErrorStream());
    return inner_->ReportContext(c);
  }
  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> out;
    for (Run r : runs) {
      const std::string name = r.run_name.str();
      if (r.error_occurred) {
        // a skip or a failure repeats in every repetition: one row says it
        const bool first =
            (bench::is_skip_message(r.error_message) ? skipped_ : failed_).insert(name).second;
        if (!first) continue;
      } else {
        ran_.insert(name);
      }
      for (auto it = r.counters.begin(); it != r.counters.end();)
        it = std::isfinite(it->second.value) ? std::next(it) : r.counters.erase(it);
      out.push_back(std::move(r));
    }
    if (!out.empty()) inner_->ReportRuns(out);
  }
  void Finalize() override { inner_->Finalize(); }
  size_t ran() const { return ran_.size(); }
  size_t skipped() const { return skipped_.size(); }
  size_t failed() const { return failed_.size(); }

 private:
  std::unique_ptr<benchmark::BenchmarkReporter> inner_;
  std::set<std::string> ran_, skipped_, failed_;
};

// CSV with Google Benchmark's columns (name ... error_message, then one per counter), in place of
// its deprecated CSVReporter, which writes a skipped or failed row as 10 fields, without the
// label that carries the disposition, and takes its counter columns from the first rows it sees
// (and aborts on a later one). This one holds the rows to the end, takes the columns from all of
// them, and writes every row at the header's width with its label, as the JSON has it.
class CsvReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context& c) override {
    PrintBasicContext(&GetErrorStream(), c);  // as Google Benchmark's CSV does
    return true;
  }
  void ReportRuns(const std::vector<Run>& runs) override {
    rows_.insert(rows_.end(), runs.begin(), runs.end());
  }
  void Finalize() override {
    if (rows_.empty()) return;
    std::set<std::string> counters;
    for (const Run& r : rows_)
      for (const auto& kv : r.counters)
        if (!fixed(kv.first)) counters.insert(kv.first);
    std::ostream& o = GetOutputStream();
    o << "name,iterations,real_time,cpu_time,time_unit,bytes_per_second,items_per_second,label,"
         "error_occurred,error_message";
    for (const std::string& c : counters) o << "," << quote(c);
    o << "\n";
    for (const Run& r : rows_) {
      o << quote(r.benchmark_name()) << ",";
      if (!r.error_occurred) {
        // a cv is a ratio, not a time per iteration (as in the JSON)
        const bool ratio = r.run_type == Run::RT_Aggregate &&
                           r.aggregate_unit == benchmark::StatisticUnit::kPercentage;
        o << r.iterations << "," << (ratio ? r.real_accumulated_time : r.GetAdjustedRealTime())
          << "," << (ratio ? r.cpu_accumulated_time : r.GetAdjustedCPUTime()) << ","
          << benchmark::GetTimeUnitString(r.time_unit);
      } else {
        o << ",,,";
      }
      for (const char* c : {"bytes_per_second", "items_per_second"}) {
        o << ",";
        if (r.counters.count(c)) o << r.counters.at(c).value;
      }
      o << "," << (r.report_label.empty() ? "" : quote(r.report_label)) << ","
        << (r.error_occurred ? "true," + quote(r.error_message) : ",");
      for (const std::string& c : counters) {
        o << ",";
        if (r.counters.count(c)) o << r.counters.at(c).value;
      }
      o << "\n";
    }
    rows_.clear();
  }

 private:
  static bool fixed(const std::string& c) {
    return c == "bytes_per_second" || c == "items_per_second";
  }
  // every text field quoted, a quote doubled (RFC 4180), as Google Benchmark's CSV does
  static std::string quote(const std::string& s) {
    std::string q = "\"";
    for (char ch : s) q += ch == '"' ? "\"\"" : std::string(1, ch);
    return q + "\"";
  }
  std::vector<Run> rows_;
};

std::unique_ptr<benchmark::BenchmarkReporter> reporter_for(const std::string& format) {
  if (format == "csv") return std::make_unique<CsvReporter>();
  if (format == "console") return std::make_unique<benchmark::ConsoleReporter>();
  return std::make_unique<benchmark::JSONReporter>();
}

// Google Benchmark prints its own lines for a bad or empty filter; check first so the user gets
// one line from us. A leading '-' negates, as in Google Benchmark; names carry their
// /real_time or /manual_time suffix, as in the JSON.
void check_filter(const std::string& filter) {
  const bool negate = !filter.empty() && filter[0] == '-';
  std::regex re;
  try {
    re = std::regex(negate ? filter.substr(1) : filter, std::regex::extended);
  } catch (const std::regex_error&) {
    throw UsageError("--benchmark_filter=" + shown(filter) + " is not a valid regex");
  }
  for (const bench::Registered& r : bench::registered())
    if (std::regex_search(r.name, re) != negate) return;
  // without a GPU the GPU benchmarks are never registered, so a GPU filter lands here: say why
  std::string why;
  const std::string no_gpu =
      bench::device().available(&why) ? "" : "; GPU benchmarks are not registered here: " + why;
  throw UsageError("no benchmark matches " + shown(filter) +
                   " (see --list for the families and names" + no_gpu + ")");
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

// Google Benchmark opens --benchmark_out only when the run starts, and then says "invalid file
// name" and exits 1: check the place first, without creating anything there.
void check_out_path(const std::string& path) {
  const std::string opt = "--benchmark_out=" + shown(path);
  struct stat st {};
  if (path.back() == '/' || (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)))
    throw UsageError(opt + " is a directory; give a file name");
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  if (::stat(dir.c_str(), &st) != 0) {
    const int err = errno;
    throw UsageError(opt + ": directory " + shown(dir) + ": " + std::strerror(err));
  }
  if (!S_ISDIR(st.st_mode)) throw UsageError(opt + ": " + shown(dir) + " is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw UsageError(opt + ": directory " + shown(dir) + " is not writable");
  if (::access(path.c_str(), F_OK) == 0 && ::access(path.c_str(), W_OK) != 0)
    throw UsageError(opt + " exists and is not writable");
}

std::string family_options_usage() {
  std::string s;
  for (const bench::Family& f : bench::families())
    for (const bench::Option& o : f.options) {
      std::string line = "  --" + o.name + "=...";
      line.resize(std::max<size_t>(line.size() + 1, 23), ' ');
      s += line + f.name + ": " + o.help + " (default " + (o.def.empty() ? "none" : o.def) +
           (o.quick_def.empty() ? "" : "; quick " + o.quick_def) + ")\n";
    }
  return s;
}

struct Args {
  bench::Config cfg;
  std::vector<std::string> families, pass;
  bool list = false, list_families = false, list_json = false;
  size_t dram = 0;
  std::string filter, display_format = "console", out_format = "json";
  bool have_out = false;
  std::vector<db::Level> all_levels;
};

Args parse(int argc, char** argv) {
  Args a;
  std::vector<std::string> level_names;
  std::string threads_opt, targets_opt;
  bool oversubscribe = false, have_reps = false, have_min_time = false;
  std::map<std::string, std::string> given;  // family options as typed
  std::map<std::string, std::string> typed;  // each of our options (and the checked Google
                                             // Benchmark flags) as typed, once
  std::map<std::string, const bench::Option*> declared;
  for (const bench::Family& f : bench::families())
    for (const bench::Option& o : f.options) declared[o.name] = &o;
  a.pass.push_back(argv[0]);
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    const size_t eq = s.find('=');
    const std::string key = s.substr(0, eq), val = eq == std::string::npos ? "" : s.substr(eq + 1);
    const bool has_val = eq != std::string::npos;
    auto value = [&]() -> const std::string& {
      if (!has_val || val.empty()) throw UsageError(key + " needs a value");
      return val;
    };
    // the last of two would win silently, whichever the user meant
    auto once = [&] {
      const auto [it, first] = typed.emplace(key, s);
      if (!first)
        throw UsageError(
            key + " is given twice" +
            (has_val ? " (" + shown(it->second) + ", then " + shown(s) + ")" : std::string()) +
            "; give it once");
    };
    const bool checked_gb = key == "--benchmark_filter" || key == "--benchmark_repetitions" ||
                            key == "--benchmark_min_time" || key == "--benchmark_out" ||
                            key == "--benchmark_out_format" || key == "--benchmark_format";
    if (s == "--help" || s == "-h") {
      std::printf(kUsage, family_options_usage().c_str());
      std::exit(0);
    } else if (checked_gb || !starts(s, "--benchmark_")) {
      once();  // an unknown option is refused below
    }
    if (s == "--list") {
      a.list = true;
    } else if (key == "--format") {
      if (value() != "json" && value() != "text")
        throw UsageError("--format needs json or text, got " + shown(val));
      a.list_json = val == "json";
    } else if (s == "--list-families") {
      a.list_families = true;
    } else if (s == "--quick") {
      a.cfg.quick = true;
    } else if (s == "--oversubscribe") {
      oversubscribe = true;
    } else if (s == "--gpu-flush-l2") {
      a.cfg.flush_l2 = true;
    } else if (key == "--family") {
      a.families = list_of(key, value());
    } else if (key == "--levels") {
      level_names = list_of(key, value());
    } else if (key == "--threads") {
      threads_opt = value();
    } else if (key == "--targets") {
      targets_opt = value();
    } else if (key == "--dram-mib") {
      // at most 1 PiB: the bytes must fit a size_t with room to spare
      a.dram = static_cast<size_t>(parse_positive(key, value(), 1ull << 30)) << 20;
    } else if (starts(key, "--") && declared.count(key.substr(2))) {
      given[key.substr(2)] = value();
    } else if (starts(s, "--benchmark_")) {
      if (key == "--benchmark_repetitions") {
        parse_positive(key, value(), 100000), have_reps = true;
      } else if (key == "--benchmark_min_time") {
        const double secs = parse_seconds(key, value());
        have_min_time = true;
        std::ostringstream o;
        o.precision(17);
        o << "--benchmark_min_time=" << secs;
        a.pass.push_back(o.str());
        continue;
      } else if (key == "--benchmark_filter") {
        a.filter = value();
      } else if (key == "--benchmark_out") {
        check_out_path(value()), a.have_out = true;
      } else if (key == "--benchmark_out_format" || key == "--benchmark_format") {
        const std::string& f = value();
        if (f != "json" && f != "console" && f != "csv")
          throw UsageError(key + " must be json, console or csv, got " + shown(f));
        (key == "--benchmark_format" ? a.display_format : a.out_format) = f;
      }
      a.pass.push_back(s);
    } else {
      throw UsageError("unknown option " + shown(s) + " (see --help)");
    }
  }

  // family options: defaults, then what was typed, each checked
  for (const auto& [name, o] : declared) {
    const auto it = given.find(name);
    const std::string v = it != given.end()                      ? it->second
                          : a.cfg.quick && !o->quick_def.empty() ? o->quick_def
                                                                 : o->def;
    if (o->check) {
      const std::string why = o->check(v);
      if (!why.empty()) throw UsageError("--" + name + " " + why);
    }
    a.cfg.options[name] = v;
  }

  a.all_levels = db::cache_levels(a.dram);
  if (level_names.empty())
    level_names = a.cfg.quick ? std::vector<std::string>{"L2", "DRAM"}
                              : std::vector<std::string>{"L1", "L2", "L3", "DRAM"};
  for (const std::string& n : level_names) {
    bool found = false;
    for (const db::Level& l : a.all_levels)
      if (l.name == n) a.cfg.levels.push_back(l), found = true;
    if (!found) throw UsageError("unknown cache level " + shown(n) + " (known: L1, L2, L3, DRAM)");
  }

  const int cores = db::cpu_info().cores;
  const bool defaulted = threads_opt.empty();
  if (defaulted) threads_opt = a.cfg.quick ? "all" : "1,all";
  const unsigned long long max_threads = oversubscribe ? 4096 : 4ull * cores;
  const std::string hint = oversubscribe ? "" : " (4 per core; --oversubscribe allows up to 4096)";
  for (const std::string& t : list_of("--threads", threads_opt)) {
    const int n =
        t == "all" ? cores : static_cast<int>(parse_positive("--threads", t, max_threads, hint));
    const bool dup =
        std::find(a.cfg.threads.begin(), a.cfg.threads.end(), n) != a.cfg.threads.end();
    // "1,all" on one core is one count; a count typed twice is a mistake
    if (dup && !defaulted && t != "all")
      throw UsageError("--threads lists " + std::to_string(n) + " twice");
    if (!dup) a.cfg.threads.push_back(n);
  }

  if (!targets_opt.empty()) {
    a.cfg.cpu = a.cfg.gpu = false;
    for (const std::string& t : list_of("--targets", targets_opt)) {
      if (t == "cpu")
        a.cfg.cpu = true;
      else if (t == "gpu")
        a.cfg.gpu = true;
      else
        throw UsageError("unknown target " + shown(t) + " (known: cpu, gpu)");
    }
  }

  std::set<std::string> known;
  for (const bench::Family& f : bench::families()) known.insert(f.name);
  for (const std::string& f : a.families) {
    if (!known.count(f)) {
      std::string k;
      for (const std::string& n : known) k += (k.empty() ? "" : ", ") + n;
      throw UsageError("unknown family " + shown(f) + " (known: " + k + ")");
    }
  }
  if (!have_reps)
    a.pass.push_back(a.cfg.quick ? "--benchmark_repetitions=3" : "--benchmark_repetitions=5");
  if (!have_min_time)
    a.pass.push_back(a.cfg.quick ? "--benchmark_min_time=0.02" : "--benchmark_min_time=0.1");
  // the console shows the aggregates; the file keeps every repetition too (for U tests)
  a.pass.push_back("--benchmark_display_aggregates_only=true");
  return a;
}

int run(int argc, char** argv) {
  Args a = parse(argc, argv);
  bench::Config& cfg = a.cfg;
  if (a.list_families) {
    for (const bench::Family& f : bench::families()) {
      bool any = false;
      for (const bench::Spec& s : f.specs) any |= s.on_gpu() ? cfg.gpu : cfg.cpu;
      if (any) std::cout << f.name << "\n";
    }
    return 0;
  }
  if (a.list_json && !a.list) throw UsageError("--format=json goes with --list");
  if (a.list && a.list_json) {
    std::cout << bench::describe_json(cfg, a.families);
    return 0;
  }
  if (a.list) {
    std::cout << bench::describe(cfg) << "cache levels on this machine (working set per "
              << "benchmark):\n";
    for (const db::Level& l : cfg.levels)
      std::cout << "  " << l.name << ": " << db::mem::format_bytes(static_cast<double>(l.bytes))
                << "\n";
    return 0;
  }

  for (const auto& [k, v] : db::machine_context(a.dram)) benchmark::AddCustomContext(k, v);
  std::string lv, th;
  for (const db::Level& l : cfg.levels) lv += (lv.empty() ? "" : ",") + l.name;
  for (int t : cfg.threads) th += (th.empty() ? "" : ",") + std::to_string(t);
  benchmark::AddCustomContext("run_mode", cfg.quick ? "quick" : "full");
  benchmark::AddCustomContext("run_levels", lv);
  benchmark::AddCustomContext("run_threads", th);
  for (const auto& [k, v] : cfg.options) benchmark::AddCustomContext("option_" + k, v);

  bench::register_all(cfg, a.families);
  if (!a.filter.empty()) check_filter(a.filter);
  if (bench::registered().empty())
    throw UsageError("nothing to run: no benchmark of the chosen families and targets");

  std::vector<char*> args;
  for (std::string& s : a.pass) args.push_back(s.data());
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());

  OutputReporter display(
      a.display_format == "console"
          ? std::unique_ptr<benchmark::BenchmarkReporter>(benchmark::CreateDefaultDisplayReporter())
          : reporter_for(a.display_format));
  std::unique_ptr<OutputReporter> file;
  if (a.have_out)  // Google Benchmark opens --benchmark_out and hands us the stream
    file = std::make_unique<OutputReporter>(reporter_for(a.out_format));
  warm_up(a.all_levels.back().bytes);
  const size_t matched = benchmark::RunSpecifiedBenchmarks(&display, file.get());
  benchmark::Shutdown();
  if (matched == 0)
    throw UsageError("no benchmark matched (see --list for the families and names)");
  if (display.ran() + display.skipped() + display.failed() == 0) return 0;  // listed only
  std::fprintf(stderr, "dtypebench: %zu ran, %zu skipped, %zu failed\n", display.ran(),
               display.skipped(), display.failed());
  return display.failed() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "dtypebench: %s\n", error_line(e.what()).c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dtypebench: %s\n", error_line(e.what()).c_str());
    return 1;
  }
}
