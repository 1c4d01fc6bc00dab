/* The two inner loops of the packed convolution path (conv_packed.c), in a
 * portable version (conv_packed.c) and an AVX-512F one
 * (conv_packed_avx512.c, chosen at run time): the micro-kernel that
 * multiplies one panel of packed weights by one panel of the im2col
 * matrix, and the copy that writes im2col rows into such a panel.
 *
 * Layouts (docs/internals/KERNELS.md has the why):
 *   weights panel  SC_PACKED_MR output channels, k-major: a[k * MR + r] is
 *                  the weight of channel r of the panel at reduction index
 *                  k; rows past the last channel are zero.
 *   column panel   up to SC_PACKED_NR output positions, width floats per k
 *                  (width a multiple of 16, the valid positions rounded
 *                  up): b[k * width + j], 64-byte aligned; columns past
 *                  the valid ones are zero.
 * Private to the conv_packed*.c files. */
#ifndef SC_RUNTIME_OPS_CONV_PACKED_H
#define SC_RUNTIME_OPS_CONV_PACKED_H

#include <stdint.h>

/* Rows (output channels) of a weights panel and widest column panel. */
#define SC_PACKED_MR 8
#define SC_PACKED_NR 48
/* Columns per vector register; a column panel is 1 to 3 of them wide. */
#define SC_PACKED_LANES 16

/* c[r * ldc + j] for r < rows, j < cols (cols <= width, rows <= MR):
 *   accumulate == 0: bias[r] (0 when bias is NULL) + sum_k a * b
 *   accumulate == 1: c[r * ldc + j] + sum_k a * b
 * over k in [0, kc), in that order, one product added at a time. `rows`
 * and the panel width ceil(cols / 16) * 16 are fixed per function (a
 * table of them, sc_packed_tiles). Columns and rows past cols and rows are
 * never read nor written in c. */
typedef void (*sc_packed_tile_fn)(int64_t kc, const float *a, const float *b,
                                  float *c, int64_t ldc, int64_t cols,
                                  const float *bias, int accumulate);

/* Where one kernel tap reads for a run of `len` consecutive output
 * positions: positions j in [lo, hi) read x[offset + (j - lo) * stride]
 * of each channel plane, the others fall in the padding and read 0. */
struct sc_packed_tap {
  int64_t offset; /* in a channel plane, of position lo */
  int64_t lo, hi; /* 0 <= lo <= hi <= len */
};

/* Writes the rows of one run of output positions into a column panel:
 * for channel c < n_channels and tap t < n_taps, row c * n_taps + t gets
 * dst[(c * n_taps + t) * width + j] for j in [0, len) as described by
 * taps[t], reading channel c at x + c * plane. */
typedef void (*sc_packed_fill_fn)(const float *x, int64_t plane,
                                  int64_t n_channels,
                                  const struct sc_packed_tap *taps,
                                  int64_t n_taps, int64_t stride, float *dst,
                                  int64_t width, int64_t len);

/* The micro-kernels, indexed [(rows - 1) * 3 + (width / 16 - 1)]. */
#define SC_PACKED_N_TILES (SC_PACKED_MR * SC_PACKED_NR / SC_PACKED_LANES)

/* The AVX-512F versions: 1 if this CPU (and OS) runs them, and then
 * fills tiles[] and *fill. Decided once; never fails otherwise. */
int sc_packed_avx512(sc_packed_tile_fn *tiles, sc_packed_fill_fn *fill);

#endif
