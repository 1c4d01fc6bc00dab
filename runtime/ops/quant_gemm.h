/* Integer matrix multiplication for the quantized kernels:
 *
 *   C[i][j] = sum_k A[i][k] * B[k][j]      (row-major)
 *
 * with int16 operands (8-bit values with their zero points already
 * subtracted, so every int8/uint8 combination is one case) and int32
 * accumulation that wraps around on overflow (two's complement), like the
 * int32 accumulators of ONNX Runtime and of integer accelerators. The sum
 * is exact whenever it fits in int32 (K < 33000 for 8-bit operands).
 *
 * sc_qgemm uses AVX-512 VNNI (vpdpwssd) when the CPU has it, else the
 * portable loop; both give bit-identical results (integer arithmetic), and
 * tests/runtime/test_quantized.c checks that on the same inputs. */
#ifndef SC_RUNTIME_OPS_QUANT_GEMM_H
#define SC_RUNTIME_OPS_QUANT_GEMM_H

#include <stdint.h>

#include "runtime/error.h"

struct sc_threadpool;

/* C (m x n, leading dimension ldc) = A (m x k, lda) * B (k x n, ldb).
 * Allocates a packed copy of B on the fast path; fails only with
 * SC_ERR_NOMEM. C is overwritten. */
sc_status sc_qgemm(int64_t m, int64_t n, int64_t k, const int16_t *a,
                   int64_t lda, const int16_t *b, int64_t ldb, int32_t *c,
                   int64_t ldc, struct sc_threadpool *threads,
                   struct sc_error *err);

/* The portable triple loop, the reference the fast path is tested against. */
void sc_qgemm_reference(int64_t m, int64_t n, int64_t k, const int16_t *a,
                        int64_t lda, const int16_t *b, int64_t ldb, int32_t *c,
                        int64_t ldc);

/* The fast path's layout of B, for callers that write B in it directly
 * (convolution's im2col) instead of having sc_qgemm pack it: panels of
 * SC_QGEMM_PANEL columns, one after the other; in a panel, the row pair
 * (2p, 2p + 1) takes 2 * SC_QGEMM_PANEL values, column j's two at offset
 * 2 * (j % SC_QGEMM_PANEL), row 2p first. */
#define SC_QGEMM_PANEL 32

/* 1 when sc_qgemm_packed may be called (the fast path is available and
 * not disabled by sc_qgemm_force_reference). */
int sc_qgemm_uses_packed(void);

/* Elements of a packed B of k rows and n columns. */
int64_t sc_qgemm_packed_size(int64_t n, int64_t k);

/* Offset of B's element (r, j) in the packed layout (k rows). */
static inline int64_t sc_qgemm_packed_offset(int64_t r, int64_t j, int64_t k)
{
  return (j / SC_QGEMM_PANEL) * ((k + 1) / 2) * 2 * SC_QGEMM_PANEL +
         (r / 2) * 2 * SC_QGEMM_PANEL + (j % SC_QGEMM_PANEL) * 2 + (r & 1);
}

/* Zeroes the slots of a packed B that no element maps to (the odd row's
 * partner when k is odd, the columns past n of the last panel). */
void sc_qgemm_packed_clear_padding(int16_t *packed, int64_t n, int64_t k);

/* sc_qgemm with B already packed (sc_qgemm_uses_packed() must be 1). */
sc_status sc_qgemm_packed(int64_t m, int64_t n, int64_t k, const int16_t *a,
                          int64_t lda, const int16_t *packed, int32_t *c,
                          int64_t ldc, struct sc_threadpool *threads,
                          struct sc_error *err);

/* 1 when sc_qgemm will use the AVX-512 VNNI kernel. */
int sc_qgemm_has_vnni(void);

/* Forces the portable path (tests comparing the two). */
void sc_qgemm_force_reference(int force);

#endif
