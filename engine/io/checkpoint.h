/* checkpoint.h — a model as a safetensors file with the tutorial's tensor names.
 *
 * Names and shapes are PyTorch's state_dict of the reference HydraNet, so a file written
 * here loads in PyTorch with load_state_dict(strict=True), and a file written there (for
 * instance with ImageNet-pretrained trunk weights) loads here. Metadata: format
 * "hydranet-1", backbone, input_size, mean, std, age_mean and age_std when the age head is
 * standardised, plus whatever the caller adds (runmeta.h).
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
  float age_mean, age_std; /* model_set_age_scale's (0 and 1: a plain age head) */
} HnCheckpointInfo;

/* Writes every tensor of the model atomically, with extra metadata appended. */
bool checkpoint_save (HnModel *model, int input_size, const char *path, const StMeta *meta,
                      int n_meta, HnError *err);

/* Reads the backbone and input size from a validated file's metadata — or, for a bare
 * state_dict without metadata, infers the backbone from its tensor names and assumes 32. */
bool checkpoint_info (const HnSafetensors *st, HnCheckpointInfo *info, HnError *err);

/* Copies every tensor of the model from st, refusing (and leaving the model unchanged) on a
 * missing tensor, an unexpected one, a wrong dtype or shape, or a non-finite value. For a
 * model that already exists (a rollback); checkpoint_open builds one. */
bool checkpoint_apply (HnModel *model, const HnSafetensors *st, HnError *err);

/* How a checkpoint is to be used, which decides what must be in it. */
typedef enum
{
  CHECKPOINT_MODEL,  /* every tensor of a HydraNet: to predict, evaluate or resume */
  CHECKPOINT_INIT,   /* a new run's start (for instance an ImageNet-pretrained trunk converted
                      * from PyTorch): heads (net.fc1–3) missing from the file keep their fresh
                      * initialisation, and torchvision's classifier (net.fc.*) is ignored */
  CHECKPOINT_HEADER, /* the metadata and info only; no model is built */
} HnCheckpointUse;

/* An open checkpoint: the file, what it says it is, and the model built from it. */
typedef struct
{
  HnSafetensors *st;     /* the validated file; metadata through safetensors_meta, run_meta_read */
  HnCheckpointInfo info;
  HnModel *model;        /* NULL for CHECKPOINT_HEADER, or once taken */
  int loaded;            /* tensors copied from the file */
} HnCheckpoint;

/* The one way to open a checkpoint: safetensors_read, checkpoint_info, model_new and the
 * apply `use` asks for. Messages start with the file's name. */
HnCheckpoint *checkpoint_open (const char *path, HnCheckpointUse use, HnError *err);

/* Hands the model over to the caller (NULL for CHECKPOINT_HEADER). */
HnModel *checkpoint_take_model (HnCheckpoint *c);

void checkpoint_close (HnCheckpoint *c); /* NULL-safe */

/* checkpoint_open (CHECKPOINT_MODEL) for those who want only the model. */
HnModel *checkpoint_load (const char *path, HnCheckpointInfo *info, HnError *err);
