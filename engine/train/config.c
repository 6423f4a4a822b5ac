#include "config.h"

#include <stdio.h>
#include <string.h>

HnTrainConfig
train_preset_tutorial (void)
{
  HnOptimizerConfig sgd = optimizer_defaults (OPTIMIZER_SGD, 1e-4f);
  sgd.momentum = 0.09f; /* as printed in the article (0.9 was probably meant) */
  return (HnTrainConfig) {
    .backbone = BACKBONE_RESNET18, .size = 32, .batch = 64, .epochs = 50, .val_percent = 20,
    .optimizer = sgd, .loss = { AGE_LOSS_L1, { 1.0f, 1.0f, 1.0f } },
  };
}

HnTrainConfig
train_preset_studio (void)
{
  return (HnTrainConfig) {
    .backbone = BACKBONE_RESNET18, .size = 32, .batch = 64, .epochs = 10, .val_percent = 20,
    .augment = { .flip = true }, .optimizer = optimizer_defaults (OPTIMIZER_ADAM, 1e-3f),
    .loss = { AGE_LOSS_L1, { 1.0f, 1.0f, 1.0f } },
  };
}

bool
train_preset_from_name (const char *name, HnTrainConfig *config)
{
  if (strcmp (name, "tutorial") == 0)
    *config = train_preset_tutorial ();
  else if (strcmp (name, "studio") == 0)
    *config = train_preset_studio ();
  else
    return false;
  return true;
}

bool
augment_from_names (const char *names, HnAugment *a)
{
  *a = (HnAugment) { 0 };
  if (strcmp (names, "none") == 0)
    return true;
  char copy[64];
  if (snprintf (copy, sizeof copy, "%s", names) >= (int) sizeof copy)
    return false;
  for (char *save, *tok = strtok_r (copy, ",", &save); tok; tok = strtok_r (NULL, ",", &save))
    {
      if (strcmp (tok, "flip") == 0)
        a->flip = true;
      else if (strcmp (tok, "crop") == 0)
        a->crop = true;
      else if (strcmp (tok, "color") == 0)
        a->color = true;
      else
        return false;
    }
  return true;
}
