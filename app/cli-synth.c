/* hydranet-cli synth — the built-in synthetic faces, written as a UTKFace folder.
 *
 * The drawing runs on worker threads (engine/synth/synth.h); this thread shows progress on
 * stderr and turns Ctrl-C into a cancel. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "synth.h"

static const char help[]
    = "Usage: hydranet-cli synth --out DIR [--count N] [--seed S] [--size PX]\n"
      "                          [--format jpeg|png] [--threads T]\n"
      "\n"
      "Writes N procedurally drawn faces into DIR (created if missing) under UTKFace names,\n"
      "AGE_GENDER_RACE_DATETIME.jpg.chip.jpg (or .png), so that train --data DIR, eval and\n"
      "dataset read them like a downloaded folder. The same seed always gives the same faces;\n"
      "train --synthetic N draws the same faces straight into memory.\n"
      "\n"
      "  --out DIR      the folder to write (required); files of the same names are replaced\n"
      "  --count N      how many faces (default 1000)\n"
      "  --seed S       which faces (default 0)\n"
      "  --size PX      width and height in pixels, 32 to 512 (default 128)\n"
      "  --format F     jpeg (default) or png\n"
      "  --threads T    drawing threads (default 0: one per core)\n"
      "\n"
      "These faces are a teaching aid for watching multi-task training work, not a depiction\n"
      "of real groups of people. Age shows in head proportions, lines, greying and receding\n"
      "hair; gender in hair length, beards and accessories; each race class only in things\n"
      "that are not the person: the background's colour family and the clothing's pattern.\n"
      "Skin tone follows no label. Noise, pose and lighting keep every label imperfect.\n"
      "\n"
      "Prints {\"dir\", \"count\", \"seed\", \"size\", \"format\"} as JSON on stdout.\n";

#define BAR_WIDTH 30

static volatile sig_atomic_t interrupted;

static void
on_sigint (int sig)
{
  interrupted = 1;
}

typedef struct
{
  const char *dir;
  int count, size, threads;
  unsigned long long seed;
  HnSynthFormat format;
  HnLoadProgress progress;
  bool ok;
  HnError err;
  atomic_bool finished;
} SynthJob;

static void *
run_job (void *data)
{
  SynthJob *job = data;
  job->ok = synth_write_folder (job->dir, job->count, job->seed, job->size, job->format,
                                job->threads, &job->progress, &job->err);
  atomic_store (&job->finished, true);
  return NULL;
}

/* A bar redrawn in place on a terminal; otherwise a plain line at most every 2 s. */
static void
show_progress (bool tty, int done, int total, double *last_line, double started)
{
  double now = hn_seconds ();
  if (tty)
    {
      int filled = total > 0 ? (int) ((long long) BAR_WIDTH * done / total) : 0;
      char bar[BAR_WIDTH + 1];
      memset (bar, '#', (size_t) filled);
      memset (bar + filled, '-', (size_t) (BAR_WIDTH - filled));
      bar[BAR_WIDTH] = '\0';
      fprintf (stderr, "\rsynth [%s] %d/%d faces", bar, done, total);
    }
  else if (now - *last_line >= 2.0 && done < total)
    {
      fprintf (stderr, "synth: %d/%d faces, %.0f faces/s\n", done, total,
               done / (now - started + 1e-9));
      *last_line = now;
    }
}

int
cli_synth (int argc, char **argv)
{
  static const struct option options[] = {
    { "out", required_argument, NULL, 'o' },
    { "count", required_argument, NULL, 'n' },
    { "seed", required_argument, NULL, 's' },
    { "size", required_argument, NULL, 'z' },
    { "format", required_argument, NULL, 'f' },
    { "threads", required_argument, NULL, 't' },
    { "help", no_argument, NULL, 'h' }, /* the long help, with what the faces are */
    { 0 },
  };
  SynthJob job = { .count = 1000, .size = 128, .format = SYNTH_JPEG };
  int opt;
  while ((opt = getopt_long (argc, argv, "o:n:s:z:f:t:h", options, NULL)) != -1)
    switch (opt)
      {
      case 'o':
        job.dir = optarg;
        break;
      case 'n':
        if (!cli_parse_int (optarg, 1, 10000000, &job.count))
          return cli_usage_error ("synth", "--count wants a number from 1 to 10000000, not '%s'",
                                  optarg);
        break;
      case 's':
        if (!cli_parse_u64 (optarg, &job.seed))
          return cli_usage_error ("synth", "--seed wants a non-negative integer, not '%s'", optarg);
        break;
      case 'z':
        if (!cli_parse_int (optarg, 32, SYNTH_MAX_SIZE, &job.size))
          return cli_usage_error ("synth", "--size wants a number from 32 to %d, not '%s'",
                                  SYNTH_MAX_SIZE, optarg);
        break;
      case 'f':
        if (strcmp (optarg, "jpeg") == 0 || strcmp (optarg, "jpg") == 0)
          job.format = SYNTH_JPEG;
        else if (strcmp (optarg, "png") == 0)
          job.format = SYNTH_PNG;
        else
          return cli_usage_error ("synth", "--format is jpeg or png, not '%s'", optarg);
        break;
      case 't':
        if (!cli_parse_int (optarg, 0, 256, &job.threads))
          return cli_usage_error ("synth", "--threads wants a number from 0 to 256, not '%s'",
                                  optarg);
        break;
      case 'h':
        fputs (help, stdout);
        return EXIT_OK;
      default:
        return cli_usage_error ("synth", "unknown option");
      }
  if (job.dir == NULL)
    return cli_usage_error ("synth", "--out is required");
  if (optind < argc)
    return cli_usage_error ("synth", "unexpected argument '%s'", argv[optind]);

  struct sigaction sa = { .sa_handler = on_sigint };
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);

  pthread_t worker;
  if (pthread_create (&worker, NULL, run_job, &job) != 0)
    return cli_fail ("cannot start a thread");
  bool tty = isatty (STDERR_FILENO);
  double started = hn_seconds (), last_line = started;
  const struct timespec tick = { 0, 100 * 1000 * 1000 };
  while (!atomic_load (&job.finished))
    {
      if (interrupted)
        atomic_store (&job.progress.cancel, true);
      int total = atomic_load (&job.progress.total);
      if (total > 0)
        show_progress (tty, atomic_load (&job.progress.done), total, &last_line, started);
      nanosleep (&tick, NULL);
    }
  pthread_join (worker, NULL);
  if (tty)
    fputs ("\r\033[K", stderr);

  if (!job.ok)
    {
      if (interrupted)
        return cli_fail ("interrupted after %d of %d faces; those stay in %s",
                         atomic_load (&job.progress.done), job.count, job.dir);
      return cli_fail ("%s", job.err.message);
    }
  fprintf (stderr, "wrote %d faces to %s in %.1f s\n", job.count, job.dir,
           hn_seconds () - started);
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddItemToObject (o, "dir", cli_json_string (job.dir));
  cJSON_AddNumberToObject (o, "count", job.count);
  cJSON_AddNumberToObject (o, "seed", (double) job.seed);
  cJSON_AddNumberToObject (o, "size", job.size);
  cJSON_AddStringToObject (o, "format", job.format == SYNTH_PNG ? "png" : "jpeg");
  cli_print_json (o);
  return EXIT_OK;
}
