#include "test-runs.h"

#include <stdlib.h>

#include "rng.h"

HnDataset *
tiny_dataset (void)
{
  HnDataset *ds = calloc (1, sizeof *ds);
  uint8_t *pixels = malloc ((size_t) TINY_IMAGES * TINY_SIZE * TINY_SIZE * 3);
  ds->labels = calloc (TINY_IMAGES, sizeof *ds->labels);
  HnRng rng = { .seed = 77 };
  for (size_t i = 0; i < (size_t) TINY_IMAGES * TINY_SIZE * TINY_SIZE * 3; i++)
    pixels[i] = (uint8_t) rng_below (&rng, 256);
  for (int i = 0; i < TINY_IMAGES; i++)
    ds->labels[i] = (HnFaceLabels) { .age = (uint8_t) (5 + 7 * i), .gender = (uint8_t) (i % 2),
                                     .race = (uint8_t) (i % 5), .split_key = (uint32_t) (i * 37) };
  ds->pixels = pixels;
  ds->n = TINY_IMAGES;
  ds->size = TINY_SIZE;
  return ds;
}

void
free_tiny (HnDataset *ds)
{
  free ((void *) ds->pixels);
  free (ds->labels);
  free (ds);
}

HnTrainConfig
tiny_config (void)
{
  HnTrainConfig c = train_preset_studio ();
  c.batch = 4;
  c.epochs = 2;
  c.val_percent = 0;
  c.seed = 3;
  c.augment = (HnAugment) { 0 };
  c.optimizer = optimizer_defaults (OPTIMIZER_SGD, 0.01f);
  return c;
}

HnTrainerState
collect_steps (HnTrainer *t, HnEvent *steps, int *n_steps, int cap)
{
  HnEvent e[64];
  for (;;)
    {
      trainer_wait_event (t, 100);
      int n = trainer_poll (t, e, 64, NULL);
      for (int i = 0; i < n; i++)
        {
          if (e[i].kind == EVENT_STEP && n_steps != NULL && *n_steps < cap)
            steps[(*n_steps)++] = e[i];
          if (e[i].kind == EVENT_STATE && e[i].state.state != TRAINER_RUNNING
              && e[i].state.state != TRAINER_PAUSED)
            return e[i].state.state;
        }
    }
}
