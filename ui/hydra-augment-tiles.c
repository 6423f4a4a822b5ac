/* hydra-augment-tiles.c — small square pictures in rows that fit the width. */

#include "hydra-augment-tiles.h"

#define GAP 6
#define MAX_TILE 128 /* px: the largest multiple of the size a tile grows to */
#define MIN_TILE 40  /* px: a smoothed tile is never smaller */

struct _HydraAugmentTiles
{
  GtkWidget parent_instance;

  /* owned */
  GPtrArray *surfaces; /* cairo_surface_t, RGB24, size × size */
  GStrv tips;
  int size;
};

G_DEFINE_FINAL_TYPE (HydraAugmentTiles, hydra_augment_tiles, GTK_TYPE_WIDGET)

typedef struct
{
  guint cols, rows;
  int tile; /* px */
} Layout;

/* The largest multiple of the size up to MAX_TILE of which three fit in width; else the
 * third of the width, smoothed. Then the most columns of 12, 6, 4 and 3 that fit. */
static Layout
layout_for (HydraAugmentTiles *self, int width)
{
  static const guint columns[] = { 12, 6, 4, 3 };
  guint n = self->surfaces->len;
  Layout l = { 3, 0, 0 };

  if (n == 0)
    return (Layout){ 0, 0, 0 };
  for (int k = MAX (1, MAX_TILE / self->size); k >= 1 && l.tile == 0; k--)
    if (3 * k * self->size + 2 * GAP <= width)
      l.tile = k * self->size;
  if (l.tile == 0)
    l.tile = MAX (MIN_TILE, (width - 2 * GAP) / 3);
  for (guint c = G_N_ELEMENTS (columns); c-- > 0;)
    if ((int) (columns[c] * l.tile + (columns[c] - 1) * GAP) <= width)
      l.cols = columns[c];
  l.cols = MIN (l.cols, n);
  l.rows = (n + l.cols - 1) / l.cols;
  return l;
}

/* The tile under (x, y), or -1. */
static int
tile_at (HydraAugmentTiles *self, double x, double y)
{
  Layout l = layout_for (self, gtk_widget_get_width (GTK_WIDGET (self)));
  int col, row;

  if (l.tile <= 0 || x < 0 || y < 0)
    return -1;
  col = (int) x / (l.tile + GAP);
  row = (int) y / (l.tile + GAP);
  if ((guint) col >= l.cols || x - col * (l.tile + GAP) >= l.tile
      || y - row * (l.tile + GAP) >= l.tile || (guint) (row * l.cols + col) >= self->surfaces->len)
    return -1;
  return row * l.cols + col;
}

static GtkSizeRequestMode
hydra_augment_tiles_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
hydra_augment_tiles_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                             int *minimum, int *natural, int *minimum_baseline,
                             int *natural_baseline)
{
  HydraAugmentTiles *self = HYDRA_AUGMENT_TILES (widget);
  int natural_w = 0;
  Layout l;

  if (self->surfaces->len > 0)
    natural_w = 6 * MAX (self->size, MAX_TILE / self->size * self->size) + 5 * GAP;
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = self->surfaces->len > 0 ? 3 * MIN_TILE + 2 * GAP : 0;
      *natural = natural_w;
      return;
    }
  l = layout_for (self, for_size >= 0 ? for_size : natural_w);
  *minimum = *natural = l.rows > 0 ? (int) (l.rows * l.tile + (l.rows - 1) * GAP) : 0;
}

static void
hydra_augment_tiles_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  HydraAugmentTiles *self = HYDRA_AUGMENT_TILES (widget);
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  Layout l = layout_for (self, width);
  cairo_t *cr;

  if (l.tile <= 0 || height <= 0)
    return;
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  for (guint i = 0; i < self->surfaces->len; i++)
    {
      double scale = (double) l.tile / self->size;

      cairo_save (cr);
      cairo_translate (cr, (i % l.cols) * (l.tile + GAP), (i / l.cols) * (l.tile + GAP));
      cairo_rectangle (cr, 0, 0, l.tile, l.tile);
      cairo_clip (cr);
      cairo_scale (cr, scale, scale);
      cairo_set_source_surface (cr, g_ptr_array_index (self->surfaces, i), 0, 0);
      /* whole pixels as blocks: what a 32-px input holds, no more */
      cairo_pattern_set_filter (cairo_get_source (cr), l.tile % self->size == 0
                                                           ? CAIRO_FILTER_NEAREST
                                                           : CAIRO_FILTER_GOOD);
      cairo_paint (cr);
      cairo_restore (cr);
    }
  cairo_destroy (cr);
}

static gboolean
hydra_augment_tiles_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard_mode,
                                   GtkTooltip *tooltip)
{
  HydraAugmentTiles *self = HYDRA_AUGMENT_TILES (widget);
  int i = tile_at (self, x, y);

  if (i < 0 || self->tips == NULL || self->tips[i] == NULL)
    return FALSE;
  gtk_tooltip_set_text (tooltip, self->tips[i]);
  return TRUE;
}

static void
hydra_augment_tiles_finalize (GObject *object)
{
  HydraAugmentTiles *self = HYDRA_AUGMENT_TILES (object);

  g_clear_pointer (&self->surfaces, g_ptr_array_unref);
  g_clear_pointer (&self->tips, g_strfreev);

  G_OBJECT_CLASS (hydra_augment_tiles_parent_class)->finalize (object);
}

static void
hydra_augment_tiles_class_init (HydraAugmentTilesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = hydra_augment_tiles_finalize;
  widget_class->get_request_mode = hydra_augment_tiles_get_request_mode;
  widget_class->measure = hydra_augment_tiles_measure;
  widget_class->snapshot = hydra_augment_tiles_snapshot;
  widget_class->query_tooltip = hydra_augment_tiles_query_tooltip;

  gtk_widget_class_set_css_name (widget_class, "hydra-augment-tiles");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
hydra_augment_tiles_init (HydraAugmentTiles *self)
{
  self->surfaces = g_ptr_array_new_with_free_func ((GDestroyNotify) cairo_surface_destroy);
  self->size = 1;
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
}

GtkWidget *
hydra_augment_tiles_new (void)
{
  return g_object_new (HYDRA_TYPE_AUGMENT_TILES, NULL);
}

/* (size, size, 3) RGB as Cairo's native-endian xRGB words. */
static cairo_surface_t *
surface_from_rgb (const guint8 *rgb, int size)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, size, size);
  int stride = cairo_image_surface_get_stride (surface);
  guint8 *data = cairo_image_surface_get_data (surface);

  for (int y = 0; y < size; y++)
    for (int x = 0; x < size; x++)
      {
        const guint8 *p = rgb + ((gsize) y * size + x) * 3;

        *(guint32 *) (data + y * stride + x * 4) = (guint32) p[0] << 16 | p[1] << 8 | p[2];
      }
  cairo_surface_mark_dirty (surface);
  return surface;
}

void
hydra_augment_tiles_set (HydraAugmentTiles *self, guint n, int size, const guint8 *rgb,
                         const char *const *tips)
{
  gboolean resized;

  g_return_if_fail (HYDRA_IS_AUGMENT_TILES (self));
  g_return_if_fail (n == 0 || (size > 0 && rgb != NULL));

  resized = n != self->surfaces->len || (n > 0 && size != self->size);
  g_ptr_array_set_size (self->surfaces, 0);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (self->surfaces, surface_from_rgb (rgb + (gsize) i * size * size * 3, size));
  if (n > 0)
    self->size = size;
  g_clear_pointer (&self->tips, g_strfreev);
  if (tips != NULL)
    self->tips = g_strdupv ((char **) tips);
  if (resized)
    gtk_widget_queue_resize (GTK_WIDGET (self));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
