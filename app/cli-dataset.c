/* hydranet-cli dataset — what a UTKFace folder holds, as one JSON object.
 *
 * The folder is opened exactly as training opens it (same cache), so this is also the way
 * to build the cache ahead of time. Progress goes to stderr from a second thread that polls
 * the loader's counters: a live bar on a terminal, a line per 10% otherwise. Ctrl-C cancels
 * the load cleanly (no partial cache); a second Ctrl-C kills as usual.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "dataset.h"
#include "stats.h"

/* The age histogram's bins: decades, the last one up to LABEL_MAX_AGE. */
#define AGE_BIN_YEARS 10

static HnLoadProgress *interrupted_load;

static void
on_interrupt (int sig)
{
  /* A lock-free atomic store is async-signal-safe. */
  if (interrupted_load != NULL)
    atomic_store (&interrupted_load->cancel, true);
}

typedef struct
{
  HnLoadProgress *progress;
  atomic_bool finished;
  bool tty;
} Reporter;

static void
report (Reporter *r, int done, int total, int *last_tenth)
{
  if (total <= 0)
    return;
  int percent = (int) ((long long) done * 100 / total);
  if (r->tty)
    {
      char bar[31];
      int filled = percent * 30 / 100;
      memset (bar, '#', filled);
      memset (bar + filled, '.', 30 - filled);
      bar[30] = '\0';
      fprintf (stderr, "\rLoading images [%s] %3d%% %d/%d", bar, percent, done, total);
    }
  else if (percent / 10 > *last_tenth)
    {
      *last_tenth = percent / 10;
      fprintf (stderr, "hydranet-cli dataset: %d/%d images (%d%%)\n", done, total, percent);
    }
}

static void *
report_progress (void *data)
{
  Reporter *r = data;
  int last_tenth = 0, shown = 0;
  while (!atomic_load (&r->finished))
    {
      int done = atomic_load (&r->progress->done), total = atomic_load (&r->progress->total);
      if (done != shown)
        report (r, done, total, &last_tenth);
      shown = done;
      nanosleep (&(struct timespec){ .tv_nsec = 100 * 1000 * 1000 }, NULL);
    }
  /* Where the load ended, even when it ended before the first look. */
  int done = atomic_load (&r->progress->done), total = atomic_load (&r->progress->total);
  report (r, done, total, &last_tenth);
  if (r->tty && total > 0)
    fputc ('\n', stderr);
  return NULL;
}

static void
add_string (cJSON *to, const char *key, const char *s)
{
  cJSON *item = cli_json_string (s);
  if (key != NULL)
    cJSON_AddItemToObject (to, key, item);
  else
    cJSON_AddItemToArray (to, item);
}

static cJSON *
dataset_json (const char *dir, const HnDataset *ds, int val_percent, double seconds)
{
  HnDatasetStats st;
  dataset_stats (ds, val_percent, AGE_BIN_YEARS, &st);
  cJSON *o = cJSON_CreateObject ();
  add_string (o, "folder", dir);
  cJSON_AddNumberToObject (o, "size", ds->size);
  cJSON_AddNumberToObject (o, "files", ds->n + ds->n_skipped);
  cJSON_AddNumberToObject (o, "usable", ds->n);

  cJSON *skipped = cJSON_AddArrayToObject (o, "skipped");
  for (int i = 0; i < ds->n_skipped; i++)
    {
      cJSON *s = cJSON_CreateObject ();
      add_string (s, "file", ds->skipped[i].file);
      add_string (s, "reason", ds->skipped[i].reason);
      cJSON_AddItemToArray (skipped, s);
    }

  /* Each group's first file is the copy in use; "kept_in" says on which side of the split
   * it landed ("train" always when the copies' labels conflict: never_val). */
  cJSON *groups = cJSON_AddArrayToObject (o, "duplicate_groups");
  for (int i = 0; i < ds->n_duplicates; i++)
    {
      const HnDuplicateGroup *g = &ds->duplicates[i];
      HnDuplicateStats gs;
      dataset_duplicate_stats (ds, i, val_percent, &gs);
      cJSON *j = cJSON_CreateObject ();
      cJSON *files = cJSON_AddArrayToObject (j, "files");
      for (int f = 0; f < g->n_files; f++)
        add_string (files, NULL, g->files[f]);
      cJSON_AddBoolToObject (j, "conflicting", g->conflicting);
      add_string (j, "kept", g->files[0]);
      if (gs.kept >= 0)
        cJSON_AddStringToObject (j, "kept_in", gs.kept_in_val ? "val" : "train");
      cJSON_AddItemToArray (groups, j);
    }

  cJSON_AddNumberToObject (o, "val_percent", val_percent);
  cJSON_AddNumberToObject (o, "train", st.n_train);
  cJSON_AddNumberToObject (o, "val", st.n_val);
  cJSON_AddNumberToObject (o, "never_val", st.n_never_val);
  /* Counts indexed by label: gender [male, female], race [white, black, asian, indian,
   * other], as the names' digits; the key lists repeat the order. */
  cJSON_AddItemToObject (o, "gender", cJSON_CreateIntArray (st.gender, N_GENDERS));
  cJSON_AddItemToObject (o, "gender_labels", cJSON_CreateStringArray (gender_names, N_GENDERS));
  cJSON_AddItemToObject (o, "race", cJSON_CreateIntArray (st.race, N_RACES));
  cJSON_AddItemToObject (o, "race_labels", cJSON_CreateStringArray (race_names, N_RACES));
  cJSON *hist = cJSON_AddObjectToObject (o, "age_histogram");
  for (int b = 0; b < st.n_age_bins; b++)
    {
      char bin[16];
      int hi = b * AGE_BIN_YEARS + AGE_BIN_YEARS - 1;
      snprintf (bin, sizeof bin, "%d-%d", b * AGE_BIN_YEARS,
                hi < LABEL_MAX_AGE ? hi : LABEL_MAX_AGE);
      cJSON_AddNumberToObject (hist, bin, st.age_train[b] + st.age_val[b]);
    }

  cJSON_AddBoolToObject (o, "from_cache", ds->from_cache);
  const char *cache_file = dataset_cache_file (ds);
  if (cache_file != NULL)
    add_string (o, "cache_file", cache_file);
  else
    cJSON_AddNullToObject (o, "cache_file");
  add_string (o, "cache", dataset_cache_status (ds));
  cJSON_AddNumberToObject (o, "load_seconds", seconds);
  return o;
}

int
cli_dataset (int argc, char **argv)
{
  static const struct option options[] = {
    { "size", required_argument, NULL, 's' },
    { "cache-dir", required_argument, NULL, 'c' },
    { "threads", required_argument, NULL, 't' },
    { "val-percent", required_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { 0 },
  };
  const char *cache_dir = NULL;
  int size = 32, threads = 0, val_percent = 20, opt;
  while ((opt = getopt_long (argc, argv, "s:c:t:v:", options, NULL)) != -1)
    switch (opt)
      {
      case 's':
        if (!cli_parse_int (optarg, 1, 100000, &size) || !dataset_size_supported (size))
          return cli_usage_error ("dataset", "--size wants 32, 64, 96 or 128, not '%s'", optarg);
        break;
      case 'c':
        cache_dir = optarg;
        break;
      case 't':
        if (!cli_parse_int (optarg, 1, 256, &threads))
          return cli_usage_error ("dataset", "--threads wants a number from 1 to 256, not '%s'",
                                  optarg);
        break;
      case 'v':
        if (!cli_parse_int (optarg, 0, 100, &val_percent))
          return cli_usage_error ("dataset", "--val-percent wants a number from 0 to 100, not '%s'",
                                  optarg);
        break;
      case 'h':
        fputs ("Usage: hydranet-cli dataset DIR [--size 32|64|96|128] [--val-percent 20]\n"
               "                            [--cache-dir DIR] [--threads T]\n\n"
               "Reads a folder of UTKFace images (AGE_GENDER_RACE_DATETIME.jpg.chip.jpg) as\n"
               "training would, and prints one JSON object: usable images, every skipped file\n"
               "with its reason, groups of byte-identical files (flagged when their labels\n"
               "conflict), the train/validation split by content hash, gender and race\n"
               "counts, and an age histogram. The preprocessed pixels are cached in\n"
               "$XDG_CACHE_HOME/hydranet-studio (--cache-dir '' turns that off), so the\n"
               "second look at a folder is near instant.\n", stdout);
        return EXIT_OK;
      default:
        return cli_usage_error ("dataset", "unknown option");
      }
  if (optind >= argc)
    return cli_usage_error ("dataset", "which folder? Give DIR, a folder of UTKFace images");
  if (optind + 1 < argc)
    return cli_usage_error ("dataset", "one folder only, not '%s' too", argv[optind + 1]);
  const char *dir = argv[optind];

  HnLoadProgress progress = { 0 };
  Reporter reporter = { .progress = &progress, .tty = isatty (STDERR_FILENO) };
  pthread_t reporter_thread;
  bool reporting = pthread_create (&reporter_thread, NULL, report_progress, &reporter) == 0;
  interrupted_load = &progress;
  struct sigaction sa = { .sa_handler = on_interrupt, .sa_flags = SA_RESETHAND }, old_int, old_term;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, &old_int);
  sigaction (SIGTERM, &sa, &old_term);

  HnError err = { 0 };
  double t0 = hn_seconds ();
  HnDataset *ds = dataset_open_folder (dir, size, cache_dir, threads, &progress, &err);
  double seconds = hn_seconds () - t0;

  sigaction (SIGINT, &old_int, NULL);
  sigaction (SIGTERM, &old_term, NULL);
  interrupted_load = NULL;
  atomic_store (&reporter.finished, true);
  if (reporting)
    pthread_join (reporter_thread, NULL);
  if (ds == NULL)
    return cli_fail ("%s", err.message);

  fprintf (stderr,
           "hydranet-cli dataset: %d usable, %d skipped, %d groups of copies in %.2f s "
           "(cache: %s)\n",
           ds->n, ds->n_skipped, ds->n_duplicates, seconds, dataset_cache_status (ds));
  cli_print_json (dataset_json (dir, ds, val_percent, seconds));
  dataset_free (ds);
  return EXIT_OK;
}
