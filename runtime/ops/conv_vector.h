/* Row primitives of the convolution kernels (conv_gemm.c,
 * conv_depthwise.c, also used by normalization.c), written with GCC/Clang
 * vector extensions: 8 float lanes that compile to AVX2 in the functions
 * marked SC_CONV_CLONES (one AVX2 and one baseline SSE copy, chosen at load
 * time) and to SSE pairs elsewhere. The build's -O2 would not vectorise
 * these loops by itself.
 *
 * The vector type is a typedef although STYLE.md keeps typedefs for
 * function pointers: a vector extension type can only be named that way. */
#ifndef SC_RUNTIME_OPS_CONV_VECTOR_H
#define SC_RUNTIME_OPS_CONV_VECTOR_H

#include <stdint.h>

#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define SC_CONV_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef SC_CONV_CLONES
#define SC_CONV_CLONES
#endif

/* 8 floats, any alignment, may alias float arrays */
typedef float sc_conv_lanes
    __attribute__((vector_size(32), aligned(4), may_alias));

/* Lanes 0, 2, 4 ... and 1, 3, 5 ... of the 16 floats a:b. */
#if defined(__clang__)
#define SC_CONV_EVEN(a, b)                                                     \
  __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14)
#define SC_CONV_ODD(a, b)                                                      \
  __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15)
#else
typedef int sc_conv_lane_index __attribute__((vector_size(32)));
#define SC_CONV_EVEN(a, b)                                                     \
  __builtin_shuffle(a, b, (sc_conv_lane_index){0, 2, 4, 6, 8, 10, 12, 14})
#define SC_CONV_ODD(a, b)                                                      \
  __builtin_shuffle(a, b, (sc_conv_lane_index){1, 3, 5, 7, 9, 11, 13, 15})
#endif

/* dst[j] = src[j] for j in [0, n); the arrays do not overlap. */
static inline void sc_conv_copy(float *restrict dst, const float *restrict src,
                                int64_t n)
{
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    *(sc_conv_lanes *)(dst + j) = *(const sc_conv_lanes *)(src + j);
  for (; j < n; j++)
    dst[j] = src[j];
}

/* dst[j] = value for j in [0, n). */
static inline void sc_conv_fill(float *dst, float value, int64_t n)
{
  sc_conv_lanes v = {value, value, value, value, value, value, value, value};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    *(sc_conv_lanes *)(dst + j) = v;
  for (; j < n; j++)
    dst[j] = value;
}

/* y[j] += w * x[j] for j in [0, n) (a product, then a sum: no fused
 * multiply-add, like the rest of the build). */
static inline void sc_conv_axpy(float *restrict y, const float *restrict x,
                                float w, int64_t n)
{
  sc_conv_lanes wv = {w, w, w, w, w, w, w, w};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    *(sc_conv_lanes *)(y + j) += wv * *(const sc_conv_lanes *)(x + j);
  for (; j < n; j++)
    y[j] += w * x[j];
}

#endif
