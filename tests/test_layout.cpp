// Layout kernels against scalar fp64 references: every dtype, both orders, odd shapes, poisoned
// outputs, 1 and 3 threads.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "dtypebench/check.hpp"
#include "dtypebench/fill.hpp"
#include "dtypebench/memory.hpp"
#include "kernels/cpu/layout.hpp"
#include "kernels/cuda/transpose_regs.cuh"
#include "tests/test_util.hpp"
#ifdef DTYPEBENCH_HAVE_CUDA
#include "kernels/cuda/layout.hpp"
#endif

namespace dtypebench {
namespace {

template <class T>
class LayoutTest : public ::testing::Test {};
using LayoutTypes = ::testing::Types<double, float, half, bfloat16>;
TYPED_TEST_SUITE(LayoutTest, LayoutTypes);

// not multiples of any vector width or tile edge, plus degenerate rows and columns
const std::pair<size_t, size_t> kShapes[] = {{1, 1},   {1, 67},  {67, 1},
                                             {37, 53}, {65, 33}, {129, 131}};

template <class T>
double at(const T* a, Order o, size_t i, size_t j, size_t rows, size_t cols) {
  return static_cast<double>(load_acc(a[index_of(o, i, j, rows, cols)]));
}

TYPED_TEST(LayoutTest, ReduceEveryAxisMethodOrder) {
  using T = TypeParam;
  const double u = unit_roundoff<acc_t<T>>();
  for (int threads : {1, 3})
    for (auto [rows, cols] : kShapes)
      for (Order o : {Order::C, Order::F})
        for (cpu::Axis axis : {cpu::Axis::Rows, cpu::Axis::Cols})
          for (cpu::Method m : {cpu::Method::Naive, cpu::Method::Aware}) {
            omp_set_num_threads(threads);
            Buffer<T> a(rows * cols);
            fill_uniform(a.data(), a.size(), test::fresh_seed());
            const size_t nout = axis == cpu::Axis::Rows ? rows : cols;
            std::vector<double> want(nout, 0.0), tol(nout, 0.0);
            for (size_t i = 0; i < rows; ++i)
              for (size_t j = 0; j < cols; ++j) {
                const double v = at(a.data(), o, i, j, rows, cols);
                want[axis == cpu::Axis::Rows ? i : j] += v;
                tol[axis == cpu::Axis::Rows ? i : j] +=
                    2.0 * std::max(rows, cols) * u * std::fabs(v);
              }
            Buffer<acc_t<T>> out(nout);
            poison(out.data(), nout);
            PeakScope scope;
            cpu::reduce(a.data(), rows, cols, o, axis, m, out.data());
            // only the cache-aware walk across storage order needs scratch: one vector per
            // thread past the first, and the peak accounting must see it
            const bool across = (axis == cpu::Axis::Rows) != (o == Order::C);
            const size_t scratch =
                m == cpu::Method::Aware && across ? (threads - 1) * nout * sizeof(acc_t<T>) : 0;
            EXPECT_EQ(scope.tracked_peak(), scratch) << "threads " << threads;
            std::string why;
            EXPECT_TRUE(close_enough(out.data(), want.data(), tol.data(), nout, &why))
                << rows << "x" << cols << " order " << order_name(o) << " axis "
                << (axis == cpu::Axis::Rows ? "rows" : "cols") << " method "
                << (m == cpu::Method::Naive ? "naive" : "aware") << " threads " << threads << ": "
                << why;
          }
}

TYPED_TEST(LayoutTest, StridedSumAnyStride) {
  using T = TypeParam;
  for (int threads : {1, 3})
    for (size_t n : {1, 2, 7, 1000, 4099})
      for (size_t stride : {1, 2, 3, 8, 64, 5000}) {
        omp_set_num_threads(threads);
        Buffer<T> a(n);
        fill_uniform(a.data(), n, test::fresh_seed());
        double want = 0, abs = 0;
        for (size_t i = 0; i < n; ++i) {
          want += static_cast<double>(load_acc(a[i]));
          abs += std::fabs(static_cast<double>(load_acc(a[i])));
        }
        const double got = static_cast<double>(cpu::strided_sum(a.data(), n, stride));
        const double tol = 2.0 * n * unit_roundoff<acc_t<T>>() * abs;
        std::string why;
        EXPECT_TRUE(close_enough(&got, &want, &tol, 1, &why))
            << "n " << n << " stride " << stride << " threads " << threads << ": " << why;
      }
}

TYPED_TEST(LayoutTest, ToFortranIsExactTranspose) {
  using T = TypeParam;
  // the odd shapes, plus whole-line rows where every block takes the streaming-store path
  std::vector<std::pair<size_t, size_t>> shapes(std::begin(kShapes), std::end(kShapes));
  shapes.push_back({128, 256});
  shapes.push_back({192, 64 + 64 / sizeof(T)});
  for (int threads : {1, 3})
    for (auto [rows, cols] : shapes)
      for (int way = 0; way < 3; ++way) {
        omp_set_num_threads(threads);
        Buffer<T> a(rows * cols), b(rows * cols);
        fill_uniform(a.data(), a.size(), test::fresh_seed());
        poison(b.data(), b.size());
        if (way == 0) cpu::to_fortran_naive(a.data(), b.data(), rows, cols);
        if (way == 1) cpu::to_fortran_blocked(a.data(), b.data(), rows, cols, cpu::Stores::Cached);
        if (way == 2)
          cpu::to_fortran_blocked(a.data(), b.data(), rows, cols, cpu::Stores::Streaming);
        size_t bad = 0;
        for (size_t i = 0; i < rows; ++i)
          for (size_t j = 0; j < cols; ++j)
            bad += std::memcmp(&a[i * cols + j], &b[j * rows + i], sizeof(T)) != 0;
        EXPECT_EQ(bad, 0u) << rows << "x" << cols << " way " << way
                           << " (naive, cached, streaming)";
      }
}

TYPED_TEST(LayoutTest, MatvecBothFormsBothOrders) {
  using T = TypeParam;
  const double u = unit_roundoff<acc_t<T>>();
  for (int threads : {1, 3})
    for (auto [rows, cols] : kShapes)
      for (Order o : {Order::C, Order::F})
        for (cpu::MatvecForm f : {cpu::MatvecForm::Dot, cpu::MatvecForm::Axpy}) {
          omp_set_num_threads(threads);
          Buffer<T> a(rows * cols), x(cols);
          fill_uniform(a.data(), a.size(), test::fresh_seed());
          fill_uniform(x.data(), cols, test::fresh_seed());
          std::vector<double> want(rows, 0.0), tol(rows, 0.0);
          for (size_t i = 0; i < rows; ++i)
            for (size_t j = 0; j < cols; ++j) {
              const double p =
                  at(a.data(), o, i, j, rows, cols) * static_cast<double>(load_acc(x[j]));
              want[i] += p;
              tol[i] += 2.0 * (cols + 1) * u * std::fabs(p);
            }
          Buffer<acc_t<T>> y(rows);
          poison(y.data(), rows);
          cpu::matvec(a.data(), x.data(), rows, cols, o, f, y.data());
          std::string why;
          EXPECT_TRUE(close_enough(y.data(), want.data(), tol.data(), rows, &why))
              << rows << "x" << cols << " order " << order_name(o)
              << (f == cpu::MatvecForm::Dot ? " dot" : " axpy") << ": " << why;
        }
}

// b (cols x rows) against the transpose of a, bit for bit; "" or how many elements differ
template <class T>
std::string transpose_mismatch(const T* a, const T* b, size_t rows, size_t cols) {
  size_t bad = 0;
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < cols; ++j)
      bad += std::memcmp(&a[i * cols + j], &b[j * rows + i], sizeof(T)) != 0;
  return bad ? std::to_string(bad) + " of " + std::to_string(rows * cols) + " wrong" : "";
}

// 16-byte-vector shapes: whole blocks, edge blocks (rows or columns a multiple of the vector but
// not of the block), and one past the vector grid
const std::pair<size_t, size_t> kVectorShapes[] = {{256, 384}, {200, 136}, {264, 40}, {48, 1032}};

// The GPU kernel's per-thread code, compiled for the host and run for every thread of its grid:
// the index arithmetic, the edge path and the in-register transposes, without a GPU. A grid one
// block high makes the threads loop down the rows; an offset pointer takes the element path.
template <class T, int H>
void check_transpose_regs_on_host() {
  using U = std::conditional_t<sizeof(T) == 8, uint64_t,
                               std::conditional_t<sizeof(T) == 4, uint32_t, uint16_t>>;
  std::vector<std::pair<size_t, size_t>> shapes(std::begin(kShapes), std::end(kShapes));
  shapes.insert(shapes.end(), std::begin(kVectorShapes), std::end(kVectorShapes));
  for (auto [rows, cols] : shapes)
    for (unsigned max_y : {cuda::regs::kMaxGridY, 1u})
      for (size_t offset : {0, 1}) {
        Buffer<T> a(rows * cols + offset), b(rows * cols + offset);
        fill_uniform(a.data(), a.size(), test::fresh_seed());
        poison(b.data(), b.size());
        const U* ua = reinterpret_cast<const U*>(a.data() + offset);
        U* ub = reinterpret_cast<U*>(b.data() + offset);
        const bool vectors = cuda::regs::vectors_fit<U>(ua, ub, rows, cols);
        if (offset == 0 && rows % (16 / sizeof(T)) == 0 && cols % (16 / sizeof(T)) == 0) {
          ASSERT_TRUE(vectors) << rows << "x" << cols;  // the register path is the one tested
        }
        const cuda::regs::Dims g = cuda::regs::grid<U, H>(rows, cols, max_y);
        for (unsigned by = 0; by < g.y; ++by)
          for (unsigned bx = 0; bx < g.x; ++bx)
            for (unsigned ty = 0; ty < cuda::regs::kThreadsY; ++ty)
              for (unsigned tx = 0; tx < cuda::regs::kThreadsX; ++tx)
                cuda::regs::transpose_thread<U, H>(ua, ub, rows, cols, vectors, bx, by, tx, ty,
                                                   g.y);
        const std::string why =
            transpose_mismatch(a.data() + offset, b.data() + offset, rows, cols);
        EXPECT_EQ(why, "") << rows << "x" << cols << " H " << H << " grid.y cap " << max_y
                           << " offset " << offset;
      }
}

TYPED_TEST(LayoutTest, RegisterTransposeThreadsOnHost) {
  check_transpose_regs_on_host<TypeParam, 8>();
  check_transpose_regs_on_host<TypeParam, 16>();
}

#ifdef DTYPEBENCH_HAVE_CUDA
TYPED_TEST(LayoutTest, GpuReduceAndTranspose) {
  DB_REQUIRE_GPU();
  using T = TypeParam;
  const double u = unit_roundoff<acc_t<T>>();
  // plus 16-byte aligned shapes with full and edge tiles, for the vectorized path
  std::vector<std::pair<size_t, size_t>> shapes(std::begin(kShapes), std::end(kShapes));
  shapes.insert(shapes.end(), std::begin(kVectorShapes), std::end(kVectorShapes));
  for (auto [rows, cols] : shapes) {
    Buffer<T> ha(rows * cols), hb(rows * cols);
    fill_uniform(ha.data(), ha.size(), test::fresh_seed());
    gpu::DeviceBuffer<T> a(rows * cols), b(rows * cols);
    gpu::copy_to_device(a.data(), ha.data(), a.bytes());
    for (cuda::Axis axis : {cuda::Axis::Rows, cuda::Axis::Cols})
      for (cuda::Access acc : {cuda::Access::Coalesced, cuda::Access::Strided}) {
        const size_t nout = axis == cuda::Axis::Rows ? rows : cols;
        std::vector<double> want(nout, 0.0), tol(nout, 0.0);
        for (size_t i = 0; i < rows; ++i)
          for (size_t j = 0; j < cols; ++j) {
            const double v = at(ha.data(), Order::C, i, j, rows, cols);
            want[axis == cuda::Axis::Rows ? i : j] += v;
            tol[axis == cuda::Axis::Rows ? i : j] += 2.0 * std::max(rows, cols) * u * std::fabs(v);
          }
        gpu::DeviceBuffer<acc_t<T>> out(nout);
        gpu::memset_device(out.data(), 0xff, out.bytes());
        cuda::reduce(a.data(), rows, cols, axis, acc, out.data());
        std::vector<acc_t<T>> got(nout);
        gpu::copy_to_host(got.data(), out.data(), out.bytes());
        std::string why;
        EXPECT_TRUE(close_enough(got.data(), want.data(), tol.data(), nout, &why))
            << rows << "x" << cols << ": " << why;
      }
    const std::pair<const char*, std::function<void()>> kernels[] = {
        {"naive", [&] { cuda::transpose_naive(a.data(), b.data(), rows, cols); }},
        {"tiled32", [&] { cuda::transpose_tiled(a.data(), b.data(), rows, cols, 32); }},
        {"tiled64", [&] { cuda::transpose_tiled(a.data(), b.data(), rows, cols, 64); }},
        {"vec", [&] { cuda::transpose_vec(a.data(), b.data(), rows, cols); }},
        {"regs8", [&] { cuda::transpose_regs(a.data(), b.data(), rows, cols, 8); }},
        {"regs16", [&] { cuda::transpose_regs(a.data(), b.data(), rows, cols, 16); }}};
    for (const auto& [kernel, run] : kernels) {
      gpu::memset_device(b.data(), 0xff, b.bytes());
      run();
      gpu::copy_to_host(hb.data(), b.data(), b.bytes());
      EXPECT_EQ(transpose_mismatch(ha.data(), hb.data(), rows, cols), "")
          << rows << "x" << cols << " " << kernel;
    }
  }
}
#else
TEST(Layout, GpuKernels) { DB_REQUIRE_GPU(); }
#endif

}  // namespace
}  // namespace dtypebench
