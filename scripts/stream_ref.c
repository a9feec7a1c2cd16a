// stream_ref: a plain STREAM-style reference for the baseline family's DRAM copy and triad, written
// for dtypebench (not STREAM's source). Three arrays of N doubles; copy b = a (16 bytes per
// element moved: one read, one write) and triad a = b + q*c (24 bytes), each timed REPS times; the
// arrays are validated after timing. Prints one JSON line with the median and best rates, in
// bytes/s.
// Size N so the arrays are well past the last-level cache (scripts/stream_check.py uses the suite's
// DRAM working set, itself 4x the last-level cache). Threads: OMP_NUM_THREADS. HUGE=1 asks for
// transparent huge pages (madvise), as dtypebench does for buffers of 32 MiB and more.
//   gcc -O3 -march=native -fopenmp -o stream_ref stream_ref.c && ./stream_ref N [REPS [HUGE]]
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static int cmp_double(const void* x, const void* y) {
  const double a = *(const double*)x, b = *(const double*)y;
  return (a > b) - (a < b);
}

// the same static schedule for first touch and every kernel, so each thread works on the pages
// it placed (matters on multi-socket machines)
static void init(double* restrict a, double* restrict b, double* restrict c, long n) {
#pragma omp parallel for schedule(static)
  for (long i = 0; i < n; ++i) {
    a[i] = 1.0;
    b[i] = 0.0;
    c[i] = 0.5;
  }
}

static void copy(double* restrict b, const double* restrict a, long n) {
#pragma omp parallel for schedule(static)
  for (long i = 0; i < n; ++i) b[i] = a[i];
}

static void triad(double* restrict a, const double* restrict b, const double* restrict c, double q,
                  long n) {
#pragma omp parallel for schedule(static)
  for (long i = 0; i < n; ++i) a[i] = b[i] + q * c[i];
}

static double* alloc_array(long n, int huge) {
  void* p = NULL;
  // page-aligned, each array its own allocation, as the suite's allocator gives. (2 MiB-aligned
  // arrays start at the same offset in their huge pages, so a[i], b[i] and c[i] share the low 21
  // address bits; on the development VM that cost 4-5% of copy and 5-12% of triad in fast-DRAM
  // minutes, in two sets of 10 and 16 back-to-back runs.)
  if (posix_memalign(&p, 4096, (size_t)n * sizeof(double)) != 0) {
    fprintf(stderr, "stream_ref: cannot allocate %ld doubles\n", n);
    exit(1);
  }
  // huge pages matter for streaming: hardware prefetchers stop at page boundaries, and 4 KiB
  // pages cost a TLB miss every 512 doubles
  if (huge) madvise(p, (size_t)n * sizeof(double), MADV_HUGEPAGE);
  return (double*)p;
}

static double median(double* t, int n) {
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

// every element follows the same recurrence, so the expected values are scalars; the values stay
// small integers and halves, exact in double
static int validate(const double* a, const double* b, const double* c, long n, int reps, double q) {
  double ea = 1.0, eb = 0.0;
  for (int r = 0; r < reps; ++r) {
    eb = ea;
    ea = eb + q * 0.5;
  }
  long bad = 0;
  for (long i = 0; i < n; ++i) {
    if (a[i] != ea || b[i] != eb || c[i] != 0.5) {
      if (bad < 3)
        fprintf(stderr, "stream_ref: mismatch at %ld: a=%g (want %g) b=%g (want %g) c=%g\n", i,
                a[i], ea, b[i], eb, c[i]);
      ++bad;
    }
  }
  if (bad) fprintf(stderr, "stream_ref: %ld of %ld elements wrong\n", bad, n);
  return bad == 0;
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    fprintf(stderr,
            "usage: %s N [REPS [HUGE]]  (N doubles per array, REPS timed repetitions, default "
            "10; HUGE 1 for transparent huge pages, default 0)\n",
            argv[0]);
    return 2;
  }
  char* end = NULL;
  const long n = strtol(argv[1], &end, 10);
  const int reps = argc > 2 ? atoi(argv[2]) : 10;
  const int huge = argc > 3 ? atoi(argv[3]) : 0;
  if (*end != '\0' || n <= 0 || reps <= 0 || reps > 1000) {
    fprintf(stderr, "stream_ref: N and REPS must be positive integers (REPS <= 1000)\n");
    return 2;
  }
  double* a = alloc_array(n, huge);
  double* b = alloc_array(n, huge);
  double* c = alloc_array(n, huge);
  init(a, b, c, n);
  const double q = 3.0;
  double* tc = calloc((size_t)reps, sizeof(double));
  double* tt = calloc((size_t)reps, sizeof(double));

  // one untimed pass of each kernel warms the threads and the page tables
  copy(b, a, n);
  triad(a, b, c, q, n);
  init(a, b, c, n);
  for (int r = 0; r < reps; ++r) {
    double t0 = omp_get_wtime();
    copy(b, a, n);
    double t1 = omp_get_wtime();
    triad(a, b, c, q, n);
    double t2 = omp_get_wtime();
    tc[r] = t1 - t0;
    tt[r] = t2 - t1;
  }
  const int ok = validate(a, b, c, n, reps, q);

  const double copy_bytes = 16.0 * (double)n, triad_bytes = 24.0 * (double)n;
  double cb = tc[0], tb = tt[0];
  for (int r = 1; r < reps; ++r) {
    cb = fmin(cb, tc[r]);
    tb = fmin(tb, tt[r]);
  }
  const double cm = median(tc, reps), tm = median(tt, reps);
  printf(
      "{\"n\": %ld, \"reps\": %d, \"threads\": %d, \"copy_bytes_per_s\": %.6e, "
      "\"triad_bytes_per_s\": %.6e, \"copy_best_bytes_per_s\": %.6e, "
      "\"triad_best_bytes_per_s\": %.6e, \"huge_pages\": %d, \"verified\": %d}\n",
      n, reps, omp_get_max_threads(), copy_bytes / cm, triad_bytes / tm, copy_bytes / cb,
      triad_bytes / tb, huge, ok);
  free(a);
  free(b);
  free(c);
  free(tc);
  free(tt);
  return ok ? 0 : 1;
}
