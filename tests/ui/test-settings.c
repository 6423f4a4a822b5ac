/* test-settings.c — the studio where its settings cannot be saved: a backend that undoes every
 * write, as dconf does without a D-Bus session. The live controls must work all the same (a
 * control bound to a setting used to spring back at once), the settings go to a key file, and
 * the window says so once. And numbers typed that a field cannot hold are refused, with a
 * message, before they reach a setting or the trainer. */
#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>
#include <gtk/gtk.h>
#include <string.h>

#include "hydra-application.h"
#include "hydra-settings.h"
#include "hydra-window.h"
#include "losses.h"
#include "test-util.h"
#include "ui-test-util.h"

/* ---- a backend that undoes every write ---- */

typedef struct
{
  GSettingsBackend parent;
} UndoingBackend;

typedef struct
{
  GSettingsBackendClass parent_class;
} UndoingBackendClass;

GType undoing_backend_get_type (void);
G_DEFINE_TYPE (UndoingBackend, undoing_backend, G_TYPE_SETTINGS_BACKEND)

static GVariant *
undoing_read (GSettingsBackend *b, const char *key, const GVariantType *type, gboolean default_value)
{
  return NULL; /* nothing was ever stored: the schema's defaults */
}

/* Accepted, then undone: what dconf does when its commit fails. */
static gboolean
undoing_write (GSettingsBackend *b, const char *key, GVariant *value, gpointer origin_tag)
{
  g_variant_unref (g_variant_ref_sink (value));
  g_settings_backend_changed (b, key, NULL);
  return TRUE;
}

static gboolean
undoing_write_tree (GSettingsBackend *b, GTree *tree, gpointer origin_tag)
{
  g_settings_backend_changed_tree (b, tree, NULL);
  return TRUE;
}

static void
undoing_reset (GSettingsBackend *b, const char *key, gpointer origin_tag)
{
}

static gboolean
undoing_get_writable (GSettingsBackend *b, const char *key)
{
  return TRUE;
}

static void
undoing_backend_class_init (UndoingBackendClass *c)
{
  GSettingsBackendClass *b = G_SETTINGS_BACKEND_CLASS (c);
  b->read = undoing_read;
  b->write = undoing_write;
  b->write_tree = undoing_write_tree;
  b->reset = undoing_reset;
  b->get_writable = undoing_get_writable;
}

static void
undoing_backend_init (UndoingBackend *self)
{
}

/* ---- the window ---- */

static HydraApplication *app;
static HydraWindow *window;
static char *tmpdir, *key_file;

static void
activate (const char *action, GVariant *param)
{
  ck_assert (gtk_widget_activate_action_variant (GTK_WIDGET (window), action, param));
}

/* The first spin button under w whose adjustment spans lower to upper. */
static GtkSpinButton *
find_spin (GtkWidget *w, double lower, double upper)
{
  if (GTK_IS_SPIN_BUTTON (w))
    {
      GtkAdjustment *a = gtk_spin_button_get_adjustment (GTK_SPIN_BUTTON (w));
      if (gtk_adjustment_get_lower (a) == lower && gtk_adjustment_get_upper (a) == upper)
        return GTK_SPIN_BUTTON (w);
    }
  for (GtkWidget *c = gtk_widget_get_first_child (w); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkSpinButton *found = find_spin (c, lower, upper);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The loss weights' (0 to 10, the first is the age's) and the learning rate's (log10: −7 to 0). */
static GtkSpinButton *
weight_spin (GtkWidget *w)
{
  return find_spin (w, 0, 10);
}

static char *
read_key_file (void)
{
  char *text = NULL;
  g_file_get_contents (key_file, &text, NULL, NULL);
  return text != NULL ? text : g_strdup ("");
}

START_TEST (test_controls_work_and_the_window_says_where_settings_go)
{
  /* said once, naming the key file */
  const char *banner = hydra_window_get_banner_text (window);
  ck_assert_msg (banner != NULL && strstr (banner, "cannot be saved with dconf") != NULL
                     && strstr (banner, key_file) != NULL,
                 "%s", banner);
  ck_assert_ptr_null (hydra_settings_take_problem ());

  /* the age-loss buttons: the choice stays, and is kept */
  g_autoptr (GSettings) settings = hydra_settings_new ();
  activate ("win.age-loss", g_variant_new_string ("mse"));
  ui_spin (0.3);
  ck_assert_int_eq (g_settings_get_enum (settings, "age-loss"), AGE_LOSS_MSE);
  g_autofree char *text = read_key_file ();
  ck_assert_msg (strstr (text, "age-loss='mse'") != NULL, "%s", text);

  /* a weight's +: the value stays where the click put it */
  GtkSpinButton *spin = weight_spin (GTK_WIDGET (window));
  ck_assert_ptr_nonnull (spin);
  const double before = gtk_spin_button_get_value (spin);
  gtk_spin_button_spin (spin, GTK_SPIN_STEP_FORWARD, 0);
  ui_spin (0.3);
  const double after = gtk_spin_button_get_value (spin);
  ck_assert_msg (after > before, "%g, then %g", before, after);
  ck_assert (is_close (g_settings_get_double (settings, "w-age"), after, 1e-9, 0));
}
END_TEST

/* Typed into a field, what it cannot hold: refused with a message, the value kept. */
START_TEST (test_typed_numbers_refused_with_a_message)
{
  struct
  {
    GtkSpinButton *spin;
    const char *bad[6], *good, *message;
  } fields[] = {
    { weight_spin (GTK_WIDGET (window)), { "nan", "inf", "-1", "1e300", "0.5x", "" }, "2.5",
      "a weight from 0 to 10" },
    { find_spin (GTK_WIDGET (window), -7, 0), { "nan", "-inf", "0", "-0.001", "1e300", "1e-9" },
      "0.002", "a rate from 1e-07 to 1" },
  };
  for (guint f = 0; f < G_N_ELEMENTS (fields); f++)
    {
      GtkSpinButton *spin = fields[f].spin;
      ck_assert_ptr_nonnull (spin);
      for (int i = 0; i < 6 && fields[f].bad[i] != NULL; i++)
        {
          const double before = gtk_spin_button_get_value (spin);
          gtk_editable_set_text (GTK_EDITABLE (spin), fields[f].bad[i]);
          gtk_spin_button_update (spin);
          ui_spin (0.05);
          ck_assert_msg (gtk_spin_button_get_value (spin) == before, "“%s” was taken",
                         fields[f].bad[i]);
          ck_assert (gtk_widget_has_css_class (GTK_WIDGET (spin), "error"));
          const char *banner = hydra_window_get_banner_text (window);
          ck_assert_msg (strstr (banner, fields[f].message) != NULL, "%s", banner);
        }
      gtk_editable_set_text (GTK_EDITABLE (spin), fields[f].good);
      gtk_spin_button_update (spin);
      ui_spin (0.05);
      ck_assert (!gtk_widget_has_css_class (GTK_WIDGET (spin), "error"));
    }
  g_autoptr (GSettings) settings = hydra_settings_new ();
  ck_assert (is_close (g_settings_get_double (settings, "w-age"), 2.5, 1e-9, 0));
  ck_assert (is_close (g_settings_get_double (settings, "learning-rate"), 0.002, 1e-9, 0));
}
END_TEST

static Suite *
settings_suite (void)
{
  Suite *s = suite_create ("settings");
  TCase *tc = tcase_create ("settings");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_controls_work_and_the_window_says_where_settings_go);
  tcase_add_test (tc, test_typed_numbers_refused_with_a_message);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  tmpdir = g_dir_make_tmp ("hydranet-settings-XXXXXX", NULL);
  if (tmpdir == NULL)
    return 1;
  g_setenv ("XDG_DATA_HOME", tmpdir, TRUE);
  g_setenv ("XDG_CACHE_HOME", tmpdir, TRUE);
  key_file = g_build_filename (tmpdir, "config", "settings.ini", NULL);
  g_autoptr (GSettingsBackend) undoing = g_object_new (undoing_backend_get_type (), NULL);
  hydra_settings_use_for_testing (undoing, key_file);

  gtk_init ();
  app = hydra_application_new ();
  g_application_register (G_APPLICATION (app), NULL, NULL);
  window = hydra_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  ui_spin (0.5);

  int status = test_run_suite (settings_suite ());

  gtk_window_destroy (GTK_WINDOW (window));
  ui_spin (0.2);
  g_object_unref (app);
  test_rmtree (tmpdir);
  g_free (tmpdir);
  g_free (key_file);
  return status;
}
