/* AVX-512F inner loops of the packed convolution path (see conv_packed.h).
 *
 * Only the functions below carry target("avx512f"): the rest of the build
 * stays baseline x86-64, and sc_packed_avx512 hands them out only when the
 * CPU and the OS support AVX-512F (__builtin_cpu_supports checks both).
 *
 * Micro-kernel: an 8 x 48 block of C lives in 24 of the 32 zmm registers
 * (8 rows x 3 vectors of 16 columns) for the whole reduction. Per k it
 * loads the three vectors of the column panel, broadcasts the 8 weights
 * one at a time from memory and issues 24 fused multiply-adds: 11 loads
 * for 24 FMAs, which two load ports feed while the two FMA ports stay
 * busy, and 24 independent accumulators hide the FMA latency (4 cycles x
 * 2 ports needs 8). Edge tiles are the same code with fewer rows or
 * vectors (compile-time constants, so the unused registers vanish) and a
 * lane mask on the last vector's loads and stores of C.
 *
 * Fill: a run of output positions is written channel by channel, tap by
 * tap (the panel's rows in order). When no tap of the run reaches into
 * the padding and the stride is 1 (most runs), a whole panel's row is
 * three plain loads and aligned stores; otherwise masked loads and stores
 * write the zeros and the valid part, with a two-register permute for
 * stride 2. The input rows the next panel will read are prefetched. */
#include "runtime/ops/conv_packed.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))
#define INLINE_AVX512                                                          \
  static inline __attribute__((always_inline, target("avx512f")))

/* Explicit accumulators: GCC keeps an array of vectors in memory. */
#define FOR_VECTORS(X, r) X(r, 0) X(r, 1) X(r, 2)
#define FOR_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define FOR_TILE(X)                                                            \
  FOR_VECTORS(X, 0)                                                            \
  FOR_VECTORS(X, 1)                                                            \
  FOR_VECTORS(X, 2)                                                            \
  FOR_VECTORS(X, 3)                                                            \
  FOR_VECTORS(X, 4)                                                            \
  FOR_VECTORS(X, 5)                                                            \
  FOR_VECTORS(X, 6)                                                            \
  FOR_VECTORS(X, 7)

#define DECLARE(r, v) __m512 c##r##v = _mm512_setzero_ps();
#define INIT(r, v)                                                             \
  if (rows > r && vectors > v) {                                               \
    if (in)                                                                    \
      c##r##v = _mm512_maskz_loadu_ps(mask##v, in + r * ldi + 16 * v);         \
    else if (bias)                                                             \
      c##r##v = _mm512_set1_ps(bias[r]);                                       \
  }
#define FMA(r, v)                                                              \
  if (vectors > v)                                                             \
    c##r##v = _mm512_fmadd_ps(a##r, b##v, c##r##v);
#define ROW(r)                                                                 \
  if (rows > r) {                                                              \
    __m512 a##r = _mm512_set1_ps(a[k * SC_PACKED_MR + r]);                     \
    FOR_VECTORS(FMA, r)                                                        \
  }
#define CLAMP(r, v)                                                            \
  if (rows > r && vectors > v)                                                 \
    c##r##v = _mm512_mask_mov_ps(                                              \
        c##r##v, _mm512_cmp_ps_mask(c##r##v, zero, _CMP_LT_OQ), zero);
#define STORE(r, v)                                                            \
  if (rows > r && vectors > v)                                                 \
    _mm512_mask_storeu_ps(out + r * ldo + 16 * v, mask##v, c##r##v);

/* b is the filled column panel, or NULL: then row k of the panel is read
 * in place at base + koff[k] (three whole vectors, unaligned). */
INLINE_AVX512 void tile_body(const int rows, const int vectors, int64_t kc,
                             const float *a, const float *b, const float *base,
                             const int64_t *koff, const float *in, int64_t ldi,
                             float *out, int64_t ldo, int64_t cols,
                             const float *bias, int relu)
{
  const int width = 16 * vectors;
  /* lanes of the last vector holding valid columns (cols > width - 16) */
  const __mmask16 last = (__mmask16)(0xffffu >> (width - cols));
  const __mmask16 mask0 = vectors == 1 ? last : 0xffff;
  const __mmask16 mask1 = vectors == 2 ? last : 0xffff;
  const __mmask16 mask2 = last;
  int64_t k;
  FOR_TILE(DECLARE)
  FOR_TILE(INIT)
  if (!b)
    for (k = 0; k < kc; k++) {
      const float *bk = base + koff[k];
      __m512 b0 = _mm512_loadu_ps(bk), b1 = _mm512_loadu_ps(bk + 16);
      __m512 b2 = _mm512_loadu_ps(bk + 32);
      FOR_ROWS(ROW)
    }
  else
    for (k = 0; k < kc; k++) {
      const float *bk = b + k * width;
      __m512 b0 = _mm512_load_ps(bk), b1 = b0, b2 = b0;
      if (vectors > 1)
        b1 = _mm512_load_ps(bk + 16);
      if (vectors > 2)
        b2 = _mm512_load_ps(bk + 32);
      FOR_ROWS(ROW)
    }
  if (relu) { /* Relu's x < 0 ? 0 : x: NaN and -0 stay */
    const __m512 zero = _mm512_setzero_ps();
    FOR_TILE(CLAMP)
  }
  FOR_TILE(STORE)
  (void)mask0;
  (void)mask1;
  (void)mask2;
}

#define DEFINE_TILE(rows, vectors)                                             \
  AVX512 static void tile_##rows##x##vectors(                                  \
      int64_t kc, const float *a, const float *b, const float *in,             \
      int64_t ldi, float *out, int64_t ldo, int64_t cols, const float *bias,   \
      int relu)                                                                \
  {                                                                            \
    tile_body(rows, vectors, kc, a, b, NULL, NULL, in, ldi, out, ldo, cols,    \
              bias, relu);                                                     \
  }
#define DEFINE_ROW_TILES(rows)                                                 \
  DEFINE_TILE(rows, 1) DEFINE_TILE(rows, 2) DEFINE_TILE(rows, 3)
DEFINE_ROW_TILES(1)
DEFINE_ROW_TILES(2)
DEFINE_ROW_TILES(3)
DEFINE_ROW_TILES(4)
DEFINE_ROW_TILES(5)
DEFINE_ROW_TILES(6)
DEFINE_ROW_TILES(7)
DEFINE_ROW_TILES(8)

#define DEFINE_DIRECT(rows)                                                    \
  AVX512 static void direct_##rows(int64_t kc, const float *a,                 \
                                   const float *base, const int64_t *koff,     \
                                   const float *in, int64_t ldi, float *out,   \
                                   int64_t ldo, const float *bias, int relu)   \
  {                                                                            \
    tile_body(rows, 3, kc, a, NULL, base, koff, in, ldi, out, ldo,             \
              SC_PACKED_NR, bias, relu);                                       \
  }
DEFINE_DIRECT(1)
DEFINE_DIRECT(2)
DEFINE_DIRECT(3)
DEFINE_DIRECT(4)
DEFINE_DIRECT(5)
DEFINE_DIRECT(6)
DEFINE_DIRECT(7)
DEFINE_DIRECT(8)

/* Lanes [0, n) of a vector, n in [0, 16]. */
static inline __mmask16 lanes(int64_t n)
{
  return (__mmask16)(0xffffu >> (16 - n));
}

INLINE_AVX512 void zero_columns(float *row, int64_t begin, int64_t end)
{
  int64_t j;
  for (j = begin; j < end; j += 16)
    _mm512_mask_storeu_ps(row + j, lanes(end - j < 16 ? end - j : 16),
                          _mm512_setzero_ps());
}

/* row[j] = src[(j - lo) * 2] for j in [lo, hi): the even floats of two
 * loads of 16, never reading past the last float needed. */
INLINE_AVX512 void copy_stride2(float *row, const float *src, int64_t lo,
                                int64_t hi)
{
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12,
                                        10, 8, 6, 4, 2, 0);
  int64_t j;
  for (j = lo; j < hi; j += 16) {
    int64_t n = hi - j < 16 ? hi - j : 16, span = 2 * n - 1;
    const float *s = src + 2 * (j - lo);
    __m512 v0 = _mm512_maskz_loadu_ps(lanes(span < 16 ? span : 16), s);
    __m512 v1 = _mm512_maskz_loadu_ps(lanes(span > 16 ? span - 16 : 0), s + 16);
    _mm512_mask_storeu_ps(row + j, lanes(n),
                          _mm512_permutex2var_ps(v0, even, v1));
  }
}

/* Prefetches the n floats from address `at` on, an integer: what the
 * next panel reads, which may lie past the input's end. */
INLINE_AVX512 void prefetch_floats(uintptr_t at, int64_t n)
{
  int64_t j;
  for (j = 0; j < n; j += 16)
    _mm_prefetch((const char *)(at + (uintptr_t)j * 4), _MM_HINT_T0);
}

AVX512 static void fill_avx512(const float *x, int64_t plane,
                               int64_t n_channels,
                               const struct sc_packed_tap *taps, int64_t n_taps,
                               int64_t stride, float *dst, int64_t width,
                               int64_t len)
{
  int64_t t, c, j;
  int whole = stride == 1 && len == SC_PACKED_NR;
  for (t = 0; t < n_taps; t++) {
    if (taps[t].ahead >= 0)
      for (c = 0; c < n_channels; c++)
        prefetch_floats((uintptr_t)(x + c * plane + taps[t].offset) +
                            (uintptr_t)taps[t].ahead * 4,
                        SC_PACKED_NR * stride);
    whole = whole && taps[t].lo == 0 && taps[t].hi == len;
  }
  if (whole) {
    for (c = 0; c < n_channels; c++) {
      const float *xc = x + c * plane;
      for (t = 0; t < n_taps; t++, dst += width) {
        const float *src = xc + taps[t].offset;
        __m512 v0 = _mm512_loadu_ps(src), v1 = _mm512_loadu_ps(src + 16);
        __m512 v2 = _mm512_loadu_ps(src + 32);
        _mm512_store_ps(dst, v0);
        _mm512_store_ps(dst + 16, v1);
        _mm512_store_ps(dst + 32, v2);
      }
    }
    return;
  }
  for (c = 0; c < n_channels; c++) {
    const float *xc = x + c * plane;
    for (t = 0; t < n_taps; t++, dst += width) {
      const int64_t lo = taps[t].lo, hi = taps[t].hi;
      const float *src = xc + taps[t].offset;
      zero_columns(dst, 0, lo);
      if (stride == 1) {
        for (j = lo; j < hi; j += 16) {
          __mmask16 m = lanes(hi - j < 16 ? hi - j : 16);
          _mm512_mask_storeu_ps(dst + j, m,
                                _mm512_maskz_loadu_ps(m, src + (j - lo)));
        }
      } else if (stride == 2) {
        copy_stride2(dst, src, lo, hi);
      } else {
        for (j = lo; j < hi; j++)
          dst[j] = src[(j - lo) * stride];
      }
      zero_columns(dst, hi, len);
    }
  }
}

#define TILE_ROW(rows) tile_##rows##x1, tile_##rows##x2, tile_##rows##x3

int sc_packed_avx512(struct sc_packed_kernels *k)
{
  static const sc_packed_tile_fn table[SC_PACKED_N_TILES] = {
      TILE_ROW(1), TILE_ROW(2), TILE_ROW(3), TILE_ROW(4),
      TILE_ROW(5), TILE_ROW(6), TILE_ROW(7), TILE_ROW(8)};
  static const sc_packed_direct_fn direct[SC_PACKED_MR] = {
      direct_1, direct_2, direct_3, direct_4,
      direct_5, direct_6, direct_7, direct_8};
  static int supported = -1;
  int i, s = __atomic_load_n(&supported, __ATOMIC_RELAXED);
  if (s < 0) {
    __builtin_cpu_init();
    s = __builtin_cpu_supports("avx512f") ? 1 : 0;
    __atomic_store_n(&supported, s, __ATOMIC_RELAXED);
  }
  if (!s)
    return 0;
  for (i = 0; i < SC_PACKED_N_TILES; i++)
    k->tiles[i] = table[i];
  for (i = 0; i < SC_PACKED_MR; i++)
    k->direct[i] = direct[i];
  k->fill = fill_avx512;
  return 1;
}

#else /* not x86-64 with GCC or Clang */

int sc_packed_avx512(struct sc_packed_kernels *k)
{
  (void)k;
  return 0;
}

#endif
