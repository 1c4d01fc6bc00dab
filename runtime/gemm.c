#include "runtime/gemm.h"

#include <cpuid.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/threadpool.h"

#ifndef SC_OPENBLAS_SONAME
#define SC_OPENBLAS_SONAME "libopenblas.so.0"
#endif

/* cblas enum values (cblas.h), so that we need not include it */
enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };

typedef void (*cblas_sgemm_fn)(int order, int trans_a, int trans_b, int m,
                               int n, int k, float alpha, const float *a,
                               int lda, const float *b, int ldb, float beta,
                               float *c, int ldc);
typedef void (*openblas_set_num_threads_fn)(int n);
typedef char *(*openblas_get_string_fn)(void);

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
static cblas_sgemm_fn blas_sgemm;
static openblas_set_num_threads_fn blas_set_threads;
static char blas_name[256] = "reference";
static int blas_disabled;

const char *sc_blas_pick_coretype(void)
{
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax, ebx, ecx, edx, max_leaf;
  int avx512f = 0, avx512bw = 0, avx512vl = 0, avx512bf16 = 0, avx2 = 0;
  int os_avx512 = 0, os_avx = 0, fma = 0;

  max_leaf = __get_cpuid_max(0, NULL);
  if (max_leaf < 7)
    return NULL;
  __cpuid(1, eax, ebx, ecx, edx);
  fma = (ecx >> 12) & 1;
  if ((ecx >> 27) & 1) { /* OSXSAVE: ask the OS which registers it saves */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    os_avx = (lo & 0x6) == 0x6;
    os_avx512 = (lo & 0xe6) == 0xe6;
  }
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  avx2 = (ebx >> 5) & 1;
  avx512f = (ebx >> 16) & 1;
  avx512bw = (ebx >> 30) & 1;
  avx512vl = (ebx >> 31) & 1;
  __cpuid_count(7, 1, eax, ebx, ecx, edx);
  avx512bf16 = (eax >> 5) & 1;

  if (os_avx512 && avx512f && avx512bw && avx512vl)
    return avx512bf16 ? "Cooperlake" : "SkylakeX";
  if (os_avx && avx2 && fma)
    return "Haswell";
#endif
  return NULL;
}

static void blas_load(void)
{
  void *lib;
  const char *core = getenv("STAGECHECK_OPENBLAS_CORETYPE");

  /* OpenBLAS reads OPENBLAS_CORETYPE once, when it is loaded. We set it to
   * the best kernels this CPU runs, overriding an inherited value (machine
   * images often pin a conservative one); STAGECHECK_OPENBLAS_CORETYPE is
   * the user's explicit override. */
  if (!core || !*core)
    core = sc_blas_pick_coretype();
  if (core)
    setenv("OPENBLAS_CORETYPE", core, 1);
  /* we thread over tiles ourselves: OpenBLAS's own threads would only spin
   * after each call and steal a core from our pool */
  setenv("OPENBLAS_NUM_THREADS", "1", 1);
  lib = dlopen(SC_OPENBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    return;
  blas_sgemm = (cblas_sgemm_fn)(uintptr_t)dlsym(lib, "cblas_sgemm");
  blas_set_threads = (openblas_set_num_threads_fn)(uintptr_t)dlsym(
      lib, "openblas_set_num_threads");
  if (!blas_sgemm)
    return;
  if (blas_set_threads)
    blas_set_threads(1); /* we thread over tiles ourselves */
  {
    openblas_get_string_fn config =
        (openblas_get_string_fn)(uintptr_t)dlsym(lib, "openblas_get_config");
    openblas_get_string_fn corename =
        (openblas_get_string_fn)(uintptr_t)dlsym(lib, "openblas_get_corename");
    snprintf(blas_name, sizeof blas_name, "%s (core %s)",
             config ? config() : "OpenBLAS", corename ? corename() : "?");
  }
}

void sc_blas_load(void)
{
  pthread_once(&blas_once, blas_load);
}

const char *sc_blas_name(void)
{
  pthread_once(&blas_once, blas_load);
  return blas_disabled || !blas_sgemm ? "reference" : blas_name;
}

void sc_blas_disable(int disable)
{
  blas_disabled = disable;
}

void sc_sgemm_reference(int trans_a, int trans_b, int64_t m, int64_t n,
                        int64_t k, float alpha, const float *a, int64_t lda,
                        const float *b, int64_t ldb, float beta, float *c,
                        int64_t ldc)
{
  int64_t i, j, p;
  for (i = 0; i < m; i++) {
    for (j = 0; j < n; j++) {
      double acc = 0.0;
      for (p = 0; p < k; p++) {
        float av = trans_a ? a[p * lda + i] : a[i * lda + p];
        float bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
        acc += (double)av * (double)bv;
      }
      acc *= alpha;
      if (beta != 0.0f)
        acc += (double)beta * c[i * ldc + j];
      c[i * ldc + j] = (float)acc;
    }
  }
}

struct gemm_tiles {
  int trans_a, trans_b;
  int64_t m, n, k, lda, ldb, ldc;
  float alpha, beta;
  const float *a, *b;
  float *c;
  int split_n; /* tiles are column blocks of C (else row blocks) */
  int64_t tile;
};

/* C tile t = op(A) tile * op(B) tile, one single-threaded BLAS call. */
static void gemm_tile_range(void *ctx, int64_t begin, int64_t end)
{
  const struct gemm_tiles *g = ctx;
  int64_t t;
  for (t = begin; t < end; t++) {
    int64_t lo = t * g->tile;
    if (g->split_n) {
      int64_t cols = g->n - lo < g->tile ? g->n - lo : g->tile;
      const float *b = g->trans_b ? g->b + lo * g->ldb : g->b + lo;
      blas_sgemm(CBLAS_ROW_MAJOR, g->trans_a ? CBLAS_TRANS : CBLAS_NO_TRANS,
                 g->trans_b ? CBLAS_TRANS : CBLAS_NO_TRANS, (int)g->m,
                 (int)cols, (int)g->k, g->alpha, g->a, (int)g->lda, b,
                 (int)g->ldb, g->beta, g->c + lo, (int)g->ldc);
    } else {
      int64_t rows = g->m - lo < g->tile ? g->m - lo : g->tile;
      const float *a = g->trans_a ? g->a + lo : g->a + lo * g->lda;
      blas_sgemm(CBLAS_ROW_MAJOR, g->trans_a ? CBLAS_TRANS : CBLAS_NO_TRANS,
                 g->trans_b ? CBLAS_TRANS : CBLAS_NO_TRANS, (int)rows,
                 (int)g->n, (int)g->k, g->alpha, a, (int)g->lda, g->b,
                 (int)g->ldb, g->beta, g->c + lo * g->ldc, (int)g->ldc);
    }
  }
}

/* Tile sizes depend only on the matrix shape, never on the thread count:
 * each element of C is computed by the same BLAS call whether one thread or
 * many run the tiles, so results are bit-identical across thread counts
 * (OpenBLAS's own threading is not: it is kept at one thread). */
#define GEMM_MAX_TILES 16 /* enough for balance on 16 threads */
#define GEMM_MIN_TILE_N 256
#define GEMM_MIN_TILE_M 64
#define GEMM_SPLIT_MIN_MACS (INT64_C(1) << 21)

/* ceil(extent / GEMM_MAX_TILES) rounded up to a multiple of align, at least
 * minimum. */
static int64_t tile_size(int64_t extent, int64_t minimum, int64_t align)
{
  int64_t t = (extent + GEMM_MAX_TILES - 1) / GEMM_MAX_TILES;
  t = (t + align - 1) / align * align;
  return t < minimum ? minimum : t;
}

void sc_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
              float alpha, const float *a, int64_t lda, const float *b,
              int64_t ldb, float beta, float *c, int64_t ldc,
              struct sc_threadpool *threads)
{
  struct gemm_tiles g;
  int64_t n_tiles;

  if (m <= 0 || n <= 0)
    return;
  pthread_once(&blas_once, blas_load);
  if (blas_disabled || !blas_sgemm || m > 0x7fffffff || n > 0x7fffffff ||
      k > 0x7fffffff || lda > 0x7fffffff || ldb > 0x7fffffff ||
      ldc > 0x7fffffff) {
    sc_sgemm_reference(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta,
                       c, ldc);
    return;
  }
  if (k == 0) { /* BLAS leaves C untouched when k == 0 only if beta == 1 */
    int64_t i, j;
    for (i = 0; i < m; i++)
      for (j = 0; j < n; j++)
        c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    return;
  }
  g.trans_a = trans_a;
  g.trans_b = trans_b;
  g.m = m;
  g.n = n;
  g.k = k;
  g.lda = lda;
  g.ldb = ldb;
  g.ldc = ldc;
  g.alpha = alpha;
  g.beta = beta;
  g.a = a;
  g.b = b;
  g.c = c;
  g.split_n = n >= m;
  g.tile = g.split_n ? tile_size(n, GEMM_MIN_TILE_N, 64)
                     : tile_size(m, GEMM_MIN_TILE_M, 16);
  if (m * n * k < GEMM_SPLIT_MIN_MACS)
    g.tile = g.split_n ? n : m; /* small: one call */
  n_tiles = ((g.split_n ? n : m) + g.tile - 1) / g.tile;
  sc_parallel_for(threads, n_tiles, 1, gemm_tile_range, &g);
}
