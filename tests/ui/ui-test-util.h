/* ui-test-util.h — what the studio's UI suites share: running the main loop until something
 * holds, grabbing a widget's picture, saving it as a test artefact, and measuring how long
 * the main loop stalls. */
#pragma once

#include <gtk/gtk.h>

/* Runs the main loop for this long. */
void ui_spin (double seconds);

/* Runs the main loop until cond (data) holds or timeout_s passes; returns its last answer. */
gboolean ui_wait_for (gboolean (*cond) (gpointer data), gpointer data, double timeout_s);

/* The same for a condition that needs no data. */
gboolean ui_wait_until (gboolean (*cond) (void), double timeout_s);

/* The widget's current picture, drawn with Cairo; fails the test when it has none after a few
 * frames. The caller destroys the surface. */
cairo_surface_t *ui_grab (GtkWidget *widget);

/* Writes surface to $HYDRANET_TEST_ARTIFACTS/name (nothing when the variable is unset). */
void ui_save_artifact (cairo_surface_t *surface, const char *name);

/* ui_grab + ui_save_artifact, after a frame has been drawn; name without ".png". */
void ui_screenshot (GtkWidget *widget, const char *name);

/* The longest gap between two ticks of a 5 ms timer between start and stop: how long the
 * main loop stalled. One meter at a time. */
void ui_stall_meter_start (void);
double ui_stall_meter_stop (void); /* milliseconds */
