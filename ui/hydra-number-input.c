/* hydra-number-input.c — strict reading of a spin button's text (hydra-number-input.h). */
#include "hydra-number-input.h"

#include <math.h>

typedef struct
{
  char *what, *takes;
  HydraNumberRead read;
  HydraNumberRefused refused;
  gpointer data;
} NumberInput;

static void
number_input_free (gpointer p, GClosure *closure)
{
  NumberInput *n = p;

  g_free (n->what);
  g_free (n->takes);
  g_free (n);
}

/* The whole of text, spaces around allowed, as a finite number. */
static gboolean
read_plain (const char *text, double *value)
{
  g_autofree char *t = g_strstrip (g_strdup (text));
  char *end = NULL;
  double v = g_ascii_strtod (t, &end);

  if (end == t || *end != '\0' || !isfinite (v))
    return FALSE;
  *value = v;
  return TRUE;
}

gboolean
hydra_number_read_whole (const char *text, double *value)
{
  return read_plain (text, value) && *value == floor (*value);
}

static int
on_input (GtkSpinButton *spin, double *new_value, NumberInput *n)
{
  GtkAdjustment *adj = gtk_spin_button_get_adjustment (spin);
  const char *text = gtk_editable_get_text (GTK_EDITABLE (spin));
  double v;

  if ((n->read != NULL ? n->read (text, &v) : read_plain (text, &v))
      && v >= gtk_adjustment_get_lower (adj) && v <= gtk_adjustment_get_upper (adj))
    {
      gtk_widget_remove_css_class (GTK_WIDGET (spin), "error");
      gtk_widget_set_tooltip_text (GTK_WIDGET (spin),
                                   g_object_get_data (G_OBJECT (spin), "hydra-tooltip"));
      *new_value = v;
      return TRUE;
    }
  g_autofree char *message = g_strdup_printf ("%s: “%s” is not %s", n->what, text, n->takes);
  gtk_widget_add_css_class (GTK_WIDGET (spin), "error");
  gtk_widget_set_tooltip_text (GTK_WIDGET (spin), message);
  if (n->refused != NULL)
    n->refused (message, n->data);
  return GTK_INPUT_ERROR;
}

void
hydra_number_input_attach (GtkSpinButton *spin, const char *what, const char *takes,
                           HydraNumberRead read, HydraNumberRefused refused, gpointer data)
{
  GtkAdjustment *adj = gtk_spin_button_get_adjustment (spin);
  NumberInput *n = g_new0 (NumberInput, 1);

  n->what = g_strdup (what);
  n->takes = takes != NULL ? g_strdup (takes)
                           : g_strdup_printf ("a number from %g to %g",
                                              gtk_adjustment_get_lower (adj),
                                              gtk_adjustment_get_upper (adj));
  n->read = read;
  n->refused = refused;
  n->data = data;
  g_object_set_data_full (G_OBJECT (spin), "hydra-tooltip",
                          g_strdup (gtk_widget_get_tooltip_text (GTK_WIDGET (spin))), g_free);
  /* GTK_UPDATE_ALWAYS takes an unread text as 0 when 0 is in range ("nan" made the learning
   * rate 10^0 = 1): only a value read goes in */
  gtk_spin_button_set_update_policy (spin, GTK_UPDATE_IF_VALID);
  g_signal_handlers_disconnect_matched (spin, G_SIGNAL_MATCH_ID,
                                        g_signal_lookup ("input", GTK_TYPE_SPIN_BUTTON), 0, NULL,
                                        NULL, NULL);
  g_signal_connect_data (spin, "input", G_CALLBACK (on_input), n, number_input_free, 0);
}
