#include "parallel.h"

#include <cblas.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clock.h"

#define MAX_THREADS 256
/* How a thread waits for a job or for the helpers. First SPIN_PAUSES pause instructions,
 * which cover the serial work between two parallel loops of a training step. Then
 * sched_yield until YIELD_SECONDS: still awake for the next loop, but any other runnable
 * thread (the GUI, the data thread, a prediction) gets the core first, which spinning on
 * pause alone kept from the studio's main loop (docs/performance.md). Then sleep: between
 * steps and when idle, the helpers cost nothing. */
#define SPIN_PAUSES 2000
#define YIELD_SECONDS 500e-6

typedef struct
{
  pthread_mutex_t run;  /* held by the thread whose parallel_for the helpers are running */
  pthread_mutex_t lock; /* guards the sleeps on wake and done */
  pthread_cond_t wake, done;
  pthread_t helpers[MAX_THREADS];
  atomic_int threads;         /* the caller included */
  atomic_int nice;            /* of the helpers, and of threads the engine starts */
  atomic_uint generation;     /* bumped once per job, and to quit */
  unsigned start_generation;  /* the generation the current helpers were started at */
  atomic_int pending;         /* helpers still on the current job */
  bool quit; /* plain: written, like the job, before the bump of generation that publishes it */
  /* the job, written before generation is bumped */
  ParallelFn fn;
  void *ctx;
  size_t n, parts;
} Pool;

static Pool pool = {
  .run = PTHREAD_MUTEX_INITIALIZER,
  .lock = PTHREAD_MUTEX_INITIALIZER,
  .wake = PTHREAD_COND_INITIALIZER,
  .done = PTHREAD_COND_INITIALIZER,
  .threads = 1,
};
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#endif
}

typedef struct
{
  int pauses;
  double yield_since;
} Spin;

/* One more round of waiting, or false when it is time to sleep. */
static bool
spin_more (Spin *spin)
{
  if (spin->pauses < SPIN_PAUSES)
    {
      spin->pauses++;
      cpu_relax ();
      return true;
    }
  const double now = hn_seconds ();
  if (spin->yield_since == 0.0)
    spin->yield_since = now;
  if (now - spin->yield_since > YIELD_SECONDS)
    return false;
  sched_yield ();
  return true;
}

static void
run_part (size_t part)
{
  if (part >= pool.parts)
    return;
  pool.fn (pool.ctx, pool.n * part / pool.parts, pool.n * (part + 1) / pool.parts);
}

/* Spins, then sleeps, until the generation moves past `seen`; returns the new one. */
static unsigned
wait_for_job (unsigned seen)
{
  unsigned g = atomic_load_explicit (&pool.generation, memory_order_acquire);
  Spin spin = { 0 };
  while (g == seen && spin_more (&spin))
    g = atomic_load_explicit (&pool.generation, memory_order_acquire);
  if (g != seen)
    return g;
  pthread_mutex_lock (&pool.lock);
  while ((g = atomic_load (&pool.generation)) == seen)
    pthread_cond_wait (&pool.wake, &pool.lock);
  pthread_mutex_unlock (&pool.lock);
  return g;
}

static void *
helper_main (void *arg)
{
  const size_t part = (size_t) (uintptr_t) arg;
  unsigned seen = pool.start_generation;
  engine_adopt_nice ();
  for (;;)
    {
      seen = wait_for_job (seen);
      if (pool.quit)
        return NULL;
      run_part (part);
      if (atomic_fetch_sub_explicit (&pool.pending, 1, memory_order_acq_rel) == 1)
        {
          pthread_mutex_lock (&pool.lock);
          pthread_cond_signal (&pool.done);
          pthread_mutex_unlock (&pool.lock);
        }
    }
}

static void
wait_for_helpers (void)
{
  Spin spin = { 0 };
  while (atomic_load_explicit (&pool.pending, memory_order_acquire) > 0 && spin_more (&spin))
    ;
  if (atomic_load (&pool.pending) == 0)
    return;
  pthread_mutex_lock (&pool.lock);
  while (atomic_load (&pool.pending) > 0)
    pthread_cond_wait (&pool.done, &pool.lock);
  pthread_mutex_unlock (&pool.lock);
}

static void
post_job (void)
{
  atomic_store (&pool.pending, atomic_load (&pool.threads) - 1);
  pthread_mutex_lock (&pool.lock);
  atomic_fetch_add_explicit (&pool.generation, 1, memory_order_release);
  pthread_cond_broadcast (&pool.wake);
  pthread_mutex_unlock (&pool.lock);
}

/* With pool.run held and no helpers running. A helper that cannot be created leaves the
 * engine with fewer threads, never with a missing part. */
static void
start_helpers (int threads)
{
  threads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
  pool.quit = false;
  pool.start_generation = atomic_load (&pool.generation);
  int running = 1; /* the caller */
  while (running < threads
         && pthread_create (&pool.helpers[running], NULL, helper_main, (void *) (uintptr_t) running)
                == 0)
    running++;
  atomic_store (&pool.threads, running);
}

/* With pool.run held. */
static void
stop_helpers (void)
{
  const int threads = atomic_load (&pool.threads);
  if (threads == 1)
    return;
  pool.quit = true;
  post_job ();
  for (int i = 1; i < threads; i++)
    pthread_join (pool.helpers[i], NULL);
  atomic_store (&pool.threads, 1);
}

static int
default_threads (void)
{
  const char *env = getenv ("OPENBLAS_NUM_THREADS");
  char *end;
  long n = env != NULL ? strtol (env, &end, 10) : 0;
  if (env != NULL && end != env && *end == '\0' && n >= 1)
    return n > MAX_THREADS ? MAX_THREADS : (int) n;
  cpu_set_t allowed; /* under taskset or a cgroup's cpuset, fewer than are online */
  if (sched_getaffinity (0, sizeof allowed, &allowed) == 0 && CPU_COUNT (&allowed) >= 1)
    return CPU_COUNT (&allowed) < MAX_THREADS ? CPU_COUNT (&allowed) : MAX_THREADS;
  n = sysconf (_SC_NPROCESSORS_ONLN);
  return n >= 1 ? (n < MAX_THREADS ? (int) n : MAX_THREADS) : 1;
}

static void
start_default (void)
{
  openblas_set_num_threads (1);
  pthread_mutex_lock (&pool.run);
  start_helpers (default_threads ());
  pthread_mutex_unlock (&pool.run);
}

void
engine_set_threads (int threads)
{
  pthread_once (&pool_once, start_default);
  pthread_mutex_lock (&pool.run);
  stop_helpers ();
  start_helpers (threads);
  pthread_mutex_unlock (&pool.run);
}

void
engine_set_nice (int nice)
{
  pthread_once (&pool_once, start_default);
  pthread_mutex_lock (&pool.run);
  const int threads = atomic_load (&pool.threads);
  atomic_store (&pool.nice, nice);
  stop_helpers ();
  start_helpers (threads);
  pthread_mutex_unlock (&pool.run);
}

void
engine_adopt_nice (void)
{
  const int nice = atomic_load (&pool.nice);
  if (nice != 0)
    setpriority (PRIO_PROCESS, 0, nice); /* Linux: the calling thread only; best effort */
}

int
engine_get_threads (void)
{
  pthread_once (&pool_once, start_default);
  return atomic_load (&pool.threads);
}

void
parallel_for (size_t n, size_t grain, ParallelFn fn, void *ctx)
{
  pthread_once (&pool_once, start_default);
  const size_t most = grain > 0 ? n / grain : n; /* ranges of at least grain */
  if (most >= 2 && pthread_mutex_trylock (&pool.run) == 0)
    {
      const size_t threads = (size_t) atomic_load (&pool.threads);
      pool.parts = most < threads ? most : threads;
      if (pool.parts >= 2)
        {
          pool.fn = fn;
          pool.ctx = ctx;
          pool.n = n;
          post_job ();
          run_part (0);
          wait_for_helpers ();
          pthread_mutex_unlock (&pool.run);
          return;
        }
      pthread_mutex_unlock (&pool.run);
    }
  if (n > 0)
    fn (ctx, 0, n);
}
