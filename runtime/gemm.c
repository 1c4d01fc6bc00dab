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
static int blas_threads_set = -1;
static pthread_mutex_t blas_threads_lock = PTHREAD_MUTEX_INITIALIZER;
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
  const char *core = getenv("OPENBLAS_CORETYPE");

  if (!core || !*core) {
    core = sc_blas_pick_coretype();
    if (core)
      setenv("OPENBLAS_CORETYPE", core, 0);
  }
  lib = dlopen(SC_OPENBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    return;
  blas_sgemm = (cblas_sgemm_fn)(uintptr_t)dlsym(lib, "cblas_sgemm");
  blas_set_threads = (openblas_set_num_threads_fn)(uintptr_t)dlsym(
      lib, "openblas_set_num_threads");
  if (!blas_sgemm)
    return;
  {
    openblas_get_string_fn config =
        (openblas_get_string_fn)(uintptr_t)dlsym(lib, "openblas_get_config");
    openblas_get_string_fn corename =
        (openblas_get_string_fn)(uintptr_t)dlsym(lib, "openblas_get_corename");
    snprintf(blas_name, sizeof blas_name, "%s (core %s)",
             config ? config() : "OpenBLAS", corename ? corename() : "?");
  }
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

void sc_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
              float alpha, const float *a, int64_t lda, const float *b,
              int64_t ldb, float beta, float *c, int64_t ldc,
              struct sc_threadpool *threads)
{
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
  if (blas_set_threads) {
    int want = sc_threadpool_size(threads);
    pthread_mutex_lock(&blas_threads_lock);
    if (want != blas_threads_set) {
      blas_set_threads(want);
      blas_threads_set = want;
    }
    pthread_mutex_unlock(&blas_threads_lock);
  }
  blas_sgemm(CBLAS_ROW_MAJOR, trans_a ? CBLAS_TRANS : CBLAS_NO_TRANS,
             trans_b ? CBLAS_TRANS : CBLAS_NO_TRANS, (int)m, (int)n, (int)k,
             alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}
