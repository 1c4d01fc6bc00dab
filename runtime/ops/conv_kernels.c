/* Convolution path selection and the plain reference kernels (see
 * conv_kernels.h). The references are the definition the fast paths are
 * tested against: direct loops over every output element, double
 * accumulation, bias added first. */
#include "runtime/ops/conv_kernels.h"

#include <stddef.h>

#include "runtime/threadpool.h"

/* Winograd is chosen from this many output positions and input and output
 * channels on (docs/internals/KERNELS.md has the measurements). Its
 * transformed weights are four times the packed ones (36 values per 3x3
 * kernel): from 64 x 64 on they came to 140 MB on ISNet against 36 MB
 * from 128 x 128 on, for a fifth more of the products, and the
 * verification of the ISNet chain (--mode both) peaked at 2.04 GB
 * against 1.96 GB. Below 16 channels the products are too thin to gain. */
#define WINOGRAD_MIN_POSITIONS (128 * 128)
#define WINOGRAD_MIN_CHANNELS 16

static int64_t volume3(const int64_t *v)
{
  return v[0] * v[1] * v[2];
}

int sc_conv_path_applies(const struct sc_conv_geometry *g,
                         enum sc_conv_path path)
{
  int i;
  switch (path) {
  case SC_CONV_PATH_AUTO:
  case SC_CONV_PATH_REFERENCE:
  case SC_CONV_PATH_IM2COL:
  case SC_CONV_PATH_PACKED:
    return 1;
  case SC_CONV_PATH_POINTWISE:
    for (i = 0; i < 3; i++)
      if (g->kernel[i] != 1 || g->stride[i] != 1 || g->pad[i] != 0 ||
          g->out[i] != g->in[i])
        return 0;
    return 1;
  case SC_CONV_PATH_WINOGRAD:
    return sc_conv_winograd_available() && g->group == 1 &&
           g->in_channels > 0 && g->in[0] == 1 && g->out[0] == 1 &&
           g->kernel[0] == 1 && g->pad[0] == 0 && g->kernel[1] == 3 &&
           g->kernel[2] == 3 && g->stride[1] == 1 && g->stride[2] == 1 &&
           g->dilation[1] == 1 && g->dilation[2] == 1 &&
           /* the rows and columns a tile reads stay sane */
           g->pad[1] <= 2 && g->pad[2] <= 2;
  case SC_CONV_PATH_DEPTHWISE:
    return g->group > 0 && g->in_channels == g->group && g->in[0] == 1 &&
           g->out[0] == 1 && g->kernel[0] == 1 && g->pad[0] == 0 &&
           g->kernel[1] * g->kernel[2] <= SC_CONV_DEPTHWISE_MAX_TAPS &&
           /* its padded rows span the kernel's reach: keep them sane */
           (g->kernel[2] - 1) * g->dilation[2] <=
               g->in[2] + g->out[2] * g->stride[2];
  }
  return 0;
}

enum sc_conv_path sc_conv_path_choose(const struct sc_conv_geometry *g)
{
  int pointwise = sc_conv_path_applies(g, SC_CONV_PATH_POINTWISE);
  /* a depthwise layer as a matrix product would be one tiny product per
   * channel (a 1x1 one is a product by a scalar either way) */
  if (!pointwise && sc_conv_path_applies(g, SC_CONV_PATH_DEPTHWISE))
    return SC_CONV_PATH_DEPTHWISE;
  if (g->out[1] * g->out[2] >= WINOGRAD_MIN_POSITIONS &&
      g->in_channels >= WINOGRAD_MIN_CHANNELS &&
      g->out_channels >= WINOGRAD_MIN_CHANNELS &&
      sc_conv_path_applies(g, SC_CONV_PATH_WINOGRAD))
    return SC_CONV_PATH_WINOGRAD;
  if (sc_conv_packed_fast())
    return SC_CONV_PATH_PACKED;
  return pointwise ? SC_CONV_PATH_POINTWISE : SC_CONV_PATH_IM2COL;
}

/* y[i] = y[i] < 0 ? 0 : y[i], Relu's own expression (NaN and -0 stay). */
static void relu_range(void *ctx, int64_t begin, int64_t end)
{
  float *y = ctx;
  int64_t i;
  for (i = begin; i < end; i++)
    y[i] = y[i] < 0 ? 0 : y[i];
}

static void relu_pass(float *y, int64_t n, struct sc_threadpool *threads)
{
  sc_parallel_for(threads, n, 65536, relu_range, y);
}

/* The Winograd path on weights transformed beforehand or for this call. */
static sc_status
conv_winograd(const struct sc_conv_geometry *g, const float *x, const float *w,
              const struct sc_conv_weights *packed, const float *bias, float *y,
              struct sc_threadpool *threads, struct sc_error *err)
{
  struct sc_conv_weights *own = NULL;
  sc_status st;
  if (packed && (!sc_conv_weights_match(packed, g) ||
                 sc_conv_weights_path(packed) != SC_CONV_PATH_WINOGRAD))
    return sc_fail(err, SC_ERR_INTERNAL,
                   "convolution weights were transformed for another shape "
                   "or path");
  if (!packed) {
    st = sc_conv_weights_pack_on(g, SC_CONV_PATH_WINOGRAD, w, threads, &own,
                                 err);
    if (st)
      return st;
    packed = own;
  }
  st = sc_conv_winograd(g, x, sc_conv_weights_data(packed), bias, y, threads,
                        err);
  sc_conv_weights_free(own);
  return st;
}

sc_status sc_conv_forward(const struct sc_conv_geometry *g,
                          enum sc_conv_path path, const float *x,
                          const float *w, const struct sc_conv_weights *packed,
                          const float *bias, float *y,
                          struct sc_threadpool *threads, struct sc_error *err)
{
  sc_status st;
  if (path == SC_CONV_PATH_AUTO)
    path = sc_conv_path_choose(g);
  if (!sc_conv_path_applies(g, path))
    return sc_fail(err, SC_ERR_INTERNAL,
                   "convolution path %d does not apply to this geometry",
                   (int)path);
  if (g->batch * g->out_channels * volume3(g->out) == 0)
    return SC_OK;
  switch (path) {
  case SC_CONV_PATH_REFERENCE:
    sc_conv_reference(g, x, w, bias, y);
    st = SC_OK;
    break;
  case SC_CONV_PATH_DEPTHWISE:
    st = sc_conv_depthwise(g, x, w, bias, y, threads, err);
    break;
  case SC_CONV_PATH_POINTWISE:
    st = sc_conv_gemm(g, 1, x, w, bias, y, threads, err);
    break;
  case SC_CONV_PATH_PACKED: /* applies g->relu as it stores */
    return sc_conv_packed(g, x, w, packed, bias, y, threads, err);
  case SC_CONV_PATH_WINOGRAD: /* so does this one */
    return conv_winograd(g, x, w, packed, bias, y, threads, err);
  default:
    st = sc_conv_gemm(g, 0, x, w, bias, y, threads, err);
    break;
  }
  if (!st && g->relu)
    relu_pass(y, g->batch * g->out_channels * volume3(g->out), threads);
  return st;
}

sc_status sc_conv_transpose_forward(const struct sc_conv_geometry *g,
                                    enum sc_conv_path path, const float *x,
                                    const float *w, const float *bias, float *y,
                                    struct sc_threadpool *threads,
                                    struct sc_error *err)
{
  if (g->batch * g->out_channels * volume3(g->out) == 0)
    return SC_OK;
  switch (path) {
  case SC_CONV_PATH_REFERENCE:
    sc_conv_transpose_reference(g, x, w, bias, y);
    return SC_OK;
  case SC_CONV_PATH_AUTO:
  case SC_CONV_PATH_IM2COL:
    return sc_conv_transpose_gemm(g, x, w, bias, y, threads, err);
  default:
    return sc_fail(err, SC_ERR_INTERNAL,
                   "convolution path %d does not apply to ConvTranspose",
                   (int)path);
  }
}

/* One output element of Conv: bias plus the window's products. */
static float conv_point(const struct sc_conv_geometry *g, const float *x,
                        const float *w, const float *bias, int64_t n, int64_t m,
                        const int64_t *o)
{
  int64_t cg = g->in_channels / g->group, mg = g->out_channels / g->group;
  int64_t c0 = (m / mg) * cg, c, k[3];
  double acc = bias ? bias[m] : 0.0;
  for (c = 0; c < cg; c++) {
    const float *xc = x + (n * g->in_channels + c0 + c) * volume3(g->in);
    const float *wc = w + (m * cg + c) * volume3(g->kernel);
    for (k[0] = 0; k[0] < g->kernel[0]; k[0]++)
      for (k[1] = 0; k[1] < g->kernel[1]; k[1]++)
        for (k[2] = 0; k[2] < g->kernel[2]; k[2]++) {
          int64_t i[3], d;
          for (d = 0; d < 3; d++) {
            i[d] = o[d] * g->stride[d] - g->pad[d] + k[d] * g->dilation[d];
            if (i[d] < 0 || i[d] >= g->in[d])
              break;
          }
          if (d < 3)
            continue;
          acc += (double)xc[(i[0] * g->in[1] + i[1]) * g->in[2] + i[2]] *
                 wc[(k[0] * g->kernel[1] + k[1]) * g->kernel[2] + k[2]];
        }
  }
  return (float)acc;
}

void sc_conv_reference(const struct sc_conv_geometry *g, const float *x,
                       const float *w, const float *bias, float *y)
{
  int64_t n, m, o[3];
  for (n = 0; n < g->batch; n++)
    for (m = 0; m < g->out_channels; m++)
      for (o[0] = 0; o[0] < g->out[0]; o[0]++)
        for (o[1] = 0; o[1] < g->out[1]; o[1]++)
          for (o[2] = 0; o[2] < g->out[2]; o[2]++)
            *y++ = conv_point(g, x, w, bias, n, m, o);
}

/* One output element of ConvTranspose, gathered: input position i and
 * kernel offset k reach output o when o + pad = i * stride + k * dilation. */
static float conv_transpose_point(const struct sc_conv_geometry *g,
                                  const float *x, const float *w,
                                  const float *bias, int64_t n, int64_t m,
                                  const int64_t *o)
{
  int64_t cg = g->in_channels / g->group, mg = g->out_channels / g->group;
  int64_t c0 = (m / mg) * cg, mi = m % mg, c, k[3];
  double acc = bias ? bias[m] : 0.0;
  for (c = 0; c < cg; c++) {
    const float *xc = x + (n * g->in_channels + c0 + c) * volume3(g->in);
    const float *wc = w + ((c0 + c) * mg + mi) * volume3(g->kernel);
    for (k[0] = 0; k[0] < g->kernel[0]; k[0]++)
      for (k[1] = 0; k[1] < g->kernel[1]; k[1]++)
        for (k[2] = 0; k[2] < g->kernel[2]; k[2]++) {
          int64_t i[3], d;
          for (d = 0; d < 3; d++) {
            int64_t t = o[d] + g->pad[d] - k[d] * g->dilation[d];
            if (t < 0 || t % g->stride[d] != 0)
              break;
            i[d] = t / g->stride[d];
            if (i[d] >= g->in[d])
              break;
          }
          if (d < 3)
            continue;
          acc += (double)xc[(i[0] * g->in[1] + i[1]) * g->in[2] + i[2]] *
                 wc[(k[0] * g->kernel[1] + k[1]) * g->kernel[2] + k[2]];
        }
  }
  return (float)acc;
}

void sc_conv_transpose_reference(const struct sc_conv_geometry *g,
                                 const float *x, const float *w,
                                 const float *bias, float *y)
{
  int64_t n, m, o[3];
  for (n = 0; n < g->batch; n++)
    for (m = 0; m < g->out_channels; m++)
      for (o[0] = 0; o[0] < g->out[0]; o[0]++)
        for (o[1] = 0; o[1] < g->out[1]; o[1]++)
          for (o[2] = 0; o[2] < g->out[2]; o[2]++)
            *y++ = conv_transpose_point(g, x, w, bias, n, m, o);
}

void sc_conv_valid_range(int64_t first, int64_t step, int64_t size, int64_t run,
                         int64_t *lo, int64_t *hi)
{
  int64_t a = first >= 0 ? 0 : (-first + step - 1) / step;
  int64_t b = first > size - 1 ? 0 : (size - 1 - first) / step + 1;
  if (a > run)
    a = run;
  if (b > run)
    b = run;
  if (b < a)
    b = a;
  *lo = a;
  *hi = b;
}
