/* hydra-predict-bars.h — probabilities as rows of labelled bars, drawn in one widget.
 *
 * Each row is a name, a bar as long as its probability and the percentage; a row marked top
 * (the predicted class) has its name in bold and its bar in the accent colour. Rows may be
 * set apart in groups (gender, then race) and their columns line up across groups.
 * One widget where a grid of labels and level bars would be twenty: a face card stays cheap
 * to build and to lay out when a drop brings many (tests/ui/bench-stall). For assistive
 * technologies it is an image whose label reads the rows out; the tooltip says the same.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef struct
{
  const char *name; /* copied */
  double value;     /* a probability in [0, 1]; NaN shows as "–" */
  gboolean top;
  gboolean gap_before; /* starts a new group */
} HydraPredictBarsRow;

#define HYDRA_TYPE_PREDICT_BARS (hydra_predict_bars_get_type ())
G_DECLARE_FINAL_TYPE (HydraPredictBars, hydra_predict_bars, HYDRA, PREDICT_BARS, GtkWidget)

GtkWidget *hydra_predict_bars_new (void);

void hydra_predict_bars_set_rows (HydraPredictBars *self, const HydraPredictBarsRow *rows, guint n);
/* Names the name column makes room for even when no row shows them (in bold, as a top
 * row's), so that the bars of widgets showing either line up: a card's "Female" and "Male". */
void hydra_predict_bars_reserve_names (HydraPredictBars *self, const char *const *names);

/* The rows as text ("Female 93%; White 61%, Black 3%, …"), as assistive technologies read it. */
const char *hydra_predict_bars_get_text (HydraPredictBars *self);

G_END_DECLS
