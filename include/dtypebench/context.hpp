// What machine a result came from, and the working-set sizes that land in each of its caches.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace dtypebench {

const char* git_commit();  // generated at build time

struct CpuInfo {
  std::string model;
  int cores = 0;                                     // logical CPUs this process may run on
  size_t l1d_bytes = 0, l2_bytes = 0, l3_bytes = 0;  // per core for L1/L2, total for L3
  size_t mem_bytes = 0;
  std::string isa;  // the SIMD extensions the build uses, e.g. "avx2 f16c avx512f avx512bf16"
};
const CpuInfo& cpu_info();

// A cache level and the working set (total bytes touched by one benchmark) sized to land in it:
// half of L1d, half of L2, half of L3, and DRAM at 4x L3 (or dram_override when set).
struct Level {
  std::string name;  // L1, L2, L3, DRAM
  size_t bytes;
};
std::vector<Level> cache_levels(size_t dram_override = 0);
std::string level_of(size_t working_set_bytes);  // which level a working set lands in

// Every key/value recorded in the JSON context: CPU, caches, memory, build, git, OpenMP, GPU,
// and the lines each library's wrapper adds.
std::vector<std::pair<std::string, std::string>> machine_context(size_t dram_override = 0);

// The one hook through which a library's wrapper adds its lines to the context (its version, the
// config it runs): registered at static initialization, e.g.
//   const bool added = add_context_lines([] { return ContextLines{{"blis_config", ...}}; });
// asked when the context is written, in the order registered; a pair with an empty value is left
// out.
using ContextLines = std::vector<std::pair<std::string, std::string>>;
bool add_context_lines(std::function<ContextLines()> lines);

}  // namespace dtypebench
