/* 8-bit integer matrix products for the quantized kernels:
 *
 *   C[i][j] = sum_k (A[i][k] - za[i]) * (B[k][j] - zb[j])      (int32)
 *
 * A (m x k) and B (k x n) hold int8 or uint8 values, each with its own
 * zero points (one per row of A, one per column of B; a per-tensor zero
 * point is the same value repeated). Accumulation is int32 and wraps
 * around on overflow (two's complement), like the int32 accumulators of
 * ONNX Runtime and of integer accelerators: every path computes the exact
 * sum modulo 2^32, so the sum is exact whenever it fits in int32 (always
 * for k < 33000).
 *
 * The kernel multiplies unsigned bytes by signed bytes in groups of four
 * (AVX-512 VNNI vpdpbusd: 64 multiply-adds per instruction; a portable C
 * loop elsewhere, bit-identical). One operand is therefore stored as
 * uint8, the other as int8: a value of the other signedness is moved by
 * 128 (its byte's top bit flipped) and so is its zero point, which leaves
 * every difference (value - zero point) unchanged. The zero points are then
 * applied after the products, exactly, from row and column sums:
 *
 *   sum_k (a - za)(b - zb) = sum_k a b - za sum_k b - zb sum_k a + k za zb
 *
 * Layouts (docs/internals/KERNELS.md has the picture):
 *   packed A  tiles of SC_QGEMM_TILE_ROWS rows (the last one zero-filled);
 *             in a tile, for each group of 4 k ("quad"), the 4 bytes of
 *             row 0, then of row 1, ...; k is padded with zeros to a
 *             multiple of 4. A's values are broadcast.
 *   packed B  panels of SC_QGEMM_PANEL (64) columns (the last one padded),
 *             one quad after the other; a quad is 4 vectors of 16 lanes of
 *             4 bytes (the column's 4 k), k padded with zeros. Column c of
 *             the panel sits in vector (c % 16) / 4, lane 4 (c / 16) + c % 4:
 *             the order in which byte and word unpacking interleave four
 *             64-byte rows, so that im2col writes a quad with 8 unpacks and
 *             no cross-lane shuffle; the kernel puts the columns back in
 *             order once per output row instead of once per quad.
 *
 * Nothing here allocates except sc_qgemm(); nothing fails elsewhere. */
#ifndef SC_RUNTIME_OPS_QUANT_GEMM_H
#define SC_RUNTIME_OPS_QUANT_GEMM_H

#include <stdint.h>

#include "runtime/dtype.h"
#include "runtime/error.h"

struct sc_threadpool;

#define SC_QGEMM_TILE_ROWS 6 /* rows of A per register tile */
#define SC_QGEMM_PANEL 64    /* columns of B per packed panel */

/* Quads of a depth k: ceil(k / 4). */
static inline int64_t sc_qgemm_quads(int64_t k)
{
  return (k + 3) / 4;
}

/* Bytes of a packed A of m rows, and of one of its tiles. */
int64_t sc_qgemm_a_size(int64_t m, int64_t k);
static inline int64_t sc_qgemm_a_tile_size(int64_t k)
{
  return sc_qgemm_quads(k) * 4 * SC_QGEMM_TILE_ROWS;
}

/* Bytes of a packed B of n columns, and of one of its panels. */
int64_t sc_qgemm_b_size(int64_t k, int64_t n);
static inline int64_t sc_qgemm_b_panel_size(int64_t k)
{
  return sc_qgemm_quads(k) * 4 * SC_QGEMM_PANEL;
}

/* Offset, within a quad of a packed panel, of the 4 bytes of the panel's
 * column c (0 <= c < SC_QGEMM_PANEL). */
static inline int64_t sc_qgemm_b_lane(int64_t c)
{
  return (c % 16 / 4) * 64 + (c / 16 * 4 + c % 4) * 4;
}

/* Offset of B's element (r, j) in a packed B of depth k. */
static inline int64_t sc_qgemm_b_offset(int64_t r, int64_t j, int64_t k)
{
  return (j / SC_QGEMM_PANEL) * sc_qgemm_b_panel_size(k) +
         (r / 4) * 4 * SC_QGEMM_PANEL + sc_qgemm_b_lane(j % SC_QGEMM_PANEL) +
         (r & 3);
}

/* The amount (+128, -128 or 0) by which a value of `dtype` (int8/uint8)
 * moves when stored as unsigned (to_unsigned = 1) or signed bytes; zero
 * points move by the same amount. */
int32_t sc_qgemm_shift(enum sc_dtype dtype, int to_unsigned);

/* Packs A (m x k, row-major with leading dimension lda, int8 or uint8) as
 * unsigned (a_unsigned = 1) or signed bytes into dst (sc_qgemm_a_size
 * bytes, every byte written) and stores the sum of each row's stored
 * values in row_sums[0..m). */
void sc_qgemm_pack_a(int64_t m, int64_t k, const void *src, enum sc_dtype dtype,
                     int64_t lda, int a_unsigned, uint8_t *dst,
                     int32_t *row_sums);

/* Packs B (k x n, leading dimension ldb) as unsigned (b_unsigned = 1) or
 * signed bytes into dst (sc_qgemm_b_size bytes, every byte written) and
 * stores the sum of each column's stored values in col_sums[0..n) (NULL:
 * not computed). */
void sc_qgemm_pack_b(int64_t k, int64_t n, const void *src, enum sc_dtype dtype,
                     int64_t ldb, int b_unsigned, uint8_t *dst,
                     int32_t *col_sums);

#define SC_QGEMM_RUNS 4 /* runs of bytes a row of a panel may come from */

/* One row of a panel of B for sc_qgemm_pack_panel, read from up to
 * SC_QGEMM_RUNS runs of bytes (lines of an image, say): column c is the
 * byte at address from[i] + c when bit c of present[i] is set (the masks
 * are disjoint), else the pad byte. Only present bytes are read: from[i]
 * itself may lie outside the row's buffer. */
struct sc_qgemm_row {
  uintptr_t from[SC_QGEMM_RUNS];
  uint64_t present[SC_QGEMM_RUNS];
};

/* The k rows of a panel as a pattern that repeats: row r is
 * pattern[r % period] with its addresses moved by (r / period) * stride
 * bytes (convolution: the kernel's taps, repeated for every input channel a
 * channel plane apart). Only runs [0, n_runs) of the rows are read. */
struct sc_qgemm_rows {
  const struct sc_qgemm_row *pattern;
  int64_t period;
  int64_t stride;
  int n_runs;
};

/* Writes one panel of a packed B from its k rows (raw int8/uint8 bytes,
 * the pad byte included), each byte stored xor `flip` (0x80 moves a value
 * by 128, see sc_qgemm_shift; else 0); the rows that pad k to a quad are
 * stored as 0. With col_sums non-NULL, also stores the sums of the stored
 * values of the first `count` columns, read as unsigned (b_unsigned) or
 * signed. For callers that gather B's rows themselves (convolution's
 * im2col, where the pad byte is the input's zero point). */
void sc_qgemm_pack_panel(const struct sc_qgemm_rows *rows, int64_t k,
                         int64_t count, uint8_t pad, uint8_t flip,
                         int b_unsigned, uint8_t *panel, int32_t *col_sums);

/* Column sums of n columns of a packed B (padding bytes must be 0). */
void sc_qgemm_b_col_sums(const uint8_t *packed, int64_t k, int64_t n,
                         int b_unsigned, int32_t *col_sums);

/* One block of C computed from packed operands, with the zero-point terms
 * added as
 *   C[i][j] = D[i][j] + row_const[i] + row_u[i] * col_u[j]
 *                     + row_v[i] * col_v[j]                (mod 2^32)
 * where D is the product of the stored bytes; a NULL array drops its term
 * (row_u and col_u go together, as do row_v and col_v). Row arrays are
 * indexed by the row of A, column arrays from the block's first column. */
struct sc_qgemm_block {
  const uint8_t *a; /* packed A, all of it (tile 0 first) */
  int64_t k;
  int a_unsigned;       /* A stored unsigned, B signed; else the reverse */
  int64_t row0, n_rows; /* rows [row0, row0 + n_rows); row0 % TILE_ROWS == 0 */
  const uint8_t *b;     /* packed B, the block's first panel */
  int64_t n_cols;       /* columns of the block */
  const int32_t *row_const; /* [m] or NULL */
  const int32_t *row_u, *col_u;
  const int32_t *row_v, *col_v;
  int32_t *c; /* C[i][j] at c[(i - row0) * ldc + j] */
  int64_t ldc;
};

/* Computes the block (AVX-512 VNNI when the CPU has it and it is not
 * disabled by sc_qgemm_force_portable, else the portable loop). */
void sc_qgemm_compute(const struct sc_qgemm_block *block);

/* Sets the zero-point terms of `block` for a product of m rows and n
 * columns from the zero points of the stored values (za[m], zb[n]: the
 * operands' zero points moved like their values, see sc_qgemm_shift), A's
 * row sums and B's column sums. The column sums are only read when some
 * za is not 0 (block->row_u is then set). rows (3 * m int32) receives the
 * row arrays and must outlive the block's use; block->col_u points at
 * col_sums and block->col_v at zb. */
void sc_qgemm_zero_point_terms(struct sc_qgemm_block *block, int64_t m,
                               int64_t n, const int32_t *za,
                               const int32_t *row_sums, const int32_t *zb,
                               const int32_t *col_sums, int32_t *rows);

/* Computes a whole product (block->row0 = 0, n_rows = m, n_cols = n over
 * the whole packed B and C) over the pool's threads, in jobs that depend on
 * the shapes only. */
void sc_qgemm_run(const struct sc_qgemm_block *product, int64_t m, int64_t n,
                  struct sc_threadpool *threads);

/* The whole product from unpacked operands: packs A and B, computes C
 * (m x n, leading dimension ldc) over the pool's threads. a_zp has m
 * entries, b_zp n (NULL: all 0). Fails only with SC_ERR_NOMEM. */
sc_status sc_qgemm(int64_t m, int64_t n, int64_t k, const void *a,
                   enum sc_dtype a_dtype, int64_t lda, const int32_t *a_zp,
                   const void *b, enum sc_dtype b_dtype, int64_t ldb,
                   const int32_t *b_zp, int32_t *c, int64_t ldc,
                   struct sc_threadpool *threads, struct sc_error *err);

/* The plain triple loop over unpacked operands, the reference the other
 * paths are tested against (same arguments as sc_qgemm). */
void sc_qgemm_reference(int64_t m, int64_t n, int64_t k, const void *a,
                        enum sc_dtype a_dtype, int64_t lda, const int32_t *a_zp,
                        const void *b, enum sc_dtype b_dtype, int64_t ldb,
                        const int32_t *b_zp, int32_t *c, int64_t ldc);

/* 1 when the CPU has AVX-512 F, BW and VNNI. */
int sc_qgemm_has_vnni(void);

/* 1 when sc_qgemm_compute uses the AVX-512 VNNI kernel (the CPU has it and
 * sc_qgemm_force_portable did not disable it); callers writing packed
 * operands with AVX-512 follow the same switch. */
int sc_qgemm_uses_vnni(void);

/* Forces the portable kernel (tests comparing the two). */
void sc_qgemm_force_portable(int force);

#endif
