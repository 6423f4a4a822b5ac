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

int
cli_bench (int argc, char **argv)
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
  int size = 32, batch = 64, threads = 2, steps = 20, runs = 5, opt;
  HnBackbone backbone = BACKBONE_RESNET18;
  while ((opt = getopt_long (argc, argv, "z:n:t:s:r:b:", options, NULL)) != -1)
    {
      bool ok = true;
      switch (opt)
        {
        case 'z': ok = cli_parse_int (optarg, MODEL_MIN_SIZE, MODEL_MAX_SIZE, &size); break;
        case 'n': ok = cli_parse_int (optarg, 2, 4096, &batch); break;
        case 't': ok = cli_parse_int (optarg, 1, 256, &threads); break;
        case 's': ok = cli_parse_int (optarg, 1, 100000, &steps); break;
        case 'r': ok = cli_parse_int (optarg, 1, 1000, &runs); break;
        case 'b': ok = backbone_from_name (optarg, &backbone); break;
        default: return cli_usage_error ("bench", "unknown option");
        }
      if (!ok)
        for (const struct option *o = options; o->name; o++)
          if (o->val == opt)
            return cli_usage_error ("bench", "bad value '%s' for --%s", optarg, o->name);
    }
  engine_set_threads (threads);

  HnError err;
  HnModel *model = model_new (backbone, 0);
  if (model == NULL)
    return cli_fail ("out of memory");
  if (!model_plan (model, batch, size, &err))
    {
      model_free (model);
      return cli_fail ("%s", err.message);
    }
  HnOptimizerConfig config = optimizer_defaults (OPTIMIZER_SGD, 1e-4f);
  config.momentum = 0.9f;
  HnOptimizer *optimizer = optimizer_new (&config, model_params (model)->n_params);
  size_t per_image = (size_t) 3 * size * size;
  float *x = malloc (sizeof (float) * per_image * batch);
  float *age = malloc (sizeof (float) * batch), *gender = malloc (sizeof (float) * batch);
  int32_t *race = malloc (sizeof (int32_t) * batch);
  double *rates = malloc (sizeof (double) * (runs > 100 ? runs : 100));
  if (!optimizer || !x || !age || !gender || !race || !rates)
    return cli_fail ("out of memory");

  HnRng rng = { .seed = 1 };
  for (size_t i = 0; i < per_image * batch; i++)
    x[i] = (float) rng_normal (&rng);
  for (int i = 0; i < batch; i++)
    {
      age[i] = (float) (100.0 * rng_uniform (&rng));
      gender[i] = (float) rng_below (&rng, 2);
      race[i] = (int32_t) rng_below (&rng, N_RACES);
    }
  const HnTargets targets = { age, gender, race };
  const HnLossConfig losses = { AGE_LOSS_L1, { 1.0f, 1.0f, 1.0f } };

  for (int r = -1; r < runs; r++) /* run −1: 3 warm-up steps */
    {
      int n_steps = r < 0 ? 3 : steps;
      double t0 = hn_seconds ();
      for (int s = 0; s < n_steps; s++)
        {
          model_zero_grad (model);
          model_forward (model, x, batch, true);
          model_loss (model, &targets, &losses);
          model_backward (model);
          optimizer_step (optimizer, model_param_data (model), model_grad_data (model));
        }
      if (r >= 0)
        rates[r] = batch * n_steps / (hn_seconds () - t0);
    }
  double train_rate = median (rates, runs);

  for (int i = 0; i < 110; i++) /* 10 warm-up forwards, 100 timed */
    {
      double t0 = hn_seconds ();
      model_forward (model, x, 1, false);
      if (i >= 10)
        rates[i - 10] = (hn_seconds () - t0) * 1e3;
    }
  double infer_ms = median (rates, 100);

  struct rusage usage;
  getrusage (RUSAGE_SELF, &usage);
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddStringToObject (o, "impl", "hydranet");
  cJSON_AddNumberToObject (o, "size", size);
  cJSON_AddNumberToObject (o, "batch", batch);
  cJSON_AddNumberToObject (o, "threads", threads);
  cJSON_AddNumberToObject (o, "train_img_per_s", train_rate);
  cJSON_AddNumberToObject (o, "infer_ms_batch1", infer_ms);
  cJSON_AddNumberToObject (o, "peak_rss_mb", usage.ru_maxrss / 1024.0);
  cli_print_json (o);

  free (rates);
  free (race);
  free (gender);
  free (age);
  free (x);
  optimizer_free (optimizer);
  model_free (model);
  return EXIT_OK;
}
