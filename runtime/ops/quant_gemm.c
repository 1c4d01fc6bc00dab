/* 8-bit integer GEMM for the quantized kernels; see quant_gemm.h and
 * docs/internals/KERNELS.md.
 *
 * The register tile is SC_QGEMM_TILE_ROWS (6) rows of A by one panel (64
 * columns, 4 vectors of 16 int32 lanes) of B: 24 accumulators. For each
 * quad of k the kernel loads the panel's 4 vectors (lane j holds column j's
 * 4 bytes) once and, for each row, broadcasts the row's 4 bytes and issues
 * 4 vpdpbusd. vpdpbusd (not the saturating vpdpbusds) wraps around on
 * overflow, as the portable kernel's unsigned arithmetic does, so both give
 * the same bits. Rows of fewer than 6 (the last tile, small M) run a kernel
 * compiled for that many rows, so no work is spent on padding rows. */
#include "runtime/ops/quant_gemm.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/threadpool.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define QGEMM_HAVE_X86 1
#else
#define QGEMM_HAVE_X86 0
#endif

#define ROWS SC_QGEMM_TILE_ROWS
#define PANEL SC_QGEMM_PANEL

static int force_portable;

void sc_qgemm_force_portable(int force)
{
  force_portable = force;
}

int32_t sc_qgemm_shift(enum sc_dtype dtype, int to_unsigned)
{
  if (to_unsigned && dtype == SC_DTYPE_INT8)
    return 128;
  if (!to_unsigned && dtype == SC_DTYPE_UINT8)
    return -128;
  return 0;
}

/* The stored value of a byte: moved by 128 (top bit flipped) when the
 * signedness changes. */
static inline int32_t stored_value(uint8_t byte, int to_unsigned)
{
  return to_unsigned ? (int32_t)byte : (int32_t)(int8_t)byte;
}

int64_t sc_qgemm_a_size(int64_t m, int64_t k)
{
  return (m + ROWS - 1) / ROWS * sc_qgemm_a_tile_size(k);
}

int64_t sc_qgemm_b_size(int64_t k, int64_t n)
{
  return (n + PANEL - 1) / PANEL * sc_qgemm_b_panel_size(k);
}

void sc_qgemm_pack_a(int64_t m, int64_t k, const void *src, enum sc_dtype dtype,
                     int64_t lda, int a_unsigned, uint8_t *dst,
                     int32_t *row_sums)
{
  const uint8_t *bytes = src;
  uint8_t flip = sc_qgemm_shift(dtype, a_unsigned) ? 0x80 : 0;
  int64_t n_quads = sc_qgemm_quads(k), n_tiles = (m + ROWS - 1) / ROWS;
  int64_t t, q, r, i;

  memset(dst, 0, (size_t)sc_qgemm_a_size(m, k));
  for (t = 0; t < n_tiles; t++) {
    uint8_t *tile = dst + t * sc_qgemm_a_tile_size(k);
    for (r = 0; r < ROWS && t * ROWS + r < m; r++) {
      const uint8_t *row = bytes + (t * ROWS + r) * lda;
      uint32_t sum = 0;
      for (q = 0; q < n_quads; q++)
        for (i = 0; i < 4 && 4 * q + i < k; i++) {
          uint8_t v = (uint8_t)(row[4 * q + i] ^ flip);
          tile[(q * ROWS + r) * 4 + i] = v;
          sum += (uint32_t)stored_value(v, a_unsigned);
        }
      row_sums[t * ROWS + r] = (int32_t)sum;
    }
  }
}

void sc_qgemm_pack_b(int64_t k, int64_t n, const void *src, enum sc_dtype dtype,
                     int64_t ldb, int b_unsigned, uint8_t *dst,
                     int32_t *col_sums)
{
  const uint8_t *bytes = src;
  uint8_t flip = sc_qgemm_shift(dtype, b_unsigned) ? 0x80 : 0;
  int64_t r, j;

  memset(dst, 0, (size_t)sc_qgemm_b_size(k, n));
  for (r = 0; r < k; r++) {
    const uint8_t *row = bytes + r * ldb;
    for (j = 0; j < n; j++)
      dst[sc_qgemm_b_offset(r, j, k)] = (uint8_t)(row[j] ^ flip);
  }
  if (col_sums)
    sc_qgemm_b_col_sums(dst, k, n, b_unsigned, col_sums);
}

/* --- the portable kernel ---------------------------------------------- */

static void col_sums_portable(const uint8_t *packed, int64_t k, int64_t n,
                              int b_unsigned, int32_t *col_sums)
{
  int64_t n_quads = sc_qgemm_quads(k), j, q, i;
  for (j = 0; j < n; j++) {
    const uint8_t *p = packed + (j / PANEL) * sc_qgemm_b_panel_size(k) +
                       sc_qgemm_b_lane(j % PANEL);
    uint32_t sum = 0;
    for (q = 0; q < n_quads; q++, p += 4 * PANEL)
      for (i = 0; i < 4; i++)
        sum += (uint32_t)stored_value(p[i], b_unsigned);
    col_sums[j] = (int32_t)sum;
  }
}

/* Walks the rows of a struct sc_qgemm_rows in order. */
struct row_walk {
  const struct sc_qgemm_rows *rows;
  int64_t t;        /* index in the pattern */
  uintptr_t offset; /* moves of the pattern so far */
};

static inline void row_next(struct row_walk *w)
{
  if (++w->t == w->rows->period) {
    w->t = 0;
    w->offset += (uintptr_t)w->rows->stride;
  }
}

static void pack_panel_portable(const struct sc_qgemm_rows *rows, int64_t k,
                                int64_t count, uint8_t pad, uint8_t flip,
                                int b_unsigned, uint8_t *panel,
                                int32_t *col_sums)
{
  struct row_walk w = {rows, 0, 0};
  int64_t r, c;
  memset(panel, 0, (size_t)sc_qgemm_b_panel_size(k));
  for (r = 0; r < k; r++, row_next(&w)) {
    const struct sc_qgemm_row *row = &rows->pattern[w.t];
    uint8_t *quad = panel + r / 4 * 4 * PANEL + r % 4;
    for (c = 0; c < PANEL; c++) {
      uint8_t v = pad;
      int run;
      for (run = 0; run < rows->n_runs; run++)
        if (row->present[run] >> c & 1)
          v = *(const uint8_t *)(row->from[run] + w.offset + (uintptr_t)c);
      quad[sc_qgemm_b_lane(c)] = (uint8_t)(v ^ flip);
    }
  }
  if (col_sums)
    col_sums_portable(panel, k, count, b_unsigned, col_sums);
}

/* The zero-point terms of one element (see struct sc_qgemm_block). */
static inline int32_t fix_element(const struct sc_qgemm_block *blk, int64_t i,
                                  int64_t j, uint32_t acc)
{
  if (blk->row_const)
    acc += (uint32_t)blk->row_const[i];
  if (blk->row_u)
    acc += (uint32_t)blk->row_u[i] * (uint32_t)blk->col_u[j];
  if (blk->row_v)
    acc += (uint32_t)blk->row_v[i] * (uint32_t)blk->col_v[j];
  return (int32_t)acc;
}

/* Rows [i0, i0 + rows) by columns [j0, j0 + cols) of the block, from the
 * packed tile and panel. */
static void tile_portable(const struct sc_qgemm_block *blk, const uint8_t *tile,
                          const uint8_t *panel, int64_t i0, int rows,
                          int64_t j0, int cols)
{
  int64_t n_quads = sc_qgemm_quads(blk->k), q;
  int r, c, i;
  for (r = 0; r < rows; r++) {
    int32_t *out = blk->c + (i0 + r - blk->row0) * blk->ldc + j0;
    for (c = 0; c < cols; c++) {
      uint32_t acc = 0;
      for (q = 0; q < n_quads; q++) {
        const uint8_t *av = tile + (q * ROWS + r) * 4;
        const uint8_t *bv = panel + q * 4 * PANEL + sc_qgemm_b_lane(c);
        for (i = 0; i < 4; i++)
          acc += (uint32_t)(stored_value(av[i], blk->a_unsigned) *
                            stored_value(bv[i], !blk->a_unsigned));
      }
      out[c] = fix_element(blk, i0 + r, j0 + c, acc);
    }
  }
}

/* --- the AVX-512 VNNI kernel ------------------------------------------ */

#if QGEMM_HAVE_X86

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni")))

int sc_qgemm_has_vnni(void)
{
  static int cached = -1;
  int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
  if (v < 0) {
    __builtin_cpu_init();
    v = __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vnni");
    __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
  }
  return v;
}

/* The 4 vectors of a quad hold columns in unpacking order (vector v, lane
 * group g: columns 16 g + 4 v .. + 3); this puts them back in column order
 * (a 4 x 4 transpose of 128-bit lane groups). */
VNNI_TARGET static inline void columns_in_order(__m512i *v0, __m512i *v1,
                                                __m512i *v2, __m512i *v3)
{
  __m512i t0 = _mm512_shuffle_i32x4(*v0, *v1, 0x44);
  __m512i t1 = _mm512_shuffle_i32x4(*v0, *v1, 0xee);
  __m512i t2 = _mm512_shuffle_i32x4(*v2, *v3, 0x44);
  __m512i t3 = _mm512_shuffle_i32x4(*v2, *v3, 0xee);
  *v0 = _mm512_shuffle_i32x4(t0, t2, 0x88);
  *v1 = _mm512_shuffle_i32x4(t0, t2, 0xdd);
  *v2 = _mm512_shuffle_i32x4(t1, t3, 0x88);
  *v3 = _mm512_shuffle_i32x4(t1, t3, 0xdd);
}

static inline __mmask16 lane_mask(int64_t cols, int v)
{
  int64_t left = cols - 16 * v;
  if (left >= 16)
    return (__mmask16)0xffff;
  return left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1);
}

/* Column sums with vpdpbusd against bytes of 1, a panel at a time. */
VNNI_TARGET static void col_sums_vnni(const uint8_t *packed, int64_t k,
                                      int64_t n, int b_unsigned,
                                      int32_t *col_sums)
{
  const __m512i ones = _mm512_set1_epi8(1);
  int64_t n_quads = sc_qgemm_quads(k), j, q;
  int v;
  for (j = 0; j < n; j += PANEL) {
    const uint8_t *p = packed + (j / PANEL) * sc_qgemm_b_panel_size(k);
    __m512i s[4];
    for (v = 0; v < 4; v++)
      s[v] = _mm512_setzero_si512();
    for (q = 0; q < n_quads; q++, p += 4 * PANEL)
      for (v = 0; v < 4; v++) {
        __m512i b = _mm512_loadu_si512(p + 64 * v);
        s[v] = b_unsigned ? _mm512_dpbusd_epi32(s[v], b, ones)
                          : _mm512_dpbusd_epi32(s[v], ones, b);
      }
    columns_in_order(&s[0], &s[1], &s[2], &s[3]);
    for (v = 0; v < 4; v++)
      _mm512_mask_storeu_epi32(col_sums + j + 16 * v, lane_mask(n - j, v),
                               s[v]);
  }
}

/* Adds the zero-point terms to one output row's 4 vectors (in column
 * order) and stores the first `cols` columns. */
VNNI_TARGET static inline __attribute__((always_inline)) void
finish_row(const struct sc_qgemm_block *blk, int64_t i, int64_t j0,
           const __mmask16 *mask, const __m512i *cu, const __m512i *cv,
           __m512i x0, __m512i x1, __m512i x2, __m512i x3)
{
  __m512i x[4];
  int32_t *out = blk->c + (i - blk->row0) * blk->ldc + j0;
  int v;
  columns_in_order(&x0, &x1, &x2, &x3);
  x[0] = x0;
  x[1] = x1;
  x[2] = x2;
  x[3] = x3;
  for (v = 0; v < 4; v++) {
    if (blk->row_const)
      x[v] = _mm512_add_epi32(x[v], _mm512_set1_epi32(blk->row_const[i]));
    if (blk->row_u)
      x[v] = _mm512_add_epi32(
          x[v], _mm512_mullo_epi32(_mm512_set1_epi32(blk->row_u[i]), cu[v]));
    if (blk->row_v)
      x[v] = _mm512_add_epi32(
          x[v], _mm512_mullo_epi32(_mm512_set1_epi32(blk->row_v[i]), cv[v]));
    _mm512_mask_storeu_epi32(out + 16 * v, mask[v], x[v]);
  }
}

/* One row's step: broadcast its 4 bytes of this quad, 4 vpdpbusd. */
#define TILE_STEP(r)                                                           \
  if (R > r) {                                                                 \
    int32_t word;                                                              \
    __m512i a;                                                                 \
    memcpy(&word, aq + 4 * r, sizeof word);                                    \
    a = _mm512_set1_epi32(word);                                               \
    if (A_UNSIGNED) {                                                          \
      c##r##0 = _mm512_dpbusd_epi32(c##r##0, a, b0);                           \
      c##r##1 = _mm512_dpbusd_epi32(c##r##1, a, b1);                           \
      c##r##2 = _mm512_dpbusd_epi32(c##r##2, a, b2);                           \
      c##r##3 = _mm512_dpbusd_epi32(c##r##3, a, b3);                           \
    } else {                                                                   \
      c##r##0 = _mm512_dpbusd_epi32(c##r##0, b0, a);                           \
      c##r##1 = _mm512_dpbusd_epi32(c##r##1, b1, a);                           \
      c##r##2 = _mm512_dpbusd_epi32(c##r##2, b2, a);                           \
      c##r##3 = _mm512_dpbusd_epi32(c##r##3, b3, a);                           \
    }                                                                          \
  }

#define TILE_ROW_ACCUMULATORS(r)                                               \
  __m512i c##r##0 = _mm512_setzero_si512(), c##r##1 = _mm512_setzero_si512(),  \
          c##r##2 = _mm512_setzero_si512(), c##r##3 = _mm512_setzero_si512()

#define TILE_SAVE(r)                                                           \
  if (R > r) {                                                                 \
    saved[4 * r] = c##r##0;                                                    \
    saved[4 * r + 1] = c##r##1;                                                \
    saved[4 * r + 2] = c##r##2;                                                \
    saved[4 * r + 3] = c##r##3;                                                \
  }

/* Byte and word unpacking of four 64-byte rows gives the quad in the
 * panel's lane order directly (pairs of rows 0-1 and 2-3 per 128-bit lane,
 * then their quads); the column sums accumulate with vpdpbusd against
 * bytes of 1 on the way. */
/* One row of a panel as 64 stored bytes, from RUNS runs (a constant once
 * inlined). */
VNNI_TARGET static inline __attribute__((always_inline)) __m512i
load_row(const struct row_walk *w, __m512i padding, __m512i flip,
         const int RUNS)
{
  const struct sc_qgemm_row *row = &w->rows->pattern[w->t];
  __m512i v = padding;
  int run;
  /* masked-off bytes are not read; the row's bytes for the next panel are
   * usually 64 further on */
  for (run = 0; run < RUNS; run++)
    v = _mm512_mask_loadu_epi8(v, row->present[run],
                               (const void *)(row->from[run] + w->offset));
  _mm_prefetch((const char *)(row->from[0] + w->offset + 64), _MM_HINT_T0);
  return _mm512_xor_si512(v, flip);
}

VNNI_TARGET static inline __attribute__((always_inline)) void
pack_panel_vnni(const struct sc_qgemm_rows *rows, int64_t k, int64_t count,
                uint8_t pad, uint8_t flip, int b_unsigned, uint8_t *panel,
                int32_t *col_sums, const int RUNS)
{
  const __m512i ones = _mm512_set1_epi8(1);
  const __m512i f = _mm512_set1_epi8((char)flip);
  const __m512i padding = _mm512_set1_epi8((char)pad);
  __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
  struct row_walk w = {rows, 0, 0};
  int64_t r;

  for (r = 0; r < k; r += 4, panel += 4 * PANEL) {
    __m512i r0, r1, r2, r3, lo01, hi01, lo23, hi23, q0, q1, q2, q3;
    r0 = load_row(&w, padding, f, RUNS);
    row_next(&w);
    r1 = r2 = r3 = _mm512_setzero_si512();
    if (r + 1 < k) {
      r1 = load_row(&w, padding, f, RUNS);
      row_next(&w);
    }
    if (r + 2 < k) {
      r2 = load_row(&w, padding, f, RUNS);
      row_next(&w);
    }
    if (r + 3 < k) {
      r3 = load_row(&w, padding, f, RUNS);
      row_next(&w);
    }
    lo01 = _mm512_unpacklo_epi8(r0, r1);
    hi01 = _mm512_unpackhi_epi8(r0, r1);
    lo23 = _mm512_unpacklo_epi8(r2, r3);
    hi23 = _mm512_unpackhi_epi8(r2, r3);
    q0 = _mm512_unpacklo_epi16(lo01, lo23);
    q1 = _mm512_unpackhi_epi16(lo01, lo23);
    q2 = _mm512_unpacklo_epi16(hi01, hi23);
    q3 = _mm512_unpackhi_epi16(hi01, hi23);
    _mm512_storeu_si512(panel, q0);
    _mm512_storeu_si512(panel + 64, q1);
    _mm512_storeu_si512(panel + 128, q2);
    _mm512_storeu_si512(panel + 192, q3);
    if (col_sums) {
      if (b_unsigned) {
        s0 = _mm512_dpbusd_epi32(s0, q0, ones);
        s1 = _mm512_dpbusd_epi32(s1, q1, ones);
        s2 = _mm512_dpbusd_epi32(s2, q2, ones);
        s3 = _mm512_dpbusd_epi32(s3, q3, ones);
      } else {
        s0 = _mm512_dpbusd_epi32(s0, ones, q0);
        s1 = _mm512_dpbusd_epi32(s1, ones, q1);
        s2 = _mm512_dpbusd_epi32(s2, ones, q2);
        s3 = _mm512_dpbusd_epi32(s3, ones, q3);
      }
    }
  }
  if (col_sums) {
    columns_in_order(&s0, &s1, &s2, &s3);
    _mm512_mask_storeu_epi32(col_sums, lane_mask(count, 0), s0);
    _mm512_mask_storeu_epi32(col_sums + 16, lane_mask(count, 1), s1);
    _mm512_mask_storeu_epi32(col_sums + 32, lane_mask(count, 2), s2);
    _mm512_mask_storeu_epi32(col_sums + 48, lane_mask(count, 3), s3);
  }
}

#define PACK_VARIANT(RUNS)                                                     \
  VNNI_TARGET static void pack_panel_vnni_##RUNS(                              \
      const struct sc_qgemm_rows *rows, int64_t k, int64_t count, uint8_t pad, \
      uint8_t flip, int b_unsigned, uint8_t *panel, int32_t *col_sums)         \
  {                                                                            \
    pack_panel_vnni(rows, k, count, pad, flip, b_unsigned, panel, col_sums,    \
                    RUNS);                                                     \
  }
PACK_VARIANT(1)
PACK_VARIANT(2)
PACK_VARIANT(4)
#undef PACK_VARIANT

/* The register tile: R rows (a compile-time constant once inlined) by one
 * panel, in named accumulators so that they stay in registers.
 * A_UNSIGNED selects which operand vpdpbusd reads as unsigned. */
VNNI_TARGET static inline __attribute__((always_inline)) void
tile_vnni(const struct sc_qgemm_block *blk, const uint8_t *tile,
          const uint8_t *panel, int64_t i0, int64_t j0, int cols, const int R,
          const int A_UNSIGNED)
{
  TILE_ROW_ACCUMULATORS(0);
  TILE_ROW_ACCUMULATORS(1);
  TILE_ROW_ACCUMULATORS(2);
  TILE_ROW_ACCUMULATORS(3);
  TILE_ROW_ACCUMULATORS(4);
  TILE_ROW_ACCUMULATORS(5);
  int64_t n_quads = sc_qgemm_quads(blk->k), q;
  const uint8_t *aq = tile, *bq = panel;
  __mmask16 mask[4];
  __m512i cu[4], cv[4], saved[4 * ROWS];
  int r, v;

  for (q = 0; q < n_quads; q++, aq += 4 * ROWS, bq += 4 * PANEL) {
    __m512i b0 = _mm512_loadu_si512(bq);
    __m512i b1 = _mm512_loadu_si512(bq + 64);
    __m512i b2 = _mm512_loadu_si512(bq + 128);
    __m512i b3 = _mm512_loadu_si512(bq + 192);
    TILE_STEP(0)
    TILE_STEP(1)
    TILE_STEP(2)
    TILE_STEP(3)
    TILE_STEP(4)
    TILE_STEP(5)
  }
  /* Through memory, once per tile: left in registers, the epilogue's
   * needs make GCC 12 spill the accumulators inside the loop. */
  TILE_SAVE(0)
  TILE_SAVE(1)
  TILE_SAVE(2)
  TILE_SAVE(3)
  TILE_SAVE(4)
  TILE_SAVE(5)
  __asm__ volatile("" : : "r"(saved) : "memory");
  for (v = 0; v < 4; v++) {
    mask[v] = lane_mask(cols, v);
    cu[v] = blk->row_u
                ? _mm512_maskz_loadu_epi32(mask[v], blk->col_u + j0 + 16 * v)
                : _mm512_setzero_si512();
    cv[v] = blk->row_v
                ? _mm512_maskz_loadu_epi32(mask[v], blk->col_v + j0 + 16 * v)
                : _mm512_setzero_si512();
  }
  for (r = 0; r < R; r++)
    finish_row(blk, i0 + r, j0, mask, cu, cv, saved[4 * r], saved[4 * r + 1],
               saved[4 * r + 2], saved[4 * r + 3]);
}

typedef void (*tile_fn)(const struct sc_qgemm_block *blk, const uint8_t *tile,
                        const uint8_t *panel, int64_t i0, int64_t j0, int cols);

#define TILE_VARIANT(R, U)                                                     \
  VNNI_TARGET static void tile_vnni_##R##_##U(                                 \
      const struct sc_qgemm_block *blk, const uint8_t *tile,                   \
      const uint8_t *panel, int64_t i0, int64_t j0, int cols)                  \
  {                                                                            \
    tile_vnni(blk, tile, panel, i0, j0, cols, R, U);                           \
  }
TILE_VARIANT(1, 0)
TILE_VARIANT(2, 0)
TILE_VARIANT(3, 0)
TILE_VARIANT(4, 0)
TILE_VARIANT(5, 0)
TILE_VARIANT(6, 0)
TILE_VARIANT(1, 1)
TILE_VARIANT(2, 1)
TILE_VARIANT(3, 1)
TILE_VARIANT(4, 1)
TILE_VARIANT(5, 1)
TILE_VARIANT(6, 1)
#undef TILE_VARIANT

/* [a_unsigned][rows - 1] */
static const tile_fn vnni_tiles[2][ROWS] = {
    {tile_vnni_1_0, tile_vnni_2_0, tile_vnni_3_0, tile_vnni_4_0, tile_vnni_5_0,
     tile_vnni_6_0},
    {tile_vnni_1_1, tile_vnni_2_1, tile_vnni_3_1, tile_vnni_4_1, tile_vnni_5_1,
     tile_vnni_6_1},
};

#else

int sc_qgemm_has_vnni(void)
{
  return 0;
}

#endif

int sc_qgemm_uses_vnni(void)
{
  return !force_portable && sc_qgemm_has_vnni();
}

void sc_qgemm_b_col_sums(const uint8_t *packed, int64_t k, int64_t n,
                         int b_unsigned, int32_t *col_sums)
{
#if QGEMM_HAVE_X86
  if (sc_qgemm_uses_vnni()) {
    col_sums_vnni(packed, k, n, b_unsigned, col_sums);
    return;
  }
#endif
  col_sums_portable(packed, k, n, b_unsigned, col_sums);
}

void sc_qgemm_pack_panel(const struct sc_qgemm_rows *rows, int64_t k,
                         int64_t count, uint8_t pad, uint8_t flip,
                         int b_unsigned, uint8_t *panel, int32_t *col_sums)
{
#if QGEMM_HAVE_X86
  if (sc_qgemm_uses_vnni()) {
    if (rows->n_runs <= 1)
      pack_panel_vnni_1(rows, k, count, pad, flip, b_unsigned, panel, col_sums);
    else if (rows->n_runs == 2)
      pack_panel_vnni_2(rows, k, count, pad, flip, b_unsigned, panel, col_sums);
    else
      pack_panel_vnni_4(rows, k, count, pad, flip, b_unsigned, panel, col_sums);
    return;
  }
#endif
  pack_panel_portable(rows, k, count, pad, flip, b_unsigned, panel, col_sums);
}

void sc_qgemm_compute(const struct sc_qgemm_block *blk)
{
  int64_t tile_size = sc_qgemm_a_tile_size(blk->k);
  int64_t panel_size = sc_qgemm_b_panel_size(blk->k);
  int64_t i, j;
#if QGEMM_HAVE_X86
  int vnni = sc_qgemm_uses_vnni();
#endif

  /* panels outside, tiles inside: every tile reuses the panel (k x 64
   * bytes) while it is in L1 or L2; A's tiles stream by */
  for (j = 0; j < blk->n_cols; j += PANEL) {
    const uint8_t *panel = blk->b + j / PANEL * panel_size;
    int cols = blk->n_cols - j < PANEL ? (int)(blk->n_cols - j) : PANEL;
    for (i = blk->row0; i < blk->row0 + blk->n_rows; i += ROWS) {
      const uint8_t *tile = blk->a + (i / ROWS) * tile_size;
      int64_t left = blk->row0 + blk->n_rows - i;
      int rows = left < ROWS ? (int)left : ROWS;
#if QGEMM_HAVE_X86
      if (vnni) {
        vnni_tiles[blk->a_unsigned ? 1 : 0][rows - 1](blk, tile, panel, i, j,
                                                      cols);
        continue;
      }
#endif
      tile_portable(blk, tile, panel, i, rows, j, cols);
    }
  }
}

/* --- the reference and the whole product ------------------------------ */

void sc_qgemm_reference(int64_t m, int64_t n, int64_t k, const void *a,
                        enum sc_dtype a_dtype, int64_t lda, const int32_t *a_zp,
                        const void *b, enum sc_dtype b_dtype, int64_t ldb,
                        const int32_t *b_zp, int32_t *c, int64_t ldc)
{
  int a_signed = a_dtype == SC_DTYPE_INT8, b_signed = b_dtype == SC_DTYPE_INT8;
  int64_t i, j, p;
  for (i = 0; i < m; i++)
    for (j = 0; j < n; j++) {
      uint32_t acc = 0; /* unsigned: wraps around, no UB */
      for (p = 0; p < k; p++) {
        uint8_t ab = ((const uint8_t *)a)[i * lda + p];
        uint8_t bb = ((const uint8_t *)b)[p * ldb + j];
        int32_t av = (a_signed ? (int32_t)(int8_t)ab : (int32_t)ab) -
                     (a_zp ? a_zp[i] : 0);
        int32_t bv = (b_signed ? (int32_t)(int8_t)bb : (int32_t)bb) -
                     (b_zp ? b_zp[j] : 0);
        acc += (uint32_t)(av * bv);
      }
      c[i * ldc + j] = (int32_t)acc;
    }
}

/* A product whose operands are packed, split into jobs of `cols_per_job`
 * columns by `tiles_per_job` tiles of rows. */
struct product_job {
  struct sc_qgemm_block block; /* the whole product; jobs take parts */
  int64_t m, n, cols_per_job, tiles_per_job, n_row_jobs;
};

static void product_range(void *ctx, int64_t begin, int64_t end)
{
  const struct product_job *job = ctx;
  int64_t id;
  for (id = begin; id < end; id++) {
    struct sc_qgemm_block blk = job->block;
    int64_t j0 = (id / job->n_row_jobs) * job->cols_per_job;
    int64_t i0 = (id % job->n_row_jobs) * job->tiles_per_job * ROWS;
    blk.row0 = i0;
    blk.n_rows = job->m - i0 < job->tiles_per_job * ROWS
                     ? job->m - i0
                     : job->tiles_per_job * ROWS;
    blk.n_cols =
        job->n - j0 < job->cols_per_job ? job->n - j0 : job->cols_per_job;
    blk.b += j0 / PANEL * sc_qgemm_b_panel_size(blk.k);
    if (blk.col_u)
      blk.col_u += j0;
    if (blk.col_v)
      blk.col_v += j0;
    blk.c += i0 * blk.ldc + j0;
    sc_qgemm_compute(&blk);
  }
}

void sc_qgemm_run(const struct sc_qgemm_block *product, int64_t m, int64_t n,
                  struct sc_threadpool *threads)
{
  struct product_job job;
  int64_t n_tiles = (m + ROWS - 1) / ROWS, n_panels = (n + PANEL - 1) / PANEL;
  int64_t panels_per_job, n_col_jobs;

  if (m <= 0 || n <= 0)
    return;
  job.block = *product;
  job.m = m;
  job.n = n;
  /* a job's B (k x cols) stays within ~256 KiB of L2; the split depends on
   * the shapes only, never on the thread count */
  panels_per_job = 256 * 1024 / (sc_qgemm_b_panel_size(product->k) + 1);
  if (panels_per_job < 1)
    panels_per_job = 1;
  if (panels_per_job > n_panels)
    panels_per_job = n_panels;
  job.cols_per_job = panels_per_job * PANEL;
  n_col_jobs = (n_panels + panels_per_job - 1) / panels_per_job;
  /* rows split too when there are few column jobs: at least 8 jobs where
   * there are at least 8 tiles' worth of rows */
  job.tiles_per_job = n_tiles;
  if (n_col_jobs < 8) {
    int64_t row_jobs = (8 + n_col_jobs - 1) / n_col_jobs;
    job.tiles_per_job = (n_tiles + row_jobs - 1) / row_jobs;
  }
  job.n_row_jobs = (n_tiles + job.tiles_per_job - 1) / job.tiles_per_job;
  sc_parallel_for(threads, n_col_jobs * job.n_row_jobs, 1, product_range, &job);
}

void sc_qgemm_zero_point_terms(struct sc_qgemm_block *blk, int64_t m, int64_t n,
                               const int32_t *za, const int32_t *row_sums,
                               const int32_t *zb, const int32_t *col_sums,
                               int32_t *rows)
{
  int32_t *row_u = rows, *row_const = rows + m, *row_v = rows + 2 * m;
  uint32_t k = (uint32_t)blk->k;
  int za_zero = 1, zb_uniform = 1;
  int64_t i, j;

  for (i = 0; i < m && za_zero; i++)
    za_zero = za[i] == 0;
  for (j = 1; j < n && zb_uniform; j++)
    zb_uniform = zb[j] == zb[0];
  blk->row_const = blk->row_u = blk->col_u = blk->row_v = blk->col_v = NULL;
  if (!za_zero) { /* - za[i] * sum_k b */
    for (i = 0; i < m; i++)
      row_u[i] = (int32_t)(0u - (uint32_t)za[i]);
    blk->row_u = row_u;
    blk->col_u = col_sums;
  }
  if (n > 0 && zb_uniform && zb[0] != 0) { /* zb * (k za[i] - sum_k a) */
    for (i = 0; i < m; i++)
      row_const[i] = (int32_t)((uint32_t)zb[0] *
                               (k * (uint32_t)za[i] - (uint32_t)row_sums[i]));
    blk->row_const = row_const;
  } else if (!zb_uniform) {
    for (i = 0; i < m; i++)
      row_v[i] = (int32_t)(k * (uint32_t)za[i] - (uint32_t)row_sums[i]);
    blk->row_v = row_v;
    blk->col_v = zb;
  }
}

sc_status sc_qgemm(int64_t m, int64_t n, int64_t k, const void *a,
                   enum sc_dtype a_dtype, int64_t lda, const int32_t *a_zp,
                   const void *b, enum sc_dtype b_dtype, int64_t ldb,
                   const int32_t *b_zp, int32_t *c, int64_t ldc,
                   struct sc_threadpool *threads, struct sc_error *err)
{
  /* A unsigned, B signed: the usual uint8 activation by int8 weight needs
   * no moves and no column sums */
  int32_t a_shift = sc_qgemm_shift(a_dtype, 1);
  int32_t b_shift = sc_qgemm_shift(b_dtype, 0);
  struct sc_qgemm_block blk;
  uint8_t *pa = NULL, *pb = NULL;
  int32_t *ints = NULL;
  int64_t i;
  sc_status st = SC_OK;

  if (m <= 0 || n <= 0)
    return SC_OK;
  pa = malloc((size_t)sc_qgemm_a_size(m, k) + 1);
  pb = malloc((size_t)sc_qgemm_b_size(k, n) + 1);
  /* row sums, col sums, za, zb, 3 rows of terms */
  ints = malloc((size_t)(5 * m + 2 * n) * sizeof *ints);
  if (!pa || !pb || !ints) {
    st = sc_fail_nomem(err, "integer GEMM operands");
    goto cleanup;
  }
  {
    int32_t *row_sums = ints, *col_sums = ints + m;
    int32_t *za = col_sums + n, *zb = za + m, *rows = zb + n;
    sc_qgemm_pack_a(m, k, a, a_dtype, lda, 1, pa, row_sums);
    sc_qgemm_pack_b(k, n, b, b_dtype, ldb, 0, pb, col_sums);
    for (i = 0; i < m; i++)
      za[i] = (a_zp ? a_zp[i] : 0) + a_shift;
    for (i = 0; i < n; i++)
      zb[i] = (b_zp ? b_zp[i] : 0) + b_shift;
    memset(&blk, 0, sizeof blk);
    blk.a = pa;
    blk.k = k;
    blk.a_unsigned = 1;
    blk.b = pb;
    blk.c = c;
    blk.ldc = ldc;
    sc_qgemm_zero_point_terms(&blk, m, n, za, row_sums, zb, col_sums, rows);
    sc_qgemm_run(&blk, m, n, threads);
  }

cleanup:
  free(pa);
  free(pb);
  free(ints);
  return st;
}
