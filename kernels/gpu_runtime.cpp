#include <dlfcn.h>

#include <atomic>

#include "dtypebench/gpu.hpp"
#include "dtypebench/memory.hpp"

#ifdef DTYPEBENCH_HAVE_CUDA
#ifdef DTYPEBENCH_HAVE_CUBLAS
#include <cublasLt.h>
#include <cublas_v2.h>
#endif

#include "dtypebench/cuda_check.hpp"
#ifdef DTYPEBENCH_HAVE_CUDNN
#include <cudnn.h>
#endif
#endif

namespace dtypebench {
namespace gpu {
namespace {
std::atomic<size_t> g_live{0};
std::atomic<size_t> g_peak{0};

#ifdef DTYPEBENCH_HAVE_CUDA
DeviceInfo probe() {
  DeviceInfo d;
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    d.reason = std::string("no CUDA device: ") + cudaGetErrorString(err);
    return d;
  }
  if (count == 0) {
    d.reason = "no CUDA device: the driver reports 0 devices";
    return d;
  }
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, 0) != cudaSuccess) {
    d.reason = "no CUDA device: cudaGetDeviceProperties failed";
    return d;
  }
  d.available = true;
  d.name = p.name;
  char bus[32] = {};
  if (cudaDeviceGetPCIBusId(bus, sizeof bus, 0) == cudaSuccess) d.pci_bus_id = bus;
  d.cc_major = p.major;
  d.cc_minor = p.minor;
  d.sms = p.multiProcessorCount;
  d.l2_bytes = static_cast<size_t>(p.l2CacheSize);
  d.mem_bytes = p.totalGlobalMem;
  // clocks left the device properties in CUDA 13: ask the attributes
  cudaDeviceGetAttribute(&d.sm_clock_khz, cudaDevAttrClockRate, 0);
  cudaDeviceGetAttribute(&d.mem_clock_khz, cudaDevAttrMemoryClockRate, 0);
  cudaDeviceGetAttribute(&d.bus_width_bits, cudaDevAttrGlobalMemoryBusWidth, 0);
  d.mem_bw_bytes_per_s = 2.0 * d.mem_clock_khz * 1e3 * d.bus_width_bits / 8.0;
  cudaDriverGetVersion(&d.driver_version);
  cudaRuntimeGetVersion(&d.runtime_version);
#ifdef DTYPEBENCH_HAVE_CUBLAS
  int major = 0, minor = 0, patch = 0;
  if (cublasGetProperty(MAJOR_VERSION, &major) == CUBLAS_STATUS_SUCCESS &&
      cublasGetProperty(MINOR_VERSION, &minor) == CUBLAS_STATUS_SUCCESS &&
      cublasGetProperty(PATCH_LEVEL, &patch) == CUBLAS_STATUS_SUCCESS) {
    d.cublas_version = major * 10000 + minor * 100 + patch;
    d.cublaslt_version = cublasLtGetVersion();
  }
#endif
#ifdef DTYPEBENCH_HAVE_CUDNN
  d.cudnn_version = static_cast<int>(cudnnGetVersion());
#endif
  return d;
}
#endif
}  // namespace

const DeviceInfo& device() {
#ifdef DTYPEBENCH_HAVE_CUDA
  static const DeviceInfo info = probe();
#else
  static const DeviceInfo info = [] {
    DeviceInfo d;
    d.reason = "no CUDA device: dtypebench was built without CUDA (no nvcc at configure time)";
    return d;
  }();
#endif
  return info;
}

size_t device_live_bytes() { return g_live.load(); }
size_t device_peak_bytes() { return g_peak.load(); }
void device_reset_peak() { g_peak.store(g_live.load()); }

#ifdef DTYPEBENCH_HAVE_CUDA
void* device_allocate(size_t bytes) {
  void* p = nullptr;
  const cudaError_t err = cudaMalloc(&p, bytes == 0 ? 1 : bytes);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear the sticky-free error so the run goes on
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    throw OutOfMemory("cannot allocate " + mem::format_bytes(static_cast<double>(bytes)) +
                      " on the GPU: " + mem::format_bytes(static_cast<double>(free_b)) +
                      " free of " + mem::format_bytes(static_cast<double>(total_b)));
  }
  DB_CUDA_CHECK(err);
  const size_t live = g_live.fetch_add(bytes) + bytes;
  size_t peak = g_peak.load();
  while (live > peak && !g_peak.compare_exchange_weak(peak, live)) {
  }
  return p;
}
void device_release(void* p, size_t bytes) noexcept {
  if (!p) return;
  cudaFree(p);
  g_live.fetch_sub(bytes);
}
void copy_to_device(void* dst, const void* src, size_t bytes) {
  DB_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}
void copy_to_host(void* dst, const void* src, size_t bytes) {
  DB_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}
void copy_on_device(void* dst, const void* src, size_t bytes) {
  DB_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice));
}
void memset_device(void* dst, int value, size_t bytes) {
  DB_CUDA_CHECK(cudaMemset(dst, value, bytes));
}
void synchronize() { DB_CUDA_CHECK(cudaDeviceSynchronize()); }
void check_last_launch(const char* what) {
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) throw CudaError(std::string(what) + ": " + cudaGetErrorString(err));
}
void flush_l2() {
  static DeviceBuffer<char> scratch(2 * (device().l2_bytes ? device().l2_bytes : (64u << 20)));
  DB_CUDA_CHECK(cudaMemsetAsync(scratch.data(), 0, scratch.bytes()));
}
EventTimer::EventTimer() {
  cudaEvent_t a, b;
  DB_CUDA_CHECK(cudaEventCreate(&a));
  try {
    DB_CUDA_CHECK(cudaEventCreate(&b));
  } catch (...) {
    cudaEventDestroy(a);  // the destructor does not run for a throwing constructor
    throw;
  }
  start_ = a;
  stop_ = b;
}
EventTimer::~EventTimer() {
  cudaEventDestroy(static_cast<cudaEvent_t>(start_));
  cudaEventDestroy(static_cast<cudaEvent_t>(stop_));
}
void EventTimer::start() { DB_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(start_))); }
double EventTimer::stop() {
  DB_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(stop_)));
  DB_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(stop_)));
  float ms = 0;
  DB_CUDA_CHECK(
      cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start_), static_cast<cudaEvent_t>(stop_)));
  return ms * 1e-3;
}
#else
[[noreturn]] static void no_cuda() { throw CudaError(device().reason); }
void* device_allocate(size_t) { no_cuda(); }
void device_release(void*, size_t) noexcept {}
void copy_to_device(void*, const void*, size_t) { no_cuda(); }
void copy_to_host(void*, const void*, size_t) { no_cuda(); }
void copy_on_device(void*, const void*, size_t) { no_cuda(); }
void memset_device(void*, int, size_t) { no_cuda(); }
void synchronize() { no_cuda(); }
void check_last_launch(const char*) { no_cuda(); }
void flush_l2() { no_cuda(); }
EventTimer::EventTimer() { no_cuda(); }
EventTimer::~EventTimer() {}
void EventTimer::start() {}
double EventTimer::stop() { return 0; }
#endif

namespace {
// The four NVML calls used, declared by their documented C signatures (nvml.h): status 0 is
// NVML_SUCCESS, clock type 1 is NVML_CLOCK_SM, power is in milliwatts.
struct Nvml {
  int (*clock)(void*, int, unsigned*) = nullptr;
  int (*power)(void*, unsigned*) = nullptr;
  void* dev = nullptr;
  std::string why;
  Nvml() {
    const std::string bus = device().pci_bus_id;
    if (bus.empty()) {
      why = device().available ? "CUDA gave no PCI bus id to find the GPU in NVML by"
                               : device().reason;
      return;
    }
    void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      why = "no NVML (libnvidia-ml.so.1, the driver's, was not found)";
      return;
    }
    auto init = reinterpret_cast<int (*)()>(dlsym(lib, "nvmlInit_v2"));
    auto handle = reinterpret_cast<int (*)(const char*, void**)>(
        dlsym(lib, "nvmlDeviceGetHandleByPciBusId_v2"));
    clock = reinterpret_cast<int (*)(void*, int, unsigned*)>(dlsym(lib, "nvmlDeviceGetClockInfo"));
    power = reinterpret_cast<int (*)(void*, unsigned*)>(dlsym(lib, "nvmlDeviceGetPowerUsage"));
    if (!init || !handle || !clock || !power || init() != 0 || handle(bus.c_str(), &dev) != 0) {
      why = "NVML is there but has no GPU at CUDA device 0's PCI bus id " + bus;
      clock = nullptr;
    }
  }
};
}  // namespace

ClockSample sample_clocks() {
  static Nvml nvml;
  ClockSample s;
  unsigned mhz = 0, mw = 0;
  if (!nvml.clock || nvml.clock(nvml.dev, 1, &mhz) != 0) {
    s.why = nvml.clock ? "NVML's clock query failed" : nvml.why;
    return s;
  }
  s.ok = true;
  s.sm_mhz = mhz;
  if (nvml.power(nvml.dev, &mw) == 0) s.power_w = mw / 1000.0;
  return s;
}

}  // namespace gpu
}  // namespace dtypebench
