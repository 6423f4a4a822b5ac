#include "gemm.h"

#include <cblas.h>

#include "parallel.h"

/* Row-major C (M, N) = alpha · op(A) · op(B) + beta · C, one matrix–vector product per column
 * of C. Column j of op(B) is row j of B when transposed, else B's column j (stride ldb).
 * The rows of op(A) go in blocks of about 1 MB, so that every column after the first finds
 * its block in L2 rather than reading all of A from memory again. */
static void
gemm_by_columns (bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
                 int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
  int block = m; /* rows of op(A) per block; one column reads A once in any case */
  if (n > 1)
    block = k < (1 << 18) ? (1 << 18) / k : 1; /* 2¹⁸ floats */
  for (int r0 = 0; r0 < m; r0 += block)
    {
      const int rows = m - r0 < block ? m - r0 : block;
      const float *ar = trans_a ? a + r0 : a + (size_t) r0 * lda; /* op(A) rows r0… */
      for (int j = 0; j < n; j++)
        {
          const float *bj = trans_b ? b + (size_t) j * ldb : b + j;
          cblas_sgemv (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_a ? k : rows,
                       trans_a ? rows : k, alpha, ar, lda, bj, trans_b ? 1 : ldb, beta,
                       c + (size_t) r0 * ldc + j, ldc);
        }
    }
}

/* Products with few columns, such as a batch-1 convolution at 1×1, 2×2 or 4×4 output or a
 * batch-1 linear layer, are matrix–vector products in disguise. OpenBLAS 0.3.21's sgemm
 * still packs all of A for them, which was most of batch-1 inference. An sgemv per column
 * reads A in place (each thread its own rows of A). It is taken while N ≤ 4 and a thread's
 * rows of A hold at least 2¹⁶ elements, where it measured faster (docs/performance.md);
 * below that sgemm is as fast, above it sgemm pulls ahead. */
static bool
use_columns (int m, int n, int k)
{
  return n <= 4 && (size_t) m * k >= (1 << 16);
}

static void
gemm_serial (bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
             int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
  if (use_columns (m, n, k))
    {
      gemm_by_columns (trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      return;
    }
  cblas_sgemm (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
               trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

typedef struct
{
  bool trans_a, trans_b, by_rows;
  int m, n, k, lda, ldb, ldc;
  float alpha, beta;
  const float *a, *b;
  float *c;
} GemmJob;

#define SLAB 16 /* rows or columns of C per unit of work: a multiple of every kernel's tile */

/* One slab of C: rows [begin, end) of op(A) and C, or columns of op(B) and C, in SLABs. */
static void
gemm_part (void *ctx, size_t begin, size_t end)
{
  const GemmJob *g = ctx;
  const int first = (int) begin * SLAB, total = g->by_rows ? g->m : g->n;
  const int count = ((int) end * SLAB < total ? (int) end * SLAB : total) - first;
  if (g->by_rows)
    gemm_serial (g->trans_a, g->trans_b, count, g->n, g->k, g->alpha,
                 g->trans_a ? g->a + first : g->a + (size_t) first * g->lda, g->lda, g->b, g->ldb,
                 g->beta, g->c + (size_t) first * g->ldc, g->ldc);
  else
    gemm_serial (g->trans_a, g->trans_b, g->m, count, g->k, g->alpha, g->a, g->lda,
                 g->trans_b ? g->b + (size_t) first * g->ldb : g->b + first, g->ldb, g->beta,
                 g->c + first, g->ldc);
}

/* C is cut along its longer side, so each thread packs the shorter operand again rather
 * than the longer one; each part is a single-threaded OpenBLAS call (parallel.h). A product
 * under a few MFLOP is not worth waking a helper for. */
void
gemm (bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a, int lda,
      const float *b, int ldb, float beta, float *c, int ldc)
{
  GemmJob g = { .trans_a = trans_a, .trans_b = trans_b, .by_rows = m >= n || n <= 4,
                .m = m, .n = n, .k = k, .lda = lda, .ldb = ldb, .ldc = ldc,
                .alpha = alpha, .beta = beta, .a = a, .b = b, .c = c };
  const int side = g.by_rows ? m : n;
  const bool worth_it = (double) m * n * k >= (1 << 20);
  parallel_for ((size_t) (side + SLAB - 1) / SLAB, worth_it ? 1 : (size_t) -1, gemm_part, &g);
}

void
gemm_ref (bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double *a, int lda,
          const double *b, int ldb, double beta, double *c, int ldc)
{
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++)
      {
        double sum = 0.0;
        for (int p = 0; p < k; p++)
          sum += (trans_a ? a[(size_t) p * lda + i] : a[(size_t) i * lda + p])
                 * (trans_b ? b[(size_t) j * ldb + p] : b[(size_t) p * ldb + j]);
        c[(size_t) i * ldc + j] = alpha * sum + beta * c[(size_t) i * ldc + j];
      }
}
