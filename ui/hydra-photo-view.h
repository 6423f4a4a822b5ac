/* hydra-photo-view.h — a photo with a numbered box drawn over each face found in it.
 *
 * Draws a texture at its own size (shrunk to fit a smaller allocation, aspect kept) and the
 * boxes, given in the pixels of the image the texture was scaled from; each is numbered from
 * 1 at its top left corner, the highlighted one drawn thicker in the accent colour. A click
 * on a box emits "face-activated" with its index (the innermost box under the pointer), a
 * click elsewhere with -1; hovering a box shows its number as a tooltip.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define HYDRA_TYPE_PHOTO_VIEW (hydra_photo_view_get_type ())
G_DECLARE_FINAL_TYPE (HydraPhotoView, hydra_photo_view, HYDRA, PHOTO_VIEW, GtkWidget)

GtkWidget *hydra_photo_view_new (void);

void hydra_photo_view_set_texture (HydraPhotoView *self, GdkTexture *texture);
/* boxes (n) in a width × height image's pixels; copied. */
void hydra_photo_view_set_boxes (HydraPhotoView *self, const GdkRectangle *boxes, guint n,
                                 int width, int height);
guint hydra_photo_view_get_n_boxes (HydraPhotoView *self);

/* The box drawn highlighted, or -1. */
void hydra_photo_view_set_highlight (HydraPhotoView *self, int index);
int hydra_photo_view_get_highlight (HydraPhotoView *self);

/* The box under (x, y) in the widget's coordinates, the smallest when boxes overlap; -1 for
 * none. */
int hydra_photo_view_face_at (HydraPhotoView *self, double x, double y);

G_END_DECLS
