/* hydra-predict-pane.c — drop face photos, see what the model predicts for each. */

#include "hydra-predict-pane.h"

#include "hydra-predictor.h"

#define NOTICE_SECONDS 5

/* Photos go in a few per frame: given all at once, a large drop is built in one main-loop
 * callback and laid out in the next frame, one long stall (tests/ui/bench-stall;
 * docs/performance.md). */
#define CARDS_PER_FRAME 8

struct _HydraPredictPane
{
  GtkWidget parent_instance;

  /* template widgets */
  GtkWidget *content;
  GtkButton *again_button;
  GtkSpinner *busy_spinner;
  GtkRevealer *no_model_revealer;
  GtkRevealer *notice_revealer;
  GtkLabel *notice_label;
  GtkStack *stack;
  GtkFlowBox *flow;

  /* owned */
  GListStore *items; /* HydraPredictItem, newest first */
  GPtrArray *unshown; /* the last drop's items, in order, while they go into items */
  guint n_shown;      /* of unshown, how many are in items (at its top) */
  guint tick_id;      /* the tick callback that shows the next few */
  HydraPredictor *predictor;
  HydraTrainer *trainer;
  GCancellable *cancellable; /* clipboard reads; cancelled on dispose */
  GtkNativeDialog *chooser;  /* while "Open Image…" is showing */
  gulong has_model_handler;
  gulong val_mae_handler;
  guint notice_timeout_id;
  guint n_pasted;
};

G_DEFINE_FINAL_TYPE (HydraPredictPane, hydra_predict_pane, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_TRAINER,
  PROP_BUSY,
  PROP_FLIP,
  PROP_FIND_FACES,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static gboolean
has_model (HydraPredictPane *self)
{
  return self->trainer != NULL && hydra_trainer_get_has_model (self->trainer);
}

static void
sync_view (HydraPredictPane *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->items));

  gtk_stack_set_visible_child_name (self->stack, n > 0 ? "cards" : "empty");
  gtk_revealer_set_reveal_child (self->no_model_revealer, !has_model (self));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "predict.clear", n > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "predict.again", n > 0 && has_model (self));
}

/* The model changed since the cards were predicted: suggest predicting again. */
static void
set_stale (HydraPredictPane *self, gboolean stale)
{
  if (stale)
    gtk_widget_add_css_class (GTK_WIDGET (self->again_button), "suggested-action");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->again_button), "suggested-action");
}

static gboolean
hide_notice (gpointer data)
{
  HydraPredictPane *self = data;

  self->notice_timeout_id = 0;
  gtk_revealer_set_reveal_child (self->notice_revealer, FALSE);
  return G_SOURCE_REMOVE;
}

/* A short message that goes away by itself, for things that have no card to go on. */
static void
show_notice (HydraPredictPane *self, const char *message)
{
  gtk_label_set_label (self->notice_label, message);
  gtk_revealer_set_reveal_child (self->notice_revealer, TRUE);
  g_clear_handle_id (&self->notice_timeout_id, g_source_remove);
  self->notice_timeout_id = g_timeout_add_seconds (NOTICE_SECONDS, hide_notice, self);
}

/* The drop's cards are all in, or the rest are not wanted: no more ticks. */
static void
end_drop (HydraPredictPane *self)
{
  if (self->tick_id != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
  self->tick_id = 0;
  g_clear_pointer (&self->unshown, g_ptr_array_unref);
}

/* Moves up to n more of the unshown items into the store, below those of the same drop
 * already there; when all are in, the drop is done. */
static void
show_unshown (HydraPredictPane *self, guint n)
{
  gboolean was_busy = hydra_predict_pane_get_busy (self);

  n = MIN (n, self->unshown->len - self->n_shown);
  g_list_store_splice (self->items, self->n_shown, 0, self->unshown->pdata + self->n_shown, n);
  self->n_shown += n;
  if (self->n_shown < self->unshown->len)
    return;
  end_drop (self);
  if (was_busy != hydra_predict_pane_get_busy (self))
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BUSY]);
}

static gboolean
show_next_cards (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  HydraPredictPane *self = HYDRA_PREDICT_PANE (widget);

  show_unshown (self, CARDS_PER_FRAME); /* removes this callback after the last */
  return G_SOURCE_CONTINUE;
}

/* Every item is queued for prediction at once; their cards come in a few per frame, the first
 * few now. A drop made while the last is still going in puts the rest of that one in first. */
static void
add_items (HydraPredictPane *self, HydraPredictItem **items, guint n)
{
  gboolean was_busy = hydra_predict_pane_get_busy (self);

  if (n == 0)
    return;
  if (self->unshown != NULL)
    show_unshown (self, G_MAXUINT);
  hydra_predictor_queue (self->predictor, items, n);
  self->unshown = g_ptr_array_new_full (n, g_object_unref);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (self->unshown, g_object_ref (items[i]));
  self->n_shown = 0;
  self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), show_next_cards, NULL, NULL);
  show_unshown (self, CARDS_PER_FRAME);
  if (was_busy != hydra_predict_pane_get_busy (self))
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BUSY]);
  sync_view (self);
}

void
hydra_predict_pane_add_files (HydraPredictPane *self, GFile *const *files, guint n)
{
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);

  g_return_if_fail (HYDRA_IS_PREDICT_PANE (self));
  g_return_if_fail (n == 0 || files != NULL);

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (items, hydra_predict_item_new_for_file (files[i]));
  add_items (self, (HydraPredictItem **) items->pdata, items->len);
}

void
hydra_predict_pane_add_texture (HydraPredictPane *self, GdkTexture *texture, const char *name)
{
  g_autoptr (HydraPredictItem) item = NULL;
  g_autofree char *default_name = NULL;

  g_return_if_fail (HYDRA_IS_PREDICT_PANE (self));
  g_return_if_fail (GDK_IS_TEXTURE (texture));

  if (name == NULL)
    {
      self->n_pasted++;
      default_name = self->n_pasted == 1 ? g_strdup ("Pasted image")
                                         : g_strdup_printf ("Pasted image %u", self->n_pasted);
    }
  item = hydra_predict_item_new_for_texture (texture, name != NULL ? name : default_name);
  add_items (self, &item, 1);
}

static void
add_file_list (HydraPredictPane *self, const GValue *value)
{
  if (G_VALUE_HOLDS (value, G_TYPE_FILE))
    {
      GFile *file = g_value_get_object (value);
      hydra_predict_pane_add_files (self, &file, file != NULL ? 1 : 0);
    }
  else if (G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      GSList *list = gdk_file_list_get_files (g_value_get_boxed (value));
      g_autoptr (GPtrArray) files = g_ptr_array_new ();

      for (GSList *l = list; l != NULL; l = l->next)
        g_ptr_array_add (files, l->data);
      hydra_predict_pane_add_files (self, (GFile **) files->pdata, files->len);
      g_slist_free (list);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Drag and drop                                                                             */

static GdkDragAction
on_drop_enter (GtkDropTarget *target, double x, double y, HydraPredictPane *self)
{
  gtk_widget_add_css_class (GTK_WIDGET (self), "drop-hover");
  return GDK_ACTION_COPY;
}

static void
on_drop_leave (GtkDropTarget *target, HydraPredictPane *self)
{
  gtk_widget_remove_css_class (GTK_WIDGET (self), "drop-hover");
}

static gboolean
on_drop (GtkDropTarget *target, const GValue *value, double x, double y, HydraPredictPane *self)
{
  gtk_widget_remove_css_class (GTK_WIDGET (self), "drop-hover");
  add_file_list (self, value);
  return TRUE;
}

/* ---------------------------------------------------------------------------------------- */
/* Clipboard                                                                                 */

static void
on_paste_texture (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (HydraPredictPane) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkTexture) texture = NULL;

  texture = gdk_clipboard_read_texture_finish (GDK_CLIPBOARD (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (texture == NULL)
    {
      g_autofree char *message
          = g_strdup_printf ("The pasted image could not be read: %s", error->message);
      show_notice (self, message);
      return;
    }
  hydra_predict_pane_add_texture (self, texture, NULL);
}

static void
on_paste_files (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (HydraPredictPane) self = user_data;
  g_autoptr (GError) error = NULL;
  const GValue *value;

  value = gdk_clipboard_read_value_finish (GDK_CLIPBOARD (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (value == NULL)
    {
      g_autofree char *message
          = g_strdup_printf ("The pasted files could not be read: %s", error->message);
      show_notice (self, message);
      return;
    }
  add_file_list (self, value);
}

void
hydra_predict_pane_paste (HydraPredictPane *self)
{
  GdkClipboard *clipboard;
  g_autoptr (GdkContentFormats) formats = NULL;

  g_return_if_fail (HYDRA_IS_PREDICT_PANE (self));

  clipboard = gtk_widget_get_clipboard (GTK_WIDGET (self));
  /* Mime types say what the owner offers; the GTypes they can become say what we can use. */
  formats = gdk_content_formats_union_deserialize_gtypes (
      gdk_content_formats_ref (gdk_clipboard_get_formats (clipboard)));

  /* Files first: a file manager's copy also offers the file's icon as an image. */
  if (gdk_content_formats_contain_gtype (formats, GDK_TYPE_FILE_LIST))
    gdk_clipboard_read_value_async (clipboard, GDK_TYPE_FILE_LIST, G_PRIORITY_DEFAULT,
                                    self->cancellable, on_paste_files, g_object_ref (self));
  else if (gdk_content_formats_contain_gtype (formats, G_TYPE_FILE))
    gdk_clipboard_read_value_async (clipboard, G_TYPE_FILE, G_PRIORITY_DEFAULT, self->cancellable,
                                    on_paste_files, g_object_ref (self));
  else if (gdk_content_formats_contain_gtype (formats, GDK_TYPE_TEXTURE))
    gdk_clipboard_read_texture_async (clipboard, self->cancellable, on_paste_texture,
                                      g_object_ref (self));
  else
    show_notice (self, "The clipboard holds no image to predict.");
}

/* ---------------------------------------------------------------------------------------- */
/* Open Image…                                                                               */

static void
on_chooser_response (GtkNativeDialog *chooser, int response, HydraPredictPane *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (chooser));
      g_autoptr (GPtrArray) array = g_ptr_array_new_with_free_func (g_object_unref);

      for (guint i = 0; i < g_list_model_get_n_items (files); i++)
        g_ptr_array_add (array, g_list_model_get_item (files, i));
      hydra_predict_pane_add_files (self, (GFile **) array->pdata, array->len);
    }
  gtk_native_dialog_destroy (chooser);
  g_clear_object (&self->chooser);
}

void
hydra_predict_pane_open_images (HydraPredictPane *self)
{
  GtkFileChooserNative *chooser;
  g_autoptr (GtkFileFilter) images = gtk_file_filter_new ();
  g_autoptr (GtkFileFilter) all = gtk_file_filter_new ();
  GtkRoot *root;

  g_return_if_fail (HYDRA_IS_PREDICT_PANE (self));

  if (self->chooser != NULL)
    {
      gtk_native_dialog_show (self->chooser);
      return;
    }

  root = gtk_widget_get_root (GTK_WIDGET (self));
  chooser
      = gtk_file_chooser_native_new ("Open Images", GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                     GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (chooser), TRUE);

  gtk_file_filter_set_name (images, "Face images (JPEG, PNG, BMP, GIF)");
  gtk_file_filter_add_mime_type (images, "image/jpeg");
  gtk_file_filter_add_mime_type (images, "image/png");
  gtk_file_filter_add_mime_type (images, "image/bmp");
  gtk_file_filter_add_mime_type (images, "image/gif");
  gtk_file_filter_add_suffix (images, "jpg");
  gtk_file_filter_add_suffix (images, "jpeg");
  gtk_file_filter_add_suffix (images, "png");
  gtk_file_filter_add_suffix (images, "bmp");
  gtk_file_filter_add_suffix (images, "gif");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), images);
  gtk_file_filter_set_name (all, "All files");
  gtk_file_filter_add_pattern (all, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), all);
  gtk_file_chooser_set_filter (GTK_FILE_CHOOSER (chooser), images);

  self->chooser = GTK_NATIVE_DIALOG (chooser);
  g_signal_connect (chooser, "response", G_CALLBACK (on_chooser_response), self);
  gtk_native_dialog_show (self->chooser);
}

/* ---------------------------------------------------------------------------------------- */

void
hydra_predict_pane_clear (HydraPredictPane *self)
{
  g_return_if_fail (HYDRA_IS_PREDICT_PANE (self));

  gboolean was_busy = hydra_predict_pane_get_busy (self);

  hydra_predictor_cancel (self->predictor);
  end_drop (self); /* the cards not in yet are dropped with the rest */
  g_list_store_remove_all (self->items);
  set_stale (self, FALSE);
  sync_view (self);
  if (was_busy != hydra_predict_pane_get_busy (self))
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BUSY]);
}

static void
queue_items (HydraPredictPane *self, gboolean only_waiting_for_model)
{
  g_autoptr (GPtrArray) queue = g_ptr_array_new_with_free_func (g_object_unref);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->items));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (HydraPredictItem) item = g_list_model_get_item (G_LIST_MODEL (self->items), i);

      if (!only_waiting_for_model || hydra_predict_item_get_needs_model (item))
        g_ptr_array_add (queue, g_steal_pointer (&item));
    }
  hydra_predictor_queue (self->predictor, (HydraPredictItem **) queue->pdata, queue->len);
}

void
hydra_predict_pane_predict_again (HydraPredictPane *self)
{
  g_return_if_fail (HYDRA_IS_PREDICT_PANE (self));

  set_stale (self, FALSE);
  queue_items (self, FALSE);
}

static gboolean
any_predicted (HydraPredictPane *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->items));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (HydraPredictItem) item = g_list_model_get_item (G_LIST_MODEL (self->items), i);

      if (hydra_predict_item_get_state (item) == HYDRA_PREDICT_DONE)
        return TRUE;
    }
  return FALSE;
}

/* "has-model" is notified when a model appears, and when another replaces it (a run starts,
 * a file is opened). */
static void
on_has_model (HydraPredictPane *self)
{
  sync_view (self);
  if (!has_model (self))
    return;
  if (any_predicted (self))
    set_stale (self, TRUE);
  queue_items (self, TRUE);
}

static void
on_val_mae (HydraPredictPane *self)
{
  /* A new validation result means an epoch of new weights: the cards follow the model as it
   * learns (one weight copy per epoch), unless a batch is still being predicted. */
  if (!any_predicted (self))
    return;
  if (hydra_predict_pane_get_busy (self))
    set_stale (self, TRUE);
  else
    hydra_predict_pane_predict_again (self);
}

void
hydra_predict_pane_set_trainer (HydraPredictPane *self, HydraTrainer *trainer)
{
  g_return_if_fail (HYDRA_IS_PREDICT_PANE (self));
  g_return_if_fail (trainer == NULL || HYDRA_IS_TRAINER (trainer));

  if (self->trainer == trainer)
    return;
  if (self->trainer != NULL)
    {
      g_clear_signal_handler (&self->has_model_handler, self->trainer);
      g_clear_signal_handler (&self->val_mae_handler, self->trainer);
    }
  g_set_object (&self->trainer, trainer);
  hydra_predictor_set_trainer (self->predictor, trainer);
  if (trainer != NULL)
    {
      self->has_model_handler = g_signal_connect_swapped (trainer, "notify::has-model",
                                                          G_CALLBACK (on_has_model), self);
      self->val_mae_handler
          = g_signal_connect_swapped (trainer, "notify::val-mae", G_CALLBACK (on_val_mae), self);
    }
  on_has_model (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_TRAINER]);
}

HydraTrainer *
hydra_predict_pane_get_trainer (HydraPredictPane *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_PANE (self), NULL);
  return self->trainer;
}

void
hydra_predict_pane_set_flip (HydraPredictPane *self, gboolean flip)
{
  g_return_if_fail (HYDRA_IS_PREDICT_PANE (self));

  if (hydra_predictor_get_flip (self->predictor) == !!flip)
    return;
  hydra_predictor_set_flip (self->predictor, flip);
  /* the cards show one way of predicting at a time, pending ones too */
  if (has_model (self) && g_list_model_get_n_items (G_LIST_MODEL (self->items)) > 0)
    hydra_predict_pane_predict_again (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_FLIP]);
}

gboolean
hydra_predict_pane_get_flip (HydraPredictPane *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_PANE (self), FALSE);
  return hydra_predictor_get_flip (self->predictor);
}

void
hydra_predict_pane_set_find_faces (HydraPredictPane *self, gboolean find_faces)
{
  g_return_if_fail (HYDRA_IS_PREDICT_PANE (self));

  if (hydra_predictor_get_find_faces (self->predictor) == !!find_faces)
    return;
  hydra_predictor_set_find_faces (self->predictor, find_faces);
  if (has_model (self) && g_list_model_get_n_items (G_LIST_MODEL (self->items)) > 0)
    hydra_predict_pane_predict_again (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_FIND_FACES]);
}

gboolean
hydra_predict_pane_get_find_faces (HydraPredictPane *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_PANE (self), FALSE);
  return hydra_predictor_get_find_faces (self->predictor);
}

guint
hydra_predict_pane_get_n_photos (HydraPredictPane *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_PANE (self), 0);
  return g_list_model_get_n_items (G_LIST_MODEL (self->items));
}

HydraPredictPhoto *
hydra_predict_pane_get_photo (HydraPredictPane *self, guint i)
{
  GtkFlowBoxChild *child;

  g_return_val_if_fail (HYDRA_IS_PREDICT_PANE (self), NULL);

  child = gtk_flow_box_get_child_at_index (self->flow, i);
  return child != NULL ? HYDRA_PREDICT_PHOTO (gtk_flow_box_child_get_child (child)) : NULL;
}

gboolean
hydra_predict_pane_get_busy (HydraPredictPane *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_PANE (self), FALSE);
  return self->unshown != NULL || hydra_predictor_get_busy (self->predictor);
}

static GtkWidget *
create_photo (gpointer item, gpointer user_data)
{
  return hydra_predict_photo_new (item);
}

static void
on_predictor_busy (HydraPredictPane *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BUSY]);
}

/* One spinner for the pane, rather than one per photo. */
static void
on_busy (HydraPredictPane *self)
{
  gtk_spinner_set_spinning (self->busy_spinner, hydra_predict_pane_get_busy (self));
}

/* Said once: from then on photos are predicted whole, as each card says. */
static void
on_finder_error (HydraPredictPane *self)
{
  g_autofree char *message
      = g_strdup_printf ("Faces cannot be looked for, so whole images are predicted: %s",
                         hydra_predictor_get_finder_error (self->predictor));

  show_notice (self, message);
}

static void
action_open (GtkWidget *widget, const char *name, GVariant *param)
{
  hydra_predict_pane_open_images (HYDRA_PREDICT_PANE (widget));
}

static void
action_paste (GtkWidget *widget, const char *name, GVariant *param)
{
  hydra_predict_pane_paste (HYDRA_PREDICT_PANE (widget));
}

static void
action_clear (GtkWidget *widget, const char *name, GVariant *param)
{
  hydra_predict_pane_clear (HYDRA_PREDICT_PANE (widget));
}

static void
action_again (GtkWidget *widget, const char *name, GVariant *param)
{
  hydra_predict_pane_predict_again (HYDRA_PREDICT_PANE (widget));
}

static void
hydra_predict_pane_dispose (GObject *object)
{
  HydraPredictPane *self = HYDRA_PREDICT_PANE (object);

  g_cancellable_cancel (self->cancellable);
  if (self->chooser != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->chooser, self);
      gtk_native_dialog_destroy (self->chooser);
      g_clear_object (&self->chooser);
    }
  if (self->predictor != NULL)
    {
      hydra_predictor_cancel (self->predictor);
      g_signal_handlers_disconnect_by_data (self->predictor, self);
    }
  hydra_predict_pane_set_trainer (self, NULL);
  g_clear_handle_id (&self->notice_timeout_id, g_source_remove);
  end_drop (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), HYDRA_TYPE_PREDICT_PANE);
  g_clear_object (&self->items);
  g_clear_object (&self->predictor);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (hydra_predict_pane_parent_class)->dispose (object);
}

static void
hydra_predict_pane_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HydraPredictPane *self = HYDRA_PREDICT_PANE (object);

  switch (prop_id)
    {
    case PROP_TRAINER:
      g_value_set_object (value, self->trainer);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, hydra_predict_pane_get_busy (self));
      break;
    case PROP_FLIP:
      g_value_set_boolean (value, hydra_predict_pane_get_flip (self));
      break;
    case PROP_FIND_FACES:
      g_value_set_boolean (value, hydra_predict_pane_get_find_faces (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_predict_pane_set_property (GObject *object, guint prop_id, const GValue *value,
                                 GParamSpec *pspec)
{
  HydraPredictPane *self = HYDRA_PREDICT_PANE (object);

  switch (prop_id)
    {
    case PROP_TRAINER:
      hydra_predict_pane_set_trainer (self, g_value_get_object (value));
      break;
    case PROP_FLIP:
      hydra_predict_pane_set_flip (self, g_value_get_boolean (value));
      break;
    case PROP_FIND_FACES:
      hydra_predict_pane_set_find_faces (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_predict_pane_class_init (HydraPredictPaneClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hydra_predict_pane_dispose;
  object_class->get_property = hydra_predict_pane_get_property;
  object_class->set_property = hydra_predict_pane_set_property;

  props[PROP_TRAINER]
      = g_param_spec_object ("trainer", NULL, NULL, HYDRA_TYPE_TRAINER,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_BUSY]
      = g_param_spec_boolean ("busy", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_FLIP]
      = g_param_spec_boolean ("flip", NULL, NULL, FALSE,
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_FIND_FACES]
      = g_param_spec_boolean ("find-faces", NULL, NULL, TRUE,
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/hydranet/Studio/ui/hydra-predict-pane.ui");
  gtk_widget_class_bind_template_child (widget_class, HydraPredictPane, content);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictPane, again_button);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictPane, busy_spinner);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictPane, no_model_revealer);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictPane, notice_revealer);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictPane, notice_label);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictPane, stack);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictPane, flow);

  gtk_widget_class_install_action (widget_class, "predict.open", NULL, action_open);
  gtk_widget_class_install_action (widget_class, "predict.paste", NULL, action_paste);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_v, GDK_CONTROL_MASK, "predict.paste",
                                       NULL);
  gtk_widget_class_install_action (widget_class, "predict.clear", NULL, action_clear);
  gtk_widget_class_install_action (widget_class, "predict.again", NULL, action_again);
  gtk_widget_class_install_property_action (widget_class, "predict.flip", "flip");
  gtk_widget_class_install_property_action (widget_class, "predict.find-faces", "find-faces");

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "hydrapredictpane");
}

static void
hydra_predict_pane_init (HydraPredictPane *self)
{
  GtkDropTarget *target;
  GType types[] = { GDK_TYPE_FILE_LIST, G_TYPE_FILE };

  gtk_widget_init_template (GTK_WIDGET (self));

  self->items = g_list_store_new (HYDRA_TYPE_PREDICT_ITEM);
  self->predictor = hydra_predictor_new ();
  self->cancellable = g_cancellable_new ();
  g_signal_connect_swapped (self->predictor, "notify::busy", G_CALLBACK (on_predictor_busy), self);
  g_signal_connect_swapped (self->predictor, "notify::finder-error", G_CALLBACK (on_finder_error),
                            self);
  g_signal_connect (self, "notify::busy", G_CALLBACK (on_busy), NULL);
  gtk_flow_box_bind_model (self->flow, G_LIST_MODEL (self->items), create_photo, NULL, NULL);

  target = gtk_drop_target_new (G_TYPE_INVALID, GDK_ACTION_COPY);
  gtk_drop_target_set_gtypes (target, types, G_N_ELEMENTS (types));
  g_signal_connect (target, "enter", G_CALLBACK (on_drop_enter), self);
  g_signal_connect (target, "leave", G_CALLBACK (on_drop_leave), self);
  g_signal_connect (target, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));

  sync_view (self);
}

GtkWidget *
hydra_predict_pane_new (void)
{
  return g_object_new (HYDRA_TYPE_PREDICT_PANE, NULL);
}
