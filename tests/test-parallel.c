/* test-parallel.c — the engine's thread pool: every index done exactly once, by as many
 * threads as it was given, nested and concurrent calls run inline, and matrix products repeat
 * bit for bit on a given number of threads. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "gemm.h"
#include "parallel.h"
#include "relu.h"
#include "residual.h"
#include "rng.h"
#include "test-util.h"
#include "vecops.h"

#define MAX_PARTS 16

typedef struct
{
  atomic_int *count; /* per index: how many times it was visited */
  pthread_mutex_t lock;
  int parts;
  size_t begin[MAX_PARTS], end[MAX_PARTS];
  pthread_t who[MAX_PARTS];
} Visits;

static void
visit (void *ctx, size_t begin, size_t end)
{
  Visits *v = ctx;
  for (size_t i = begin; i < end; i++)
    atomic_fetch_add (&v->count[i], 1);
  pthread_mutex_lock (&v->lock);
  if (v->parts < MAX_PARTS)
    {
      v->begin[v->parts] = begin;
      v->end[v->parts] = end;
      v->who[v->parts] = pthread_self ();
    }
  v->parts++;
  pthread_mutex_unlock (&v->lock);
}

static void
check_cover (int threads, size_t n, size_t grain)
{
  Visits v = { .count = calloc (n + 1, sizeof (atomic_int)), .lock = PTHREAD_MUTEX_INITIALIZER };
  parallel_for (n, grain, visit, &v);
  for (size_t i = 0; i < n; i++)
    ck_assert_msg (v.count[i] == 1, "threads %d n %zu grain %zu: index %zu visited %d times",
                   threads, n, grain, i, (int) v.count[i]);
  size_t want_parts = grain ? n / grain : n;
  if (want_parts > (size_t) threads)
    want_parts = threads;
  if (want_parts < 2)
    want_parts = n > 0;
  ck_assert_msg ((size_t) v.parts == want_parts, "threads %d n %zu grain %zu: %d parts, want %zu",
                 threads, n, grain, v.parts, want_parts);
  for (int p = 0; p < v.parts && v.parts > 1; p++)
    ck_assert_uint_ge (v.end[p] - v.begin[p], grain);
  /* two parts or more: on as many different threads */
  for (int p = 0; p < v.parts; p++)
    for (int q = p + 1; q < v.parts; q++)
      ck_assert (!pthread_equal (v.who[p], v.who[q]));
  free (v.count);
}

START_TEST (test_every_index_once)
{
  static const size_t sizes[] = { 0, 1, 2, 3, 7, 64, 1000, 100003 };
  static const size_t grains[] = { 1, 5, 1000 };
  for (int threads = 1; threads <= 4; threads++)
    {
      engine_set_threads (threads);
      ck_assert_int_eq (engine_get_threads (), threads);
      for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        for (size_t g = 0; g < sizeof grains / sizeof *grains; g++)
          check_cover (threads, sizes[i], grains[g]);
    }
  engine_set_threads (0); /* clamped to one */
  ck_assert_int_eq (engine_get_threads (), 1);
}
END_TEST

typedef struct
{
  atomic_int inline_calls, calls;
} Nested;

static void
inner (void *ctx, size_t begin, size_t end)
{
  Nested *n = ctx;
  (void) begin, (void) end;
  atomic_fetch_add (&n->calls, 1);
}

static void
outer (void *ctx, size_t begin, size_t end)
{
  Nested *n = ctx;
  (void) begin, (void) end;
  parallel_for (100, 1, inner, n); /* the pool is busy: must run here, as one range */
  atomic_fetch_add (&n->inline_calls, 1);
}

START_TEST (test_nested_runs_inline)
{
  engine_set_threads (2);
  Nested n = { 0 };
  parallel_for (2, 1, outer, &n);
  ck_assert_int_eq (n.inline_calls, 2);
  ck_assert_int_eq (n.calls, 2); /* one whole-range call per outer part */
}
END_TEST

/* Sums 0..n−1 through parallel_for, many times, from one thread. */
typedef struct
{
  atomic_llong sum;
} Sum;

static void
add_range (void *ctx, size_t begin, size_t end)
{
  Sum *s = ctx;
  long long part = 0;
  for (size_t i = begin; i < end; i++)
    part += (long long) i;
  atomic_fetch_add (&s->sum, part);
}

static void *
sum_many (void *arg)
{
  int *bad = arg;
  for (int r = 0; r < 2000; r++)
    {
      const size_t n = 1000 + (size_t) r;
      Sum s = { 0 };
      parallel_for (n, 10, add_range, &s);
      if (s.sum != (long long) n * (long long) (n - 1) / 2)
        (*bad)++;
    }
  return NULL;
}

START_TEST (test_concurrent_callers)
{
  /* the trainer and the predictor both call into the engine: whichever finds the pool busy
   * runs inline; neither waits forever nor loses work */
  engine_set_threads (2);
  int bad[2] = { 0, 0 };
  pthread_t other;
  ck_assert_int_eq (pthread_create (&other, NULL, sum_many, &bad[1]), 0);
  sum_many (&bad[0]);
  pthread_join (other, NULL);
  ck_assert_int_eq (bad[0], 0);
  ck_assert_int_eq (bad[1], 0);
}
END_TEST

static void
sleep_ms (int ms)
{
  struct timespec t = { .tv_sec = 0, .tv_nsec = ms * 1000000L };
  nanosleep (&t, NULL);
}

/* The range's last part sleeps: the caller, done first, outwaits its spin and sleeps too. */
static void
slow_last_part (void *ctx, size_t begin, size_t end)
{
  if (begin > 0)
    sleep_ms (5);
  add_range (ctx, begin, end);
}

START_TEST (test_sleeping_waits)
{
  /* Both ways a thread ends up asleep: the caller waiting for a slow helper, and a helper
   * waiting through a gap between two jobs longer than its spin. Each must be woken. */
  engine_set_threads (2);
  for (int r = 0; r < 5; r++)
    {
      Sum s = { 0 };
      parallel_for (1000, 1, slow_last_part, &s);
      ck_assert_int_eq (s.sum, 1000LL * 999 / 2);
      sleep_ms (3); /* the helper goes to sleep on its condition variable */
      Sum t = { 0 };
      parallel_for (1000, 1, add_range, &t);
      ck_assert_int_eq (t.sum, 1000LL * 999 / 2);
    }
}
END_TEST

static void
record_nice (void *ctx, size_t begin, size_t end)
{
  int *nice = ctx;
  for (size_t i = begin; i < end; i++)
    nice[i] = getpriority (PRIO_PROCESS, 0); /* this thread's, on Linux */
}

static void *
adopt_and_report (void *arg)
{
  engine_adopt_nice ();
  *(int *) arg = getpriority (PRIO_PROCESS, 0);
  return NULL;
}

START_TEST (test_nice_helpers)
{
  /* the studio's engine runs below its main loop: helpers and the trainer's thread take the
   * nice value, the calling thread keeps its own */
  engine_set_threads (2);
  const int own = getpriority (PRIO_PROCESS, 0);
  engine_set_nice (own + 3);
  int nice[2] = { -100, -100 };
  parallel_for (2, 1, record_nice, nice);
  ck_assert_int_eq (nice[0], own);     /* part 0: the caller */
  ck_assert_int_eq (nice[1], own + 3); /* part 1: a helper */
  int adopted = -100;
  pthread_t t;
  ck_assert_int_eq (pthread_create (&t, NULL, adopt_and_report, &adopted), 0);
  pthread_join (t, NULL);
  ck_assert_int_eq (adopted, own + 3);
  ck_assert_int_eq (getpriority (PRIO_PROCESS, 0), own);
}
END_TEST

static float *
random_matrix (HnRng *rng, size_t n)
{
  float *v = malloc (n * sizeof *v);
  for (size_t i = 0; i < n; i++)
    v[i] = (float) (2 * rng_uniform (rng) - 1);
  return v;
}

/* The cut is fixed for a thread count, so a product repeats bit for bit; across thread counts
 * OpenBLAS's kernels round the edge rows of a part differently, so results agree to float
 * round-off only (as they did with OpenBLAS's own threads). */
START_TEST (test_gemm_on_any_threads)
{
  /* a split by rows, one by columns, a few-column (sgemv) product, all four transposes */
  static const int shapes[][3] = { { 600, 70, 90 }, { 40, 700, 100 }, { 900, 3, 1200 } };
  HnRng rng = { .seed = 11 };
  for (int s = 0; s < 3; s++)
    for (int t = 0; t < 4; t++)
      {
        const bool ta = t & 1, tb = t & 2;
        const int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        const size_t mn = (size_t) m * n;
        float *a = random_matrix (&rng, (size_t) m * k), *b = random_matrix (&rng, (size_t) k * n);
        float *c0 = random_matrix (&rng, mn);
        float *c = malloc (mn * sizeof *c), *again = malloc (mn * sizeof *again);
        float *serial = malloc (mn * sizeof *serial);
        char what[96];
        for (int threads = 1; threads <= 3; threads++)
          {
            engine_set_threads (threads);
            for (int r = 0; r < 2; r++)
              {
                memcpy (r ? again : c, c0, mn * sizeof *c);
                gemm (ta, tb, m, n, k, 0.5f, a, ta ? m : k, b, tb ? k : n, 0.75f, r ? again : c, n);
              }
            snprintf (what, sizeof what, "gemm %c%c %dx%dx%d on %d threads", ta ? 'T' : 'N',
                      tb ? 'T' : 'N', m, n, k, threads);
            ck_assert_msg (memcmp (c, again, mn * sizeof *c) == 0, "%s: not repeatable", what);
            if (threads == 1)
              memcpy (serial, c, mn * sizeof *serial);
            else
              assert_close (what, c, serial, mn, 1e-5, 1e-5);
          }
        free (a), free (b), free (c0), free (c), free (again), free (serial);
      }
}
END_TEST

/* The elementwise passes between layers, cut between threads: the same bits as a plain loop
 * on any thread count, up to the last element (n is not a multiple of the cut). */
START_TEST (test_elementwise_on_any_threads)
{
  const size_t n = 5 * PARALLEL_MIN_FLOATS + 7; /* five parts and a tail */
  HnRng rng = { .seed = 12 };
  float *x = random_matrix (&rng, n), *y0 = random_matrix (&rng, n), *mask = random_matrix (&rng, n);
  float *want = malloc (n * sizeof *want), *got = malloc (n * sizeof *got);
  for (size_t i = 0; i < n; i += 7)
    mask[i] = x[i] = 0.0f; /* a ReLU passes no gradient at exactly 0 */
  for (int threads = 1; threads <= 3; threads++)
    {
      engine_set_threads (threads);

      memcpy (got, y0, n * sizeof *got);
      vec_zero (got + 1, n - 2); /* an unaligned start and a short end */
      ck_assert (got[0] == y0[0] && got[n - 1] == y0[n - 1]);
      for (size_t i = 1; i < n - 1; i++)
        ck_assert_msg (got[i] == 0.0f, "vec_zero [%zu] on %d threads", i, threads);

      for (size_t i = 0; i < n; i++)
        want[i] = y0[i] + x[i];
      memcpy (got, y0, n * sizeof *got);
      vec_add (got, x, n);
      ck_assert_msg (memcmp (got, want, n * sizeof *got) == 0, "vec_add on %d threads", threads);

      for (size_t i = 0; i < n; i++)
        want[i] = x[i] > 0.0f ? x[i] : 0.0f;
      relu_forward (got, x, n);
      ck_assert_msg (memcmp (got, want, n * sizeof *got) == 0, "relu on %d threads", threads);

      for (size_t i = 0; i < n; i++)
        want[i] = y0[i] + (mask[i] > 0.0f ? x[i] : 0.0f);
      memcpy (got, y0, n * sizeof *got);
      relu_backward (got, x, mask, n);
      ck_assert_msg (memcmp (got, want, n * sizeof *got) == 0, "relu dx on %d threads", threads);

      for (size_t i = 0; i < n; i++)
        want[i] = mask[i] > 0.0f ? y0[i] : 0.0f;
      memcpy (got, y0, n * sizeof *got);
      relu_backward (got, got, mask, n); /* masked in place */
      ck_assert_msg (memcmp (got, want, n * sizeof *got) == 0, "relu mask on %d threads", threads);

      for (size_t i = 0; i < n; i++)
        want[i] = y0[i] + x[i] > 0.0f ? y0[i] + x[i] : 0.0f;
      memcpy (got, y0, n * sizeof *got);
      residual_add_relu_forward (got, x, n);
      ck_assert_msg (memcmp (got, want, n * sizeof *got) == 0, "residual on %d threads", threads);
    }
  free (x), free (y0), free (mask), free (want), free (got);
}
END_TEST

static Suite *
parallel_suite (void)
{
  Suite *s = suite_create ("parallel");
  TCase *tc = tcase_create ("core");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_every_index_once);
  tcase_add_test (tc, test_nested_runs_inline);
  tcase_add_test (tc, test_concurrent_callers);
  tcase_add_test (tc, test_sleeping_waits);
  tcase_add_test (tc, test_nice_helpers);
  tcase_add_test (tc, test_gemm_on_any_threads);
  tcase_add_test (tc, test_elementwise_on_any_threads);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (parallel_suite ());
}
