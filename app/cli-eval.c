/* hydranet-cli eval — a model's quality on a folder's validation split (or all of it). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "cli.h"
#include "evaluate.h"
#include "parallel.h"

cJSON *
cli_eval_json (const HnEvalResult *r)
{
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddNumberToObject (o, "n", r->n);
  cJSON_AddNumberToObject (o, "age_mae", r->age_mae);
  cJSON_AddNumberToObject (o, "age_rmse", r->age_rmse);
  cJSON_AddNumberToObject (o, "gender_acc", r->gender_acc);
  cJSON_AddNumberToObject (o, "race_acc", r->race_acc);
  cJSON *confusion = cJSON_AddArrayToObject (o, "race_confusion");
  for (int i = 0; i < N_RACES; i++)
    cJSON_AddItemToArray (confusion, cJSON_CreateIntArray (r->race_confusion[i], N_RACES));
  cJSON *loss = cJSON_AddObjectToObject (o, "loss");
  cJSON_AddNumberToObject (loss, "age", r->loss[HEAD_AGE]);
  cJSON_AddNumberToObject (loss, "gender", r->loss[HEAD_GENDER]);
  cJSON_AddNumberToObject (loss, "race", r->loss[HEAD_RACE]);
  return o;
}

int
cli_eval (int argc, char **argv)
{
  static const struct option options[] = {
    { "model", required_argument, NULL, 'm' },
    { "data", required_argument, NULL, 'd' },
    { "split", required_argument, NULL, 's' },
    { "val-percent", required_argument, NULL, 'v' },
    { "age-loss", required_argument, NULL, 'a' },
    { "batch", required_argument, NULL, 'b' },
    { "threads", required_argument, NULL, 't' },
    { "cache-dir", required_argument, NULL, 'c' },
    { "tta", required_argument, NULL, 'f' },
    { 0 },
  };
  const char *model_path = NULL, *data = NULL, *cache_dir = NULL;
  bool all = false, flip = false;
  int val_percent = 20, batch = 64, threads = cli_default_threads (), opt;
  HnAgeLoss age_loss = AGE_LOSS_L1;
  while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1)
    {
      bool ok = true;
      switch (opt)
        {
        case 'm': model_path = optarg; break;
        case 'd': data = optarg; break;
        case 's':
          ok = strcmp (optarg, "val") == 0 || strcmp (optarg, "all") == 0;
          all = strcmp (optarg, "all") == 0;
          break;
        case 'v': ok = cli_parse_int (optarg, 0, 100, &val_percent); break;
        case 'a': ok = age_loss_from_name (optarg, &age_loss); break;
        case 'b': ok = cli_parse_int (optarg, 2, 4096, &batch); break;
        case 't': ok = cli_parse_int (optarg, 1, 256, &threads); break;
        case 'c': cache_dir = optarg; break;
        case 'f': ok = cli_parse_tta (optarg, &flip); break;
        default: return cli_usage_error ("eval", "unknown option");
        }
      if (!ok)
        return cli_bad_value ("eval", options, opt, optarg);
    }
  if (model_path == NULL || data == NULL)
    return cli_usage_error ("eval", "--model and --data are required");
  if (optind < argc)
    return cli_usage_error ("eval", "unexpected argument '%s'", argv[optind]);
  engine_set_threads (threads);

  HnError err;
  HnCheckpointInfo info;
  HnModel *model = checkpoint_load (model_path, &info, &err);
  if (model == NULL)
    return cli_fail ("%s", err.message);
  HnLoadProgress progress = { 0 };
  HnDataset *ds = dataset_open_folder (data, info.input_size, cache_dir, threads, &progress, &err);
  if (ds == NULL)
    {
      model_free (model);
      return cli_fail ("%s", err.message);
    }
  int *idx = malloc (sizeof (int) * (ds->n + 1)), n = 0;
  for (int i = 0; i < ds->n; i++)
    if (all || dataset_is_val (ds, i, val_percent))
      idx[n++] = i;
  HnBatcher *batches = batcher_new (ds, idx, n, batch, 0, false, (HnAugment) { 0 }, &err);
  free (idx);
  if (batches == NULL || !model_plan (model, batch, info.input_size, &err))
    {
      batcher_free (batches);
      dataset_free (ds);
      model_free (model);
      return cli_fail ("%s: %s", data, err.message);
    }
  HnEvalResult r;
  if (!evaluate (model, batches, age_loss, flip, &r))
    return cli_fail ("out of memory");
  cli_print_json (cli_eval_json (&r));
  batcher_free (batches);
  dataset_free (ds);
  model_free (model);
  return EXIT_OK;
}
