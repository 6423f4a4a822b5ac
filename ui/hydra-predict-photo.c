/* hydra-predict-photo.c — one dropped photo: the picture with its faces boxed, and a card
 * per face. */

#include "hydra-predict-photo.h"

struct _HydraPredictPhoto
{
  GtkWidget parent_instance;

  /* template widgets */
  GtkWidget *content;
  GtkLabel *name_label;
  HydraPhotoView *view;
  GtkLabel *status_label;
  GtkBox *faces_box;

  /* owned */
  HydraPredictItem *item;
  GPtrArray *cards; /* HydraPredictCard (borrowed from faces_box), one per face */
  int highlight;
};

G_DEFINE_FINAL_TYPE (HydraPredictPhoto, hydra_predict_photo, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_ITEM,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static void
set_class (GtkWidget *widget, const char *name, gboolean on)
{
  if (on)
    gtk_widget_add_css_class (widget, name);
  else
    gtk_widget_remove_css_class (widget, name);
}

void
hydra_predict_photo_set_highlight (HydraPredictPhoto *self, int index)
{
  g_return_if_fail (HYDRA_IS_PREDICT_PHOTO (self));

  self->highlight = index >= 0 && (guint) index < self->cards->len ? index : -1;
  for (guint i = 0; i < self->cards->len; i++)
    hydra_predict_card_set_highlighted (g_ptr_array_index (self->cards, i),
                                        (int) i == self->highlight);
  hydra_photo_view_set_highlight (self->view, self->highlight);
}

static void
on_card_activate (HydraPredictPhoto *self, HydraPredictCard *card)
{
  guint i;

  /* a whole image has no box: nothing to point at */
  if (g_ptr_array_find (self->cards, card, &i)
      && !hydra_predict_face_is_whole (hydra_predict_card_get_face (card)))
    hydra_predict_photo_set_highlight (self, self->highlight == (int) i ? -1 : (int) i);
}

static void
on_face_activated (HydraPredictPhoto *self, int index, HydraPhotoView *view)
{
  hydra_predict_photo_set_highlight (self, index);
  if (index >= 0)
    gtk_widget_grab_focus (g_ptr_array_index (self->cards, index));
}

/* The cards and the boxes follow the item's faces: cards are reused, so a photo predicted
 * again costs no new widgets. */
static void
sync_faces (HydraPredictPhoto *self)
{
  GListModel *faces = hydra_predict_item_get_faces (self->item);
  guint n = g_list_model_get_n_items (faces);
  double mae = hydra_predict_item_get_age_mae (self->item);
  g_autofree GdkRectangle *boxes = g_new0 (GdkRectangle, MAX (n, 1));
  guint n_boxes = 0;
  int width, height;

  while (self->cards->len > n)
    {
      GtkWidget *card = g_ptr_array_steal_index (self->cards, self->cards->len - 1);
      gtk_box_remove (self->faces_box, card);
    }
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (HydraPredictFace) face = g_list_model_get_item (faces, i);

      if (i == self->cards->len)
        {
          GtkWidget *card = hydra_predict_card_new ();
          g_signal_connect_object (card, "activate", G_CALLBACK (on_card_activate), self,
                                   G_CONNECT_SWAPPED);
          gtk_box_append (self->faces_box, card);
          g_ptr_array_add (self->cards, card);
        }
      hydra_predict_card_set_face (g_ptr_array_index (self->cards, i), face, i + 1, mae);
      if (hydra_predict_face_get_box (face, &boxes[n_boxes]))
        n_boxes++;
    }

  hydra_predict_item_get_image_size (self->item, &width, &height);
  hydra_photo_view_set_boxes (self->view, boxes, n_boxes, width, height);
  hydra_predict_photo_set_highlight (self, self->highlight);
  gtk_widget_set_visible (GTK_WIDGET (self->faces_box), n > 0);
}

static void
sync_photo (HydraPredictPhoto *self)
{
  GdkTexture *thumbnail = hydra_predict_item_get_thumbnail (self->item);
  guint n_boxes = hydra_photo_view_get_n_boxes (self->view);
  g_autofree char *label = NULL;

  hydra_photo_view_set_texture (self->view, thumbnail);
  gtk_widget_set_visible (GTK_WIDGET (self->view), thumbnail != NULL);
  if (hydra_predict_item_get_state (self->item) != HYDRA_PREDICT_DONE)
    label = g_strdup_printf ("Photo %s", hydra_predict_item_get_name (self->item));
  else if (n_boxes == 0)
    label = g_strdup_printf ("Photo %s, in which no face was marked",
                             hydra_predict_item_get_name (self->item));
  else
    label = g_strdup_printf (n_boxes == 1 ? "Photo %s, with %u face marked"
                                          : "Photo %s, with %u faces marked",
                             hydra_predict_item_get_name (self->item), n_boxes);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->view), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
}

static void
sync_state (HydraPredictPhoto *self)
{
  HydraPredictState state = hydra_predict_item_get_state (self->item);
  gboolean has_faces = self->cards->len > 0;
  const char *name = hydra_predict_item_get_name (self->item);

  gtk_label_set_label (self->name_label, name);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->name_label), name);

  /* predicted again: the old cards stay, dimmed, until the new ones come. No spinner per
   * photo: forty of them animating cost every frame of a large drop 12 ms (the pane has
   * one), and showing them would lay out every photo again when a new epoch's model makes
   * them all pending. */
  set_class (GTK_WIDGET (self), "pending", state == HYDRA_PREDICT_PENDING);
  set_class (GTK_WIDGET (self), "failed", state == HYDRA_PREDICT_FAILED);

  switch (state)
    {
    case HYDRA_PREDICT_PENDING:
      gtk_label_set_label (self->status_label, "Predicting…");
      gtk_label_set_selectable (self->status_label, FALSE);
      set_class (GTK_WIDGET (self->status_label), "dim-label", TRUE);
      set_class (GTK_WIDGET (self->status_label), "predict-error", FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->status_label), !has_faces);
      break;
    case HYDRA_PREDICT_FAILED:
      gtk_label_set_label (self->status_label, hydra_predict_item_get_error (self->item));
      gtk_label_set_selectable (self->status_label, TRUE);
      set_class (GTK_WIDGET (self->status_label), "dim-label", FALSE);
      set_class (GTK_WIDGET (self->status_label), "predict-error", TRUE);
      gtk_widget_set_visible (GTK_WIDGET (self->status_label), TRUE);
      break;
    case HYDRA_PREDICT_DONE:
      gtk_widget_set_visible (GTK_WIDGET (self->status_label), FALSE);
      break;
    default:
      g_assert_not_reached ();
    }
  sync_photo (self);
}

static void
on_item_notify (HydraPredictPhoto *self, GParamSpec *pspec, HydraPredictItem *item)
{
  if (g_str_equal (pspec->name, "thumbnail"))
    sync_photo (self);
  else if (g_str_equal (pspec->name, "age-mae"))
    sync_faces (self);
  else
    sync_state (self);
}

static void
on_faces_changed (HydraPredictPhoto *self, guint position, guint removed, guint added,
                  GListModel *faces)
{
  sync_faces (self);
}

static void
hydra_predict_photo_constructed (GObject *object)
{
  HydraPredictPhoto *self = HYDRA_PREDICT_PHOTO (object);

  G_OBJECT_CLASS (hydra_predict_photo_parent_class)->constructed (object);

  g_return_if_fail (self->item != NULL);
  g_signal_connect_object (self->item, "notify", G_CALLBACK (on_item_notify), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (hydra_predict_item_get_faces (self->item), "items-changed",
                           G_CALLBACK (on_faces_changed), self, G_CONNECT_SWAPPED);
  sync_faces (self);
  sync_state (self);
}

static void
hydra_predict_photo_dispose (GObject *object)
{
  HydraPredictPhoto *self = HYDRA_PREDICT_PHOTO (object);

  /* the item may outlive the photo (a job holds it): no more of its signals */
  if (self->item != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->item, self);
      g_signal_handlers_disconnect_by_data (hydra_predict_item_get_faces (self->item), self);
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), HYDRA_TYPE_PREDICT_PHOTO);
  g_clear_pointer (&self->cards, g_ptr_array_unref);
  g_clear_object (&self->item);

  G_OBJECT_CLASS (hydra_predict_photo_parent_class)->dispose (object);
}

static void
hydra_predict_photo_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HydraPredictPhoto *self = HYDRA_PREDICT_PHOTO (object);

  switch (prop_id)
    {
    case PROP_ITEM:
      g_value_set_object (value, self->item);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_predict_photo_set_property (GObject *object, guint prop_id, const GValue *value,
                                  GParamSpec *pspec)
{
  HydraPredictPhoto *self = HYDRA_PREDICT_PHOTO (object);

  switch (prop_id)
    {
    case PROP_ITEM:
      self->item = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_predict_photo_class_init (HydraPredictPhotoClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = hydra_predict_photo_constructed;
  object_class->dispose = hydra_predict_photo_dispose;
  object_class->get_property = hydra_predict_photo_get_property;
  object_class->set_property = hydra_predict_photo_set_property;

  props[PROP_ITEM]
      = g_param_spec_object ("item", NULL, NULL, HYDRA_TYPE_PREDICT_ITEM,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  g_type_ensure (HYDRA_TYPE_PHOTO_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/hydranet/Studio/ui/hydra-predict-photo.ui");
  gtk_widget_class_bind_template_child (widget_class, HydraPredictPhoto, content);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictPhoto, name_label);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictPhoto, view);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictPhoto, status_label);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictPhoto, faces_box);
  gtk_widget_class_bind_template_callback (widget_class, on_face_activated);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "hydrapredictphoto");
}

static void
hydra_predict_photo_init (HydraPredictPhoto *self)
{
  self->cards = g_ptr_array_new ();
  self->highlight = -1;
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
hydra_predict_photo_new (HydraPredictItem *item)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_ITEM (item), NULL);
  return g_object_new (HYDRA_TYPE_PREDICT_PHOTO, "item", item, NULL);
}

HydraPredictItem *
hydra_predict_photo_get_item (HydraPredictPhoto *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_PHOTO (self), NULL);
  return self->item;
}

HydraPhotoView *
hydra_predict_photo_get_view (HydraPredictPhoto *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_PHOTO (self), NULL);
  return self->view;
}

guint
hydra_predict_photo_get_n_cards (HydraPredictPhoto *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_PHOTO (self), 0);
  return self->cards->len;
}

HydraPredictCard *
hydra_predict_photo_get_card (HydraPredictPhoto *self, guint i)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_PHOTO (self), NULL);
  return i < self->cards->len ? g_ptr_array_index (self->cards, i) : NULL;
}

int
hydra_predict_photo_get_highlight (HydraPredictPhoto *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_PHOTO (self), -1);
  return self->highlight;
}

const char *
hydra_predict_photo_get_error (HydraPredictPhoto *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_PHOTO (self), NULL);
  if (hydra_predict_item_get_state (self->item) != HYDRA_PREDICT_FAILED)
    return NULL;
  return gtk_label_get_label (self->status_label);
}

gboolean
hydra_predict_photo_is_pending (HydraPredictPhoto *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_PHOTO (self), FALSE);
  return hydra_predict_item_get_state (self->item) == HYDRA_PREDICT_PENDING;
}
