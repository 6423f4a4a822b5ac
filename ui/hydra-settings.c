/* hydra-settings.c — the settings' backend, chosen once (hydra-settings.h). */
#define G_SETTINGS_ENABLE_BACKEND
#include "hydra-settings.h"

#include <gio/gsettingsbackend.h>

#define PROBE_KEY "write-check"

static GSettingsBackend *candidate;
static char *key_file, *problem;
static gboolean told;

void
hydra_settings_use_for_testing (GSettingsBackend *backend, const char *file)
{
  g_set_object (&candidate, backend);
  g_free (key_file);
  key_file = g_strdup (file);
}

/* Whether a write to backend is still there once the backend has dealt with it. */
static gboolean
write_sticks (GSettingsBackend *backend)
{
  g_autoptr (GSettings) s = g_settings_new_with_backend (HYDRA_APP_ID, backend);
  const guint32 want = g_settings_get_uint (s, PROBE_KEY) + 1;
  g_settings_set_uint (s, PROBE_KEY, want);
  g_settings_sync ();
  return g_settings_get_uint (s, PROBE_KEY) == want;
}

/* Every value the user set in from, into backend. */
static void
copy_user_values (GSettingsBackend *from, GSettingsBackend *backend)
{
  g_autoptr (GSettings) old = g_settings_new_with_backend (HYDRA_APP_ID, from);
  g_autoptr (GSettings) now = g_settings_new_with_backend (HYDRA_APP_ID, backend);
  g_autoptr (GSettingsSchema) schema = NULL;
  g_object_get (old, "settings-schema", &schema, NULL);
  g_auto (GStrv) keys = g_settings_schema_list_keys (schema);
  for (char **k = keys; *k != NULL; k++)
    {
      g_autoptr (GVariant) v = g_settings_get_user_value (old, *k);
      if (v != NULL && g_strcmp0 (*k, PROBE_KEY) != 0)
        g_settings_set_value (now, *k, v);
    }
}

static gpointer
choose_backend (gpointer data)
{
  GSettingsBackend *first
      = candidate != NULL ? g_object_ref (candidate) : g_settings_backend_get_default ();
  if (write_sticks (first))
    return first;

  g_autofree char *path = key_file ? g_strdup (key_file)
                                   : g_build_filename (g_get_user_config_dir (), "hydranet-studio",
                                                       "settings.ini", NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  GSettingsBackend *file = g_mkdir_with_parents (dir, 0700) == 0
                               ? g_keyfile_settings_backend_new (path, "/org/hydranet/Studio/", "studio")
                               : NULL;
  g_autofree char *shown = g_filename_display_name (path);
  if (file != NULL && write_sticks (file))
    {
      copy_user_values (first, file);
      problem = g_strdup_printf ("Settings cannot be saved with dconf here (is there a D-Bus "
                                 "session?): they are kept in %s instead", shown);
      g_object_unref (first);
      return file;
    }
  g_clear_object (&file);
  GSettingsBackend *memory = g_memory_settings_backend_new ();
  copy_user_values (first, memory);
  problem = g_strdup_printf ("Settings cannot be saved here, neither with dconf nor in %s: "
                             "changes last until the studio closes", shown);
  g_object_unref (first);
  return memory;
}

GSettings *
hydra_settings_new (void)
{
  static GOnce once = G_ONCE_INIT;
  return g_settings_new_with_backend (HYDRA_APP_ID, g_once (&once, choose_backend, NULL));
}

const char *
hydra_settings_take_problem (void)
{
  if (told)
    return NULL;
  told = TRUE;
  return problem;
}
