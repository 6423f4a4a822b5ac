/* hydra-application.h — the studio's GtkApplication: actions, shortcuts, files from the
 * command line, and the system's light or dark preference. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define HYDRA_TYPE_APPLICATION (hydra_application_get_type ())
G_DECLARE_FINAL_TYPE (HydraApplication, hydra_application, HYDRA, APPLICATION, GtkApplication)

/* Finds the settings schema in the build tree when the studio runs uninstalled. */
HydraApplication *hydra_application_new (void);

G_END_DECLS
