/* Layout and dtype alignment between stages.
 *
 * For comparison, a target tensor is brought into the reference's layout
 * (NHWC -> NCHW, or a reshape when only size-1 dims differ); dtypes are left
 * alone because the metrics read any numeric type (and dequantize).
 *
 * For isolated re-runs, a reference value is converted into what the target
 * value holds: dequantized if it is an integer tensor with a scale, permuted
 * to NHWC if the target is NHWC, then quantized onto the target's grid (round
 * half to even, saturated), rounded to float16/bfloat16, or widened. */
#ifndef SC_COMPARE_ALIGN_H
#define SC_COMPARE_ALIGN_H

#include "compare/match.h"
#include "runtime/tensor.h"

struct sc_threadpool;

/* New tensor: `t` in the layout of a reference with `rank`/`dims`. When no
 * permutation is needed (the same layout, or a reshape of size-1 dims) the
 * result is a new header on t's storage (sc_tensor_ref; a copy when t
 * borrows its memory): the caller reads it and frees it, never writes into
 * it. */
sc_status sc_align_for_compare(const struct sc_tensor *t,
                               enum sc_layout_fix fix, int rank,
                               const int64_t *dims, struct sc_tensor **out,
                               struct sc_error *err);

/* New tensor: reference value `r` (quantization `r_quant`, may be NULL)
 * converted to dtype `dtype`, grid `quant` (for integer dtypes; NULL means
 * a plain numeric cast) and shape rank/dims. `fix` is the layout fix of the
 * row (SC_LAYOUT_NHWC_TO_NCHW: the target holds NHWC). SC_ERR_CONFIG when it
 * cannot be converted (counts differ, integer target without a scale).
 * When the conversion would give back r's elements (the same dtype and
 * layout, and a float type, or an integer type with neither side quantized
 * or both on the same grid), the result is a new header on r's storage, as
 * for sc_align_for_compare: read it, free it, never write into it.
 * Otherwise the conversion is split over `threads` (may be NULL; the
 * elements do not depend on it). */
sc_status sc_align_for_feed(const struct sc_tensor *r,
                            const struct sc_quant *r_quant, enum sc_dtype dtype,
                            const struct sc_quant *quant, int rank,
                            const int64_t *dims, enum sc_layout_fix fix,
                            struct sc_threadpool *threads,
                            struct sc_tensor **out, struct sc_error *err);

#endif
