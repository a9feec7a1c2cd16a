// The GPU side of the suite as plain C++: device discovery, device buffers, event timing and
// device memory accounting. Compiles without CUDA; then device().available is false and says why.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace dtypebench {
namespace gpu {

struct DeviceInfo {
  bool available = false;
  std::string reason;  // why not, when !available ("no CUDA device: <driver message>")
  std::string name;
  std::string pci_bus_id;  // "0000:3b:00.0": how NVML is matched to CUDA device 0
  int cc_major = 0, cc_minor = 0;
  int sms = 0;
  size_t l2_bytes = 0;
  size_t mem_bytes = 0;
  int sm_clock_khz = 0, mem_clock_khz = 0, bus_width_bits = 0;
  double mem_bw_bytes_per_s = 0;  // theoretical: 2 (DDR) * memory clock * bus width / 8
  int driver_version = 0, runtime_version = 0, cublas_version = 0, cudnn_version = 0;
  size_t cublaslt_version = 0;
};

// Probed once; never throws.
const DeviceInfo& device();

// Thrown by the DB_*_CHECK macros (cuda_check.hpp) with file:line and the library's own message.
struct CudaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Tracked device allocation (cudaMalloc); throws OutOfMemory (memory.hpp) when it cannot fit.
void* device_allocate(size_t bytes);
void device_release(void* p, size_t bytes) noexcept;
size_t device_live_bytes();
size_t device_peak_bytes();
void device_reset_peak();

template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t n) : n_(n), p_(static_cast<T*>(device_allocate(n * sizeof(T)))) {}
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : n_(std::exchange(o.n_, 0)), p_(std::exchange(o.p_, nullptr)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      n_ = std::exchange(o.n_, 0);
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { reset(); }
  void reset() {
    if (p_) device_release(p_, n_ * sizeof(T));
    p_ = nullptr;
    n_ = 0;
  }
  T* data() const { return p_; }
  size_t size() const { return n_; }
  size_t bytes() const { return n_ * sizeof(T); }

 private:
  size_t n_ = 0;
  T* p_ = nullptr;
};

void copy_to_device(void* dst, const void* src, size_t bytes);
void copy_to_host(void* dst, const void* src, size_t bytes);
// cudaMemcpyAsync device to device on the default stream: the copy engine, the reference every
// GPU copy, transpose and cast is measured against (no synchronize)
void copy_on_device(void* dst, const void* src, size_t bytes);
void memset_device(void* dst, int value, size_t bytes);
void synchronize();
void check_last_launch(const char* what);  // cudaGetLastError after a launch, throws CudaError

// The SM clock and board power now, through NVML: the driver's libnvidia-ml.so.1, opened at run
// time (no header or link needed), on the GPU with CUDA device 0's PCI bus id (NVML's indices
// follow the bus, CUDA's CUDA_VISIBLE_DEVICES and its fastest-first order). ok is false, with
// why, where there is none.
struct ClockSample {
  bool ok = false;
  double sm_mhz = 0, power_w = 0;
  std::string why;
};
ClockSample sample_clocks();

// Writes over a buffer twice the L2 size so the next kernel starts cold.
void flush_l2();

// Times GPU work with CUDA events on the default stream; seconds.
class EventTimer {
 public:
  EventTimer();
  ~EventTimer();
  EventTimer(const EventTimer&) = delete;
  EventTimer& operator=(const EventTimer&) = delete;
  void start();
  double stop();  // waits for the stop event

 private:
  void* start_ = nullptr;
  void* stop_ = nullptr;
};

}  // namespace gpu
}  // namespace dtypebench
