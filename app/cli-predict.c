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

/* The chunk's buffers: the images, and what model_infer gives back for them. */
typedef struct
{
  float *x, *mirrored, *age, *gender, *race;
} Chunk;

static bool
chunk_alloc (Chunk *c, size_t per_image, bool flip)
{
  c->x = malloc (sizeof (float) * per_image * PREDICT_BATCH);
  c->mirrored = flip ? malloc (sizeof (float) * per_image * PREDICT_BATCH) : NULL;
  c->age = malloc (sizeof (float) * PREDICT_BATCH);
  c->gender = malloc (sizeof (float) * PREDICT_BATCH);
  c->race = malloc (sizeof (float) * N_RACES * PREDICT_BATCH);
  return c->x && (!flip || c->mirrored) && c->age && c->gender && c->race;
}

static void
chunk_free (Chunk *c)
{
  free (c->x);
  free (c->mirrored);
  free (c->age);
  free (c->gender);
  free (c->race);
}

/* Images go through in chunks: decode each (an unreadable one keeps its error), run the
 * readable ones as one batch, print the chunk in input order. */
static int
predict_chunk (HnModel *model, int size, bool flip, Chunk *c, char **files, int count)
{
  const size_t per_image = (size_t) 3 * size * size;
  HnError errors[PREDICT_BATCH];
  int slot[PREDICT_BATCH], n = 0, status = EXIT_OK;
  for (int i = 0; i < count; i++)
    slot[i] = image_load_input (files[i], size, c->x + per_image * n, &errors[i]) ? n++ : -1;
  if (n > 0)
    model_infer (model, c->x, n, flip, c->mirrored, c->age, c->gender, c->race);
  for (int i = 0; i < count; i++)
    {
      if (slot[i] < 0)
        {
          cli_print_json (error_json (files[i], errors[i].message));
          status = EXIT_FAILED;
          continue;
        }
      HnPrediction p;
      model_prediction_of (c->age, c->gender, c->race, n, slot[i], &p);
      cli_print_json (prediction_json (files[i], &p));
    }
  return status;
}

int
cli_predict (int argc, char **argv)
{
  static const struct option options[] = {
    { "model", required_argument, NULL, 'm' },
    { "threads", required_argument, NULL, 't' },
    { "tta", required_argument, NULL, 'f' },
    { 0 },
  };
  const char *model_path = NULL;
  int threads = cli_default_threads (), opt;
  bool flip = false;
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
      case 'f':
        if (!cli_parse_tta (optarg, &flip))
          return cli_bad_value ("predict", options, opt, optarg);
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
  Chunk c = { 0 };
  bool ok = chunk_alloc (&c, (size_t) 3 * size * size, flip)
            || hn_error_set (&err, "out of memory");
  if (!ok || !model_plan (model, PREDICT_BATCH, size, &err))
    {
      chunk_free (&c);
      model_free (model);
      return cli_fail ("%s", err.message);
    }
  int status = EXIT_OK;
  for (int start = 0; start < n_images; start += PREDICT_BATCH)
    {
      int count = n_images - start < PREDICT_BATCH ? n_images - start : PREDICT_BATCH;
      if (predict_chunk (model, size, flip, &c, argv + optind + start, count) != EXIT_OK)
        status = EXIT_FAILED;
    }
  chunk_free (&c);
  model_free (model);
  return status;
}
