/* hydra-number-input.h — a spin button that takes only numbers it can hold, and says why not.
 *
 * A GtkSpinButton reads what is typed loosely: "0.5x" is 0.5, "abc" its lowest value, "inf" or
 * "1e300" its highest, and nothing tells the person. Attached, it reads strictly: the whole
 * text a finite number (or what a field's own reader takes), inside the adjustment's range.
 * Anything else keeps the value it had, marks the field (the error style, a tooltip saying
 * what it takes) and is reported through `refused`; the next good value clears the mark.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* text → the adjustment's value (its units: log10 for the learning rate); FALSE: not one. */
typedef gboolean (*HydraNumberRead) (const char *text, double *value);

typedef void (*HydraNumberRefused) (const char *message, gpointer data);

/* A whole number, for counts (batch size, epochs): "3.5" is not one. */
gboolean hydra_number_read_whole (const char *text, double *value);

/* what: the field's name ("Learning rate"); takes: what it takes ("a rate from 1e-07 to 1";
 * NULL: "a number from LOWER to UPPER"); read: NULL for a plain number. Replaces any "input"
 * handler the spin button had. */
void hydra_number_input_attach (GtkSpinButton *spin, const char *what, const char *takes,
                                HydraNumberRead read, HydraNumberRefused refused, gpointer data);

G_END_DECLS
