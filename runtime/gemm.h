/* Matrix multiplication for kernels: C = alpha * op(A) * op(B) + beta * C,
 * row-major, single precision.
 *
 * sc_sgemm uses OpenBLAS, loaded on first use with dlopen after choosing
 * its CPU kernels ourselves: Debian's OpenBLAS 0.3.21 does not recognise
 * recent Xeons and falls back to slower generic kernels, and it reads its
 * override (OPENBLAS_CORETYPE) only when the library is loaded. We set
 * OPENBLAS_CORETYPE to the best core this CPU runs (an inherited value is
 * overridden); STAGECHECK_OPENBLAS_CORETYPE forces a core explicitly. When
 * OpenBLAS cannot be loaded the portable reference kernel below is used.
 *
 * Threads: C is split into tiles whose size depends only on the matrix
 * shape, and each tile is one single-threaded BLAS call run on `threads`,
 * so results are bit-identical for any thread count. */
#ifndef SC_RUNTIME_GEMM_H
#define SC_RUNTIME_GEMM_H

#include <stdint.h>

struct sc_threadpool;

void sc_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
              float alpha, const float *a, int64_t lda, const float *b,
              int64_t ldb, float beta, float *c, int64_t ldc,
              struct sc_threadpool *threads);

/* The plain triple loop (double accumulation per element); the reference
 * the fast path is tested against. beta == 0 ignores C's contents. */
void sc_sgemm_reference(int trans_a, int trans_b, int64_t m, int64_t n,
                        int64_t k, float alpha, const float *a, int64_t lda,
                        const float *b, int64_t ldb, float beta, float *c,
                        int64_t ldc);

/* Loads the BLAS now, once per process (about 2.5 ms for OpenBLAS). The
 * prepare step of a node that calls sc_sgemm does, so that the first run
 * does not pay for it; sc_sgemm loads it itself otherwise. */
void sc_blas_load(void);

/* Name of the BLAS in use: "OpenBLAS 0.3.21 ... SkylakeX" or "reference". */
const char *sc_blas_name(void);

/* The OpenBLAS core type chosen for this CPU ("SkylakeX", "Cooperlake",
 * "Haswell" ...) or NULL to let OpenBLAS decide. */
const char *sc_blas_pick_coretype(void);

/* Forces the reference kernel (tests comparing paths). */
void sc_blas_disable(int disable);

#endif
