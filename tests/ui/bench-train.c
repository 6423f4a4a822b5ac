/* bench-train.c — how fast the studio trains, as a user sees it: the real window, drawing
 * its curves, on a UTKFace folder. Not a test: tests/bench/bench_studio.py runs it in turn
 * with hydranet-cli train on the same folder and preset, and compares.
 *
 *   xvfb-run -a -s "-screen 0 1600x1000x24" build/tests/ui/bench-train FOLDER [EPOCHS]
 *
 * Opens the window with GSettings in memory (the user's settings stay as they are), opens
 * FOLDER at 32×32 with the studio preset, presses Train and waits for the run to finish.
 * Prints one JSON object: the training images a second from the run's start to its end,
 * validation and checkpoints included — what hydranet-cli train --json calls img_per_s.
 */

#include <gtk/gtk.h>
#include <stdlib.h>

#include "hydra-application.h"
#include "hydra-window.h"

static void
iterate_until (HydraTrainer *trainer, HydraRunState state)
{
  while (hydra_trainer_get_state (trainer) != state
         && hydra_trainer_get_state (trainer) != HYDRA_RUN_FAILED)
    g_main_context_iteration (NULL, TRUE);
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      g_printerr ("usage: bench-train FOLDER [EPOCHS]\n");
      return 2;
    }
  const int epochs = argc > 2 ? atoi (argv[2]) : 1;
  g_autofree char *tmp = g_dir_make_tmp ("hydranet-bench-train-XXXXXX", NULL);

  g_setenv ("GSETTINGS_SCHEMA_DIR", HYDRA_SCHEMA_DIR, FALSE); /* the build tree's, unless set */
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("XDG_DATA_HOME", tmp, TRUE);
  gtk_init ();
  GSettings *settings = g_settings_new ("org.hydranet.Studio");
  g_settings_set_int (settings, "epochs", epochs);
  g_settings_set_int (settings, "input-size", 32);

  HydraApplication *app = hydra_application_new ();
  g_application_register (G_APPLICATION (app), NULL, NULL);
  HydraWindow *window = hydra_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  HydraTrainer *trainer = hydra_window_get_trainer (window);

  g_autoptr (GFile) folder = g_file_new_for_path (argv[1]);
  hydra_window_open_files (window, &folder, 1);
  HydraDataset *ds = NULL;
  while ((ds = hydra_window_get_dataset (window)) == NULL || hydra_dataset_get_folder (ds) == NULL)
    g_main_context_iteration (NULL, TRUE);
  int n_train = 0, n_val = 0;
  dataset_split (hydra_dataset_get (ds), 20, NULL, &n_train, NULL, &n_val);

  gtk_widget_activate_action (GTK_WIDGET (window), "win.start-pause", NULL);
  iterate_until (trainer, HYDRA_RUN_RUNNING);
  gint64 t0 = g_get_monotonic_time ();
  iterate_until (trainer, HYDRA_RUN_FINISHED);
  double seconds = (g_get_monotonic_time () - t0) / 1e6;
  if (hydra_trainer_get_state (trainer) != HYDRA_RUN_FINISHED)
    {
      g_printerr ("the run failed: %s\n", hydra_trainer_get_message (trainer));
      return 1;
    }
  printf ("{\"impl\":\"studio\",\"epochs\":%d,\"n_train\":%d,\"seconds\":%.2f,"
          "\"img_per_s\":%.1f}\n",
          epochs, n_train, seconds, epochs * n_train / seconds);

  /* the final model is written on a worker: let it finish before the window goes */
  while (hydra_trainer_get_saving (trainer))
    g_main_context_iteration (NULL, TRUE);
  gtk_window_destroy (GTK_WINDOW (window));
  g_object_unref (settings);
  g_object_unref (app);
  return 0;
}
