#include "gemm.h"

#include <cblas.h>

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
 * still packs all of A for them, and with two threads it was slower than with one: at
 * batch 1 that packing was most of the inference time. A (threaded) sgemv per column reads
 * A in place. Measured on the target (2 cores, AVX2): it wins while N ≤ 4 per thread and A
 * has at least 2¹⁶ elements; below that sgemm is as fast, above it sgemm pulls ahead. */
static bool
use_columns (int m, int n, int k)
{
  return n <= 4 * openblas_get_num_threads () && (size_t) m * k >= (1 << 16);
}

void
gemm (bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a, int lda,
      const float *b, int ldb, float beta, float *c, int ldc)
{
  if (use_columns (m, n, k))
    {
      gemm_by_columns (trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      return;
    }
  cblas_sgemm (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
               trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
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

void
engine_set_threads (int threads)
{
  openblas_set_num_threads (threads > 0 ? threads : 1);
}

int
engine_get_threads (void)
{
  return openblas_get_num_threads ();
}
