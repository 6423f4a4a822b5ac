/* hydranet-cli bench — training and inference speed, with the reference bench's keys and
 * method: 3 warm-up steps, then the median images/s of `runs` runs of `steps` SGD steps
 * (L1 + BCE + CE) on a fixed random batch; the median of 100 batch-1 eval forwards. */
#include <getopt.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "cli.h"
#include "clock.h"
#include "parallel.h"
#include "model.h"
#include "optimizer.h"
#include "rng.h"

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (double *v, int n)
{
  qsort (v, n, sizeof *v, compare_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct
{
  int size, batch, threads, steps, runs;
  HnBackbone backbone;
} BenchArgs;

static int
parse (int argc, char **argv, BenchArgs *a)
{
  static const struct option options[] = {
    { "size", required_argument, NULL, 'z' },
    { "batch", required_argument, NULL, 'n' },
    { "threads", required_argument, NULL, 't' },
    { "steps", required_argument, NULL, 's' },
    { "runs", required_argument, NULL, 'r' },
    { "backbone", required_argument, NULL, 'b' },
    { 0 },
  };
  *a = (BenchArgs) { .size = 32, .batch = 64, .threads = 2, .steps = 20, .runs = 5,
                     .backbone = BACKBONE_RESNET18 };
  int opt;
  while ((opt = getopt_long (argc, argv, "z:n:t:s:r:b:", options, NULL)) != -1)
    {
      bool ok = true;
      switch (opt)
        {
        case 'z': ok = cli_parse_int (optarg, MODEL_MIN_SIZE, MODEL_MAX_SIZE, &a->size); break;
        case 'n': ok = cli_parse_int (optarg, 2, 4096, &a->batch); break;
        case 't': ok = cli_parse_int (optarg, 1, 256, &a->threads); break;
        case 's': ok = cli_parse_int (optarg, 1, 100000, &a->steps); break;
        case 'r': ok = cli_parse_int (optarg, 1, 1000, &a->runs); break;
        case 'b': ok = backbone_from_name (optarg, &a->backbone); break;
        default: return cli_usage_error ("bench", "unknown option");
        }
      if (!ok)
        return cli_bad_value ("bench", options, opt, optarg);
    }
  return EXIT_OK;
}

/* A fixed random batch: x (N, 3, S, S) and its targets. */
typedef struct
{
  float *x, *age, *gender;
  int32_t *race;
} Batch;

static bool
make_batch (int batch, int size, Batch *b)
{
  size_t per_image = (size_t) 3 * size * size;
  b->x = malloc (sizeof (float) * per_image * batch);
  b->age = malloc (sizeof (float) * batch);
  b->gender = malloc (sizeof (float) * batch);
  b->race = malloc (sizeof (int32_t) * batch);
  if (!b->x || !b->age || !b->gender || !b->race)
    return false;
  HnRng rng = { .seed = 1 };
  for (size_t i = 0; i < per_image * batch; i++)
    b->x[i] = (float) rng_normal (&rng);
  for (int i = 0; i < batch; i++)
    {
      b->age[i] = (float) (100.0 * rng_uniform (&rng));
      b->gender[i] = (float) rng_below (&rng, 2);
      b->race[i] = (int32_t) rng_below (&rng, N_RACES);
    }
  return true;
}

static void
free_batch (Batch *b)
{
  free (b->x);
  free (b->age);
  free (b->gender);
  free (b->race);
}

/* The median images/s of `runs` runs of `steps` SGD steps, after 3 warm-up steps. rates
 * holds at least `runs` doubles. */
static double
time_training (HnModel *model, HnOptimizer *optimizer, const Batch *b, const BenchArgs *a,
               double *rates)
{
  const HnTargets targets = { b->age, b->gender, b->race };
  const HnLossConfig losses = { AGE_LOSS_L1, { 1.0f, 1.0f, 1.0f } };
  for (int r = -1; r < a->runs; r++) /* run −1: the warm-up */
    {
      int n_steps = r < 0 ? 3 : a->steps;
      double t0 = hn_seconds ();
      for (int s = 0; s < n_steps; s++)
        {
          model_zero_grad (model);
          model_forward (model, b->x, a->batch, true);
          model_loss (model, &targets, &losses);
          model_backward (model);
          optimizer_step (optimizer, model_param_data (model), model_grad_data (model));
        }
      if (r >= 0)
        rates[r] = a->batch * n_steps / (hn_seconds () - t0);
    }
  return median (rates, a->runs);
}

/* The median milliseconds of 100 batch-1 eval forwards, after 10 warm-up ones. times holds
 * at least 100 doubles. */
static double
time_inference (HnModel *model, const Batch *b, double *times)
{
  for (int i = 0; i < 110; i++)
    {
      double t0 = hn_seconds ();
      model_forward (model, b->x, 1, false);
      if (i >= 10)
        times[i - 10] = (hn_seconds () - t0) * 1e3;
    }
  return median (times, 100);
}

int
cli_bench (int argc, char **argv)
{
  BenchArgs a;
  int status = parse (argc, argv, &a);
  if (status != EXIT_OK)
    return status;
  engine_set_threads (a.threads);

  HnError err;
  HnModel *model = model_new (a.backbone, 0);
  if (model == NULL)
    return cli_fail ("out of memory");
  if (!model_plan (model, a.batch, a.size, &err))
    {
      model_free (model);
      return cli_fail ("%s", err.message);
    }
  HnOptimizerConfig config = optimizer_defaults (OPTIMIZER_SGD, 1e-4f);
  config.momentum = 0.9f;
  HnOptimizer *optimizer = optimizer_new (&config, model_params (model)->n_params);
  double *samples = malloc (sizeof (double) * (a.runs > 100 ? a.runs : 100));
  Batch b = { 0 };
  if (!optimizer || !samples || !make_batch (a.batch, a.size, &b))
    return cli_fail ("out of memory");

  double train_rate = time_training (model, optimizer, &b, &a, samples);
  double infer_ms = time_inference (model, &b, samples);
  struct rusage usage;
  getrusage (RUSAGE_SELF, &usage);
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddStringToObject (o, "impl", "hydranet");
  cJSON_AddNumberToObject (o, "size", a.size);
  cJSON_AddNumberToObject (o, "batch", a.batch);
  cJSON_AddNumberToObject (o, "threads", a.threads);
  cJSON_AddNumberToObject (o, "train_img_per_s", train_rate);
  cJSON_AddNumberToObject (o, "infer_ms_batch1", infer_ms);
  cJSON_AddNumberToObject (o, "peak_rss_mb", usage.ru_maxrss / 1024.0);
  cli_print_json (o);

  free (samples);
  free_batch (&b);
  optimizer_free (optimizer);
  model_free (model);
  return EXIT_OK;
}
