/* hydra-loss-plot-gestures.c — the plot under the pointer: the wheel zooms x about the pointer
 * (Ctrl+wheel zooms y), a left drag draws a zoom box, a middle drag or Shift+drag pans, a
 * double click returns to autoscale, a click on a legend entry toggles its curve. */

#include "hydra-loss-plot-private.h"

#define ZOOM_STEP 1.2 /* per wheel click */

static void
zoom_x (HydraLossPlot *self, double px, double factor)
{
  const graphene_rect_t *a = &self->frame.panels[0].area;
  double v0, v1, x, x0, x1;

  hydra_plot_current_view (self, 0, &v0, &v1, NULL, NULL);
  x = v0 + CLAMP ((px - a->origin.x) / a->size.width, 0, 1) * (v1 - v0);
  x0 = x - (x - v0) * factor;
  x1 = x + (v1 - x) * factor;
  if (factor > 1 && x1 - x0 >= hydra_plot_data_span (self))
    self->x_auto = TRUE;
  else
    hydra_plot_set_x_view (self, x0, x1);
}

static void
zoom_y (HydraLossPlot *self, guint pi, double py, double factor)
{
  const graphene_rect_t *a = &self->frame.panels[pi].area;
  double v0, v1, ty0, ty1, ty;

  hydra_plot_current_view (self, pi, &v0, &v1, &ty0, &ty1);
  ty = ty0 + CLAMP ((a->origin.y + a->size.height - py) / a->size.height, 0, 1) * (ty1 - ty0);
  hydra_plot_set_y_view (self, pi, ty - (ty - ty0) * factor, ty + (ty1 - ty) * factor);
}

gboolean
hydra_plot_on_scroll (GtkEventControllerScroll *controller, double dx, double dy,
                      HydraLossPlot *self)
{
  GdkModifierType mods
      = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));
  GdkEvent *event = gtk_event_controller_get_current_event (GTK_EVENT_CONTROLLER (controller));
  double x = self->hover_x, y = self->hover_y;
  int p;

  /* scroll events may carry no position (X11): the last motion's is the pointer's */
  if (event == NULL || !gdk_event_get_position (event, &x, &y) || isnan (x) || isnan (y))
    x = self->hover_x, y = self->hover_y;
  p = hydra_plot_panel_at (self, x, y, 4);
  if (p < 0)
    return FALSE;
  if (mods & GDK_CONTROL_MASK)
    zoom_y (self, p, y, pow (ZOOM_STEP, dy));
  else
    {
      if (dy != 0)
        zoom_x (self, x, pow (ZOOM_STEP, dy));
      if (dx != 0)
        {
          double x0, x1, shift;

          hydra_plot_current_view (self, 0, &x0, &x1, NULL, NULL);
          shift = dx * 0.1 * (x1 - x0);
          hydra_plot_set_x_view (self, x0 + shift, x1 + shift);
        }
    }
  hydra_plot_invalidate (self);
  hydra_plot_notify_zoomed (self);
  return TRUE;
}

void
hydra_plot_on_motion (GtkEventControllerMotion *controller, double x, double y, HydraLossPlot *self)
{
  gboolean in_plot = hydra_plot_panel_at (self, x, y, 0) >= 0;

  self->hovering = TRUE;
  self->hover_x = x;
  self->hover_y = y;
  if (self->drag_mode == DRAG_NONE)
    gtk_widget_set_cursor_from_name (GTK_WIDGET (self), in_plot ? "crosshair" : NULL);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
hydra_plot_on_leave (GtkEventControllerMotion *controller, HydraLossPlot *self)
{
  self->hovering = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
drag_begin (HydraLossPlot *self, GtkGesture *gesture, double x, double y, DragMode mode)
{
  int p = hydra_plot_panel_at (self, x, y, 0);

  if (p < 0 || self->drag_mode != DRAG_NONE)
    {
      gtk_gesture_set_state (gesture, GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  self->drag_mode = mode;
  self->drag_panel = p;
  self->drag_x = x;
  self->drag_y = y;
  self->drag_dx = self->drag_dy = 0;
  self->drag_vx0 = self->frame.x0;
  self->drag_vx1 = self->frame.x1;
  self->drag_vy0 = self->frame.panels[p].ty0;
  self->drag_vy1 = self->frame.panels[p].ty1;
  self->drag_moved_y = FALSE;
  if (mode == DRAG_PAN)
    gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "grabbing");
}

void
hydra_plot_on_drag_begin (GtkGestureDrag *gesture, double x, double y, HydraLossPlot *self)
{
  GdkModifierType mods
      = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
  guint button = gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (gesture));
  DragMode mode = (button == GDK_BUTTON_MIDDLE || (mods & GDK_SHIFT_MASK)) ? DRAG_PAN : DRAG_BOX;

  if (button != GDK_BUTTON_PRIMARY && button != GDK_BUTTON_MIDDLE)
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  drag_begin (self, GTK_GESTURE (gesture), x, y, mode);
}

/* Pans the view with the pointer from where the drag began: x always, y once the pointer
 * has moved more than 3 px vertically (so that a sideways pan keeps y autoscaled). */
static void
pan (HydraLossPlot *self, double dx, double dy)
{
  const Panel *p = &self->frame.panels[self->drag_panel];
  double sx = -dx / p->area.size.width * (self->drag_vx1 - self->drag_vx0);

  hydra_plot_set_x_view (self, self->drag_vx0 + sx, self->drag_vx1 + sx);
  if (fabs (dy) > 3)
    self->drag_moved_y = TRUE;
  if (self->drag_moved_y)
    {
      double sy = dy / p->area.size.height * (self->drag_vy1 - self->drag_vy0);

      hydra_plot_set_y_view (self, self->drag_panel, self->drag_vy0 + sy, self->drag_vy1 + sy);
    }
}

void
hydra_plot_on_drag_update (GtkGestureDrag *gesture, double dx, double dy, HydraLossPlot *self)
{
  if (self->drag_mode == DRAG_NONE)
    return;
  self->drag_dx = dx;
  self->drag_dy = dy;
  if (self->drag_mode == DRAG_BOX)
    {
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return;
    }
  pan (self, dx, dy);
  hydra_plot_invalidate (self);
}

void
hydra_plot_drag_box (HydraLossPlot *self, double dx, double dy, double *x0, double *y0, double *x1,
                     double *y1)
{
  const graphene_rect_t *a = &self->frame.panels[self->drag_panel].area;

  *x0 = CLAMP (self->drag_x, a->origin.x, a->origin.x + a->size.width);
  *y0 = CLAMP (self->drag_y, a->origin.y, a->origin.y + a->size.height);
  *x1 = CLAMP (self->drag_x + dx, a->origin.x, a->origin.x + a->size.width);
  *y1 = CLAMP (self->drag_y + dy, a->origin.y, a->origin.y + a->size.height);
}

/* Zooms to the box dragged, in each axis where it is at least DRAG_THRESHOLD long. */
static void
zoom_to_box (HydraLossPlot *self, double dx, double dy)
{
  const Frame *f = &self->frame;
  const Panel *p = &f->panels[self->drag_panel];
  double x0, y0, x1, y1;

  hydra_plot_drag_box (self, dx, dy, &x0, &y0, &x1, &y1);
  if (fabs (x1 - x0) >= DRAG_THRESHOLD)
    hydra_plot_set_x_view (self, unmap_x (f, p, MIN (x0, x1)), unmap_x (f, p, MAX (x0, x1)));
  if (fabs (y1 - y0) >= DRAG_THRESHOLD)
    hydra_plot_set_y_view (self, self->drag_panel, unmap_y (p, MAX (y0, y1)),
                           unmap_y (p, MIN (y0, y1)));
}

void
hydra_plot_on_drag_end (GtkGestureDrag *gesture, double dx, double dy, HydraLossPlot *self)
{
  DragMode mode = self->drag_mode;

  if (mode == DRAG_NONE)
    return;
  self->drag_mode = DRAG_NONE;
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "crosshair");
  if (mode == DRAG_BOX)
    zoom_to_box (self, dx, dy);
  hydra_plot_invalidate (self);
  hydra_plot_notify_zoomed (self);
}

void
hydra_plot_on_drag_cancel (GtkGesture *gesture, GdkEventSequence *sequence, HydraLossPlot *self)
{
  if (self->drag_mode == DRAG_NONE)
    return;
  self->drag_mode = DRAG_NONE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
hydra_plot_on_click_pressed (GtkGestureClick *gesture, int n_press, double x, double y,
                             HydraLossPlot *self)
{
  if (n_press == 2 && hydra_plot_panel_at (self, x, y, 0) >= 0)
    {
      hydra_loss_plot_reset_view (self);
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
    }
}

void
hydra_plot_on_click_released (GtkGestureClick *gesture, int n_press, double x, double y,
                              HydraLossPlot *self)
{
  if (n_press != 1)
    return;
  for (guint i = 0; i < self->legend_hits->len; i++)
    {
      const LegendHit *hit = &g_array_index (self->legend_hits, LegendHit, i);

      if (!graphene_rect_contains_point (&hit->rect, &GRAPHENE_POINT_INIT (x, y)))
        continue;
      switch (hit->kind)
        {
        case HIT_LOSS:
          hydra_loss_plot_set_curve_visible (self, hit->index, !self->curve_visible[hit->index]);
          break;
        case HIT_BALANCE:
          hydra_loss_plot_set_balance_curve_visible (self, hit->index,
                                                     !self->balance_visible[hit->index]);
          break;
        case HIT_VALIDATION:
          hydra_loss_plot_set_show_validation (self, !self->show_validation);
          break;
        case HIT_LR:
          hydra_loss_plot_set_show_learning_rate (self, !self->show_lr);
          break;
        default:
          break;
        }
      return;
    }
}
