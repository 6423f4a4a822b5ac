/* hydra-photo-view.c — a photo with a numbered box drawn over each face found in it. */

#include "hydra-photo-view.h"

#include <math.h>

#include "chart/hydra-chart-draw.h"

#define BOX_WIDTH 2
#define BOX_WIDTH_HIGHLIGHT 3
#define BADGE_PAD 3

struct _HydraPhotoView
{
  GtkWidget parent_instance;

  /* owned */
  GdkTexture *texture;
  GArray *boxes; /* GdkRectangle, in the image's pixels */
  int image_w, image_h;
  int highlight;
};

G_DEFINE_FINAL_TYPE (HydraPhotoView, hydra_photo_view, GTK_TYPE_WIDGET)

enum
{
  SIGNAL_FACE_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Where the texture is drawn: fitted into the allocation, centred. */
static graphene_rect_t
picture_rect (HydraPhotoView *self)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  int tw = gdk_texture_get_width (self->texture), th = gdk_texture_get_height (self->texture);
  double scale = MIN (1.0, MIN ((double) w / tw, (double) h / th));
  double dw = round (tw * scale), dh = round (th * scale);

  return GRAPHENE_RECT_INIT (round ((w - dw) / 2), round ((h - dh) / 2), dw, dh);
}

/* Box i in the widget's coordinates, on whole pixels. */
static graphene_rect_t
box_rect (HydraPhotoView *self, const graphene_rect_t *picture, guint i)
{
  const GdkRectangle *b = &g_array_index (self->boxes, GdkRectangle, i);
  double sx = picture->size.width / self->image_w, sy = picture->size.height / self->image_h;
  double x0 = round (picture->origin.x + b->x * sx), y0 = round (picture->origin.y + b->y * sy);
  double x1 = round (picture->origin.x + (b->x + b->width) * sx);
  double y1 = round (picture->origin.y + (b->y + b->height) * sy);

  return GRAPHENE_RECT_INIT (x0, y0, MAX (x1 - x0, 2), MAX (y1 - y0, 2));
}

static void
hydra_photo_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                          int *natural, int *minimum_baseline, int *natural_baseline)
{
  HydraPhotoView *self = HYDRA_PHOTO_VIEW (widget);

  *minimum = *natural = 0;
  if (self->texture == NULL)
    return;
  /* narrower than the texture, the photo is shrunk to fit (picture_rect) */
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *natural = gdk_texture_get_width (self->texture);
  else
    *minimum = *natural = gdk_texture_get_height (self->texture);
}

static void
append_frame (GtkSnapshot *snapshot, const graphene_rect_t *rect, double width,
              const GdkRGBA *color)
{
  GskRoundedRect outline;
  const float widths[4] = { width, width, width, width };
  const GdkRGBA colors[4] = { *color, *color, *color, *color };

  gsk_rounded_rect_init_from_rect (&outline, rect, 2);
  gtk_snapshot_append_border (snapshot, &outline, widths, colors);
}

static void
append_box (HydraPhotoView *self, GtkSnapshot *snapshot, PangoLayout *layout,
            const graphene_rect_t *box, guint i, const GdkRGBA *accent)
{
  gboolean highlighted = (int) i == self->highlight;
  double width = highlighted ? BOX_WIDTH_HIGHLIGHT : BOX_WIDTH;
  const GdkRGBA shadow = { 0, 0, 0, 0.55 };
  const GdkRGBA white = { 1, 1, 1, 0.95 };
  char number[12];
  int tw, th;

  /* a dark rim outside the light box keeps it visible on light and dark photos alike */
  graphene_rect_t rim = *box;
  graphene_rect_inset (&rim, -1, -1);
  append_frame (snapshot, &rim, width + 2, &shadow);
  append_frame (snapshot, box, width, highlighted ? accent : &white);

  /* the number, on a tab at the box's top left (above it when the box is small) */
  g_snprintf (number, sizeof number, "%u", i + 1);
  pango_layout_set_text (layout, number, -1);
  pango_layout_get_pixel_size (layout, &tw, &th);
  double bw = MAX (tw + 2 * BADGE_PAD, th), bh = th;
  double bx = box->origin.x, by = box->origin.y;
  if (box->size.height < 2 * bh || box->size.width < 2 * bw)
    by = MAX (0, by - bh);
  graphene_rect_t badge = GRAPHENE_RECT_INIT (bx, by, bw, bh);
  GskRoundedRect round_badge;
  gsk_rounded_rect_init_from_rect (&round_badge, &badge, 2);
  gtk_snapshot_push_rounded_clip (snapshot, &round_badge);
  gtk_snapshot_append_color (snapshot, highlighted ? accent : &shadow, &badge);
  gtk_snapshot_pop (snapshot);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (round (bx + (bw - tw) / 2), by));
  gtk_snapshot_append_layout (snapshot, layout, &white);
  gtk_snapshot_restore (snapshot);
}

static void
hydra_photo_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  HydraPhotoView *self = HYDRA_PHOTO_VIEW (widget);
  g_autoptr (PangoLayout) layout = NULL;
  graphene_rect_t picture;
  GdkRGBA accent = { 0.21, 0.52, 0.89, 1 };

  if (self->texture == NULL)
    return;
  picture = picture_rect (self);
  gtk_snapshot_append_texture (snapshot, self->texture, &picture);
  if (self->boxes->len == 0 || self->image_w <= 0 || self->image_h <= 0)
    return;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_lookup_color (gtk_widget_get_style_context (widget), "theme_selected_bg_color",
                                  &accent);
  G_GNUC_END_IGNORE_DEPRECATIONS
  layout = hydra_chart_layout_new (widget, 0.8, TRUE);
  /* the photo's edge clips boxes of faces it cuts */
  gtk_snapshot_push_clip (snapshot, &picture);
  for (guint i = 0; i < self->boxes->len; i++)
    if ((int) i != self->highlight)
      {
        graphene_rect_t box = box_rect (self, &picture, i);
        append_box (self, snapshot, layout, &box, i, &accent);
      }
  /* the highlighted box last, above any it overlaps */
  if (self->highlight >= 0 && (guint) self->highlight < self->boxes->len)
    {
      graphene_rect_t box = box_rect (self, &picture, self->highlight);
      append_box (self, snapshot, layout, &box, self->highlight, &accent);
    }
  gtk_snapshot_pop (snapshot);
}

int
hydra_photo_view_face_at (HydraPhotoView *self, double x, double y)
{
  graphene_rect_t picture;
  int found = -1;
  double found_area = G_MAXDOUBLE;

  g_return_val_if_fail (HYDRA_IS_PHOTO_VIEW (self), -1);

  if (self->texture == NULL || self->image_w <= 0 || self->image_h <= 0)
    return -1;
  picture = picture_rect (self);
  for (guint i = 0; i < self->boxes->len; i++)
    {
      graphene_rect_t box = box_rect (self, &picture, i);
      double area = box.size.width * box.size.height;

      if (graphene_rect_contains_point (&box, &GRAPHENE_POINT_INIT (x, y)) && area < found_area)
        {
          found = i;
          found_area = area;
        }
    }
  return found;
}

static void
on_released (GtkGestureClick *gesture, int n_press, double x, double y, HydraPhotoView *self)
{
  g_signal_emit (self, signals[SIGNAL_FACE_ACTIVATED], 0, hydra_photo_view_face_at (self, x, y));
}

static gboolean
on_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip,
                  gpointer data)
{
  int i = hydra_photo_view_face_at (HYDRA_PHOTO_VIEW (widget), x, y);
  g_autofree char *text = NULL;

  if (i < 0)
    return FALSE;
  text = g_strdup_printf ("Face %d — click to show its card", i + 1);
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
hydra_photo_view_finalize (GObject *object)
{
  HydraPhotoView *self = HYDRA_PHOTO_VIEW (object);

  g_clear_object (&self->texture);
  g_array_unref (self->boxes);

  G_OBJECT_CLASS (hydra_photo_view_parent_class)->finalize (object);
}

static void
hydra_photo_view_class_init (HydraPhotoViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = hydra_photo_view_finalize;
  widget_class->measure = hydra_photo_view_measure;
  widget_class->snapshot = hydra_photo_view_snapshot;

  signals[SIGNAL_FACE_ACTIVATED]
      = g_signal_new ("face-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 1, G_TYPE_INT);

  gtk_widget_class_set_css_name (widget_class, "hydraphotoview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
hydra_photo_view_init (HydraPhotoView *self)
{
  GtkGesture *click = gtk_gesture_click_new ();

  self->boxes = g_array_new (FALSE, FALSE, sizeof (GdkRectangle));
  self->highlight = -1;
  g_signal_connect (click, "released", G_CALLBACK (on_released), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (on_query_tooltip), NULL);
}

GtkWidget *
hydra_photo_view_new (void)
{
  return g_object_new (HYDRA_TYPE_PHOTO_VIEW, NULL);
}

void
hydra_photo_view_set_texture (HydraPhotoView *self, GdkTexture *texture)
{
  g_return_if_fail (HYDRA_IS_PHOTO_VIEW (self));
  g_return_if_fail (texture == NULL || GDK_IS_TEXTURE (texture));

  if (g_set_object (&self->texture, texture))
    gtk_widget_queue_resize (GTK_WIDGET (self));
}

void
hydra_photo_view_set_boxes (HydraPhotoView *self, const GdkRectangle *boxes, guint n, int width,
                            int height)
{
  g_return_if_fail (HYDRA_IS_PHOTO_VIEW (self));
  g_return_if_fail (n == 0 || boxes != NULL);

  g_array_set_size (self->boxes, 0);
  g_array_append_vals (self->boxes, boxes, n);
  self->image_w = width;
  self->image_h = height;
  if (self->highlight >= (int) n)
    self->highlight = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
hydra_photo_view_get_n_boxes (HydraPhotoView *self)
{
  g_return_val_if_fail (HYDRA_IS_PHOTO_VIEW (self), 0);
  return self->boxes->len;
}

void
hydra_photo_view_set_highlight (HydraPhotoView *self, int index)
{
  g_return_if_fail (HYDRA_IS_PHOTO_VIEW (self));

  index = index >= 0 && (guint) index < self->boxes->len ? index : -1;
  if (self->highlight == index)
    return;
  self->highlight = index;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
hydra_photo_view_get_highlight (HydraPhotoView *self)
{
  g_return_val_if_fail (HYDRA_IS_PHOTO_VIEW (self), -1);
  return self->highlight;
}
