/* live-run.c — a run with settings changed while it trains, as a person changes them in the
 * studio: pause, change, resume. The export test (torchrun_test.py) replays it in PyTorch.
 *
 *   live-run DATA_DIR RUNS_DIR
 *
 * Trains the studio preset at 32×32 in batches of 16 for one epoch, in a new run folder under
 * RUNS_DIR, changing w_age to 0.5 and the age loss to MSE after step 3, the peak learning rate
 * to 5e-4 after step 6, the balancing method to FAMO (loss-based) after step 9 and to PCGrad
 * (gradient-based) after step 12 — each at the step the pause lands on, which the record
 * says; saves model.safetensors and prints the folder.
 */
#include <stdio.h>
#include <stdlib.h>

#include "dataset.h"
#include "runfolder.h"
#include "trainer.h"

/* Waits for a state event; false when the run ended instead. */
static bool
wait_state (HnTrainer *t, HnTrainerState want, int64_t *step)
{
  HnEvent e[64];
  for (;;)
    {
      trainer_wait_event (t, 100);
      int n = trainer_poll (t, e, 64, NULL);
      for (int i = 0; i < n; i++)
        {
          if (e[i].kind == EVENT_STEP)
            *step = e[i].step;
          if (e[i].kind == EVENT_STATE && e[i].state.state == want)
            return true;
          if (e[i].kind == EVENT_STATE && e[i].state.state != TRAINER_RUNNING
              && e[i].state.state != TRAINER_PAUSED)
            return false;
        }
    }
}

/* Lets the run go on until it has done at least `after` steps, then pauses it. */
static bool
pause_after (HnTrainer *t, int64_t after, int64_t *step)
{
  HnEvent e[64];
  while (*step < after)
    {
      trainer_wait_event (t, 100);
      int n = trainer_poll (t, e, 64, NULL);
      for (int i = 0; i < n; i++)
        if (e[i].kind == EVENT_STEP)
          *step = e[i].step;
    }
  trainer_pause (t);
  return wait_state (t, TRAINER_PAUSED, step);
}

int
main (int argc, char **argv)
{
  if (argc != 3)
    {
      fprintf (stderr, "usage: live-run DATA_DIR RUNS_DIR\n");
      return 2;
    }
  HnError err;
  HnDataset *ds = dataset_open_folder (argv[1], 32, "", 2, NULL, &err);
  char *folder = ds != NULL ? run_folder_create (argv[2], &err) : NULL;
  HnTrainConfig config = train_preset_studio ();
  config.batch = 16;
  config.epochs = 1;
  config.seed = 7;
  config.run_dir = folder;
  config.data_folder = argv[1];
  config.source = "live-run";
  HnTrainer *t = folder != NULL ? trainer_new (&config, ds, NULL, NULL, &err) : NULL;
  if (t == NULL || !trainer_start (t, &err))
    {
      fprintf (stderr, "live-run: %s\n", err.message);
      return 1;
    }
  int64_t step = 0;
  bool ok = pause_after (t, 3, &step);
  if (ok)
    {
      trainer_set_weight (t, 0, 0.5f);
      trainer_set_age_loss (t, AGE_LOSS_MSE);
      trainer_resume_training (t);
      ok = pause_after (t, 6, &step);
    }
  if (ok)
    {
      trainer_set_lr (t, 5e-4f);
      trainer_resume_training (t);
      ok = pause_after (t, 9, &step);
    }
  if (ok)
    {
      trainer_set_balance (t, BALANCE_FAMO);
      trainer_resume_training (t);
      ok = pause_after (t, 12, &step);
    }
  if (ok)
    {
      trainer_set_balance (t, BALANCE_PCGRAD);
      trainer_resume_training (t);
    }
  trainer_join (t);
  char *model = run_folder_file (folder, RUN_MODEL);
  if (!ok || trainer_state (t) != TRAINER_FINISHED || !trainer_save_model (t, model, &err))
    {
      fprintf (stderr, "live-run: the run did not finish with its changes%s%s\n", ok ? ": " : "",
               ok ? err.message : "");
      return 1;
    }
  printf ("%s\n", folder);
  trainer_free (t);
  dataset_free (ds);
  free (model);
  free (folder);
  return 0;
}
