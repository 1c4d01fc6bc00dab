/* sgemm_peak: the machine's measured single-precision matrix-multiply peak
 * through the runtime's own sc_sgemm (bench/README.md).
 *
 *   sgemm_peak [--threads N] [--repeat N] [--json]
 *
 * Multiplies square row-major matrices (1024, 2048 and 3072) --repeat times
 * each (default 5) on N threads (default 2) and prints the best GFLOP/s of
 * each size and the overall best, which the benchmark uses as "peak":
 * the ceiling a convolution lowered to sc_sgemm can reach on this machine.
 * FLOPs = 2*m*n*k. Exits 0, or 1 with a message on stderr. Not part of the
 * product. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/gemm.h"
#include "runtime/threadpool.h"

static double now_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best GFLOP/s of `repeat` products of n x n matrices; -1 on allocation
 * failure. */
static double best_gflops(int64_t n, int repeat, struct sc_threadpool *pool)
{
  size_t count = (size_t)(n * n);
  float *a = malloc(count * sizeof *a), *b = malloc(count * sizeof *b);
  float *c = malloc(count * sizeof *c);
  double best = -1.0;
  size_t i;
  int r;

  if (!a || !b || !c)
    goto done;
  for (i = 0; i < count; i++) {
    a[i] = (float)((i * 7) % 13) * 0.125f - 0.75f;
    b[i] = (float)((i * 5) % 11) * 0.125f - 0.625f;
  }
  /* one call to load the BLAS and fault the pages in */
  sc_sgemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n, pool);
  best = 0.0;
  for (r = 0; r < repeat; r++) {
    double t0 = now_seconds(), seconds, gflops;
    sc_sgemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n, pool);
    seconds = now_seconds() - t0;
    gflops = 2e-9 * (double)n * (double)n * (double)n / seconds;
    if (gflops > best)
      best = gflops;
  }
done:
  free(a);
  free(b);
  free(c);
  return best;
}

int main(int argc, char **argv)
{
  static const int64_t sizes[] = {1024, 2048, 3072};
  struct sc_error err = {0};
  struct sc_threadpool *pool = NULL;
  double gflops[3], peak = 0.0;
  int i, threads = 2, repeat = 5, as_json = 0;

  for (i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc)
      threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
      repeat = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--json"))
      as_json = 1;
    else {
      fprintf(stderr, "usage: sgemm_peak [--threads N] [--repeat N] "
                      "[--json]\n");
      return 1;
    }
  }
  if (threads < 1 || repeat < 1) {
    fprintf(stderr, "sgemm_peak: --threads and --repeat must be >= 1\n");
    return 1;
  }
  if (sc_threadpool_create(threads, &pool, &err)) {
    fprintf(stderr, "sgemm_peak: %s\n", err.message);
    return 1;
  }
  for (i = 0; i < 3; i++) {
    gflops[i] = best_gflops(sizes[i], repeat, pool);
    if (gflops[i] < 0) {
      fprintf(stderr, "sgemm_peak: out of memory\n");
      sc_threadpool_free(pool);
      return 1;
    }
    if (gflops[i] > peak)
      peak = gflops[i];
  }
  sc_threadpool_free(pool);
  if (as_json) {
    printf("{\"blas\":\"%s\",\"threads\":%d,\"peak_gflops\":%.3f,"
           "\"by_size\":{\"1024\":%.3f,\"2048\":%.3f,\"3072\":%.3f}}\n",
           sc_blas_name(), threads, peak, gflops[0], gflops[1], gflops[2]);
  } else {
    printf("sc_sgemm (%s), %d threads:\n", sc_blas_name(), threads);
    for (i = 0; i < 3; i++)
      printf("  %lld^3: %.2f GFLOP/s\n", (long long)sizes[i], gflops[i]);
    printf("peak: %.2f GFLOP/s\n", peak);
  }
  return 0;
}
