/* hydra-augment-tiles.h — small square pictures in rows that fit the width.
 *
 * 12, 6, 4 or 3 columns, whichever is the most that fits; each tile is an integer multiple
 * of the pictures' size up to 128 px, drawn with sharp pixels, so that a 32-px input looks
 * like the 32 px it is; smaller and smoothed only when even three such tiles do not fit.
 * Each tile has a tooltip of its own.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define HYDRA_TYPE_AUGMENT_TILES (hydra_augment_tiles_get_type ())
G_DECLARE_FINAL_TYPE (HydraAugmentTiles, hydra_augment_tiles, HYDRA, AUGMENT_TILES, GtkWidget)

GtkWidget *hydra_augment_tiles_new (void);

/* Shows n pictures, rgb (n, size, size, 3), copied; tips: their n tooltips, NULL-terminated
 * (or NULL). n = 0 shows nothing and takes no room. */
void hydra_augment_tiles_set (HydraAugmentTiles *self, guint n, int size, const guint8 *rgb,
                              const char *const *tips);

G_END_DECLS
