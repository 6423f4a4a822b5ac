/* hydra-application.h — the studio's GtkApplication: actions, shortcuts, files from the
 * command line, and the system's light or dark preference. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define HYDRA_TYPE_APPLICATION (hydra_application_get_type ())
G_DECLARE_FINAL_TYPE (HydraApplication, hydra_application, HYDRA, APPLICATION, GtkApplication)

/* Finds the settings schema in the build tree when the studio runs uninstalled. */
HydraApplication *hydra_application_new (void);

/* Who writes a file, for its "source". */
#define HYDRA_SOURCE "HydraNet Studio " HYDRA_VERSION

/* TRUE while a file is being written, FALSE once it is: the process stays until then, even
 * after its window closes. */
void hydra_application_hold_while_writing (gboolean writing);

G_END_DECLS
