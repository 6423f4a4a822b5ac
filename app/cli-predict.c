/* hydranet-cli predict — one JSON line per image, errors inline, the rest still printed. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "cli.h"
#include "parallel.h"
#include "image.h"

#define PREDICT_BATCH 16

static cJSON *
prediction_json (const char *file, const HnPrediction *p)
{
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddStringToObject (o, "file", file);
  cJSON_AddNumberToObject (o, "age", p->age);
  cJSON_AddStringToObject (o, "gender", gender_names[p->p_female >= 0.5f]);
  cJSON_AddNumberToObject (o, "p_female", p->p_female);
  cJSON_AddStringToObject (o, "race", race_names[p->race]);
  cJSON *probs = cJSON_AddObjectToObject (o, "race_probs");
  for (int c = 0; c < N_RACES; c++)
    cJSON_AddNumberToObject (probs, race_names[c], p->race_probs[c]);
  return o;
}

static cJSON *
error_json (const char *file, const char *message)
{
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddStringToObject (o, "file", file);
  cJSON_AddStringToObject (o, "error", message);
  return o;
}

int
cli_predict (int argc, char **argv)
{
  static const struct option options[] = {
    { "model", required_argument, NULL, 'm' },
    { "threads", required_argument, NULL, 't' },
    { 0 },
  };
  const char *model_path = NULL;
  int threads = cli_default_threads (), opt;
  while ((opt = getopt_long (argc, argv, "m:t:", options, NULL)) != -1)
    switch (opt)
      {
      case 'm':
        model_path = optarg;
        break;
      case 't':
        if (!cli_parse_int (optarg, 1, 256, &threads))
          return cli_usage_error ("predict", "--threads wants a number from 1 to 256, not '%s'",
                                  optarg);
        break;
      default:
        return cli_usage_error ("predict", "unknown option");
      }
  if (model_path == NULL)
    return cli_usage_error ("predict", "--model is required");
  if (optind >= argc)
    return cli_usage_error ("predict", "no images given");
  engine_set_threads (threads);

  HnError err;
  HnCheckpointInfo info;
  HnModel *model = checkpoint_load (model_path, &info, &err);
  if (model == NULL)
    return cli_fail ("%s", err.message);
  const int size = info.input_size, n_images = argc - optind;
  const size_t per_image = (size_t) 3 * size * size;
  float *batch = malloc (sizeof (float) * per_image * PREDICT_BATCH);
  if (batch == NULL || !model_plan (model, PREDICT_BATCH, size, &err))
    {
      free (batch);
      model_free (model);
      return cli_fail ("%s", batch ? err.message : "out of memory");
    }

  /* Images go through in chunks: decode each (an unreadable one keeps its error), run the
   * readable ones as one batch, print the chunk in input order. */
  int status = EXIT_OK;
  char (*errors)[sizeof err.message] = malloc (sizeof *errors * PREDICT_BATCH);
  int slot[PREDICT_BATCH];
  for (int start = 0; start < n_images; start += PREDICT_BATCH)
    {
      int count = n_images - start < PREDICT_BATCH ? n_images - start : PREDICT_BATCH, n = 0;
      for (int i = 0; i < count; i++)
        {
          HnError image_err;
          if (image_load_input (argv[optind + start + i], size, batch + per_image * n,
                                &image_err))
            slot[i] = n++;
          else
            {
              slot[i] = -1;
              memcpy (errors[i], image_err.message, sizeof image_err.message);
            }
        }
      if (n > 0)
        model_forward (model, batch, n, false);
      for (int i = 0; i < count; i++)
        {
          const char *file = argv[optind + start + i];
          if (slot[i] < 0)
            {
              cli_print_json (error_json (file, errors[i]));
              status = EXIT_FAILED;
              continue;
            }
          HnPrediction p;
          model_prediction (model, slot[i], &p);
          cli_print_json (prediction_json (file, &p));
        }
    }
  free (errors);
  free (batch);
  model_free (model);
  return status;
}
