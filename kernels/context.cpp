#include "dtypebench/context.hpp"

#include <omp.h>
#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "dtypebench/buildinfo.hpp"
#include "dtypebench/gpu.hpp"
#include "dtypebench/memory.hpp"
#include "dtypebench/precision.hpp"

namespace dtypebench {
namespace {

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// "48K", "2048K", "32M" from sysfs
size_t parse_size(const std::string& s) {
  if (s.empty()) return 0;
  size_t v = std::strtoull(s.c_str(), nullptr, 10);
  const char unit = s.back();
  if (unit == 'K') v <<= 10;
  if (unit == 'M') v <<= 20;
  if (unit == 'G') v <<= 30;
  return v;
}

CpuInfo probe_cpu() {
  CpuInfo c;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      c.model = line.substr(line.find(':') + 2);
      break;
    }
  }
  cpu_set_t set;
  c.cores = sched_getaffinity(0, sizeof set, &set) == 0
                ? CPU_COUNT(&set)
                : static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  // sysfs describes each cache of cpu0; L3 is shared so its size is the whole slice cpu0 sees
  for (int i = 0; i < 8; ++i) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    const std::string level = read_first_line(dir + "level");
    if (level.empty()) break;
    const std::string type = read_first_line(dir + "type");
    const size_t size = parse_size(read_first_line(dir + "size"));
    if (level == "1" && type == "Data") c.l1d_bytes = size;
    if (level == "2") c.l2_bytes = size;
    if (level == "3") c.l3_bytes = size;
  }
  if (!c.l1d_bytes) c.l1d_bytes = static_cast<size_t>(sysconf(_SC_LEVEL1_DCACHE_SIZE));
  if (!c.l2_bytes) c.l2_bytes = static_cast<size_t>(sysconf(_SC_LEVEL2_CACHE_SIZE));
  if (!c.l3_bytes) c.l3_bytes = static_cast<size_t>(sysconf(_SC_LEVEL3_CACHE_SIZE));
  if (!c.l1d_bytes) c.l1d_bytes = 32 << 10;
  if (!c.l2_bytes) c.l2_bytes = 1 << 20;
  if (!c.l3_bytes) c.l3_bytes = c.l2_bytes;  // no L3: DRAM sizes still come from the last level
  // tests hold the benchmark names of one machine on any other: "cores=2 l1d=49152 l2=... l3=..."
  if (const char* fake = std::getenv("DTYPEBENCH_TEST_CPU")) {
    std::istringstream in(fake);
    std::string kv;
    while (in >> kv) {
      const size_t eq = kv.find('=');
      const std::string k = kv.substr(0, eq);
      const size_t v = std::strtoull(kv.c_str() + eq + 1, nullptr, 10);
      if (k == "cores") c.cores = static_cast<int>(v);
      if (k == "l1d") c.l1d_bytes = v;
      if (k == "l2") c.l2_bytes = v;
      if (k == "l3") c.l3_bytes = v;
    }
  }
  c.mem_bytes = mem::total_bytes();
  std::string isa;
#ifdef __AVX2__
  isa += "avx2 ";
#endif
#ifdef __FMA__
  isa += "fma ";
#endif
#ifdef __F16C__
  isa += "f16c ";
#endif
#ifdef __AVX512F__
  isa += "avx512f ";
#endif
#ifdef __AVX512BF16__
  isa += "avx512bf16 ";
#endif
#ifdef __AVX512FP16__
  isa += "avx512fp16 ";
#endif
  if (!isa.empty()) isa.pop_back();
  c.isa = isa.empty() ? "baseline" : isa;
  return c;
}

std::string str(size_t v) { return std::to_string(v); }

}  // namespace

const CpuInfo& cpu_info() {
  static const CpuInfo info = probe_cpu();
  return info;
}

std::vector<Level> cache_levels(size_t dram_override) {
  const CpuInfo& c = cpu_info();
  return {{"L1", c.l1d_bytes / 2},
          {"L2", c.l2_bytes / 2},
          {"L3", c.l3_bytes / 2},
          {"DRAM", dram_override ? dram_override : 4 * c.l3_bytes}};
}

std::string level_of(size_t ws) {
  const CpuInfo& c = cpu_info();
  if (ws <= c.l1d_bytes) return "L1";
  if (ws <= c.l2_bytes) return "L2";
  if (ws <= c.l3_bytes) return "L3";
  return "DRAM";
}

namespace {
std::vector<std::function<ContextLines()>>& context_hooks() {
  static std::vector<std::function<ContextLines()>> hooks;
  return hooks;
}
}  // namespace

bool add_context_lines(std::function<ContextLines()> lines) {
  context_hooks().push_back(std::move(lines));
  return true;
}

std::vector<std::pair<std::string, std::string>> machine_context(size_t dram_override) {
  const CpuInfo& c = cpu_info();
  std::vector<std::pair<std::string, std::string>> kv = {
      {"dtypebench_version", "0.1.0"},
      {"git_commit", git_commit()},
      {"cpu_model", c.model},
      {"cpu_cores", str(static_cast<size_t>(c.cores))},
      {"cpu_isa", c.isa},
      {"l1d_bytes", str(c.l1d_bytes)},
      {"l2_bytes", str(c.l2_bytes)},
      {"l3_bytes", str(c.l3_bytes)},
      {"mem_bytes", str(c.mem_bytes)},
      {"omp_max_threads", str(static_cast<size_t>(omp_get_max_threads()))},
      {"compiler", DTYPEBENCH_CXX_COMPILER},
      {"compiler_flags", DTYPEBENCH_FLAGS},
      {"build_type", DTYPEBENCH_BUILD_TYPE},
      {"dtype_names", dtype_names()},
      {"libraries", DTYPEBENCH_LIBRARIES},  // found at build time: name=version ...
  };
  for (const auto& lines : context_hooks())
    for (auto& [k, v] : lines())
      if (!v.empty()) kv.push_back({k, v});
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  kv.push_back({"hostname", host});
  for (const Level& l : cache_levels(dram_override))
    kv.push_back({"working_set_" + l.name, str(l.bytes)});
  const gpu::DeviceInfo& g = gpu::device();
  kv.push_back({"gpu_available", g.available ? "1" : "0"});
  if (!g.available) {
    kv.push_back({"gpu_status", g.reason});
    return kv;
  }
  std::ostringstream bw;
  bw.precision(6);
  bw << g.mem_bw_bytes_per_s;
  kv.insert(kv.end(), {{"gpu_name", g.name},
                       {"gpu_compute_capability", str(g.cc_major) + "." + str(g.cc_minor)},
                       {"gpu_sms", str(g.sms)},
                       {"gpu_l2_bytes", str(g.l2_bytes)},
                       {"gpu_mem_bytes", str(g.mem_bytes)},
                       {"gpu_sm_clock_khz", str(g.sm_clock_khz)},
                       {"gpu_mem_clock_khz", str(g.mem_clock_khz)},
                       {"gpu_bus_width_bits", str(g.bus_width_bits)},
                       {"gpu_mem_bw_theoretical_bytes_per_s", bw.str()},
                       {"cuda_driver_version", str(g.driver_version)},
                       {"cuda_runtime_version", str(g.runtime_version)},
                       {"cublas_version", str(g.cublas_version)},
                       {"cublaslt_version", str(g.cublaslt_version)},
                       {"cudnn_version", g.cudnn_version ? str(g.cudnn_version) : "not linked"}});
  return kv;
}

}  // namespace dtypebench
