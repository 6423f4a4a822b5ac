/* hydranet-cli predict — one JSON line per image, errors inline, the rest still printed. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "cli.h"
#include "parallel.h"
#include "faces.h"
#include "image.h"

#define PREDICT_BATCH 16
#define LINES_CAP(b) ((int) (sizeof (b)->lines / sizeof (b)->lines[0]))

static cJSON *
prediction_json (const char *file, const HnPrediction *p)
{
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddItemToObject (o, "file", cli_json_string (file));
  cJSON_AddNumberToObject (o, "age", p->age);
  cJSON_AddStringToObject (o, "gender", gender_names[p->p_female >= 0.5f]);
  cJSON_AddNumberToObject (o, "p_female", p->p_female);
  cJSON_AddStringToObject (o, "race", race_names[p->race]);
  cJSON *probs = cJSON_AddObjectToObject (o, "race_probs");
  for (int c = 0; c < N_RACES; c++)
    cJSON_AddNumberToObject (probs, race_names[c], p->race_probs[c]);
  return o;
}

/* What one output line is about: a face of a file, the whole file, or its error. */
typedef struct
{
  const char *file;
  int face;        /* index in the image; −1 for the whole image */
  int box[4];      /* x, y, w, h when face ≥ 0 */
  int slot;        /* in the batch, or −1 */
  HnError error;   /* when slot < 0 */
} Line;

/* Inputs wait in a batch of PREDICT_BATCH; the lines about them (and any errors between)
 * are printed in order once the batch has been through the model. */
typedef struct
{
  HnModel *model;
  int size;
  bool flip;
  float *x, *mirrored, *age, *gender, *race;
  Line lines[PREDICT_BATCH * 2];
  int n_lines, n_inputs;
  int status;
} Batch;

static bool
batch_init (Batch *b, HnModel *model, int size, bool flip)
{
  size_t per_image = (size_t) 3 * size * size;
  *b = (Batch){ .model = model, .size = size, .flip = flip, .status = EXIT_OK };
  b->x = malloc (sizeof (float) * per_image * PREDICT_BATCH);
  b->mirrored = flip ? malloc (sizeof (float) * per_image * PREDICT_BATCH) : NULL;
  b->age = malloc (sizeof (float) * PREDICT_BATCH);
  b->gender = malloc (sizeof (float) * PREDICT_BATCH);
  b->race = malloc (sizeof (float) * N_RACES * PREDICT_BATCH);
  return b->x && (!flip || b->mirrored) && b->age && b->gender && b->race;
}

static void
batch_clear (Batch *b)
{
  free (b->x);
  free (b->mirrored);
  free (b->age);
  free (b->gender);
  free (b->race);
}

static void
batch_flush (Batch *b, bool with_faces)
{
  if (b->n_inputs > 0)
    model_infer (b->model, b->x, b->n_inputs, b->flip, b->mirrored, b->age, b->gender, b->race);
  for (int i = 0; i < b->n_lines; i++)
    {
      const Line *l = &b->lines[i];
      if (l->slot < 0)
        {
          cli_print_json (cli_file_error_json (l->file, l->error.message));
          b->status = EXIT_FAILED;
          continue;
        }
      HnPrediction p;
      model_prediction_of (b->age, b->gender, b->race, b->n_inputs, l->slot, &p);
      cJSON *o = prediction_json (l->file, &p);
      if (with_faces && l->face >= 0)
        {
          cJSON_AddNumberToObject (o, "face", l->face);
          cJSON_AddItemToObject (o, "box", cJSON_CreateIntArray (l->box, 4));
        }
      else
        {
          if (with_faces)
            cJSON_AddNullToObject (o, "face");
          cJSON_AddNullToObject (o, "box");
        }
      cli_print_json (o);
    }
  b->n_lines = b->n_inputs = 0;
}

/* A line, and room for its input when it has one: the batch is flushed first if full. */
static Line *
batch_add (Batch *b, bool with_faces, const char *file, bool input)
{
  if (b->n_lines == LINES_CAP (b) || (input && b->n_inputs == PREDICT_BATCH))
    batch_flush (b, with_faces);
  Line *l = &b->lines[b->n_lines++];
  *l = (Line){ .file = file, .face = -1, .slot = input ? b->n_inputs++ : -1 };
  return l;
}

static float *
batch_input (Batch *b, const Line *l)
{
  return b->x + (size_t) 3 * b->size * b->size * l->slot;
}

/* --faces whole: the image centre-cropped, as the reference predicts. */
static void
predict_whole (Batch *b, const char *file)
{
  Line *l = batch_add (b, false, file, true);
  if (!image_load_input (file, b->size, batch_input (b, l), &l->error))
    l->slot = -1, b->n_inputs--;
}

/* --faces auto: each face found, aligned as a chip; the whole image when none is. */
static void
predict_faces (Batch *b, HnFaceFinder *finder, const char *file)
{
  HnImage img;
  HnFaces faces = { 0 };
  HnError err;
  uint8_t chip[FACE_CHIP_SIZE * FACE_CHIP_SIZE * 3];
  bool ok = image_decode_file_upright (file, &img, &err);
  if (ok && !face_find (finder, &img, &faces, &err))
    {
      hn_error_prefix (&err, "%s", file);
      ok = false;
    }
  if (!ok)
    {
      batch_add (b, true, file, false)->error = err;
      image_clear (&img);
      return;
    }
  for (int i = 0; i < faces.n || (i == 0 && faces.n == 0); i++)
    {
      Line *l = batch_add (b, true, file, true);
      bool loaded;
      if (faces.n == 0)
        loaded = image_input (&img, b->size, batch_input (b, l), &l->error);
      else
        {
          const HnFace *f = &faces.faces[i];
          l->face = i;
          memcpy (l->box, (int[4]){ f->x, f->y, f->w, f->h }, sizeof l->box);
          loaded = face_load_input (&img, f, b->size, chip, batch_input (b, l), &l->error);
        }
      if (!loaded)
        l->slot = -1, b->n_inputs--;
    }
  faces_clear (&faces);
  image_clear (&img);
}

int
cli_predict (int argc, char **argv)
{
  static const struct option options[] = {
    { "model", required_argument, NULL, 'm' },
    { "threads", required_argument, NULL, 't' },
    { "tta", required_argument, NULL, 'f' },
    { "faces", required_argument, NULL, 'F' },
    { 0 },
  };
  const char *model_path = NULL;
  int threads = cli_default_threads (), opt;
  bool flip = false, find_faces = true;
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
      case 'F':
        find_faces = strcmp (optarg, "auto") == 0;
        if (!find_faces && strcmp (optarg, "whole") != 0)
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
  HnFaceFinder *finder = NULL;
  if (find_faces && (finder = face_finder_new (NULL, &err)) == NULL)
    {
      model_free (model);
      return cli_fail ("%s (--faces whole predicts without finding faces)", err.message);
    }
  Batch b;
  bool ok = (batch_init (&b, model, info.input_size, flip) || hn_error_set (&err, "out of memory"))
            && model_plan (model, PREDICT_BATCH, info.input_size, &err);
  if (ok)
    {
      for (int i = optind; i < argc; i++)
        if (finder != NULL)
          predict_faces (&b, finder, argv[i]);
        else
          predict_whole (&b, argv[i]);
      batch_flush (&b, finder != NULL);
    }
  int status = ok ? b.status : cli_fail ("%s", err.message);
  batch_clear (&b);
  face_finder_free (finder);
  model_free (model);
  return status;
}
