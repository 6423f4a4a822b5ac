/* parallel.h — the engine's threads: the caller plus (threads − 1) helpers that sleep when idle.
 *
 * Every matrix product and every heavy loop of a training step is split over these threads,
 * so the number set here is the number of cores the engine uses. OpenBLAS is kept
 * single-threaded inside each part: its own pool's idle workers spin in sched_yield between
 * calls, which took a core from the engine's serial work, the data thread and the GUI.
 *
 * One parallel_for runs at a time. A call made while another is in progress (nested inside a
 * part, or from a second thread such as prediction during training) runs inline on its
 * caller: the pool never grows past what it was given, and a second caller adds only itself.
 * How a range is cut depends on the thread count and on whether the pool was free, so a
 * product can round differently when another thread held the pool.
 */
#pragma once

#include <stddef.h>

/* Works on [begin, end) of a range; ctx is the caller's. */
typedef void (*ParallelFn) (void *ctx, size_t begin, size_t end);

/* Threads the engine may use, the caller included (≥ 1). Waits for a parallel_for in progress
 * on another thread; called from inside a part it would wait for itself. Until set:
 * $OPENBLAS_NUM_THREADS if it holds a number, else the processors this process may run on. */
void engine_set_threads (int threads);
int engine_get_threads (void);

/* A nice value for the engine's threads: the helpers (restarted now) and the trainer's thread,
 * which adopts it when it starts. The studio runs its engine at 5, below its main loop, so
 * that a drawing or a drop is not kept waiting for a core by a training step; 0 (the
 * default) leaves every thread as it was created. Not from inside a part (as above). */
void engine_set_nice (int nice);

/* Gives the calling thread the nice value set above (on Linux, nice is per thread). */
void engine_adopt_nice (void);

/* Items per part for parallel_for when each item is `per_item` floats of work: at least
 * PARALLEL_MIN_FLOATS floats a part, so that a small layer is not split at all (waking a
 * helper costs more than it saves there). */
#define PARALLEL_MIN_FLOATS ((size_t) 1 << 14)

static inline size_t
parallel_grain (size_t per_item)
{
  return per_item >= PARALLEL_MIN_FLOATS ? 1 : PARALLEL_MIN_FLOATS / (per_item ? per_item : 1);
}

/* Runs fn over [0, n) cut into one contiguous range per thread, each at least `grain` long
 * (fewer ranges when n is short), and returns when all are done. The caller runs the first. */
void parallel_for (size_t n, size_t grain, ParallelFn fn, void *ctx);
