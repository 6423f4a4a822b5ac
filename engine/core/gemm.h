/* gemm.h — the one matrix product everything else is built on (OpenBLAS sgemm). */
#pragma once

#include <stdbool.h>

/* Row-major C (M, N) = alpha · op(A) · op(B) + beta · C, op(A) (M, K), op(B) (K, N).
 * Split over the engine's threads (parallel.h). Products with only a few columns (batch-1
 * inference) run as one sgemv per column. */
void gemm (bool trans_a,
           bool trans_b,
           int m,
           int n,
           int k,
           float alpha,
           const float *a,
           int lda,
           const float *b,
           int ldb,
           float beta,
           float *c,
           int ldc);

/* The same product, naively and in double: the oracle the tests check gemm against. */
void gemm_ref (bool trans_a,
               bool trans_b,
               int m,
               int n,
               int k,
               double alpha,
               const double *a,
               int lda,
               const double *b,
               int ldb,
               double beta,
               double *c,
               int ldc);
