/* hydra-run-row.c — one line of the Runs view: a run, or a folder that is not one. */

#include "hydra-run-row.h"

#include <math.h>
#include <string.h>

#include "balance.h"
#include "chart/hydra-chart-axis.h"
#include "losses.h"

struct _HydraRunRow
{
  GObject parent_instance;

  char *folder;
  HnRunInfo *info; /* NULL: not a run */
  char *reason;
  gboolean compare;
  gboolean changed_live;
};

G_DEFINE_FINAL_TYPE (HydraRunRow, hydra_run_row, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_COMPARE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *const titles[HYDRA_RUN_N_COLUMNS] = {
  [HYDRA_RUN_COL_NAME] = "Name",         [HYDRA_RUN_COL_CREATED] = "Created",
  [HYDRA_RUN_COL_STATE] = "State",       [HYDRA_RUN_COL_BALANCE] = "Balancing",
  [HYDRA_RUN_COL_AGE_LOSS] = "Age Loss", [HYDRA_RUN_COL_W_AGE] = "w Age",
  [HYDRA_RUN_COL_W_GENDER] = "w Gender", [HYDRA_RUN_COL_W_RACE] = "w Race",
  [HYDRA_RUN_COL_LR] = "Rate",           [HYDRA_RUN_COL_PRESET] = "Preset",
  [HYDRA_RUN_COL_DATA] = "Data",         [HYDRA_RUN_COL_EPOCHS] = "Epochs",
  [HYDRA_RUN_COL_STEPS] = "Steps",       [HYDRA_RUN_COL_MAE] = "Age MAE",
  [HYDRA_RUN_COL_GENDER] = "Gender",     [HYDRA_RUN_COL_RACE] = "Race",
  [HYDRA_RUN_COL_BEST] = "Best Age MAE",
};

const char *
hydra_run_column_title (HydraRunColumn col)
{
  g_return_val_if_fail (col < HYDRA_RUN_N_COLUMNS, "");
  return titles[col];
}

gboolean
hydra_run_column_lower_is_better (HydraRunColumn col)
{
  return col == HYDRA_RUN_COL_MAE || col == HYDRA_RUN_COL_BEST;
}

/* ---- reading a cell ---- */

static const HnEvalResult *
final_val (const HnRunInfo *info)
{
  return info->summary.final.val.n > 0 ? &info->summary.final.val : NULL;
}

double
hydra_run_row_get_number (HydraRunRow *self, HydraRunColumn col)
{
  const HnRunInfo *info = self->info;

  if (info == NULL)
    return NAN;
  const HnEvalResult *fin = final_val (info);
  const HnRunValidation *best = &info->summary.best;
  switch (col)
    {
    case HYDRA_RUN_COL_W_AGE:
    case HYDRA_RUN_COL_W_GENDER:
    case HYDRA_RUN_COL_W_RACE:
      return info->settings.loss.weight[col - HYDRA_RUN_COL_W_AGE];
    case HYDRA_RUN_COL_LR:
      return info->settings.optimizer.lr;
    case HYDRA_RUN_COL_EPOCHS:
      return info->summary.epochs;
    case HYDRA_RUN_COL_STEPS:
      return (double) info->summary.steps;
    case HYDRA_RUN_COL_MAE:
      return fin ? fin->age_mae : NAN;
    case HYDRA_RUN_COL_GENDER:
      return fin ? fin->gender_acc : NAN;
    case HYDRA_RUN_COL_RACE:
      return fin ? fin->race_acc : NAN;
    case HYDRA_RUN_COL_BEST:
      return best->val.n > 0 ? best->val.age_mae : NAN;
    default:
      return NAN;
    }
}

static char *
format_created (const char *iso)
{
  g_autoptr (GDateTime) utc = iso ? g_date_time_new_from_iso8601 (iso, NULL) : NULL;
  g_autoptr (GDateTime) local = utc ? g_date_time_to_local (utc) : NULL;

  if (local == NULL)
    return g_strdup (iso ? iso : "");
  return g_date_time_format (local, "%Y-%m-%d %H:%M");
}

static char *
format_data (const HnRunInfo *info)
{
  if (info->data_folder != NULL)
    return g_filename_display_basename (info->data_folder);
  if (info->settings.synthetic > 0)
    return g_strdup_printf ("%d synthetic", info->settings.synthetic);
  return g_strdup ("");
}

char *
hydra_run_row_dup_text (HydraRunRow *self, HydraRunColumn col)
{
  const HnRunInfo *info = self->info;
  char buf[64];

  if (info == NULL)
    {
      if (col == HYDRA_RUN_COL_NAME)
        return g_filename_display_basename (self->folder);
      if (col == HYDRA_RUN_COL_STATE)
        return g_strdup ("not a run");
      return g_strdup ("");
    }
  double v = hydra_run_row_get_number (self, col);
  switch (col)
    {
    case HYDRA_RUN_COL_NAME:
      return g_strdup (info->name ? info->name : "");
    case HYDRA_RUN_COL_CREATED:
      return format_created (info->created);
    case HYDRA_RUN_COL_STATE:
      {
        char *state = g_strdup (trainer_state_name (info->summary.state));
        state[0] = g_ascii_toupper (state[0]);
        return state;
      }
    case HYDRA_RUN_COL_BALANCE:
      return g_strdup (balance_title (info->settings.loss.balance));
    case HYDRA_RUN_COL_AGE_LOSS:
      return g_strdup (age_loss_title (info->settings.loss.age_loss));
    case HYDRA_RUN_COL_W_AGE:
    case HYDRA_RUN_COL_W_GENDER:
    case HYDRA_RUN_COL_W_RACE:
      return g_strdup_printf ("%.3g", v);
    case HYDRA_RUN_COL_LR:
      hydra_chart_format_rate (buf, sizeof buf, v, 3);
      return g_strdup (buf);
    case HYDRA_RUN_COL_PRESET:
      return g_strdup (info->preset ? info->preset : "—");
    case HYDRA_RUN_COL_DATA:
      return format_data (info);
    case HYDRA_RUN_COL_EPOCHS:
      return g_strdup_printf ("%d of %d", info->summary.epochs, info->settings.epochs);
    case HYDRA_RUN_COL_STEPS:
      return g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) info->summary.steps);
    case HYDRA_RUN_COL_MAE:
      return isnan (v) ? g_strdup ("") : g_strdup_printf ("%.2f", v);
    case HYDRA_RUN_COL_GENDER:
    case HYDRA_RUN_COL_RACE:
      return isnan (v) ? g_strdup ("") : g_strdup_printf ("%.1f %%", 100 * v);
    case HYDRA_RUN_COL_BEST:
      return isnan (v) ? g_strdup ("")
                       : g_strdup_printf ("%.2f (epoch %d)", v, info->summary.best.epoch);
    default:
      g_return_val_if_reached (g_strdup (""));
    }
}

char *
hydra_run_format_delta (HydraRunColumn col, double delta)
{
  if (isnan (delta))
    return g_strdup ("");
  /* a real minus sign; accuracies in percentage points */
  const char *sign = delta < 0 ? "−" : delta > 0 ? "+" : "±";
  if (col == HYDRA_RUN_COL_GENDER || col == HYDRA_RUN_COL_RACE)
    return g_strdup_printf ("%s%.1f pts", sign, fabs (100 * delta));
  return g_strdup_printf ("%s%.2f", sign, fabs (delta));
}

int
hydra_run_row_compare (HydraRunRow *a, HydraRunRow *b, HydraRunColumn col)
{
  /* folders that are not runs go last whatever the order */
  if ((a->info == NULL) != (b->info == NULL))
    return a->info == NULL ? 1 : -1;
  double x = hydra_run_row_get_number (a, col), y = hydra_run_row_get_number (b, col);
  int c = 0;
  if (!isnan (x) || !isnan (y))
    {
      if (isnan (x) != isnan (y))
        return isnan (x) ? 1 : -1;
      c = (x > y) - (x < y);
    }
  else if (col == HYDRA_RUN_COL_CREATED && a->info != NULL)
    c = g_strcmp0 (a->info->created, b->info->created);
  else
    {
      g_autofree char *s = hydra_run_row_dup_text (a, col);
      g_autofree char *t = hydra_run_row_dup_text (b, col);
      c = g_utf8_collate (s, t);
    }
  return c != 0 ? c : g_strcmp0 (a->folder, b->folder);
}

/* ---- the object ---- */

HydraRunRow *
hydra_run_row_new (HnRunInfo *info)
{
  HydraRunRow *self = g_object_new (HYDRA_TYPE_RUN_ROW, NULL);

  self->info = g_new (HnRunInfo, 1);
  *self->info = *info;
  memset (info, 0, sizeof *info);
  self->folder = g_strdup (self->info->folder);
  return self;
}

HydraRunRow *
hydra_run_row_new_skipped (const char *folder, const char *reason)
{
  HydraRunRow *self = g_object_new (HYDRA_TYPE_RUN_ROW, NULL);

  self->folder = g_strdup (folder);
  self->reason = g_strdup (reason);
  return self;
}

const char *
hydra_run_row_get_folder (HydraRunRow *self)
{
  return self->folder;
}

const HnRunInfo *
hydra_run_row_get_info (HydraRunRow *self)
{
  return self->info;
}

const char *
hydra_run_row_get_reason (HydraRunRow *self)
{
  return self->reason;
}

gboolean
hydra_run_row_get_changed_live (HydraRunRow *self)
{
  return self->changed_live;
}

void
hydra_run_row_set_changed_live (HydraRunRow *self, gboolean changed)
{
  self->changed_live = changed;
}

gboolean
hydra_run_row_get_compare (HydraRunRow *self)
{
  return self->compare;
}

void
hydra_run_row_set_compare (HydraRunRow *self, gboolean compare)
{
  compare = !!compare;
  if (self->compare == compare)
    return;
  self->compare = compare;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COMPARE]);
}

static void
hydra_run_row_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HydraRunRow *self = HYDRA_RUN_ROW (object);

  switch (prop_id)
    {
    case PROP_COMPARE:
      g_value_set_boolean (value, self->compare);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_run_row_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  HydraRunRow *self = HYDRA_RUN_ROW (object);

  switch (prop_id)
    {
    case PROP_COMPARE:
      hydra_run_row_set_compare (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_run_row_finalize (GObject *object)
{
  HydraRunRow *self = HYDRA_RUN_ROW (object);

  if (self->info != NULL)
    run_info_clear (self->info);
  g_free (self->info);
  g_free (self->folder);
  g_free (self->reason);

  G_OBJECT_CLASS (hydra_run_row_parent_class)->finalize (object);
}

static void
hydra_run_row_class_init (HydraRunRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = hydra_run_row_get_property;
  object_class->set_property = hydra_run_row_set_property;
  object_class->finalize = hydra_run_row_finalize;

  properties[PROP_COMPARE]
      = g_param_spec_boolean ("compare", NULL, NULL, FALSE,
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
hydra_run_row_init (HydraRunRow *self)
{
}
