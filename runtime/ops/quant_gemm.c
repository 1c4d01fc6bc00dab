/* Integer GEMM for the quantized kernels; see quant_gemm.h.
 *
 * Fast path (x86-64 with AVX-512 BW + VNNI, detected at run time): B is
 * packed in panels of 32 columns whose rows are interleaved in pairs,
 * (b[2p][j], b[2p+1][j]) in one 32-bit lane, so that one vpdpwssd adds
 * a[i][2p]*b[2p][j] + a[i][2p+1]*b[2p+1][j] into the int32 accumulator of
 * column j for 16 columns at once. vpdpwssd wraps around on overflow, as
 * the portable loop's unsigned accumulation does, so both paths give the
 * same bits. Work is split over column panels, never over k. */
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

#define PANEL_COLS SC_QGEMM_PANEL

static int force_reference;

void sc_qgemm_force_reference(int force)
{
  force_reference = force;
}

void sc_qgemm_reference(int64_t m, int64_t n, int64_t k, const int16_t *a,
                        int64_t lda, const int16_t *b, int64_t ldb, int32_t *c,
                        int64_t ldc)
{
  int64_t i, j, p;
  for (i = 0; i < m; i++) {
    uint32_t *row = (uint32_t *)(c + i * ldc);
    for (j = 0; j < n; j++)
      row[j] = 0;
    for (p = 0; p < k; p++) {
      int32_t av = a[i * lda + p];
      const int16_t *brow = b + p * ldb;
      if (av == 0)
        continue;
      for (j = 0; j < n; j++) /* unsigned: wraps around, no UB */
        row[j] += (uint32_t)(av * (int32_t)brow[j]);
    }
  }
}

#if QGEMM_HAVE_X86

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

struct qgemm_job {
  int64_t m, n, k, n_pairs, n_panels;
  const int16_t *a;
  int64_t lda;
  const int16_t *b;
  int64_t ldb;
  int16_t *packed; /* n_panels * n_pairs * 2 * PANEL_COLS */
  int32_t *c;
  int64_t ldc;
};

/* Packs panels [begin, end) of B: full panels of complete row pairs with
 * AVX-512 (two rows interleaved by unpacklo/hi, lanes put back in column
 * order), the ragged edges element by element. */
__attribute__((target("avx512f,avx512bw"))) static void
pack_panels(void *ctx, int64_t begin, int64_t end)
{
  const struct qgemm_job *job = ctx;
  const __m512i first = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
  const __m512i second = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
  int64_t panel, p, j;
  for (panel = begin; panel < end; panel++) {
    int16_t *dst = job->packed + panel * job->n_pairs * 2 * PANEL_COLS;
    int64_t j0 = panel * PANEL_COLS;
    int64_t nc = job->n - j0 < PANEL_COLS ? job->n - j0 : PANEL_COLS;
    for (p = 0; p < job->n_pairs; p++) {
      const int16_t *r0 = job->b + 2 * p * job->ldb + j0;
      const int16_t *r1 = 2 * p + 1 < job->k ? r0 + job->ldb : NULL;
      int16_t *d = dst + p * 2 * PANEL_COLS;
      if (nc == PANEL_COLS && r1) {
        __m512i v0 = _mm512_loadu_si512(r0), v1 = _mm512_loadu_si512(r1);
        __m512i lo = _mm512_unpacklo_epi16(v0, v1);
        __m512i hi = _mm512_unpackhi_epi16(v0, v1);
        _mm512_storeu_si512(d, _mm512_permutex2var_epi64(lo, first, hi));
        _mm512_storeu_si512(d + 32, _mm512_permutex2var_epi64(lo, second, hi));
        continue;
      }
      for (j = 0; j < nc; j++) {
        d[2 * j] = r0[j];
        d[2 * j + 1] = r1 ? r1[j] : 0;
      }
      for (; j < PANEL_COLS; j++)
        d[2 * j] = d[2 * j + 1] = 0;
    }
  }
}

/* The pair (a[i][2p], a[i][2p+1]) as one 32-bit lane (0 past the end). */
static inline int32_t a_pair(const int16_t *row, int64_t p, int64_t k)
{
  uint32_t lo = (uint16_t)row[2 * p];
  uint32_t hi = 2 * p + 1 < k ? (uint16_t)row[2 * p + 1] : 0;
  return (int32_t)(lo | hi << 16);
}

/* A complete pair (2p + 1 < k) with one 32-bit load. */
static inline int32_t a_pair_full(const int16_t *row, int64_t p)
{
  int32_t v;
  memcpy(&v, row + 2 * p, sizeof v);
  return v;
}

#define ROWS4_STEP(PAIR)                                                       \
  do {                                                                         \
    __m512i b0 = _mm512_loadu_si512(panel + p * 2 * PANEL_COLS);               \
    __m512i b1 = _mm512_loadu_si512(panel + p * 2 * PANEL_COLS + 32);          \
    __m512i v = _mm512_set1_epi32(PAIR(a0));                                   \
    c00 = _mm512_dpwssd_epi32(c00, v, b0);                                     \
    c01 = _mm512_dpwssd_epi32(c01, v, b1);                                     \
    v = _mm512_set1_epi32(PAIR(a1));                                           \
    c10 = _mm512_dpwssd_epi32(c10, v, b0);                                     \
    c11 = _mm512_dpwssd_epi32(c11, v, b1);                                     \
    v = _mm512_set1_epi32(PAIR(a2));                                           \
    c20 = _mm512_dpwssd_epi32(c20, v, b0);                                     \
    c21 = _mm512_dpwssd_epi32(c21, v, b1);                                     \
    v = _mm512_set1_epi32(PAIR(a3));                                           \
    c30 = _mm512_dpwssd_epi32(c30, v, b0);                                     \
    c31 = _mm512_dpwssd_epi32(c31, v, b1);                                     \
  } while (0)

#define FULL_PAIR(row) a_pair_full(row, p)
#define LAST_PAIR(row) a_pair(row, p, job->k)

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void
panel_rows4(const struct qgemm_job *job, int64_t i, const int16_t *panel,
            int32_t *c, __mmask16 mask0, __mmask16 mask1)
{
  const int16_t *a0 = job->a + i * job->lda, *a1 = a0 + job->lda;
  const int16_t *a2 = a1 + job->lda, *a3 = a2 + job->lda;
  __m512i c00 = _mm512_setzero_si512(), c01 = _mm512_setzero_si512();
  __m512i c10 = _mm512_setzero_si512(), c11 = _mm512_setzero_si512();
  __m512i c20 = _mm512_setzero_si512(), c21 = _mm512_setzero_si512();
  __m512i c30 = _mm512_setzero_si512(), c31 = _mm512_setzero_si512();
  int64_t p, full = job->k / 2;

  for (p = 0; p < full; p++)
    ROWS4_STEP(FULL_PAIR);
  if (p < job->n_pairs) /* odd k: the last pair is half empty */
    ROWS4_STEP(LAST_PAIR);
  _mm512_mask_storeu_epi32(c, mask0, c00);
  _mm512_mask_storeu_epi32(c + 16, mask1, c01);
  c += job->ldc;
  _mm512_mask_storeu_epi32(c, mask0, c10);
  _mm512_mask_storeu_epi32(c + 16, mask1, c11);
  c += job->ldc;
  _mm512_mask_storeu_epi32(c, mask0, c20);
  _mm512_mask_storeu_epi32(c + 16, mask1, c21);
  c += job->ldc;
  _mm512_mask_storeu_epi32(c, mask0, c30);
  _mm512_mask_storeu_epi32(c + 16, mask1, c31);
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void
panel_rows1(const struct qgemm_job *job, int64_t i, const int16_t *panel,
            int32_t *c, __mmask16 mask0, __mmask16 mask1)
{
  const int16_t *a0 = job->a + i * job->lda;
  __m512i c00 = _mm512_setzero_si512(), c01 = _mm512_setzero_si512();
  int64_t p;

  for (p = 0; p < job->n_pairs; p++) {
    __m512i b0 = _mm512_loadu_si512(panel + p * 2 * PANEL_COLS);
    __m512i b1 = _mm512_loadu_si512(panel + p * 2 * PANEL_COLS + 32);
    __m512i v = _mm512_set1_epi32(2 * p + 1 < job->k ? a_pair_full(a0, p)
                                                     : a_pair(a0, p, job->k));
    c00 = _mm512_dpwssd_epi32(c00, v, b0);
    c01 = _mm512_dpwssd_epi32(c01, v, b1);
  }
  _mm512_mask_storeu_epi32(c, mask0, c00);
  _mm512_mask_storeu_epi32(c + 16, mask1, c01);
}

/* Computes every row of C for panels [begin, end). */
static void compute_panels(void *ctx, int64_t begin, int64_t end)
{
  const struct qgemm_job *job = ctx;
  int64_t panel, i;
  for (panel = begin; panel < end; panel++) {
    const int16_t *packed = job->packed + panel * job->n_pairs * 2 * PANEL_COLS;
    int64_t j0 = panel * PANEL_COLS;
    int64_t nc = job->n - j0 < PANEL_COLS ? job->n - j0 : PANEL_COLS;
    __mmask16 mask0 = (__mmask16)(nc >= 16 ? 0xffff : (1u << nc) - 1);
    __mmask16 mask1 = (__mmask16)(nc >= 32  ? 0xffff
                                  : nc > 16 ? (1u << (nc - 16)) - 1
                                            : 0);
    for (i = 0; i + 4 <= job->m; i += 4)
      panel_rows4(job, i, packed, job->c + i * job->ldc + j0, mask0, mask1);
    for (; i < job->m; i++)
      panel_rows1(job, i, packed, job->c + i * job->ldc + j0, mask0, mask1);
  }
}

static sc_status qgemm_vnni(int64_t m, int64_t n, int64_t k, const int16_t *a,
                            int64_t lda, const int16_t *b, int64_t ldb,
                            int32_t *c, int64_t ldc,
                            struct sc_threadpool *threads, struct sc_error *err)
{
  struct qgemm_job job;
  size_t size;

  job.m = m;
  job.n = n;
  job.k = k;
  job.n_pairs = (k + 1) / 2;
  job.n_panels = (n + PANEL_COLS - 1) / PANEL_COLS;
  job.a = a;
  job.lda = lda;
  job.b = b;
  job.ldb = ldb;
  job.c = c;
  job.ldc = ldc;
  /* n and k come from checked tensor shapes: the product stays far below
   * SIZE_MAX (both bounded by SC_MAX_TENSOR_SIZE elements) */
  size = (size_t)job.n_panels * (size_t)job.n_pairs * 2 * PANEL_COLS *
         sizeof(int16_t);
  job.packed = aligned_alloc(64, (size + 63) / 64 * 64);
  if (!job.packed)
    return sc_fail_nomem(err, "packed integer GEMM operand");
  sc_parallel_for(threads, job.n_panels, 1, pack_panels, &job);
  sc_parallel_for(threads, job.n_panels, 1, compute_panels, &job);
  free(job.packed);
  return SC_OK;
}

sc_status sc_qgemm_packed(int64_t m, int64_t n, int64_t k, const int16_t *a,
                          int64_t lda, const int16_t *packed, int32_t *c,
                          int64_t ldc, struct sc_threadpool *threads,
                          struct sc_error *err)
{
  struct qgemm_job job;
  (void)err;
  if (m <= 0 || n <= 0)
    return SC_OK;
  memset(&job, 0, sizeof job);
  job.m = m;
  job.n = n;
  job.k = k;
  job.n_pairs = (k + 1) / 2;
  job.n_panels = (n + PANEL_COLS - 1) / PANEL_COLS;
  job.a = a;
  job.lda = lda;
  job.packed = (int16_t *)packed; /* read only in compute_panels */
  job.c = c;
  job.ldc = ldc;
  if (k <= 0) {
    int64_t i;
    for (i = 0; i < m; i++)
      memset(c + i * ldc, 0, (size_t)n * sizeof *c);
    return SC_OK;
  }
  sc_parallel_for(threads, job.n_panels, 1, compute_panels, &job);
  return SC_OK;
}

#else

int sc_qgemm_has_vnni(void)
{
  return 0;
}

sc_status sc_qgemm_packed(int64_t m, int64_t n, int64_t k, const int16_t *a,
                          int64_t lda, const int16_t *packed, int32_t *c,
                          int64_t ldc, struct sc_threadpool *threads,
                          struct sc_error *err)
{
  return sc_fail(err, SC_ERR_INTERNAL, "no packed integer GEMM here");
}

#endif

int sc_qgemm_uses_packed(void)
{
  return !force_reference && sc_qgemm_has_vnni();
}

int64_t sc_qgemm_packed_size(int64_t n, int64_t k)
{
  return (n + PANEL_COLS - 1) / PANEL_COLS * ((k + 1) / 2) * 2 * PANEL_COLS;
}

void sc_qgemm_packed_clear_padding(int16_t *packed, int64_t n, int64_t k)
{
  int64_t j, r, n_panels = (n + PANEL_COLS - 1) / PANEL_COLS;
  if (k % 2) /* the missing partner of the last row */
    for (j = 0; j < n_panels * PANEL_COLS; j++)
      packed[sc_qgemm_packed_offset(k, j, k)] = 0;
  for (j = n; j < n_panels * PANEL_COLS; j++) /* columns past n */
    for (r = 0; r < k; r++)
      packed[sc_qgemm_packed_offset(r, j, k)] = 0;
}

struct reference_job {
  int64_t n, k;
  const int16_t *a;
  int64_t lda;
  const int16_t *b;
  int64_t ldb;
  int32_t *c;
  int64_t ldc;
};

static void reference_rows(void *ctx, int64_t begin, int64_t end)
{
  const struct reference_job *job = ctx;
  sc_qgemm_reference(end - begin, job->n, job->k, job->a + begin * job->lda,
                     job->lda, job->b, job->ldb, job->c + begin * job->ldc,
                     job->ldc);
}

sc_status sc_qgemm(int64_t m, int64_t n, int64_t k, const int16_t *a,
                   int64_t lda, const int16_t *b, int64_t ldb, int32_t *c,
                   int64_t ldc, struct sc_threadpool *threads,
                   struct sc_error *err)
{
  struct reference_job job;
  if (m <= 0 || n <= 0)
    return SC_OK;
  if (k <= 0) {
    int64_t i;
    for (i = 0; i < m; i++)
      memset(c + i * ldc, 0, (size_t)n * sizeof *c);
    return SC_OK;
  }
#if QGEMM_HAVE_X86
  if (!force_reference && sc_qgemm_has_vnni())
    return qgemm_vnni(m, n, k, a, lda, b, ldb, c, ldc, threads, err);
#endif
  job.n = n;
  job.k = k;
  job.a = a;
  job.lda = lda;
  job.b = b;
  job.ldb = ldb;
  job.c = c;
  job.ldc = ldc;
  sc_parallel_for(threads, m, 1, reference_rows, &job);
  return SC_OK;
}
