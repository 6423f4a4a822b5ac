#include "config.h"

#include <stdio.h>
#include <string.h>

const char *const train_preset_names[] = { "tutorial", "studio", "quick", "quality", NULL };

HnTrainConfig
train_preset_tutorial (void)
{
  HnOptimizerConfig sgd = optimizer_defaults (OPTIMIZER_SGD, 1e-4f);
  sgd.momentum = 0.09f; /* as printed in the article (0.9 was probably meant) */
  return (HnTrainConfig) {
    .backbone = BACKBONE_RESNET18, .size = 32, .batch = 64, .epochs = 50, .val_percent = 20,
    .optimizer = sgd, .schedule = schedule_defaults (SCHEDULE_CONSTANT),
    .loss = { AGE_LOSS_L1, { 1.0f, 1.0f, 1.0f } }, .preset = "tutorial",
  };
}

HnTrainConfig
train_preset_studio (void)
{
  return (HnTrainConfig) {
    .backbone = BACKBONE_RESNET18, .size = 32, .batch = 64, .epochs = 10, .val_percent = 20,
    .augment = { .flip = true }, .optimizer = optimizer_defaults (OPTIMIZER_ADAM, 1e-3f),
    .schedule = schedule_defaults (SCHEDULE_CONSTANT), .loss = { AGE_LOSS_L1, { 1.0f, 1.0f, 1.0f } },
    .preset = "studio",
  };
}

/* AdamW with decay on the weights only, the age standardised, labels smoothed, a one-cycle
 * schedule: the ingredients of both recipes. */
static HnTrainConfig
recipe (int size, int epochs, float lr, float weight_decay)
{
  HnOptimizerConfig adamw = optimizer_defaults (OPTIMIZER_ADAMW, lr);
  adamw.weight_decay = weight_decay;
  adamw.decay_all = false;
  return (HnTrainConfig) {
    .backbone = BACKBONE_RESNET18, .size = size, .batch = 64, .epochs = epochs, .val_percent = 20,
    .augment = { .flip = true }, .optimizer = adamw,
    .schedule = schedule_defaults (SCHEDULE_ONECYCLE),
    .loss = { AGE_LOSS_L1, { 1.0f, 1.0f, 1.0f }, 0.1f }, .standardize_age = true,
  };
}

HnTrainConfig
train_preset_quick (void)
{
  /* two epochs reach the reference's five; the age weighed up as the errors in years are
   * what the reference is best at; a short warm-up, as two epochs leave little to spend;
   * twice quality's decay (docs/performance.md has what each bought) */
  HnTrainConfig c = recipe (32, 2, 3e-3f, 0.1f);
  c.loss.weight[0] = 3.0f;
  c.schedule.warmup = 0.15f;
  c.tta = true;
  c.val_every = VAL_AT_END; /* the model at the end is what counts; a midway look costs 7% */
  c.preset = "quick";
  return c;
}

HnTrainConfig
train_preset_quality (void)
{
  /* 96 px: the chips hold more than 64 px show, and an hour still holds about 20 epochs */
  HnTrainConfig c = recipe (96, 1000, 2e-3f, 0.05f);
  c.loss.weight[0] = 2.0f;
  c.augment = (HnAugment) { .flip = true, .crop = 0.3f, .aspect = 0.2f, .rotate = 10.0f,
                            .brightness = 0.2f, .contrast = 0.2f, .saturation = 0.2f };
  c.ema_decay = 0.999f;
  c.tta = true;
  c.time_budget = 60 * 60;
  c.preset = "quality";
  return c;
}

bool
train_preset_from_name (const char *name, HnTrainConfig *config)
{
  static HnTrainConfig (*const presets[]) (void) = {
    train_preset_tutorial, train_preset_studio, train_preset_quick, train_preset_quality,
  };
  for (int i = 0; train_preset_names[i] != NULL; i++)
    if (strcmp (name, train_preset_names[i]) == 0)
      {
        *config = presets[i] ();
        return true;
      }
  return false;
}
