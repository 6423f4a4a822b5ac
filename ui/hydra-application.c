/* hydra-application.c — the studio's GtkApplication. */

#include "hydra-application.h"

#include <epoxy/gl.h>
#include <string.h>

#include "hydra-window.h"
#include "parallel.h"

struct _HydraApplication
{
  GtkApplication parent_instance;

  GDBusProxy *portal; /* the settings portal, for the system's colour scheme; may be NULL */
};

G_DEFINE_FINAL_TYPE (HydraApplication, hydra_application, GTK_TYPE_APPLICATION)

static HydraWindow *
get_window (HydraApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    window = GTK_WINDOW (hydra_window_new (self));
  return HYDRA_WINDOW (window);
}

static void
hydra_application_activate (GApplication *app)
{
  gtk_window_present (GTK_WINDOW (get_window (HYDRA_APPLICATION (app))));
}

static void
hydra_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  HydraWindow *window = get_window (HYDRA_APPLICATION (app));

  gtk_window_present (GTK_WINDOW (window));
  hydra_window_open_files (window, files, n_files);
}

/* ---- light and dark, as the system says (GTK 4.8 alone does not ask the portal) ---- */

static void
apply_color_scheme (GVariant *value)
{
  /* org.freedesktop.appearance color-scheme: 0 no preference, 1 dark, 2 light */
  while (value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT))
    value = g_variant_get_variant (value); /* Read() wraps the value twice */
  if (value == NULL || !g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    return;
  g_object_set (gtk_settings_get_default (), "gtk-application-prefer-dark-theme",
                g_variant_get_uint32 (value) == 1, NULL);
}

static void
portal_signal (GDBusProxy *proxy, const char *sender, const char *signal, GVariant *params,
               gpointer user_data)
{
  const char *ns, *key;
  g_autoptr (GVariant) value = NULL;

  if (g_strcmp0 (signal, "SettingChanged") != 0)
    return;
  g_variant_get (params, "(&s&sv)", &ns, &key, &value);
  if (g_strcmp0 (ns, "org.freedesktop.appearance") == 0 && g_strcmp0 (key, "color-scheme") == 0)
    apply_color_scheme (value);
}

static void
portal_read_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GVariant) reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, NULL);
  g_autoptr (GVariant) value = NULL;

  if (reply == NULL)
    return; /* no portal (a bare X server, a test): keep the theme's default */
  g_variant_get (reply, "(v)", &value);
  apply_color_scheme (value);
}

static void
portal_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (HydraApplication) self = user_data;
  GDBusProxy *portal = g_dbus_proxy_new_for_bus_finish (result, NULL);

  if (portal == NULL)
    return;
  self->portal = portal;
  g_signal_connect (portal, "g-signal", G_CALLBACK (portal_signal), NULL);
  g_dbus_proxy_call (portal, "Read",
                     g_variant_new ("(ss)", "org.freedesktop.appearance", "color-scheme"),
                     G_DBUS_CALL_FLAGS_NONE, 2000, NULL, portal_read_done, NULL);
}

static void
follow_system_color_scheme (HydraApplication *self)
{
  g_dbus_proxy_new_for_bus (
      G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START_AT_CONSTRUCTION, NULL,
      "org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop",
      "org.freedesktop.portal.Settings", NULL, portal_ready, g_object_ref (self));
}

/* ---- software OpenGL ---- */

/* Without a GPU (a VM, a remote or virtual X server) GL is Mesa's llvmpipe, which shares the
 * CPU with training: it stalls the main loop far longer than Cairo does, and slows training
 * (tests/ui/bench-stall; docs/performance.md). So on a software GL the studio draws with
 * Cairo, unless GSK_RENDERER says otherwise. Runs before the first window, because GTK reads
 * GSK_RENDERER once. */
static void
avoid_software_gl (void)
{
  GdkDisplay *display = gdk_display_get_default ();
  g_autoptr (GdkGLContext) context = NULL;

  if (g_getenv ("GSK_RENDERER") != NULL || display == NULL)
    return;
  context = gdk_display_create_gl_context (display, NULL);
  if (context == NULL || !gdk_gl_context_realize (context, NULL))
    return; /* no GL at all: GTK picks Cairo itself */
  gdk_gl_context_make_current (context);
  const char *renderer = (const char *) glGetString (GL_RENDERER);
  if (renderer != NULL
      && (strstr (renderer, "llvmpipe") || strstr (renderer, "softpipe")
          || strstr (renderer, "Software Rasterizer")))
    g_setenv ("GSK_RENDERER", "cairo", FALSE);
  gdk_gl_context_clear_current ();
}

/* ---- actions ---- */

static void
quit_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GtkApplication *app = user_data;

  /* close windows properly so their settings are saved and their runs stopped */
  GList *windows = gtk_application_get_windows (app);
  while (windows != NULL)
    {
      GList *next = windows->next;
      gtk_window_close (windows->data);
      windows = next;
    }
}

static void
about_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GtkApplication *app = user_data;
  static const char *developers[] = { "The HydraNet Studio developers", NULL };

  gtk_show_about_dialog (gtk_application_get_active_window (app), "program-name", "HydraNet Studio",
                         "logo-icon-name", HYDRA_APP_ID, "version", HYDRA_VERSION, "comments",
                         "Train one network with three heads — age, gender and race — "
                         "and watch their losses compete.",
                         "website", "https://example.org/hydranet-studio", "license-type",
                         GTK_LICENSE_MIT_X11, "authors", developers, "copyright",
                         "© 2026 The HydraNet Studio developers", NULL);
}

static const GActionEntry app_actions[] = {
  { "quit", quit_action },
  { "about", about_action },
};

static void
hydra_application_startup (GApplication *app)
{
  HydraApplication *self = HYDRA_APPLICATION (app);
  static const struct
  {
    const char *action;
    const char *accels[3];
  } accels[] = {
    { "app.quit", { "<Ctrl>q", NULL } },         { "win.start-pause", { "<Ctrl>Return", NULL } },
    { "win.stop", { "<Ctrl>period", NULL } },    { "win.rollback", { "<Ctrl>z", NULL } },
    { "win.reset", { "<Ctrl><Shift>r", NULL } }, { "win.open-folder", { "<Ctrl><Shift>o", NULL } },
    { "win.open-model", { "<Ctrl>o", NULL } },   { "win.save-model", { "<Ctrl>s", NULL } },
    { "win.open-record", { "<Ctrl><Shift>l", NULL } },
    { "win.export-plot", { "<Ctrl>e", NULL } },  { "win.open-images", { "<Ctrl>i", NULL } },
    { "win.paste", { "<Ctrl>v", NULL } },        { "win.log-scale", { "<Ctrl>l", NULL } },
    { "win.reset-zoom", { "<Ctrl>0", NULL } },   { "win.view::loss", { "<Alt>1", NULL } },
    { "win.view::balance", { "<Alt>2", NULL } }, { "win.view::metrics", { "<Alt>3", NULL } },
    { "win.view::dataset", { "<Alt>4", NULL } },
    { "win.view::runs", { "<Alt>5", NULL } }, { "window.close", { "<Ctrl>w", NULL } },
  };

  G_APPLICATION_CLASS (hydra_application_parent_class)->startup (app);
  avoid_software_gl ();
  /* Training takes every core it is given; below the main loop, it waits for a drawing or a
   * drop more often than they wait for it (tests/ui/bench-stall; docs/performance.md). */
  engine_set_nice (5);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions),
                                   app);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), accels[i].action,
                                           accels[i].accels);
  gtk_window_set_default_icon_name (HYDRA_APP_ID);
  follow_system_color_scheme (self);

  /* GTK 4.8 leaves style.css to the application (libadwaita would load it) */
  g_autoptr (GtkCssProvider) css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/org/hydranet/Studio/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

static void
hydra_application_dispose (GObject *object)
{
  HydraApplication *self = HYDRA_APPLICATION (object);

  g_clear_object (&self->portal);

  G_OBJECT_CLASS (hydra_application_parent_class)->dispose (object);
}

static void
hydra_application_class_init (HydraApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = hydra_application_dispose;
  app_class->activate = hydra_application_activate;
  app_class->open = hydra_application_open;
  app_class->startup = hydra_application_startup;
}

static void
hydra_application_init (HydraApplication *self)
{
}

/* Run from the build tree, the studio's schema is not installed yet: use the copy compiled
 * there. Decided before anything asks GSettings, which reads the variable only once. */
static void
find_uninstalled_schema (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

  if (g_getenv ("GSETTINGS_SCHEMA_DIR") == NULL && exe != NULL
      && g_str_has_prefix (exe, HYDRA_BUILD_ROOT "/")
      && g_file_test (HYDRA_BUILD_SCHEMA_DIR "/gschemas.compiled", G_FILE_TEST_EXISTS))
    g_setenv ("GSETTINGS_SCHEMA_DIR", HYDRA_BUILD_SCHEMA_DIR, TRUE);
}

HydraApplication *
hydra_application_new (void)
{
  find_uninstalled_schema ();
  return g_object_new (HYDRA_TYPE_APPLICATION, "application-id", HYDRA_APP_ID, "flags",
                       G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE, "resource-base-path",
                       "/org/hydranet/Studio", NULL);
}

void
hydra_application_hold_while_writing (gboolean writing)
{
  GApplication *app = g_application_get_default ();

  if (app == NULL)
    return;
  if (writing)
    g_application_hold (app);
  else
    g_application_release (app);
}
