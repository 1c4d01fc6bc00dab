/* Depthwise convolution (see conv_kernels.h): every group has one input
 * channel, so output channel m is a 2-D filter over input channel
 * m / (M / C). 1-D layers arrive as 2-D with height 1.
 *
 * Each input row a plane needs is copied once into a padded row, split
 * into its `stride` phases: phase p holds the padded row's columns p,
 * p + stride, p + 2 * stride ..., zeros standing for the horizontal
 * padding. Output column ox and kernel column kx then read phase
 * (kx * dilation) % stride at index ox + (kx * dilation) / stride, so the
 * taps of consecutive outputs are consecutive floats for every stride and
 * every column, borders included. An output row is computed 32 columns at
 * a time in vector registers: the bias, then the product of every tap in
 * (ky, kx) order, one store. Rows of the vertical padding are skipped.
 * The few padded rows in use are kept in a small cache, so that an input
 * row is copied once however many output rows read it.
 *
 * Work items are (plane, block of output rows). */
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/conv_kernels.h"
#include "runtime/ops/conv_vector.h"
#include "runtime/threadpool.h"

/* outputs per work item, at least one row */
#define DEPTHWISE_ITEM_OUTPUTS 8192

/* Floats of one phase of a padded row: every output column plus the
 * reach of the kernel, rounded up to whole vectors. */
static int64_t phase_length(const struct sc_conv_geometry *g)
{
  int64_t reach = (g->kernel[2] - 1) * g->dilation[2] / g->stride[2];
  return (g->out[2] + reach + 8) / 8 * 8;
}

/* Writes the padded row of input row `row` (W floats) as `step` phases of
 * plen floats: phase p, index j holds row[p + j * step - pad], 0 outside
 * the row. `split` is scratch for 2 * ceil(W / 2) floats (stride 2). */
SC_CONV_CLONES
static void pad_row(const float *restrict row, int64_t w, int64_t step,
                    int64_t pad, int64_t plen, float *restrict out,
                    float *restrict split)
{
  int64_t p;
  const float *even = split, *odd = split + (w + 1) / 2;
  if (step == 2) { /* split the row into its even and odd columns first */
    float *e = split, *o = split + (w + 1) / 2;
    int64_t j = 0;
    for (; 2 * j + 16 <= w; j += 8) {
      sc_conv_lanes a = *(const sc_conv_lanes *)(row + 2 * j);
      sc_conv_lanes b = *(const sc_conv_lanes *)(row + 2 * j + 8);
      *(sc_conv_lanes *)(e + j) = SC_CONV_EVEN(a, b);
      *(sc_conv_lanes *)(o + j) = SC_CONV_ODD(a, b);
    }
    for (; 2 * j < w; j++) {
      e[j] = row[2 * j];
      if (2 * j + 1 < w)
        o[j] = row[2 * j + 1];
    }
  }
  for (p = 0; p < step; p++) {
    float *dst = out + p * plen;
    int64_t first = p - pad; /* row column of index 0 */
    int64_t lo = first >= 0 ? 0 : (-first + step - 1) / step;
    int64_t hi = first > w - 1 ? 0 : (w - 1 - first) / step + 1, j;
    lo = lo < plen ? lo : plen;
    hi = hi < plen ? hi : plen;
    hi = hi > lo ? hi : lo;
    sc_conv_fill(dst, 0.0f, lo);
    if (step == 1) {
      sc_conv_copy(dst + lo, row + first + lo, hi - lo);
    } else if (step == 2) {
      /* column first + 2j is even column (first + 2j) / 2 or odd column
       * (first + 2j - 1) / 2 of the row */
      int64_t c = first + 2 * lo;
      sc_conv_copy(dst + lo, (c % 2 == 0 ? even + c / 2 : odd + (c - 1) / 2),
                   hi - lo);
    } else {
      for (j = lo; j < hi; j++)
        dst[j] = row[first + j * step];
    }
    sc_conv_fill(dst + hi, 0.0f, plen - hi);
  }
}

/* Padded rows kept across output rows: slot s of `rows` (stride * plen
 * floats each) holds input row tag[s] (-1: none). */
struct row_cache {
  float *rows;
  float *split; /* pad_row's scratch */
  int64_t plen;
  int64_t tag[SC_CONV_DEPTHWISE_MAX_TAPS];
};

/* The padded row of input row iy: from the cache, or made now in a slot
 * that holds none of the rows `needed` by the current output row. */
static const float *padded_row(const struct sc_conv_geometry *g,
                               const float *xp, int64_t iy,
                               const int64_t *needed, struct row_cache *cache)
{
  const int64_t kh = g->kernel[1], size = g->stride[2] * cache->plen;
  int64_t s, k;
  for (s = 0; s < kh; s++)
    if (cache->tag[s] == iy)
      return cache->rows + s * size;
  for (s = 0; s < kh; s++) {
    if (cache->tag[s] < 0)
      break;
    for (k = 0; k < kh && needed[k] != cache->tag[s]; k++)
      ;
    if (k == kh)
      break;
  }
  /* kh slots, at most kh rows needed and iy not cached: one slot is free */
  cache->tag[s] = iy;
  pad_row(xp + iy * g->in[2], g->in[2], g->stride[2], g->pad[2], cache->plen,
          cache->rows + s * size, cache->split);
  return cache->rows + s * size;
}

/* The taps of one output row that land on input rows: output column ox
 * adds weight[t] * source[t][ox]. */
struct tap_list {
  int n;
  float weight[SC_CONV_DEPTHWISE_MAX_TAPS];
  const float *source[SC_CONV_DEPTHWISE_MAX_TAPS];
};

static void list_taps(const struct sc_conv_geometry *g, const float *xp,
                      const float *wp, int64_t oy, struct row_cache *cache,
                      struct tap_list *taps)
{
  int64_t needed[SC_CONV_DEPTHWISE_MAX_TAPS], ky, kx;
  for (ky = 0; ky < g->kernel[1]; ky++) {
    needed[ky] = oy * g->stride[1] - g->pad[1] + ky * g->dilation[1];
    if (needed[ky] < 0 || needed[ky] >= g->in[1])
      needed[ky] = -1;
  }
  taps->n = 0;
  for (ky = 0; ky < g->kernel[1]; ky++) {
    const float *padded;
    if (needed[ky] < 0)
      continue;
    padded = padded_row(g, xp, needed[ky], needed, cache);
    for (kx = 0; kx < g->kernel[2]; kx++) {
      int64_t reach = kx * g->dilation[2];
      int64_t p = reach % g->stride[2], q = reach / g->stride[2];
      int t = taps->n++;
      taps->weight[t] = wp[ky * g->kernel[2] + kx];
      taps->source[t] = padded + p * cache->plen + q;
    }
  }
}

/* 32 outputs starting at column ox: four independent sums hide the
 * latency of the additions. */
static inline void block32(const struct tap_list *taps, float bias, int64_t ox,
                           float *restrict yrow)
{
  const sc_conv_lanes b = {bias, bias, bias, bias, bias, bias, bias, bias};
  sc_conv_lanes a0 = b, a1 = b, a2 = b, a3 = b;
  int t;
  for (t = 0; t < taps->n; t++) {
    const float *s = taps->source[t] + ox;
    float w = taps->weight[t];
    sc_conv_lanes wv = {w, w, w, w, w, w, w, w};
    a0 += wv * *(const sc_conv_lanes *)s;
    a1 += wv * *(const sc_conv_lanes *)(s + 8);
    a2 += wv * *(const sc_conv_lanes *)(s + 16);
    a3 += wv * *(const sc_conv_lanes *)(s + 24);
  }
  *(sc_conv_lanes *)(yrow + ox) = a0;
  *(sc_conv_lanes *)(yrow + ox + 8) = a1;
  *(sc_conv_lanes *)(yrow + ox + 16) = a2;
  *(sc_conv_lanes *)(yrow + ox + 24) = a3;
}

/* 8 outputs starting at column ox. */
static inline void block8(const struct tap_list *taps, float bias, int64_t ox,
                          float *restrict yrow)
{
  sc_conv_lanes a0 = {bias, bias, bias, bias, bias, bias, bias, bias};
  int t;
  for (t = 0; t < taps->n; t++) {
    float w = taps->weight[t];
    sc_conv_lanes wv = {w, w, w, w, w, w, w, w};
    a0 += wv * *(const sc_conv_lanes *)(taps->source[t] + ox);
  }
  *(sc_conv_lanes *)(yrow + ox) = a0;
}

/* Output rows [oy0, oy1) of one plane: xp is the input channel, wp its
 * KH x KW filter, yp the output plane; cache holds the padded rows. */
SC_CONV_CLONES
static void depthwise_rows(const struct sc_conv_geometry *g, const float *xp,
                           const float *wp, float bias, float *yp, int64_t oy0,
                           int64_t oy1, struct row_cache *cache)
{
  const int64_t ow = g->out[2];
  struct tap_list taps;
  int64_t oy, s;

  for (s = 0; s < SC_CONV_DEPTHWISE_MAX_TAPS; s++)
    cache->tag[s] = -1;
  for (oy = oy0; oy < oy1; oy++) {
    float *yrow = yp + oy * ow;
    int64_t ox = 0;
    int t;
    list_taps(g, xp, wp, oy, cache, &taps);
    for (; ox + 32 <= ow; ox += 32)
      block32(&taps, bias, ox, yrow);
    for (; ox + 8 <= ow; ox += 8)
      block8(&taps, bias, ox, yrow);
    if (ox < ow && ow >= 8) {
      /* the last columns: one more block ending at the row's end, which
       * recomputes a few outputs exactly as before */
      block8(&taps, bias, ow - 8, yrow);
    } else {
      for (; ox < ow; ox++) {
        float acc = bias;
        for (t = 0; t < taps.n; t++)
          acc += taps.weight[t] * taps.source[t][ox];
        yrow[ox] = acc;
      }
    }
  }
}

struct depthwise_job {
  const struct sc_conv_geometry *g;
  const float *x, *w, *bias;
  float *y;
  int64_t multiplier; /* output channels per input channel */
  int64_t rows;       /* output rows per item */
  int64_t n_row_blocks;
  int failed; /* a row buffer could not be allocated */
};

static void depthwise_range(void *ctx, int64_t begin, int64_t end)
{
  struct depthwise_job *job = ctx;
  const struct sc_conv_geometry *g = job->g;
  const int64_t in_plane = g->in[1] * g->in[2];
  const int64_t out_plane = g->out[1] * g->out[2];
  const int64_t kvol = g->kernel[1] * g->kernel[2];
  struct row_cache cache;
  int64_t item;

  cache.plen = phase_length(g);
  cache.rows =
      malloc((size_t)(g->kernel[1] * g->stride[2] * cache.plen + g->in[2] + 2) *
             sizeof(float));
  if (!cache.rows) {
    __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
    return;
  }
  cache.split = cache.rows + g->kernel[1] * g->stride[2] * cache.plen;
  for (item = begin; item < end; item++) {
    int64_t plane = item / job->n_row_blocks, b = item % job->n_row_blocks;
    int64_t n = plane / g->out_channels, m = plane % g->out_channels;
    int64_t c = m / job->multiplier;
    int64_t oy0 = b * job->rows;
    int64_t oy1 = oy0 + job->rows < g->out[1] ? oy0 + job->rows : g->out[1];
    depthwise_rows(g, job->x + (n * g->in_channels + c) * in_plane,
                   job->w + m * kvol, job->bias ? job->bias[m] : 0.0f,
                   job->y + plane * out_plane, oy0, oy1, &cache);
  }
  free(cache.rows);
}

sc_status sc_conv_depthwise(const struct sc_conv_geometry *g, const float *x,
                            const float *w, const float *bias, float *y,
                            struct sc_threadpool *threads, struct sc_error *err)
{
  struct depthwise_job job;
  memset(&job, 0, sizeof job);
  job.g = g;
  job.x = x;
  job.w = w;
  job.bias = bias;
  job.y = y;
  job.multiplier = g->out_channels / g->in_channels;
  job.rows = DEPTHWISE_ITEM_OUTPUTS / g->out[2];
  if (job.rows < 1)
    job.rows = 1;
  if (job.rows > g->out[1])
    job.rows = g->out[1];
  job.n_row_blocks = (g->out[1] + job.rows - 1) / job.rows;
  sc_parallel_for(threads, g->batch * g->out_channels * job.n_row_blocks, 1,
                  depthwise_range, &job);
  if (job.failed)
    return sc_fail_nomem(err, "depthwise row buffer");
  return SC_OK;
}
