/* gemm.h — the one matrix product everything else is built on (OpenBLAS sgemm). */
#pragma once

#include <stdbool.h>

/* Row-major C (M, N) = alpha · op(A) · op(B) + beta · C, op(A) (M, K), op(B) (K, N). */
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

/* Threads OpenBLAS may use (the engine's own loops are single-threaded for now). */
void engine_set_threads (int threads);
int engine_get_threads (void);
