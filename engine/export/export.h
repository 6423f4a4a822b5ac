/* export.h — a run as a PyTorch project that trains under torchrun (DDP, on any number of
 * processes, GPUs and machines), and the project's result brought back as a run.
 *
 * The project, a folder that runs on its own with PyTorch ≥ 1.13 and torchvision:
 *
 *   PROJECT/run.json       the recipe: format "hydranet-pytorch-project-1", name, exported
 *                          (ISO 8601 UTC), exporter, notes [what the export could not carry
 *                          over, for people], from {folder, model, steps, images}: the
 *                          run and weights exported, data (run.json's), settings (run.json's,
 *                          runinfo.h: those of the first run of its chain of forks as it
 *                          started, with the chain's epochs), segments [{folder, name, step,
 *                          images, epochs, augment}]: each run of the chain from where it
 *                          starts, with its own epochs (the schedule's span) and augmentation,
 *                          history [{step, images, setting, value, old_value}] (history.h;
 *                          age_loss and balance by name), init ("init.safetensors" or null)
 *   PROJECT/train.py       the training: torchrun --standalone --nproc-per-node=N train.py
 *   PROJECT/hydranet.py    the tutorial's HydraNet, its files and preprocessing
 *   PROJECT/recipe.py      the engine's losses, balancing methods, optimizers, schedules,
 *                          augmentation and moving average, in PyTorch
 *   PROJECT/export_onnx.py the trained model as ONNX
 *   PROJECT/README.md      the commands
 *   PROJECT/init.safetensors  the weights exported, for train.py --init
 *   PROJECT/output/        what train.py writes: a run folder (runfolder.h) — run.json,
 *                          curves.csv, model.safetensors — which import_pytorch_run takes in
 */
#pragma once

#include <stdbool.h>

#include "error.h"

#define PROJECT_FORMAT "hydranet-pytorch-project-1"
#define PROJECT_OUTPUT "output"
#define PROJECT_INIT "init.safetensors"

typedef struct
{
  const char *run;      /* a run folder (runfolder.h); NULL: model alone */
  const char *model;    /* the weights to start from; NULL: the run's model, when it has one.
                         * A model alone that lies in a run folder exports that run; one that
                         * does not gives the recipe in force when it was saved (its metadata,
                         * runmeta.h), with no history and no data */
  const char *exporter; /* who exports: "hydranet-cli 0.1.0" */
} HnExport;

/* What was written. */
typedef struct
{
  char *folder;  /* the project, absolute (free it) */
  int changes;   /* in its history */
  bool has_init; /* init.safetensors is there */
} HnProjectSummary;

/* Writes the project into out_dir, which must be new or empty; summary (may be NULL) says
 * what was written. False and err (and the files written taken away again) when the run or
 * model cannot be read or a file cannot be written. */
bool export_pytorch_project (const HnExport *what, const char *out_dir, HnProjectSummary *summary,
                             HnError *err);

/* Brings what an exported project trained (PROJECT/output, or a run folder given directly)
 * into runs_dir (made if missing) as a new run folder, whose path *run_folder receives (free
 * it): its run.json, curves.csv and model.safetensors, each read as hostile first, and a key
 * "imported" {project, by} added to run.json. Nothing appears in runs_dir unless all of it
 * was copied. A run already there (the same name, creation time and trainer) is refused. */
bool import_pytorch_run (const char *project, const char *runs_dir, const char *importer,
                         char **run_folder, HnError *err);
