#include "dtypebench/memory.hpp"

#include <sys/mman.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>

namespace dtypebench {
namespace mem {
namespace {

// buffers from this size on are page-aligned mappings of their own
constexpr size_t kBig = size_t(1) << 20;
size_t page_round(size_t bytes) { return (bytes + 4095) / 4096 * 4096; }

std::atomic<size_t> g_live{0};
std::atomic<size_t> g_peak{0};

// one /proc/<file> line "Key:   123 kB" in bytes
size_t read_kb_field(const char* file, const char* key) {
  std::ifstream in(file);
  std::string line;
  const size_t klen = std::strlen(key);
  while (std::getline(in, line)) {
    if (line.compare(0, klen, key) == 0 && line.size() > klen && line[klen] == ':') {
      return std::strtoull(line.c_str() + klen + 1, nullptr, 10) * 1024;
    }
  }
  return 0;
}

}  // namespace

void* allocate(size_t bytes, bool huge_pages) {
  if (bytes == 0) bytes = 1;
  // big ones only: reading /proc/meminfo takes ~10 us, which a kernel's per-call scratch (the
  // cache-aware column sum's) must not pay: it made that sum 3x slower at L2
  const size_t avail = bytes >= kBig ? available_bytes() : 0;
  if (avail != 0 && bytes > avail) {
    throw OutOfMemory("cannot allocate " + format_bytes(static_cast<double>(bytes)) + ": only " +
                      format_bytes(static_cast<double>(avail)) + " of host memory is available");
  }
  void* p = nullptr;
  if (bytes >= kBig) {
    // big buffers are mappings of their own: fresh pages, returned at release. From malloc, a
    // 16 MiB buffer reused the pages a freed one had left resident (below glibc's 32 MiB mmap
    // threshold), and the next benchmark's resident high-water mark did not grow at all.
    p = mmap(nullptr, page_round(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
             0);
    if (p == MAP_FAILED) p = nullptr;
  } else {
    p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  }
  if (!p) {
    throw OutOfMemory("cannot allocate " + format_bytes(static_cast<double>(bytes)) +
                      " of host memory");
  }
  if (huge_pages && bytes >= (32u << 20))
    madvise(p, bytes, MADV_HUGEPAGE);  // fewer TLB misses on DRAM sweeps
  track_external(bytes);
  return p;
}

void track_external(size_t bytes) {
  const size_t live = g_live.fetch_add(bytes) + bytes;
  size_t peak = g_peak.load();
  while (live > peak && !g_peak.compare_exchange_weak(peak, live)) {
  }
}
void untrack_external(size_t bytes) noexcept { g_live.fetch_sub(bytes); }

void release(void* p, size_t bytes) noexcept {
  if (!p) return;
  if (bytes >= kBig)
    munmap(p, page_round(bytes));
  else
    std::free(p);
  g_live.fetch_sub(bytes == 0 ? 1 : bytes);
}

size_t live_bytes() { return g_live.load(); }
size_t peak_bytes() { return g_peak.load(); }
void reset_peak() { g_peak.store(g_live.load()); }

size_t available_bytes() { return read_kb_field("/proc/meminfo", "MemAvailable"); }
size_t total_bytes() { return read_kb_field("/proc/meminfo", "MemTotal"); }
size_t rss_bytes() { return read_kb_field("/proc/self/status", "VmRSS"); }
size_t rss_hwm_bytes() { return read_kb_field("/proc/self/status", "VmHWM"); }

bool reset_rss_hwm() {
  FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (!f) return false;
  const bool ok = std::fputs("5", f) >= 0;
  return (std::fclose(f) == 0) && ok;
}

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 4) {
    bytes /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", bytes, units[u]);
  return buf;
}

}  // namespace mem

PeakScope::PeakScope() : live0_(mem::live_bytes()), rss0_(0), rss_ok_(mem::reset_rss_hwm()) {
  mem::reset_peak();
  rss0_ = mem::rss_bytes();
}

size_t PeakScope::tracked_peak() const {
  const size_t p = mem::peak_bytes();
  return p > live0_ ? p - live0_ : 0;
}

size_t PeakScope::rss_peak() const {
  if (!rss_ok_) return 0;
  const size_t h = mem::rss_hwm_bytes();
  return h > rss0_ ? h - rss0_ : 0;
}

}  // namespace dtypebench
