/* Float convolution kernels behind the Conv and ConvTranspose operators
 * (runtime/ops/conv.c): a plain direct reference and the fast paths that are
 * tested against it (tests/runtime/test_conv.c).
 *
 * Geometry is canonical 3-D: a 1-D or 2-D convolution has its missing
 * leading spatial dims set to 1 (input, output and kernel size 1, stride and
 * dilation 1, no padding). Layouts are NCDHW, contiguous:
 *   Conv:          x [N, C, D, H, W], w [M, C/group, KD, KH, KW], y [N, M, ...]
 *   ConvTranspose: x [N, C, D, H, W], w [C, M/group, KD, KH, KW], y [N, M, ...]
 * bias has M values or is NULL.
 *
 * The caller owns every array; y is written completely. Results do not
 * depend on the thread count: work is split by output elements, never
 * within the sum that produces one. */
#ifndef SC_RUNTIME_OPS_CONV_KERNELS_H
#define SC_RUNTIME_OPS_CONV_KERNELS_H

#include <stdint.h>

#include "runtime/error.h"

struct sc_threadpool;

struct sc_conv_geometry {
  int64_t batch;        /* N */
  int64_t in_channels;  /* C */
  int64_t out_channels; /* M */
  int64_t group;
  int64_t in[3];  /* D, H, W of x */
  int64_t out[3]; /* D, H, W of y */
  int64_t kernel[3];
  int64_t stride[3];
  int64_t dilation[3];
  int64_t pad[3]; /* padding before each dim (the end padding is implied) */
  /* Conv: every output then goes through Relu (x < 0 ? 0 : x), a Relu the
   * executor fused into the Conv; 0 otherwise */
  int relu;
};

/* The depthwise path handles kernels of at most this many taps. */
#define SC_CONV_DEPTHWISE_MAX_TAPS 64

enum sc_conv_path {
  SC_CONV_PATH_AUTO = 0,  /* the fastest path that applies */
  SC_CONV_PATH_REFERENCE, /* direct loops, double accumulation, serial */
  SC_CONV_PATH_IM2COL,    /* Conv: tiled im2col + OpenBLAS sgemm, any
                             geometry; ConvTranspose: sgemm + tiled col2im */
  SC_CONV_PATH_POINTWISE, /* 1x1x1 kernel, stride 1, output = input size:
                             OpenBLAS sgemm straight on x and y */
  SC_CONV_PATH_DEPTHWISE, /* one input channel per group, 1-D or 2-D,
                             up to SC_CONV_DEPTHWISE_MAX_TAPS taps */
  SC_CONV_PATH_PACKED,    /* Conv, any geometry: weights packed once,
                             im2col written straight into the panels our
                             own micro-kernel reads (AVX-512F, or a
                             portable one on other CPUs) */
  SC_CONV_PATH_WINOGRAD   /* 2-D 3x3 kernel, stride 1, dilation 1, one
                             group, AVX-512F CPUs: Winograd F(4x4, 3x3),
                             weights transformed once, products on the
                             packed path's micro-kernel; rounds
                             differently from the direct sum (see
                             conv_winograd.c) */
};

/* 1 if `path` can compute Conv with this geometry. */
int sc_conv_path_applies(const struct sc_conv_geometry *g,
                         enum sc_conv_path path);

/* The path SC_CONV_PATH_AUTO resolves to: depthwise where it applies,
 * else Winograd where it applies and the layer is large enough to gain
 * (conv_kernels.c says which), else packed on CPUs with AVX-512F
 * (sc_conv_packed_fast), else pointwise or im2col through OpenBLAS. */
enum sc_conv_path sc_conv_path_choose(const struct sc_conv_geometry *g);

/* Conv weights packed for SC_CONV_PATH_PACKED or transformed for
 * SC_CONV_PATH_WINOGRAD: a copy of W rearranged, made once per node
 * (runtime/ops/conv.c keeps it in the node's state). */
struct sc_conv_weights;

/* Packs w ([M, C/group, kernel...], see above) for `path` (PACKED or
 * WINOGRAD, which must apply to g) and geometries with g's output
 * channels, group and K = C/group * kernel volume. On success the caller
 * owns *out (sc_conv_weights_free); fails only with SC_ERR_NOMEM (and
 * SC_ERR_INTERNAL for another path). sc_conv_weights_pack packs for
 * SC_CONV_PATH_PACKED. */
sc_status sc_conv_weights_pack_for(const struct sc_conv_geometry *g,
                                   enum sc_conv_path path, const float *w,
                                   struct sc_conv_weights **out,
                                   struct sc_error *err);
/* The same, the panels shared among `threads` (the same bits). */
sc_status sc_conv_weights_pack_on(const struct sc_conv_geometry *g,
                                  enum sc_conv_path path, const float *w,
                                  struct sc_threadpool *threads,
                                  struct sc_conv_weights **out,
                                  struct sc_error *err);
sc_status sc_conv_weights_pack(const struct sc_conv_geometry *g, const float *w,
                               struct sc_conv_weights **out,
                               struct sc_error *err);
void sc_conv_weights_free(struct sc_conv_weights *packed); /* NULL: no-op */

/* The path `packed` was packed for. */
enum sc_conv_path sc_conv_weights_path(const struct sc_conv_weights *packed);

/* 1 if `packed` was packed for weights of g's shape. */
int sc_conv_weights_match(const struct sc_conv_weights *packed,
                          const struct sc_conv_geometry *g);

/* 1 if the packed path runs its AVX-512F micro-kernel on this CPU (and
 * AUTO therefore chooses it), 0 if it runs the portable one. */
int sc_conv_packed_fast(void);

/* Tests: 1 forces the portable micro-kernel, so that the packed path and
 * AUTO behave as on a CPU without AVX-512F; 0 restores the default. */
void sc_conv_packed_force_portable(int force);

/* Tests: 1 makes the packed path fill every column panel, never reading
 * one in place (sc_packed_direct_fn); 0 restores the default. */
void sc_conv_packed_disable_direct(int disable);

/* y = conv(x, w) + bias through `path`. `packed` (may be NULL) holds w
 * packed by sc_conv_weights_pack_for for `path`; without it the packed and
 * Winograd paths pack w for this call, the others ignore it. Fails with
 * SC_ERR_NOMEM when a scratch buffer (bounded, a few MB per thread) cannot be
 * allocated and with SC_ERR_INTERNAL when `path` does not apply or `packed`
 * does not match. */
sc_status sc_conv_forward(const struct sc_conv_geometry *g,
                          enum sc_conv_path path, const float *x,
                          const float *w, const struct sc_conv_weights *packed,
                          const float *bias, float *y,
                          struct sc_threadpool *threads, struct sc_error *err);

/* ConvTranspose through SC_CONV_PATH_REFERENCE or SC_CONV_PATH_IM2COL
 * (AUTO picks the latter). Same errors as sc_conv_forward. */
sc_status sc_conv_transpose_forward(const struct sc_conv_geometry *g,
                                    enum sc_conv_path path, const float *x,
                                    const float *w, const float *bias, float *y,
                                    struct sc_threadpool *threads,
                                    struct sc_error *err);

/* Floats of scratch memory a convolution allocates through `path`
 * (transpose = 0) or as ConvTranspose (transpose = 1): per thread, about
 * 256K floats (1 MB) whatever the image size, more only when 256 columns
 * of the im2col matrix are larger (im2col) or a K block of 48 columns is
 * (packed); for a small image whose output channels are split over
 * threads (im2col), one im2col matrix of at most 4M floats shared by all
 * threads. The packed path also holds the packed weights (not counted:
 * about the size of w). The Winograd path: 36 * (C + M) floats per 16
 * tiles, up to 48 tiles within 1M floats (4 MB), 16 beyond; its weights
 * (not counted) are 4 times w. */
int64_t sc_conv_scratch_floats(const struct sc_conv_geometry *g,
                               enum sc_conv_path path, int transpose);

/* --- the individual paths (conv_*.c), called by the two above ---------- */

void sc_conv_reference(const struct sc_conv_geometry *g, const float *x,
                       const float *w, const float *bias, float *y);
void sc_conv_transpose_reference(const struct sc_conv_geometry *g,
                                 const float *x, const float *w,
                                 const float *bias, float *y);
/* These fail only with SC_ERR_NOMEM (scratch), and sc_conv_packed with
 * SC_ERR_INTERNAL when `packed` does not match g. */
sc_status sc_conv_depthwise(const struct sc_conv_geometry *g, const float *x,
                            const float *w, const float *bias, float *y,
                            struct sc_threadpool *threads,
                            struct sc_error *err);
sc_status sc_conv_packed(const struct sc_conv_geometry *g, const float *x,
                         const float *w, const struct sc_conv_weights *packed,
                         const float *bias, float *y,
                         struct sc_threadpool *threads, struct sc_error *err);
int64_t sc_conv_packed_scratch_floats(const struct sc_conv_geometry *g);
/* Winograd: 1 if this CPU runs it (AVX-512F, not forced portable); the
 * floats of transformed weights (sc_conv_winograd_pack writes them to u);
 * the path itself, on weights so transformed; its scratch floats per
 * thread. */
int sc_conv_winograd_available(void);
const float *sc_conv_weights_data(const struct sc_conv_weights *packed);
int64_t sc_conv_winograd_weights_floats(const struct sc_conv_geometry *g);
void sc_conv_winograd_pack(const struct sc_conv_geometry *g, const float *w,
                           float *u);
void sc_conv_winograd_pack_on(const struct sc_conv_geometry *g, const float *w,
                              float *u, struct sc_threadpool *threads);
sc_status sc_conv_winograd(const struct sc_conv_geometry *g, const float *x,
                           const float *u, const float *bias, float *y,
                           struct sc_threadpool *threads, struct sc_error *err);
int64_t sc_conv_winograd_scratch_floats(const struct sc_conv_geometry *g);
/* The range [lo, hi) of j in [0, run) with 0 <= first + j * step < size
 * (step > 0): the positions of an output row whose tap falls inside an
 * input row of `size`, for the im2col copies. */
void sc_conv_valid_range(int64_t first, int64_t step, int64_t size, int64_t run,
                         int64_t *lo, int64_t *hi);
sc_status sc_conv_gemm(const struct sc_conv_geometry *g, int pointwise,
                       const float *x, const float *w, const float *bias,
                       float *y, struct sc_threadpool *threads,
                       struct sc_error *err);
sc_status sc_conv_transpose_gemm(const struct sc_conv_geometry *g,
                                 const float *x, const float *w,
                                 const float *bias, float *y,
                                 struct sc_threadpool *threads,
                                 struct sc_error *err);

#endif
