/* hydra-settings.h — the studio's settings, kept wherever they can be.
 *
 * The default backend, dconf, cannot write without a D-Bus session (over ssh, in a container,
 * on a bare X server): each write is undone at once ("failed to commit changes to dconf"), and
 * a control bound to a setting springs back — a dead window. So the first call checks that a
 * write sticks. When it does not, the settings live in a key file, $XDG_CONFIG_HOME/
 * hydranet-studio/settings.ini, starting from the values dconf holds; when that cannot be
 * written either, in memory for the session. hydra_settings_take_problem says which, once.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The studio's settings (org.hydranet.Studio) on the backend that works. */
GSettings *hydra_settings_new (void);

/* NULL when the settings are saved as usual; otherwise what to tell the user, the first time
 * it is asked (after the first hydra_settings_new). */
const char *hydra_settings_take_problem (void);

/* Tests: the backend to check instead of the default one, before the first hydra_settings_new,
 * and where the key file would go. */
void hydra_settings_use_for_testing (GSettingsBackend *backend, const char *key_file);

G_END_DECLS
