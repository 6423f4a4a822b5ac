/* checkpoint.h — a model as a safetensors file with the tutorial's tensor names.
 *
 * Names and shapes are PyTorch's state_dict of the reference HydraNet, so a file written
 * here loads in PyTorch with load_state_dict(strict=True), and a file written there (for
 * instance with ImageNet-pretrained trunk weights) loads here. Metadata: format
 * "hydranet-1", backbone, input_size, mean, std, plus whatever the caller adds.
 * Tensors whose names start with "optim." are optimizer state and ignored by the loader.
 */
#pragma once

#include <stdbool.h>

#include "error.h"
#include "model.h"
#include "safetensors.h"

#define CHECKPOINT_FORMAT "hydranet-1"
#define CHECKPOINT_DEFAULT_SIZE 32

typedef struct
{
  HnBackbone backbone;
  int input_size;
} HnCheckpointInfo;

/* Writes every tensor of the model atomically, with extra metadata appended. */
bool checkpoint_save (HnModel *model, int input_size, const char *path, const StMeta *meta,
                      int n_meta, HnError *err);

/* Reads the backbone and input size from a validated file's metadata — or, for a bare
 * state_dict without metadata, infers the backbone from its tensor names and assumes 32. */
bool checkpoint_info (const HnSafetensors *st, HnCheckpointInfo *info, HnError *err);

/* Copies every tensor of the model from st, refusing (and leaving the model unchanged) on a
 * missing tensor, an unexpected one, a wrong dtype or shape, or a non-finite value. */
bool checkpoint_apply (HnModel *model, const HnSafetensors *st, HnError *err);

/* For starting a new run from existing weights (for instance an ImageNet-pretrained trunk
 * converted from PyTorch): like checkpoint_apply, but heads (net.fc1–3) missing from the file
 * keep their fresh initialisation, and torchvision's classifier (net.fc.*) is ignored.
 * *loaded receives the number of tensors taken from the file. */
bool checkpoint_apply_init (HnModel *model, const HnSafetensors *st, int *loaded, HnError *err);

/* checkpoint_load with checkpoint_apply_init. */
HnModel *checkpoint_load_init (const char *path, HnCheckpointInfo *info, HnError *err);

/* safetensors_read + checkpoint_info + model_new + checkpoint_apply. Messages start with
 * the file's name. */
HnModel *checkpoint_load (const char *path, HnCheckpointInfo *info, HnError *err);
