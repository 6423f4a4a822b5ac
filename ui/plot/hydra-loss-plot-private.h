/* hydra-loss-plot-private.h — what the loss plot's files share: the widget's struct, the
 * geometry of a picture, and each file's entry points.
 *
 *   ../hydra-loss-plot.c        the widget: properties, snapshot, controllers, setters
 *   hydra-loss-plot-cache.c     the series copied per channel, block summaries, smoothing,
 *                               decimation to pixel columns
 *   hydra-loss-plot-scale.c     the ranges shown: autoscale, zoomed views, markers' x; which
 *                               optional panels there is data for (rate, loss weights)
 *   hydra-loss-plot-render.c    styles, the layout of a picture (panels and their heights,
 *                               dropped when short), the empty state
 *   hydra-loss-plot-axes.c      grid, tick labels and axis titles
 *   hydra-loss-plot-curves.c    each channel's look and its curves, validation points
 *   hydra-plot-pen.c            the simplifying, piecewise line stroker the curves use
 *   hydra-loss-plot-legend.c    the legend (whose entries toggle curves)
 *   hydra-loss-plot-markers.c   settings changes and rollbacks as vertical lines
 *   hydra-loss-plot-hover.c     what is under the pointer: the tooltip, the zoom box
 *   hydra-loss-plot-gestures.c  zoom, pan, zoom box and clicks
 *   hydra-loss-plot-export.c    PNG, SVG and CSV files
 *
 * Ticks, numbers, labels and the heads' colours come from ../chart/, which the metrics view
 * and the data-set pane use too.
 *
 * Data path: each run drawn is a Track — the primary series (self->main), then an overlay's
 * runs (self->overlay, hydra_loss_plot_set_overlay) — and every track keeps the same cache:
 * the series' step points are copied into one contiguous float array per
 * "channel" (7 losses, 3 gradient norms, 3 cosines, 3 loss weights, the learning rate) as
 * they arrive, with a min/max summary per block of points (autoscale in O(n/block)) and an
 * EMA that is extended, not recomputed, on append. A frame reduces each visible curve to a
 * min/max envelope per pixel column, so drawing costs O(width) whatever the length of the
 * run. The static picture is kept as a render node: hovering and the zoom box redraw only an
 * overlay.
 */
#pragma once

#include <math.h>

#include "chart/hydra-chart-axis.h"
#include "hydra-loss-plot.h"

G_BEGIN_DECLS

#define PAD 12.0           /* around the picture */
#define DRAG_THRESHOLD 5.0 /* px: a zoom box side shorter than this leaves its axis alone */

/* The channels: the loss curves (HydraCurve), then the balance curves (HydraBalanceCurve,
 * from CH_GRAD0 in the same order), then the learning rate. */
enum
{
  CH_GRAD0 = HYDRA_N_CURVES,
  CH_COS0 = CH_GRAD0 + N_HEADS,
  CH_W0 = CH_COS0 + 3,     /* the loss weights of each step */
  CH_LR = CH_W0 + N_HEADS, /* the scheduled rate: never smoothed, drawn in a strip of its own */
  N_CHANNELS,
};

G_STATIC_ASSERT (CH_GRAD0 + HYDRA_N_BALANCE_CURVES == CH_LR);

/* The balance view's panels, top to bottom; the loss view has the losses and the rate's
 * strip. */
enum
{
  PANEL_GRAD,
  PANEL_COS,
  PANEL_WEIGHT,
  MAX_PANELS,
};

typedef struct
{
  float min, max; /* over finite values; min > max when there is none */
  float min_pos;  /* smallest value > 0, for log scales; +inf when none */
} Block;

typedef struct
{
  float *raw;    /* the series' values, contiguous */
  float *smooth; /* EMA of raw, restarted at each segment; valid below n_smooth */
  Block *blocks;
  guint n_smooth;
  double smooth_weight;
  HydraEma ema;
} Channel;

typedef struct
{
  graphene_rect_t area; /* the plotting rectangle, in widget coordinates */
  double ty0, ty1;      /* y range in transformed units (log10 y on a log scale) */
  gboolean log;
  guint ch_first, ch_end;
} Panel;

/* One run as the plot reads it: the primary series, or one of the overlay's. */
typedef struct
{
  HydraSeries *series; /* the primary's is self->series (borrowed); an overlay's is owned */
  char *name;          /* the legend's and tooltip's name of the run (owned) */
  guint run;           /* 0 for the primary, then the overlay's order: its colour */
  Channel channels[N_CHANNELS];
  double *xs;      /* each step point's x, on the axis xs_axis */
  guint *segments; /* first point of each segment (copied from the series) */
  guint n_segments;
  guint n_cached, capacity;
  HydraPlotXAxis xs_axis;
  int32_t xs_images; /* the batch size counted for steps whose record has none (0: none yet) */
} Track;

#define MAX_RUNS 8 /* the primary and up to 7 overlaid runs: as many as the palette has colours */

/* The geometry of the last on-screen picture, for mapping pointer events. */
typedef struct
{
  gboolean valid, empty;
  int width, height;
  double x0, x1;
  guint n_panels;
  Panel panels[MAX_PANELS];
  gboolean weights_left_out; /* the loss weights have a panel, but no room for it */
} Frame;

typedef enum
{
  HIT_LOSS,
  HIT_BALANCE,
  HIT_VALIDATION,
  HIT_LR,
  HIT_RUN, /* an overlaid run's entry: not a toggle */
} HitKind;

typedef struct
{
  graphene_rect_t rect;
  HitKind kind;
  guint index;
} LegendHit;

typedef struct
{
  GdkRGBA fg;
  GdkRGBA bg;
  gboolean dark;
  PangoContext *context;      /* borrowed */
  PangoFontDescription *font; /* owned */
} Style;

typedef enum
{
  DRAG_NONE,
  DRAG_BOX,
  DRAG_PAN,
} DragMode;

struct _HydraLossPlot
{
  GtkWidget parent_instance;

  /* owned */
  HydraSeries *series;
  GskRenderNode *static_node;
  gint64 data_redrawn_at; /* g_get_monotonic_time () of the last redraw for new points */
  guint data_redraw_id;   /* a redraw for new points waiting for its turn, or 0 */
  GArray *legend_hits; /* LegendHit, from the last on-screen picture */
  Track main;          /* self->series */
  Track *overlay[MAX_RUNS - 1]; /* other runs drawn with it (hydra_loss_plot_set_overlay) */
  guint n_overlay;

  /* settings */
  HydraPlotView view;
  double smoothing;
  gboolean log_scale;
  HydraPlotXAxis x_axis;
  gboolean show_training;
  gboolean show_validation;
  gboolean show_lr;
  gboolean curve_visible[HYDRA_N_CURVES];
  gboolean balance_visible[HYDRA_N_BALANCE_CURVES];

  /* the view: autoscaled, or fixed by zoom and pan */
  gboolean x_auto;
  double vx0, vx1;
  gboolean y_auto[MAX_PANELS];
  double vy0[MAX_PANELS], vy1[MAX_PANELS];
  Frame frame;

  /* interaction */
  gboolean hovering;
  double hover_x, hover_y;
  DragMode drag_mode;
  int drag_panel;
  double drag_x, drag_y, drag_dx, drag_dy;
  double drag_vx0, drag_vx1, drag_vy0, drag_vy1;
  gboolean drag_moved_y;
};

/* One picture being drawn: on screen (hits collects the legend's entries) or exported. */
typedef struct
{
  HydraLossPlot *self;
  cairo_t *cr;
  const Style *st;
  Frame *frame;
  int width, height;
  PangoLayout *small; /* tick labels, legend, markers, tooltip */
  GArray *hits;       /* LegendHit, or NULL */
} Draw;

/* Mapping between data and pixels; inline, as the curves map every point they draw. */

static inline double
map_x (const Frame *f, const Panel *p, double x)
{
  return p->area.origin.x + (x - f->x0) / (f->x1 - f->x0) * p->area.size.width;
}

static inline double
map_y (const Panel *p, double ty)
{
  return p->area.origin.y + p->area.size.height
         - (ty - p->ty0) / (p->ty1 - p->ty0) * p->area.size.height;
}

static inline double
unmap_x (const Frame *f, const Panel *p, double px)
{
  return f->x0 + (px - p->area.origin.x) / p->area.size.width * (f->x1 - f->x0);
}

static inline double
unmap_y (const Panel *p, double py)
{
  return p->ty0
         + (p->area.origin.y + p->area.size.height - py) / p->area.size.height * (p->ty1 - p->ty0);
}

/* Whether the panel can show v: finite, and positive on a log scale. */
static inline gboolean
value_ok (const Panel *p, float v)
{
  return isfinite (v) && (!p->log || v > 0);
}

/* A value in the panel's y units: log10 on a log scale. */
static inline double
transform (const Panel *p, double v)
{
  return p->log ? log10 (v) : v;
}

/* The middle of the pixel that holds v: 1-px lines there are sharp. */
static inline double
snap (double v)
{
  return floor (v) + 0.5;
}

static inline void
set_fg (cairo_t *cr, const Style *st, double alpha)
{
  cairo_set_source_rgba (cr, st->fg.red, st->fg.green, st->fg.blue, st->fg.alpha * alpha);
}

static inline void
set_bg (cairo_t *cr, const Style *st, double alpha)
{
  cairo_set_source_rgba (cr, st->bg.red, st->bg.green, st->bg.blue, alpha);
}

/* ../hydra-loss-plot.c: drop the static picture and redraw; notify "zoomed" */
void hydra_plot_invalidate (HydraLossPlot *self);
void hydra_plot_notify_zoomed (HydraLossPlot *self);

/* The tracks drawn: the primary, then the overlay's runs. */
static inline guint
hydra_plot_n_tracks (HydraLossPlot *self)
{
  return 1 + self->n_overlay;
}

static inline Track *
hydra_plot_track (HydraLossPlot *self, guint k)
{
  return k == 0 ? &self->main : self->overlay[k - 1];
}

/* Whether other runs are drawn: then colours name runs and line styles heads. */
static inline gboolean
hydra_plot_overlaid (HydraLossPlot *self)
{
  return self->n_overlay > 0;
}

/* hydra-loss-plot-cache.c: every track, or one */
void hydra_plot_cache_reset (HydraLossPlot *self);
void hydra_plot_cache_free (HydraLossPlot *self);
void hydra_plot_cache_sync (HydraLossPlot *self);
void hydra_plot_track_reset (Track *t);
void hydra_plot_track_free (Track *t);
const float *hydra_plot_track_smooth (HydraLossPlot *self, Track *t, guint ch);
guint hydra_plot_track_segment_end (const Track *t, guint s);
const float *hydra_plot_channel_smooth (HydraLossPlot *self, guint ch);
guint hydra_plot_segment_end (HydraLossPlot *self, guint s);
guint hydra_plot_lower_bound (const double *xs, guint lo, guint hi, double x);
guint hydra_plot_upper_bound (const double *xs, guint lo, guint hi, double x);
void hydra_plot_range_minmax (const Channel *c, guint i0, guint i1, gboolean log, double *lo,
                              double *hi);
void hydra_plot_column_bounds (const double *x, guint lo, guint hi, double x0, double x1,
                               guint n_columns, guint *bounds);
void hydra_plot_decimate_columns (const float *y, const guint *bounds, guint n_columns,
                                  gboolean positive_only, HydraPlotColumn *out);

/* hydra-loss-plot-scale.c */
gboolean hydra_plot_has_lr (HydraLossPlot *self);
gboolean hydra_plot_has_lr_strip (HydraLossPlot *self);
gboolean hydra_plot_panel_is_lr (HydraLossPlot *self, guint p);
gboolean hydra_plot_has_weights (HydraLossPlot *self);
gboolean hydra_plot_has_weight_panel (HydraLossPlot *self);
gboolean hydra_plot_panel_is_weight (HydraLossPlot *self, guint p);
double hydra_plot_epoch_x (HydraLossPlot *self, const HydraEpochPoint *ep);
double hydra_plot_track_epoch_x (HydraLossPlot *self, Track *t, const HydraEpochPoint *ep);
gboolean hydra_plot_track_marker_x (HydraLossPlot *self, Track *t, int64_t step, double *x);
double hydra_plot_x_unit (HydraLossPlot *self, double x0, double x1, const char **title);
gboolean hydra_plot_marker_x (HydraLossPlot *self, int64_t step, double *x);
void hydra_plot_x_range (HydraLossPlot *self, double *x0, double *x1);
double hydra_plot_data_span (HydraLossPlot *self);
gboolean hydra_plot_panel_is_cosine (HydraLossPlot *self, guint p);
void hydra_plot_y_auto_range (HydraLossPlot *self, guint p, Panel *panel, double x0, double x1,
                              double max_ticks);
void hydra_plot_set_x_view (HydraLossPlot *self, double x0, double x1);
void hydra_plot_set_y_view (HydraLossPlot *self, guint p, double ty0, double ty1);
void hydra_plot_current_view (HydraLossPlot *self, guint pi, double *x0, double *x1, double *ty0,
                              double *ty1);

/* hydra-loss-plot-render.c */
void hydra_plot_style_init_widget (HydraLossPlot *self, Style *st);
void hydra_plot_style_init_export (HydraLossPlot *self, Style *st, cairo_t *cr);
void hydra_plot_style_clear (Style *st, gboolean owns_context);
PangoLayout *hydra_plot_layout_new (const Style *st, double scale, gboolean tabular);
void hydra_plot_draw_static (HydraLossPlot *self, cairo_t *cr, int width, int height,
                             const Style *st, Frame *frame, GArray *hits);

/* hydra-loss-plot-axes.c */
void hydra_plot_draw_y_axis (Draw *d, guint pi, const HydraChartTick *ticks, guint n_ticks);
void hydra_plot_draw_x_axis (Draw *d);

/* hydra-loss-plot-curves.c */
extern const double hydra_plot_dash_validation[2];
gboolean hydra_plot_channel_is_weighted (guint ch);
gboolean hydra_plot_channel_visible (HydraLossPlot *self, guint ch);
void hydra_plot_channel_color (guint ch, const Style *st, double alpha, cairo_t *cr);
void hydra_plot_run_color (guint run, const Style *st, double alpha, cairo_t *cr);
const double *hydra_plot_channel_dash (guint ch, guint *n_dash);
void hydra_plot_curve_color (HydraLossPlot *self, const Track *t, guint ch, const Style *st,
                             double alpha, cairo_t *cr);
void hydra_plot_channel_name (HydraLossPlot *self, guint ch, char *buf, gsize size);
void hydra_plot_draw_curves (Draw *d);

/* hydra-loss-plot-legend.c */
double hydra_plot_legend (Draw *d, double x, double y, double width, gboolean draw);

/* hydra-loss-plot-markers.c */
void hydra_plot_draw_markers (Draw *d, double strip_y, double strip_h);

/* hydra-loss-plot-hover.c */
int hydra_plot_panel_at (HydraLossPlot *self, double x, double y, double slack);
void hydra_plot_draw_overlay (HydraLossPlot *self, cairo_t *cr, const Style *st);
char *hydra_plot_tooltip_text (HydraLossPlot *self, double x, double y);

/* hydra-loss-plot-gestures.c: the zoom box dragged by (dx, dy), clamped to its panel; the
 * controllers' handlers, connected in ../hydra-loss-plot.c */
void hydra_plot_drag_box (HydraLossPlot *self, double dx, double dy, double *x0, double *y0,
                          double *x1, double *y1);
gboolean hydra_plot_on_scroll (GtkEventControllerScroll *controller, double dx, double dy,
                               HydraLossPlot *self);
void hydra_plot_on_motion (GtkEventControllerMotion *controller, double x, double y,
                           HydraLossPlot *self);
void hydra_plot_on_leave (GtkEventControllerMotion *controller, HydraLossPlot *self);
void hydra_plot_on_drag_begin (GtkGestureDrag *gesture, double x, double y, HydraLossPlot *self);
void hydra_plot_on_drag_update (GtkGestureDrag *gesture, double dx, double dy, HydraLossPlot *self);
void hydra_plot_on_drag_end (GtkGestureDrag *gesture, double dx, double dy, HydraLossPlot *self);
void hydra_plot_on_drag_cancel (GtkGesture *gesture, GdkEventSequence *sequence,
                                HydraLossPlot *self);
void hydra_plot_on_click_pressed (GtkGestureClick *gesture, int n_press, double x, double y,
                                  HydraLossPlot *self);
void hydra_plot_on_click_released (GtkGestureClick *gesture, int n_press, double x, double y,
                                   HydraLossPlot *self);

G_END_DECLS
