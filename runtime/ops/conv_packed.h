/* The two inner loops of the packed convolution path (conv_packed.c), in a
 * portable version (conv_packed.c) and an AVX-512F one
 * (conv_packed_avx512.c, chosen at run time): the micro-kernel that
 * multiplies one panel of packed weights by one column panel of the
 * im2col matrix, and the copy that writes im2col rows into such a panel.
 *
 * Layouts (docs/internals/KERNELS.md has the why):
 *   weights panel  SC_PACKED_MR output channels, k-major: a[k * MR + r] is
 *                  the weight of channel r of the panel at reduction index
 *                  k; rows past the last channel are zero.
 *   column panel   up to SC_PACKED_NR consecutive output positions, width
 *                  floats per k (the positions rounded up to whole
 *                  vectors): b[k * width + j], 64-byte aligned. Columns
 *                  past the positions are never read.
 * Private to the conv_packed*.c files. */
#ifndef SC_RUNTIME_OPS_CONV_PACKED_H
#define SC_RUNTIME_OPS_CONV_PACKED_H

#include <stdint.h>

/* Rows (output channels) of a weights panel and widest column panel. */
#define SC_PACKED_MR 8
#define SC_PACKED_NR 48
/* Columns per vector register; a column panel is 1 to 3 of them wide. */
#define SC_PACKED_LANES 16

/* out[r * ldo + j] for r < rows, j < cols (rows <= MR, cols <= width) =
 *   in == NULL: bias[r] (0 when bias is NULL) + sum_k a * b
 *   otherwise:  in[r * ldi + j] + sum_k a * b
 * with a = a[k * MR + r] and b = b[k * width + j], over k in [0, kc), in
 * that order, one product added at a time; with relu, each sum s is
 * stored as s < 0 ? 0 : s. `rows` and the panel width ceil(cols / 16) * 16
 * are fixed per function (a table of them). Nothing past cols or rows is
 * read from `in` or written to `out` (which may be the same array). */
typedef void (*sc_packed_tile_fn)(int64_t kc, const float *a, const float *b,
                                  const float *in, int64_t ldi, float *out,
                                  int64_t ldo, int64_t cols, const float *bias,
                                  int relu);

/* The micro-kernels, indexed [(rows - 1) * 3 + (width / 16 - 1)]. */
#define SC_PACKED_N_TILES (SC_PACKED_MR * SC_PACKED_NR / SC_PACKED_LANES)

/* Where one kernel tap reads for a run of `len` consecutive output
 * positions: positions j in [lo, hi) read x[offset + (j - lo) * stride]
 * of each channel plane, the others fall in the padding and read 0.
 * `ahead` >= 0 asks to prefetch the SC_PACKED_NR * stride floats from
 * x[offset + ahead] on (what the next column panel will read; any
 * address, never dereferenced), -1 not to. */
struct sc_packed_tap {
  int64_t offset; /* in a channel plane, of position lo (0 if none) */
  int64_t lo, hi; /* 0 <= lo <= hi <= len */
  int64_t ahead;
};

/* Writes one run of output positions into a column panel: for channel
 * c < n_channels and tap t < n_taps, im2col row c * n_taps + t gets
 * dst[(c * n_taps + t) * width + j] for j in [0, len) as taps[t] says,
 * reading channel c at x + c * plane. */
typedef void (*sc_packed_fill_fn)(const float *x, int64_t plane,
                                  int64_t n_channels,
                                  const struct sc_packed_tap *taps,
                                  int64_t n_taps, int64_t stride, float *dst,
                                  int64_t width, int64_t len);

/* out as for sc_packed_tile_fn with cols = SC_PACKED_NR (three whole
 * vectors), the column panel read in place: its row k is the NR floats
 * from base + koff[k] on, which all lie inside the input. For a panel
 * within one output row whose taps are all inside the image, at stride
 * 1: row k = (channel c, tap t) starts at the input position of tap t for
 * the panel's first output position, a fixed offset from it. Same sums,
 * same order, same bits as the tile of a filled panel. */
typedef void (*sc_packed_direct_fn)(int64_t kc, const float *a,
                                    const float *base, const int64_t *koff,
                                    const float *in, int64_t ldi, float *out,
                                    int64_t ldo, const float *bias, int relu);

/* The inner loops of one CPU. */
struct sc_packed_kernels {
  sc_packed_tile_fn tiles[SC_PACKED_N_TILES];
  sc_packed_fill_fn fill;
  sc_packed_direct_fn direct[SC_PACKED_MR]; /* indexed rows - 1 */
};

/* The AVX-512F versions: 1 if this CPU (and OS) runs them, and then
 * fills *k. Decided once; never fails otherwise. */
int sc_packed_avx512(struct sc_packed_kernels *k);

#endif
