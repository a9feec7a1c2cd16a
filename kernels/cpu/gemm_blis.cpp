// BLIS (Debian libblis-openmp-dev): dgemm and sgemm through its typed API. The library is loaded
// at run time, privately (dlopen RTLD_LOCAL): libblis exports cblas_dgemm and dgemm_ as OpenBLAS
// does, and linked beside it one library's symbols would stand in for the other's. blis.h gives
// the types and signatures only; every call goes through dlsym.
#include <dlfcn.h>

#include <cstdlib>
#include <string>

#include "kernels/cpu/gemm.hpp"

#ifdef DTYPEBENCH_HAVE_BLIS
#include <blis.h>
#endif

namespace dtypebench {
namespace cpu {

#ifdef DTYPEBENCH_HAVE_BLIS
namespace {

struct Blis {
  std::string why;     // "" once loaded
  std::string config;  // "BLIS 0.9.0, config skx"
  std::string arch;    // "skx"
  decltype(&bli_dgemm) dgemm = nullptr;
  decltype(&bli_sgemm) sgemm = nullptr;
  decltype(&bli_thread_set_num_threads) set_threads = nullptr;
};

template <class F>
bool find(void* lib, const char* name, F* f) {
  *f = reinterpret_cast<F>(dlsym(lib, name));
  return *f != nullptr;
}

// BLIS 0.9's one AVX-512 config is skx, and it takes it only on the CPUs it knows: on Sapphire
// Rapids it falls back to its AVX2 kernels (haswell: dgemm 55 against 90 GFLOP/s on one core of
// a 2-core VM) and on Zen 4 to zen3's (dgemm 37-40 against 48-51 with skx, one core of a 2-core
// EPYC VM; zen4 arrived in BLIS 1.0). So a CPU with AVX-512F gets skx, unless BLIS_ARCH_TYPE
// already says what to use (BLIS_ARCH_TYPE=3 is haswell); the config is in the run's context.
bool choose_skx() {
#if defined(__x86_64__)
  return std::getenv("BLIS_ARCH_TYPE") == nullptr && __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

Blis load() {
  Blis b;
  const bool skx = choose_skx();
  // BLIS 0.9 reads the variable as a number, its arch_t (a name reads as 0, which is skx)
  if (skx) setenv("BLIS_ARCH_TYPE", std::to_string(static_cast<int>(BLIS_ARCH_SKX)).c_str(), 0);
  void* lib = dlopen(DTYPEBENCH_BLIS_LIBRARY, RTLD_NOW | RTLD_LOCAL);
  decltype(&bli_init) init = nullptr;
  decltype(&bli_info_get_version_str) version = nullptr;
  decltype(&bli_arch_query_id) arch_id = nullptr;
  decltype(&bli_arch_string) arch_name = nullptr;
  if (!lib) {
    b.why = std::string("cannot load BLIS: ") + dlerror();
  } else if (!find(lib, "bli_init", &init) || !find(lib, "bli_dgemm", &b.dgemm) || !find(lib, "bli_sgemm", &b.sgemm) ||
             !find(lib, "bli_thread_set_num_threads", &b.set_threads) ||
             !find(lib, "bli_info_get_version_str", &version) ||
             !find(lib, "bli_arch_query_id", &arch_id) ||
             !find(lib, "bli_arch_string", &arch_name)) {
    b.why = std::string("BLIS at " DTYPEBENCH_BLIS_LIBRARY " lacks a function: ") + dlerror();
  } else {
    // initialising reads BLIS_ARCH_TYPE and fixes the config for the process (its kernels'
    // contexts with it: the environment must say the same until then)
    init();
    b.arch = arch_name(arch_id());
    b.config = std::string("BLIS ") + version() + ", config " + b.arch +
               (skx ? " (chosen by dtypebench)" : "");
  }
  if (skx) unsetenv("BLIS_ARCH_TYPE");
  return b;
}

const Blis& blis() {
  static const Blis b = load();
  return b;
}

const Blis& loaded() {
  const Blis& b = blis();
  if (!b.why.empty()) throw Unsupported(b.why);
  return b;
}

}  // namespace

std::string blis_missing() { return blis().why; }
std::string blis_config() { return blis().why.empty() ? blis().config : ""; }
std::string blis_arch() { return blis().why.empty() ? blis().arch : ""; }
void blis_threads(int n) { loaded().set_threads(n); }

void blis_gemm(const GemmProblem& pr, void* c) {
  const Blis& b = loaded();
  const GemmShape& s = pr.s;
  // column-major: unit row stride, the leading dimension as column stride, of A and B as stored
  const trans_t ta = s.ta ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE;
  const trans_t tb = s.tb ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE;
  const dim_t m = static_cast<dim_t>(s.m), n = static_cast<dim_t>(s.n), k = static_cast<dim_t>(s.k);
  const inc_t lda = s.ta ? k : m, ldb = s.tb ? n : k;
  const std::string name = pr.prec.name();
  if (name == "f64.f64.f64") {
    double one = 1, zero = 0;
    b.dgemm(ta, tb, m, n, k, &one, reinterpret_cast<double*>(const_cast<char*>(pr.a.data())), 1,
            lda, reinterpret_cast<double*>(const_cast<char*>(pr.b.data())), 1, ldb, &zero,
            static_cast<double*>(c), 1, m);
  } else if (name == "f32.f32.f32") {
    float one = 1, zero = 0;
    b.sgemm(ta, tb, m, n, k, &one, reinterpret_cast<float*>(const_cast<char*>(pr.a.data())), 1,
            lda, reinterpret_cast<float*>(const_cast<char*>(pr.b.data())), 1, ldb, &zero,
            static_cast<float*>(c), 1, m);
  } else {
    throw Unsupported("BLIS has no " + name + " GEMM");
  }
}
#else
std::string blis_missing() { return "built without BLIS (install libblis-openmp-dev)"; }
std::string blis_config() { return ""; }
std::string blis_arch() { return ""; }
void blis_threads(int) {}
void blis_gemm(const GemmProblem&, void*) { throw Unsupported(blis_missing()); }
#endif

}  // namespace cpu
}  // namespace dtypebench
