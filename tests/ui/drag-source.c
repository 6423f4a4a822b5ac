/* drag-source.c — a window whose one big label drags the files named on the command line.
 *
 *   drag-source [--title TITLE] FILE...
 *
 * The test of the prediction pane (test-predict.c) drives a real drag and drop with xdotool:
 * press on this label, move onto the pane, release. The files go out as a GdkFileList, which
 * GTK also offers as text/uri-list, plus an explicit text/uri-list for other drop targets.
 * What happens is logged on stderr, to make a failed drop diagnosable.
 */
#include <gtk/gtk.h>

static char **paths;

static GdkContentProvider *
on_prepare (GtkDragSource *source, double x, double y, gpointer user_data)
{
  GSList *files = NULL;
  g_autoptr (GString) uris = g_string_new (NULL);
  g_autoptr (GBytes) uri_bytes = NULL;
  GdkContentProvider *providers[2];

  for (int i = 0; paths[i] != NULL; i++)
    {
      GFile *file = g_file_new_for_commandline_arg (paths[i]);
      g_autofree char *uri = g_file_get_uri (file);

      files = g_slist_append (files, file);
      g_string_append_printf (uris, "%s\r\n", uri);
    }
  GdkFileList *list = gdk_file_list_new_from_list (files);
  g_slist_free_full (files, g_object_unref);
  uri_bytes = g_string_free_to_bytes (g_steal_pointer (&uris));

  providers[0] = gdk_content_provider_new_typed (GDK_TYPE_FILE_LIST, list);
  g_boxed_free (GDK_TYPE_FILE_LIST, list);
  providers[1] = gdk_content_provider_new_for_bytes ("text/uri-list", uri_bytes);
  g_printerr ("drag-source: prepare at %.0f,%.0f\n", x, y);
  return gdk_content_provider_new_union (providers, G_N_ELEMENTS (providers));
}

static void
on_drag_begin (GtkDragSource *source, GdkDrag *drag, gpointer user_data)
{
  g_printerr ("drag-source: drag begins\n");
}

static void
on_drag_end (GtkDragSource *source, GdkDrag *drag, gboolean delete_data, gpointer user_data)
{
  g_printerr ("drag-source: drag ends\n");
}

static gboolean
on_drag_cancel (GtkDragSource *source, GdkDrag *drag, GdkDragCancelReason reason, gpointer data)
{
  static const char *const reasons[] = { "no target", "user cancelled", "error" };
  g_printerr ("drag-source: drag cancelled (%s)\n",
              reason < G_N_ELEMENTS (reasons) ? reasons[reason] : "?");
  return FALSE;
}

static void
on_close (GtkWindow *window, gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

int
main (int argc, char **argv)
{
  g_autofree char *title = NULL;
  gboolean done = FALSE;
  const GOptionEntry entries[] = {
    { "title", 0, 0, G_OPTION_ARG_STRING, &title, "Window title", "TITLE" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &paths, NULL, "FILE…" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("FILE… — drag files from a label");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || paths == NULL)
    {
      g_printerr ("drag-source: %s\n", error != NULL ? error->message : "no files given");
      return 2;
    }
  gtk_init ();

  GtkWidget *window = gtk_window_new ();
  gtk_window_set_title (GTK_WINDOW (window), title != NULL ? title : "hydra-drag-source");
  gtk_window_set_default_size (GTK_WINDOW (window), 300, 200);

  GtkWidget *label = gtk_label_new ("drag me");
  PangoAttrList *attrs = pango_attr_list_new ();
  pango_attr_list_insert (attrs, pango_attr_scale_new (2.5));
  gtk_label_set_attributes (GTK_LABEL (label), attrs);
  pango_attr_list_unref (attrs);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_set_vexpand (label, TRUE);

  GtkDragSource *source = gtk_drag_source_new ();
  gtk_drag_source_set_actions (source, GDK_ACTION_COPY);
  g_signal_connect (source, "prepare", G_CALLBACK (on_prepare), NULL);
  g_signal_connect (source, "drag-begin", G_CALLBACK (on_drag_begin), NULL);
  g_signal_connect (source, "drag-end", G_CALLBACK (on_drag_end), NULL);
  g_signal_connect (source, "drag-cancel", G_CALLBACK (on_drag_cancel), NULL);
  gtk_widget_add_controller (label, GTK_EVENT_CONTROLLER (source));

  gtk_window_set_child (GTK_WINDOW (window), label);
  g_signal_connect (window, "destroy", G_CALLBACK (on_close), &done);
  gtk_window_present (GTK_WINDOW (window));

  while (!done)
    g_main_context_iteration (NULL, TRUE);
  g_strfreev (paths);
  return 0;
}
