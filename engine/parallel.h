/* parallel.h — the engine's threads: the caller plus (threads − 1) helpers that sleep when idle.
 *
 * Every matrix product and every heavy loop of a training step is split over these threads,
 * so the number set here is the number of cores the engine uses. OpenBLAS is kept
 * single-threaded inside each part: its own pool's idle workers spin in sched_yield between
 * calls, which took a core from the engine's serial work, the data thread and the GUI.
 *
 * One parallel_for runs at a time. A call made while another is in progress (nested inside a
 * part, or from a second thread such as prediction during training) runs inline on its
 * caller, so the engine never has more busy threads than it was given.
 */
#pragma once

#include <stddef.h>

/* Works on [begin, end) of a range; ctx is the caller's. */
typedef void (*ParallelFn) (void *ctx, size_t begin, size_t end);

/* Threads the engine may use, the caller included (≥ 1). Not while a parallel_for runs.
 * Until set: $OPENBLAS_NUM_THREADS if it holds a number, else the online processors. */
void engine_set_threads (int threads);
int engine_get_threads (void);

/* A nice value for the engine's threads: the helpers (restarted now) and the trainer's thread,
 * which adopts it when it starts. The studio runs its engine at 5, below its main loop, so
 * that a drawing or a drop is not kept waiting for a core by a training step; 0 (the
 * default) leaves every thread as it was created. Not while a parallel_for runs. */
void engine_set_nice (int nice);

/* Gives the calling thread the nice value set above (on Linux, nice is per thread). */
void engine_adopt_nice (void);

/* Runs fn over [0, n) cut into one contiguous range per thread, each at least `grain` long
 * (fewer ranges when n is short), and returns when all are done. The caller runs the first. */
void parallel_for (size_t n, size_t grain, ParallelFn fn, void *ctx);
