/* hydra-settings-panel.h — the window's settings: the live ones and the run's own.
 *
 * Above, the settings a run takes while it trains (the three loss weights or the balancing
 * method that chooses them, the age loss and the learning rate); below, those that shape a run (preset, optimizer, batch size, epochs,
 * input size, backbone, and folded under "Recipe" the schedule, time budget, weight decay,
 * label smoothing, augmentations, age target, weight average and validation flips), locked
 * while "busy". Every control is bound to its GSettings key, so the panel reads as the user
 * left it; a preset sets the keys it has an opinion on.
 *
 * Signals, emitted whenever a live key changes (from the controls, an action or elsewhere):
 *   "weight-changed"    (int head, double weight): HEAD_AGE, _GENDER or _RACE; 0 to 10
 *   "age-loss-changed"  (int kind): an HnAgeLoss
 *   "lr-changed"        (double lr)
 *   "balance-changed"   (int method): an HnBalance
 *
 * The age-loss buttons name the window's "win.age-loss" action (a GSettings action the
 * window creates, beside its other actions and their shortcuts).
 */
#pragma once

#include <gtk/gtk.h>

#include "trainer.h"

G_BEGIN_DECLS

#define HYDRA_TYPE_SETTINGS_PANEL (hydra_settings_panel_get_type ())
G_DECLARE_FINAL_TYPE (HydraSettingsPanel, hydra_settings_panel, HYDRA, SETTINGS_PANEL, GtkWidget)

GtkWidget *hydra_settings_panel_new (void);

/* The run the controls describe: the preset's, with every control laid over it. The
 * validation share is left as the preset has it (the data split is not one of the panel's
 * settings), and so is clock_start: the caller knows when the run was asked for. FALSE, with
 * the reason, when a setting cannot make a run (an augmentation list that does not parse,
 * shown as an error under its field); *out then has the preset's value for it. */
gboolean hydra_settings_panel_get_config (HydraSettingsPanel *self, HnTrainConfig *out,
                                          GError **error);

/* Shows the setting get_config refused: unfolds the recipe and focuses the field. */
void hydra_settings_panel_reveal_problem (HydraSettingsPanel *self);

/* The weights a run used at its last step, and who chose them. Under a balancing method the
 * weight controls show them (the user's own stay in their keys, for the next run), and moving
 * one hands the weights back: the method becomes manual, from the weights shown. Manual: the
 * controls show, and keep, the weights in force. weight NULL (no run): the user's own. */
void hydra_settings_panel_show_weights (HydraSettingsPanel *self, HnBalance method,
                                        const float weight[N_HEADS]);

/* The input side chosen, in pixels: what a data set is preprocessed to. */
int hydra_settings_panel_get_input_size (HydraSettingsPanel *self);

/* Property "busy": a run exists (or a model loads), so the settings that shape a run are
 * locked; the live ones stay. */
gboolean hydra_settings_panel_get_busy (HydraSettingsPanel *self);
void hydra_settings_panel_set_busy (HydraSettingsPanel *self, gboolean busy);

G_END_DECLS
