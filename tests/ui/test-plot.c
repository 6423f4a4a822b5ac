/* test-plot.c — the series store and the loss plot (suite "plot"). Runs under Xvfb. */

#include <cairo.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "chart/hydra-chart-axis.h"
#include "hydra-loss-plot.h"
#include "hydra-series.h"
#include "plot/hydra-loss-plot-private.h" /* the frame and the channels, to check them */
#include "schedule.h"
#include "test-util.h"
#include "ui-test-util.h"

#define STRIDE (sizeof (HydraStepPoint) / sizeof (float))

/* ---- synthetic sessions ---------------------------------------------------------------- */

/* A run that looks like a real one: L1 on age at first, switched to MSE (the age loss jumps
 * a hundredfold), then w_age lowered, the learning rate cut, a pause; losses decay with
 * noise; a validation pass per epoch. */
static HydraSeries *
make_session (guint n_steps, guint steps_per_epoch, guint32 seed)
{
  HydraSeries *series = hydra_series_new ();
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  guint mse_at = n_steps * 3 / 10, w_at = n_steps / 2, lr_at = n_steps * 7 / 10;
  guint pause_at = n_steps * 17 / 20;
  double w_age = 1.0, lr = 1e-3;

  hydra_series_add_marker (series, 0, HYDRA_MARKER_STATE, "started");
  for (guint i = 0; i < n_steps; i++)
    {
      HydraStepPoint p = { 0 };
      double t = (double) i / n_steps;
      double decay = exp (-4 * t);
      gboolean mse = i >= mse_at;

      if (i == mse_at)
        {
          hydra_series_add_marker (series, i + 1, HYDRA_MARKER_SETTING, "age L1 → MSE");
          hydra_series_set_age_loss (series, AGE_LOSS_MSE);
        }
      if (i == w_at)
        {
          hydra_series_add_marker (series, i + 1, HYDRA_MARKER_SETTING, "w_age 1 → 0.1");
          w_age = 0.1;
        }
      if (i == lr_at)
        {
          hydra_series_add_marker (series, i + 1, HYDRA_MARKER_SETTING, "lr 1e-3 → 3e-4");
          lr = 3e-4;
        }
      if (i == pause_at)
        {
          hydra_series_add_marker (series, i + 1, HYDRA_MARKER_STATE, "paused");
          hydra_series_add_marker (series, i + 1, HYDRA_MARKER_STATE, "resumed");
        }
      p.step = i + 1;
      p.epoch = (double) i / steps_per_epoch;
      p.loss[HYDRA_CURVE_AGE]
          = mse ? (130 + 300 * decay) * (1 + 0.35 * (g_rand_double (rand) - 0.5))
                : (6.5 + 9 * decay) * (1 + 0.3 * (g_rand_double (rand) - 0.5));
      p.loss[HYDRA_CURVE_GENDER] = (0.25 + 0.45 * decay) * (1 + 0.5 * (g_rand_double (rand) - 0.5));
      p.loss[HYDRA_CURVE_RACE] = (0.6 + 1.0 * decay) * (1 + 0.4 * (g_rand_double (rand) - 0.5));
      p.loss[HYDRA_CURVE_AGE_WEIGHTED] = w_age * p.loss[HYDRA_CURVE_AGE];
      p.loss[HYDRA_CURVE_GENDER_WEIGHTED] = p.loss[HYDRA_CURVE_GENDER];
      p.loss[HYDRA_CURVE_RACE_WEIGHTED] = p.loss[HYDRA_CURVE_RACE];
      p.loss[HYDRA_CURVE_TOTAL] = p.loss[HYDRA_CURVE_AGE_WEIGHTED]
                                  + p.loss[HYDRA_CURVE_GENDER_WEIGHTED]
                                  + p.loss[HYDRA_CURVE_RACE_WEIGHTED];
      p.grad_norm[HEAD_AGE]
          = w_age * (mse ? 8.0 : 0.4) * (0.4 + decay) * (1 + 0.5 * (g_rand_double (rand) - 0.5));
      p.grad_norm[HEAD_GENDER] = 0.15 * (0.5 + decay) * (1 + 0.5 * (g_rand_double (rand) - 0.5));
      p.grad_norm[HEAD_RACE] = 0.3 * (0.5 + decay) * (1 + 0.5 * (g_rand_double (rand) - 0.5));
      p.cosine[0] = 0.05 - (mse ? 0.25 : 0) + 0.3 * (g_rand_double (rand) - 0.5);
      p.cosine[1] = 0.15 + 0.3 * (g_rand_double (rand) - 0.5);
      p.cosine[2] = 0.35 * decay + 0.3 * (g_rand_double (rand) - 0.5);
      p.lr = lr;
      p.img_per_s = 300 + 20 * g_rand_double (rand);
      p.images = 64;
      hydra_series_add_step (series, &p);

      if ((i + 1) % steps_per_epoch == 0)
        {
          HydraEpochPoint e = { 0 };

          e.step = i + 1;
          e.epoch = (i + 1) / steps_per_epoch;
          for (guint c = 0; c < HYDRA_N_CURVES; c++)
            e.loss[c] = p.loss[c] * 1.15;
          e.eval.n = 4000;
          e.eval.age_mae = mse ? 7.2 : 9.5;
          e.eval.gender_acc = 0.85;
          e.eval.race_acc = 0.7;
          hydra_series_add_epoch (series, &e);
        }
    }
  hydra_series_commit (series);
  return series;
}

/* A run whose loss weights change, as a trainer reports it: MSE on age from the start, by
 * hand at first (w_age lowered), then FAMO chooses the weights (age's falls to ~3·10⁻³, the
 * others rise to ~2), then RLW draws new ones at every step. Each head's gradient norm scales
 * with its weight. */
static HydraSeries *
weights_session (guint n_steps, guint steps_per_epoch, guint32 seed)
{
  HydraSeries *series = hydra_series_new ();
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  HnLossConfig loss = { .age_loss = AGE_LOSS_MSE, .weight = { 1, 1, 1 } };
  const float famo[N_HEADS] = { 3e-3f, 2.2f, 1.4f }, base[N_HEADS] = { 60, 0.15f, 0.3f };
  guint hand_at = n_steps / 5, famo_at = 2 * n_steps / 5, rlw_at = 4 * n_steps / 5;
  float start[N_HEADS];
  HnEvent e;

  hydra_series_set_age_loss (series, AGE_LOSS_MSE);
  for (guint i = 0; i < n_steps; i++)
    {
      double decay = exp (-3.0 * i / n_steps);

      e = (HnEvent){ .kind = EVENT_SETTING, .step = i, .epoch = i / steps_per_epoch };
      if (i == hand_at)
        {
          e.setting.what = SETTING_W_AGE, e.setting.value = 0.1, e.setting.old_value = 1;
          e.loss = loss;
          hydra_series_add_event (series, &e);
          loss.weight[HEAD_AGE] = 0.1f;
        }
      if (i == famo_at || i == rlw_at)
        {
          e.setting.what = SETTING_BALANCE;
          e.setting.value = i == famo_at ? BALANCE_FAMO : BALANCE_RLW;
          e.setting.old_value = loss.balance;
          e.loss = loss;
          hydra_series_add_event (series, &e);
          loss.balance = (HnBalance) e.setting.value;
          memcpy (start, loss.weight, sizeof start);
        }
      if (loss.balance == BALANCE_FAMO)
        {
          double t = 1 - exp (-(double) (i - famo_at) / (0.08 * n_steps));

          for (guint h = 0; h < N_HEADS; h++)
            loss.weight[h] = (float) (start[h] * pow (famo[h] / start[h], t)
                                      * (1 + 0.08 * (g_rand_double (rand) - 0.5)));
        }
      else if (loss.balance == BALANCE_RLW)
        {
          double z[N_HEADS], sum = 0;

          for (guint h = 0; h < N_HEADS; h++)
            sum += z[h] = exp (g_rand_double_range (rand, -1.5, 1.5));
          for (guint h = 0; h < N_HEADS; h++)
            loss.weight[h] = (float) (N_HEADS * z[h] / sum);
        }

      e = (HnEvent){
        .kind = EVENT_STEP, .step = i + 1, .epoch = i / steps_per_epoch, .loss = loss
      };
      e.train.raw[HEAD_AGE]
          = (float) ((120 + 300 * decay) * (1 + 0.3 * (g_rand_double (rand) - 0.5)));
      e.train.raw[HEAD_GENDER]
          = (float) ((0.25 + 0.45 * decay) * (1 + 0.4 * (g_rand_double (rand) - 0.5)));
      e.train.raw[HEAD_RACE]
          = (float) ((0.6 + 1.0 * decay) * (1 + 0.4 * (g_rand_double (rand) - 0.5)));
      for (guint h = 0; h < N_HEADS; h++)
        {
          e.train.weighted[h] = loss.weight[h] * e.train.raw[h];
          e.train.total += e.train.weighted[h];
          e.train.grad_norm[h] = (float) (loss.weight[h] * base[h] * (0.5 + decay)
                                          * (1 + 0.5 * (g_rand_double (rand) - 0.5)));
        }
      e.train.cosine[0] = (float) (-0.2 + 0.3 * (g_rand_double (rand) - 0.5));
      e.train.cosine[1] = (float) (0.1 + 0.3 * (g_rand_double (rand) - 0.5));
      e.train.cosine[2] = (float) (0.3 * decay + 0.3 * (g_rand_double (rand) - 0.5));
      e.train.lr = 1e-3f;
      e.train.img_per_s = 400;
      e.train.batch_index = i % steps_per_epoch;
      e.train.batches = steps_per_epoch;
      e.train.images = 64;
      hydra_series_add_event (series, &e);
    }
  hydra_series_commit (series);
  return series;
}

/* ---- GTK helpers ------------------------------------------------------------------------ */

static void
spin (guint ms)
{
  ui_spin (ms / 1000.0);
}

static GtkWidget *
show_in_window (GtkWidget *plot, int width, int height)
{
  GtkWidget *window = gtk_window_new ();

  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  gtk_window_set_decorated (GTK_WINDOW (window), FALSE);
  gtk_window_set_child (GTK_WINDOW (window), plot);
  gtk_window_present (GTK_WINDOW (window));
  for (int i = 0; i < 100 && gtk_widget_get_width (plot) <= 0; i++)
    spin (20);
  spin (100);
  ck_assert_int_gt (gtk_widget_get_width (plot), 0);
  return window;
}

/* What is on screen, through the window's own renderer. */
/* Counts pixels near an opaque colour (premultiplied ARGB32, opaque background). */
static guint
count_color (cairo_surface_t *surface, int r, int g, int b, int tolerance, int *top, int *bottom)
{
  int w = cairo_image_surface_get_width (surface), h = cairo_image_surface_get_height (surface);
  int stride = cairo_image_surface_get_stride (surface);
  const guint8 *data;
  guint n = 0;

  cairo_surface_flush (surface);
  data = cairo_image_surface_get_data (surface);
  if (top)
    *top = h;
  if (bottom)
    *bottom = -1;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guint32 px = *(const guint32 *) (data + y * stride + x * 4);
        int pr = (px >> 16) & 0xff, pg = (px >> 8) & 0xff, pb = px & 0xff;

        if (ABS (pr - r) <= tolerance && ABS (pg - g) <= tolerance && ABS (pb - b) <= tolerance)
          {
            n++;
            if (top)
              *top = MIN (*top, y);
            if (bottom)
              *bottom = MAX (*bottom, y);
          }
      }
  return n;
}

/* ---- EMA ------------------------------------------------------------------------------ */

START_TEST (test_ema_hand)
{
  const float x[] = { 1, 2, 3 };
  /* last = last·w + (1−w)·x; out = last / (1 − w^(i+1)), w = 0.6:
   * 0.4/0.4 = 1;  (0.24 + 0.8)/0.64 = 1.625;  (0.624 + 1.2)/0.784 = 2.3265306 */
  const float want[] = { 1.0f, 1.625f, 2.3265306f };
  float out[3];

  hydra_smooth_ema (x, 1, 3, 0.6, out);
  assert_close ("ema w=0.6", out, want, 3, 1e-6, 1e-6);
  /* TensorBoard's debiasing: the first output is the first input, not (1−w)·x0 */
  ck_assert_float_eq (out[0], x[0]);
}
END_TEST

START_TEST (test_ema_edges)
{
  const float x[] = { NAN, 2, INFINITY, 4 };
  float out[4];
  float constant[10], flat[10];

  /* non-finite inputs are skipped and not counted for the debias: w = 0.5
   * 2 → 1/0.5 = 2;  4 → (0.5 + 2)/(1 − 0.25) = 3.3333 (3 counted would give 2.857) */
  hydra_smooth_ema (x, 1, 4, 0.5, out);
  ck_assert (isnan (out[0]));
  ck_assert_float_eq_tol (out[1], 2.0f, 1e-6);
  ck_assert_float_eq_tol (out[2], 2.0f, 1e-6);
  ck_assert_float_eq_tol (out[3], 10.0f / 3.0f, 1e-5);

  /* weight 0 copies; a constant stays constant at any weight */
  hydra_smooth_ema (x + 1, 1, 1, 0.0, out);
  ck_assert_float_eq (out[0], 2.0f);
  for (guint i = 0; i < 10; i++)
    constant[i] = 5.0f;
  hydra_smooth_ema (constant, 1, 10, 0.99, flat);
  assert_close ("constant", flat, constant, 10, 1e-5, 1e-6);
}
END_TEST

START_TEST (test_ema_stride)
{
  HydraStepPoint points[5] = { 0 };
  float plain[5], a[5], b[5];

  for (guint i = 0; i < 5; i++)
    points[i].loss[HYDRA_CURVE_RACE] = plain[i] = 1.0f + i * i;
  hydra_smooth_ema (plain, 1, 5, 0.8, a);
  hydra_smooth_ema (&points[0].loss[HYDRA_CURVE_RACE], STRIDE, 5, 0.8, b);
  assert_close ("stride", b, a, 5, 0, 0);
}
END_TEST

/* ---- the series ------------------------------------------------------------------------- */

static void
changed_count (HydraSeries *series, guint *count)
{
  (*count)++;
}

START_TEST (test_series_find_step)
{
  g_autoptr (HydraSeries) series = hydra_series_new ();
  guint changed = 0;

  g_signal_connect (series, "changed", G_CALLBACK (changed_count), &changed);
  ck_assert_uint_eq (hydra_series_find_step (series, 5), 0);
  for (guint i = 0; i < 100; i++)
    {
      HydraStepPoint p = { .step = 2 * (i + 1) }; /* steps 2, 4, …, 200 */

      hydra_series_add_step (series, &p);
    }
  ck_assert_uint_eq (changed, 0);
  hydra_series_commit (series);
  hydra_series_commit (series);
  ck_assert_uint_eq (changed, 1);
  ck_assert_uint_eq (hydra_series_get_n_steps (series), 100);
  ck_assert_uint_eq (hydra_series_get_n_segments (series), 1);

  ck_assert_uint_eq (hydra_series_find_step (series, 1), 0); /* none ≤ 1 */
  ck_assert_uint_eq (hydra_series_find_step (series, 2), 0);
  ck_assert_uint_eq (hydra_series_find_step (series, 3), 0);
  ck_assert_uint_eq (hydra_series_find_step (series, 4), 1);
  ck_assert_uint_eq (hydra_series_find_step (series, 101), 49);
  ck_assert_uint_eq (hydra_series_find_step (series, 200), 99);
  ck_assert_uint_eq (hydra_series_find_step (series, 100000), 99);

  /* a rollback to step 80: steps 82 … 120 again, a new segment */
  for (guint s = 82; s <= 120; s += 2)
    {
      HydraStepPoint p = { .step = s };

      hydra_series_add_step (series, &p);
    }
  hydra_series_commit (series);
  ck_assert_uint_eq (hydra_series_get_n_segments (series), 2);
  ck_assert_uint_eq (hydra_series_get_segment_start (series, 1), 100);
  ck_assert_uint_eq (hydra_series_find_step (series, 60), 29);  /* only the first covers it */
  ck_assert_uint_eq (hydra_series_find_step (series, 90), 104); /* the latest wins: step 90 */
  ck_assert_int_eq (hydra_series_get_step (series, 104)->step, 90);
  ck_assert_uint_eq (hydra_series_find_step (series, 150), 74); /* abandoned steps: 150 */

  hydra_series_clear (series);
  ck_assert_uint_eq (changed, 3);
  ck_assert_uint_eq (hydra_series_get_n_steps (series), 0);
  ck_assert_uint_eq (hydra_series_get_n_segments (series), 0);
}
END_TEST

START_TEST (test_series_age_loss)
{
  g_autoptr (HydraSeries) series = hydra_series_new ();
  int kind = -1;

  ck_assert_int_eq (hydra_series_get_age_loss (series), AGE_LOSS_L1);
  hydra_series_set_age_loss (series, AGE_LOSS_HUBER);
  g_object_get (series, "age-loss", &kind, NULL);
  ck_assert_int_eq (kind, AGE_LOSS_HUBER);
  ck_assert_str_eq (hydra_curve_name (HYDRA_CURVE_TOTAL), "total");
  ck_assert_str_eq (hydra_curve_name (HYDRA_CURVE_AGE_WEIGHTED), "w·age");
}
END_TEST

/* ---- CSV -------------------------------------------------------------------------------- */

/* RFC 4180: rows of cells; quoted cells may hold commas, quotes ("") and newlines. */
static GPtrArray *
parse_csv (const char *text)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  GPtrArray *row = g_ptr_array_new_with_free_func (g_free);
  GString *cell = g_string_new (NULL);
  gboolean quoted = FALSE;

  for (const char *c = text; *c; c++)
    {
      if (quoted)
        {
          if (*c == '"' && c[1] == '"')
            g_string_append_c (cell, '"'), c++;
          else if (*c == '"')
            quoted = FALSE;
          else
            g_string_append_c (cell, *c);
        }
      else if (*c == '"')
        quoted = TRUE;
      else if (*c == ',')
        g_ptr_array_add (row, g_string_free (g_string_new (cell->str), FALSE)),
            g_string_truncate (cell, 0);
      else if (*c == '\n')
        {
          g_ptr_array_add (row, g_strdup (cell->str));
          g_string_truncate (cell, 0);
          g_ptr_array_add (rows, row);
          row = g_ptr_array_new_with_free_func (g_free);
        }
      else
        g_string_append_c (cell, *c);
    }
  ck_assert_msg (!quoted, "unterminated quoted cell");
  ck_assert_uint_eq (row->len, 0);
  ck_assert_uint_eq (cell->len, 0);
  g_ptr_array_unref (row);
  g_string_free (cell, TRUE);
  return rows;
}

/* A session as a trainer reports it: three epochs of steps, a validation and a checkpoint at
 * each epoch's end, two live changes, a pause, a rollback, and a divergence whose message
 * needs quoting in CSV. */
static HydraSeries *
event_session (int steps_per_epoch)
{
  HydraSeries *series = hydra_series_new ();
  g_autoptr (GRand) rand = g_rand_new_with_seed (11);
  HnLossConfig loss = { AGE_LOSS_L1, { 1, 1, 1 } };
  int64_t step = 0;
  HnEvent e;

#define EMIT(kind_)                                                                                \
  (e = (HnEvent) { .kind = (kind_), .step = step, .epoch = epoch, .loss = loss })
#define STATE(state_, error_, ...)                                                                 \
  do                                                                                               \
    {                                                                                              \
      EMIT (EVENT_STATE);                                                                          \
      e.state.state = (state_);                                                                    \
      e.state.error = (error_);                                                                    \
      g_snprintf (e.state.message, sizeof e.state.message, __VA_ARGS__);                           \
      hydra_series_add_event (series, &e);                                                         \
    }                                                                                              \
  while (0)
#define SETTING(what_, value_, old_)                                                               \
  do                                                                                               \
    {                                                                                              \
      EMIT (EVENT_SETTING);                                                                        \
      e.setting.what = (what_), e.setting.value = (value_), e.setting.old_value = (old_);          \
      hydra_series_add_event (series, &e);                                                         \
    }                                                                                              \
  while (0)

  int epoch = 0;
  STATE (TRAINER_RUNNING, false, "training from step 0");
  for (; epoch < 3;)
    {
      for (int b = 0; b < steps_per_epoch; b++)
        {
          if (epoch == 1 && b == 5)
            {
              loss.weight[HEAD_AGE] = 0.25f;
              SETTING (SETTING_W_AGE, 0.25, 1);
            }
          if (epoch == 1 && b == 7)
            {
              loss.age_loss = AGE_LOSS_MSE;
              SETTING (SETTING_AGE_LOSS, AGE_LOSS_MSE, AGE_LOSS_L1);
            }
          if (epoch == 2 && b == 3)
            {
              SETTING (SETTING_PAUSE, 1, 0);
              STATE (TRAINER_PAUSED, false, "paused at step %lld", (long long) step);
              SETTING (SETTING_RESUME, 1, 0);
              STATE (TRAINER_RUNNING, false, "resumed at step %lld", (long long) step);
            }
          step++;
          EMIT (EVENT_STEP);
          for (int h = 0; h < N_HEADS; h++)
            {
              e.train.raw[h] = (float) g_rand_double_range (rand, 0.1, 20);
              e.train.weighted[h] = loss.weight[h] * e.train.raw[h];
              e.train.total += e.train.weighted[h];
              e.train.grad_norm[h] = (float) g_rand_double (rand);
              e.train.cosine[h] = (float) g_rand_double_range (rand, -1, 1);
            }
          e.train.lr = 1e-3f;
          e.train.img_per_s = (float) g_rand_double_range (rand, 500, 1500);
          e.train.batch_index = b;
          e.train.batches = steps_per_epoch;
          e.train.images = 64;
          hydra_series_add_event (series, &e);
        }
      epoch++;
      EMIT (EVENT_EPOCH);
      e.val.n = 100;
      e.val.age_mae = g_rand_double_range (rand, 5, 15);
      e.val.age_rmse = e.val.age_mae * 1.3;
      e.val.gender_acc = g_rand_double (rand);
      e.val.race_acc = g_rand_double (rand);
      for (int h = 0; h < N_HEADS; h++)
        e.val.loss[h] = g_rand_double_range (rand, 0.1, 20);
      for (int k = 0; k < 100; k++)
        e.val.race_confusion[k % N_RACES][(k * 7 / 3) % N_RACES]++;
      hydra_series_add_event (series, &e);
      EMIT (EVENT_CHECKPOINT);
      g_snprintf (e.state.message, sizeof e.state.message, "/tmp/run, 1/checkpoint.safetensors");
      hydra_series_add_event (series, &e);
    }
  step -= steps_per_epoch;
  epoch--;
  SETTING (SETTING_ROLLBACK, (double) step, 0);
  STATE (TRAINER_PAUSED, false, "rolled back to step %lld (epoch %d)", (long long) step, epoch);
  STATE (TRAINER_DIVERGED, true, "the loss exploded: 4.2e+03, 120× its \"recent\" average");
  STATE (TRAINER_STOPPED, false, "stopped at step %lld", (long long) step);
  hydra_series_commit (series);
#undef SETTING
#undef STATE
#undef EMIT
  return series;
}

static void
series_read (GObject *source, GAsyncResult *result, gpointer data)
{
  GError *error = NULL;
  HydraSeries **out = data;

  *out = hydra_series_read_csv_finish (result, &error);
  ck_assert_msg (*out != NULL, "%s", error ? error->message : "");
}

static void
assert_same_steps (HydraSeries *a, HydraSeries *b)
{
  ck_assert_uint_eq (hydra_series_get_n_steps (a), hydra_series_get_n_steps (b));
  for (guint i = 0; i < hydra_series_get_n_steps (a); i++)
    {
      const HydraStepPoint *p = hydra_series_get_step (a, i), *q = hydra_series_get_step (b, i);

      ck_assert_int_eq (p->step, q->step);
      ck_assert_double_eq (p->epoch, q->epoch);
      /* floats come back exactly */
      ck_assert_int_eq (memcmp (p->loss, q->loss, sizeof p->loss), 0);
      ck_assert_int_eq (memcmp (p->grad_norm, q->grad_norm, sizeof p->grad_norm), 0);
      ck_assert_int_eq (memcmp (p->cosine, q->cosine, sizeof p->cosine), 0);
      ck_assert_int_eq (memcmp (p->weight, q->weight, sizeof p->weight), 0);
      ck_assert_float_eq (p->lr, q->lr);
      ck_assert_float_eq (p->img_per_s, q->img_per_s);
      ck_assert_int_eq (p->age_loss, q->age_loss);
      ck_assert_int_eq (p->balance, q->balance);
      ck_assert_int_eq (p->epochs_done, q->epochs_done);
      ck_assert_int_eq (p->batch, q->batch);
      ck_assert_int_eq (p->batches, q->batches);
      ck_assert_int_eq (p->images, q->images);
    }
}

static void
assert_same_validation (HydraSeries *a, HydraSeries *b)
{
  ck_assert_uint_eq (hydra_series_get_n_epochs (a), hydra_series_get_n_epochs (b));
  for (guint i = 0; i < hydra_series_get_n_epochs (a); i++)
    {
      const HydraEpochPoint *p = hydra_series_get_epoch (a, i), *q = hydra_series_get_epoch (b, i);

      ck_assert_int_eq (p->step, q->step);
      ck_assert_int_eq (p->epoch, q->epoch);
      ck_assert_double_eq (p->at, q->at);
      ck_assert_int_eq (memcmp (p->loss, q->loss, sizeof p->loss), 0);
      ck_assert_int_eq (p->eval.n, q->eval.n);
      ck_assert_double_eq_tol (p->eval.age_mae, q->eval.age_mae, 1e-8 * p->eval.age_mae);
      ck_assert_double_eq_tol (p->eval.race_acc, q->eval.race_acc, 1e-8);
      ck_assert_int_eq (memcmp (p->eval.race_confusion, q->eval.race_confusion,
                                sizeof p->eval.race_confusion), 0);
      ck_assert_int_eq (p->settings.age_loss, q->settings.age_loss);
      ck_assert_float_eq (p->settings.weight[HEAD_AGE], q->settings.weight[HEAD_AGE]);
    }
}

static void
assert_same_markers (HydraSeries *a, HydraSeries *b)
{
  ck_assert_uint_eq (hydra_series_get_n_markers (a), hydra_series_get_n_markers (b));
  for (guint i = 0; i < hydra_series_get_n_markers (a); i++)
    {
      const HydraMarker *m = hydra_series_get_marker (a, i), *n = hydra_series_get_marker (b, i);

      ck_assert_int_eq (m->step, n->step);
      ck_assert_int_eq (m->kind, n->kind);
      ck_assert_str_eq (m->label, n->label);
    }
}

/* Written as a run's record, read back: the same session, point for point. */
START_TEST (test_csv_round_trip)
{
  g_autoptr (HydraSeries) series = event_session (10);
  g_autoptr (HydraSeries) back = NULL;
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *path = test_path (dir, "curves.csv");
  g_autofree char *again = test_path (dir, "again.csv");
  g_autofree char *text = NULL, *text_again = NULL;
  g_autoptr (GError) error = NULL;

  ck_assert_msg (hydra_series_write_csv (series, path, &error), "%s", error ? error->message : "");
  ck_assert (g_file_get_contents (path, &text, NULL, NULL));
  g_autoptr (GPtrArray) rows = parse_csv (text);
  GPtrArray *header = g_ptr_array_index (rows, 0);
  ck_assert_uint_eq (header->len, 38);
  ck_assert_str_eq (g_ptr_array_index (header, 0), "kind");
  for (guint r = 1; r < rows->len; r++)
    ck_assert_uint_eq (((GPtrArray *) g_ptr_array_index (rows, r))->len, header->len);
  /* 30 steps, 3 validations, 3 checkpoints, 5 settings, 6 states */
  ck_assert_uint_eq (rows->len, 1 + 30 + 3 + 3 + 5 + 6);
  ck_assert_str_eq (g_ptr_array_index ((GPtrArray *) g_ptr_array_index (rows, 1), 0), "state");

  hydra_series_read_csv_async (path, NULL, series_read, &back);
  while (back == NULL)
    g_main_context_iteration (NULL, TRUE);
  assert_same_steps (series, back);
  assert_same_validation (series, back);
  assert_same_markers (series, back);
  ck_assert_uint_eq (hydra_series_get_age_loss (back), AGE_LOSS_MSE);

  /* and what is read back writes the same record again */
  ck_assert (hydra_series_write_csv (back, again, NULL));
  ck_assert (g_file_get_contents (again, &text_again, NULL, NULL));
  ck_assert_str_eq (text, text_again);
  test_rmtree (dir);
}
END_TEST

static void
csv_async_done (GObject *source, GAsyncResult *result, gpointer data)
{
  GError **error = data;

  if (!hydra_series_write_csv_finish (HYDRA_SERIES (source), result, error) && *error == NULL)
    *error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "failed without an error");
  else if (*error == NULL)
    *error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_EXISTS, "ok");
}

START_TEST (test_csv_async)
{
  g_autoptr (HydraSeries) series = make_session (1000, 250, 3);
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *path = test_path (dir, "async.csv");
  g_autofree char *sync_path = test_path (dir, "sync.csv");
  g_autofree char *a = NULL, *b = NULL;
  GError *error = NULL;

  hydra_series_write_csv_async (series, path, NULL, csv_async_done, &error);
  /* appended after the call: not in the file, which holds a copy taken at the call */
  {
    HydraStepPoint p = { .step = 5000 };

    ck_assert (hydra_series_write_csv (series, sync_path, NULL));
    hydra_series_add_step (series, &p);
    hydra_series_commit (series);
  }
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  ck_assert_msg (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS), "%s", error->message);
  g_clear_error (&error);
  ck_assert (g_file_get_contents (path, &a, NULL, NULL));
  ck_assert (g_file_get_contents (sync_path, &b, NULL, NULL));
  ck_assert_str_eq (a, b);
  test_rmtree (dir);
}
END_TEST

/* ---- export ------------------------------------------------------------------------------ */

static guint
count_files (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  ck_assert_ptr_nonnull (d);
  while (g_dir_read_name (d) != NULL)
    n++;
  return n;
}

START_TEST (test_export)
{
  g_autoptr (HydraSeries) series = make_session (2000, 400, 11);
  GtkWidget *plot = g_object_ref_sink (hydra_loss_plot_new ());
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *png = test_path (dir, "plot.png");
  g_autofree char *svg = test_path (dir, "plot.SVG");
  g_autofree char *csv = test_path (dir, "plot.csv");
  g_autofree char *missing = g_build_filename (dir, "no-such-folder", "plot.png", NULL);
  g_autofree char *missing_dir = g_build_filename (dir, "no-such-folder", NULL);
  g_autofree char *bad = test_path (dir, "plot.bmp");
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  gsize length;
  cairo_surface_t *back;

  hydra_loss_plot_set_series (HYDRA_LOSS_PLOT (plot), series);
  hydra_loss_plot_set_log_scale (HYDRA_LOSS_PLOT (plot), TRUE);

  ck_assert_msg (hydra_loss_plot_export (HYDRA_LOSS_PLOT (plot), png, 640, 400, &error), "%s",
                 error ? error->message : "");
  ck_assert (g_file_get_contents (png, &contents, &length, NULL));
  ck_assert_uint_ge (length, 8);
  ck_assert_mem_eq (contents, "\x89PNG\r\n\x1a\n", 8);
  back = cairo_image_surface_create_from_png (png);
  ck_assert_int_eq (cairo_surface_status (back), CAIRO_STATUS_SUCCESS);
  ck_assert_int_eq (cairo_image_surface_get_width (back), 640);
  ck_assert_int_eq (cairo_image_surface_get_height (back), 400);
  /* light background, and the age curve's blue is there */
  ck_assert_uint_gt (count_color (back, 0xff, 0xff, 0xff, 0, NULL, NULL), 640 * 400 / 2);
  ck_assert_uint_gt (count_color (back, 0x1c, 0x71, 0xd8, 8, NULL, NULL), 50);
  cairo_surface_destroy (back);
  g_clear_pointer (&contents, g_free);

  ck_assert (hydra_loss_plot_export (HYDRA_LOSS_PLOT (plot), svg, 800, 500, &error));
  ck_assert (g_file_get_contents (svg, &contents, &length, NULL));
  ck_assert (g_str_has_prefix (contents, "<?xml"));
  ck_assert_ptr_nonnull (strstr (contents, "<svg"));
  ck_assert_ptr_nonnull (strstr (contents, "800"));
  g_clear_pointer (&contents, g_free);

  ck_assert (hydra_loss_plot_export (HYDRA_LOSS_PLOT (plot), csv, 0, 0, &error));
  ck_assert (g_file_get_contents (csv, &contents, &length, NULL));
  ck_assert (g_str_has_prefix (contents, "kind,step,epoch,"));
  ck_assert_uint_eq (count_files (dir), 3);

  /* a folder that does not exist: an error, and nothing left behind */
  ck_assert (!hydra_loss_plot_export (HYDRA_LOSS_PLOT (plot), missing, 640, 400, &error));
  ck_assert_ptr_nonnull (error);
  ck_assert_msg (error->domain == G_FILE_ERROR, "%s", error->message);
  g_clear_error (&error);
  ck_assert (!g_file_test (missing_dir, G_FILE_TEST_EXISTS));
  ck_assert_uint_eq (count_files (dir), 3);

  ck_assert (!hydra_loss_plot_export (HYDRA_LOSS_PLOT (plot), bad, 640, 400, &error));
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED));
  g_clear_error (&error);
  ck_assert (!hydra_loss_plot_export (HYDRA_LOSS_PLOT (plot), png, 0, 400, &error));
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT));
  ck_assert_uint_eq (count_files (dir), 3);

  g_object_unref (plot);
  test_rmtree (dir);
}
END_TEST

/* ---- decimation ----------------------------------------------------------------------- */

START_TEST (test_decimate_keeps_spike)
{
  const guint n = 100000, spike = 54321;
  g_autofree double *x = g_new (double, n);
  g_autofree float *y = g_new (float, n);
  HydraPlotColumn cols[997];
  guint filled, total = 0, spike_col = G_MAXUINT;
  float max = -INFINITY, min = INFINITY;

  for (guint i = 0; i < n; i++)
    {
      x[i] = i + 1;
      y[i] = 0.5f + 0.5f * sinf (i * 0.37f);
    }
  y[spike] = 1e6f;
  y[777] = NAN;
  filled = hydra_plot_decimate (x, y, n, 1, n, FALSE, cols, G_N_ELEMENTS (cols));
  ck_assert_uint_eq (filled, G_N_ELEMENTS (cols));
  for (guint c = 0; c < G_N_ELEMENTS (cols); c++)
    {
      total += cols[c].count;
      if (cols[c].max > max)
        max = cols[c].max, spike_col = c;
      min = MIN (min, cols[c].min);
    }
  ck_assert_uint_eq (total, n - 1); /* every finite point counted once, the NaN skipped */
  ck_assert_float_eq (max, 1e6f);
  ck_assert_uint_eq (spike_col, (guint) ((x[spike] - 1) / (n - 1) * G_N_ELEMENTS (cols)));
  ck_assert_float_lt (min, 0.0001f);

  /* a window in the middle, and log scales' positive_only */
  y[50000] = -3;
  filled = hydra_plot_decimate (x, y, n, 50001, 50100, TRUE, cols, 10);
  ck_assert_uint_eq (filled, 10);
  ck_assert_uint_eq (cols[0].count, 9); /* 50001 … 50010, −3 skipped */
  ck_assert_float_ge (cols[0].min, 0.0f);
  ck_assert_float_eq (cols[0].first, y[50001]);
  ck_assert_float_eq (cols[0].last, y[50009]);
}
END_TEST

/* The whole drawing path: one huge value among 100,000 flat ones still reaches the top. */
START_TEST (test_plot_keeps_spike)
{
  g_autoptr (HydraSeries) series = hydra_series_new ();
  GtkWidget *plot = g_object_ref_sink (hydra_loss_plot_new ());
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 800, 400);
  cairo_t *cr = cairo_create (surface);
  int top, bottom;

  for (guint i = 0; i < 100000; i++)
    {
      HydraStepPoint p = { .step = i + 1, .epoch = i / 1000.0 };

      p.loss[HYDRA_CURVE_AGE] = i == 54321 ? 1000.0f : 1.0f;
      hydra_series_add_step (series, &p);
    }
  hydra_series_commit (series);
  hydra_loss_plot_set_series (HYDRA_LOSS_PLOT (plot), series);
  hydra_loss_plot_set_smoothing (HYDRA_LOSS_PLOT (plot), 0);
  for (guint c = 0; c < HYDRA_N_CURVES; c++)
    hydra_loss_plot_set_curve_visible (HYDRA_LOSS_PLOT (plot), c, c == HYDRA_CURVE_AGE);
  hydra_loss_plot_render (HYDRA_LOSS_PLOT (plot), cr, 800, 400);
  ck_assert_int_eq (cairo_status (cr), CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  ui_save_artifact (surface, "plot-spike.png");

  /* the age curve's pixels (blue, opaque) span from the baseline to near the top */
  ck_assert_uint_gt (count_color (surface, 0x1c, 0x71, 0xd8, 40, &top, &bottom), 100);
  ck_assert_int_lt (top, 400 / 4);
  ck_assert_int_gt (bottom - top, 400 / 2);
  cairo_surface_destroy (surface);
  g_object_unref (plot);
}
END_TEST

/* Crowded markers (labels must not overlap) and a rollback (steps go back: a new segment). */
START_TEST (test_markers_and_rollback)
{
  g_autoptr (HydraSeries) series = make_session (3000, 600, 21);
  GtkWidget *plot = g_object_ref_sink (hydra_loss_plot_new ());
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1000, 500);
  cairo_t *cr = cairo_create (surface);
  g_autoptr (GRand) rand = g_rand_new_with_seed (2);
  int top, bottom;

  for (guint k = 0; k < 12; k++)
    {
      g_autofree char *label
          = g_strdup_printf ("w_gender 1 → %.2f (a long label, %u)", 1.0 - k * 0.05, k);

      hydra_series_add_marker (series, 400 + 15 * k, HYDRA_MARKER_SETTING, label);
    }
  hydra_series_add_marker (series, 2400, HYDRA_MARKER_STATE, "diverged: age loss is NaN");
  hydra_series_add_marker (series, 1800, HYDRA_MARKER_ROLLBACK, "rolled back to 1800");
  for (guint i = 1800; i < 2800; i++)
    {
      HydraStepPoint p = *hydra_series_get_step (series, i - 1);

      p.step = i + 1;
      for (guint c = 0; c < HYDRA_N_CURVES; c++)
        p.loss[c] *= 0.8 + 0.1 * g_rand_double (rand);
      hydra_series_add_step (series, &p);
    }
  hydra_series_commit (series);
  ck_assert_uint_eq (hydra_series_get_n_segments (series), 2);

  hydra_loss_plot_set_series (HYDRA_LOSS_PLOT (plot), series);
  hydra_loss_plot_set_log_scale (HYDRA_LOSS_PLOT (plot), TRUE);
  hydra_loss_plot_render (HYDRA_LOSS_PLOT (plot), cr, 1000, 500);
  ck_assert_int_eq (cairo_status (cr), CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  ui_save_artifact (surface, "plot-markers.png");
  /* the rollback's line is red, top to bottom */
  ck_assert_uint_gt (count_color (surface, 0xe0, 0x1b, 0x24, 30, &top, &bottom), 100);
  ck_assert_int_gt (bottom - top, 300);
  cairo_surface_destroy (surface);
  g_object_unref (plot);
}
END_TEST

static cairo_surface_t *
render (GtkWidget *plot, int width, int height)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (surface);

  hydra_loss_plot_render (HYDRA_LOSS_PLOT (plot), cr, width, height);
  ck_assert_int_eq (cairo_status (cr), CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  return surface;
}

static void
copy_steps (HydraSeries *to, HydraSeries *from, guint i0, guint i1)
{
  for (guint i = i0; i < i1; i++)
    hydra_series_add_step (to, hydra_series_get_step (from, i));
  hydra_series_commit (to);
}

/* The cache (contiguous copies, block summaries, an EMA extended on append and restarted
 * after a rollback) draws exactly what a plot that saw all the data at once draws. */
START_TEST (test_incremental_matches_fresh)
{
  g_autoptr (HydraSeries) source = make_session (30000, 5000, 17);
  g_autoptr (HydraSeries) live = hydra_series_new ();
  g_autoptr (HydraSeries) whole = hydra_series_new ();
  GtkWidget *a = g_object_ref_sink (hydra_loss_plot_new ());
  GtkWidget *b = g_object_ref_sink (hydra_loss_plot_new ());
  cairo_surface_t *sa, *sb;
  guint n = hydra_series_get_n_steps (source);

  /* a rollback in the middle: steps 20001… come again after 25000 */
  for (guint i = 20000; i < 25000; i++)
    {
      HydraStepPoint p = *hydra_series_get_step (source, i);

      p.loss[HYDRA_CURVE_AGE] *= 0.5f;
      hydra_series_add_step (source, &p);
    }
  hydra_series_commit (source);
  n = hydra_series_get_n_steps (source);

  hydra_loss_plot_set_series (HYDRA_LOSS_PLOT (a), live);
  for (guint c = 0; c < HYDRA_N_CURVES; c++)
    hydra_loss_plot_set_curve_visible (HYDRA_LOSS_PLOT (a), c, TRUE);
  for (guint from = 0; from < n;)
    {
      guint to = MIN (n, from + 3001 + from / 3);

      copy_steps (live, source, from, to);
      cairo_surface_destroy (render (a, 900, 500)); /* each draw extends the cache */
      from = to;
    }
  copy_steps (whole, source, 0, n);
  hydra_loss_plot_set_series (HYDRA_LOSS_PLOT (b), whole);
  for (guint c = 0; c < HYDRA_N_CURVES; c++)
    hydra_loss_plot_set_curve_visible (HYDRA_LOSS_PLOT (b), c, TRUE);
  ck_assert_uint_eq (hydra_series_get_n_segments (live), 2);

  sa = render (a, 900, 500);
  sb = render (b, 900, 500);
  ck_assert_msg (memcmp (cairo_image_surface_get_data (sa), cairo_image_surface_get_data (sb),
                         (gsize) cairo_image_surface_get_stride (sa) * 500)
                     == 0,
                 "the incrementally cached plot differs from a fresh one");
  ui_save_artifact (sa, "plot-incremental.png");
  cairo_surface_destroy (sa);
  cairo_surface_destroy (sb);

  /* a new smoothing weight recomputes: the two still agree, and differ from before */
  hydra_loss_plot_set_smoothing (HYDRA_LOSS_PLOT (a), 0.95);
  hydra_loss_plot_set_smoothing (HYDRA_LOSS_PLOT (b), 0.95);
  sa = render (a, 900, 500);
  sb = render (b, 900, 500);
  ck_assert (memcmp (cairo_image_surface_get_data (sa), cairo_image_surface_get_data (sb),
                     (gsize) cairo_image_surface_get_stride (sa) * 500)
             == 0);
  cairo_surface_destroy (sa);
  cairo_surface_destroy (sb);
  g_object_unref (a);
  g_object_unref (b);
}
END_TEST

/* ---- the learning rate's strip -------------------------------------------------------- */

#define LR_PEAK 1e-3
#define LR_STEPS 20000
#define LR_CHANGE_AT 12000 /* the live control: ×0.25 from this step on */

/* A one-cycle run; with `live`, the rate control moved at LR_CHANGE_AT (its marker is there
 * either way, so that two pictures differ by the curve alone); `marker` FALSE leaves it out,
 * so that two pictures differ by the marker alone. */
static HydraSeries *
lr_session (gboolean live, gboolean marker)
{
  HydraSeries *series = hydra_series_new ();
  HnSchedule onecycle = schedule_defaults (SCHEDULE_ONECYCLE);

  hydra_series_add_marker (series, 0, HYDRA_MARKER_STATE, "started");

  for (guint i = 0; i < LR_STEPS; i++)
    {
      HydraStepPoint p = { .step = i + 1, .epoch = i / 2000.0 };
      double scale = live && p.step >= LR_CHANGE_AT ? 0.25 : 1.0;

      if (marker && p.step == LR_CHANGE_AT)
        hydra_series_add_marker (series, p.step, HYDRA_MARKER_SETTING, "lr ×0.25");
      p.lr = (float) (LR_PEAK * scale * schedule_factor (&onecycle, (double) i / LR_STEPS));
      p.loss[HYDRA_CURVE_AGE] = 5.0f + 3.0f * expf (-3.0f * i / LR_STEPS);
      p.loss[HYDRA_CURVE_TOTAL] = p.loss[HYDRA_CURVE_AGE];
      hydra_series_add_step (series, &p);
    }
  hydra_series_commit (series);
  return series;
}

/* The mean row of the strip's green in column x, or −1 where there is none; under the
 * legend, whose swatch is green too. */
static double
lr_row (cairo_surface_t *surface, int x)
{
  int h = cairo_image_surface_get_height (surface), n = 0;
  double sum = 0;

  for (int y = h / 3; y < h; y++)
    {
      guint32 px = *(const guint32 *) (cairo_image_surface_get_data (surface)
                                       + y * cairo_image_surface_get_stride (surface) + x * 4);
      int r = (px >> 16) & 0xff, g = (px >> 8) & 0xff, b = px & 0xff;

      if (ABS (r - 0x26) <= 30 && ABS (g - 0xa2) <= 30 && ABS (b - 0x69) <= 30)
        sum += y, n++;
    }
  return n > 0 ? sum / n : -1;
}

static void
on_notify (GObject *object, GParamSpec *pspec, guint *count)
{
  (*count)++;
}

/* The rate's range follows the schedule and the x range shown. */
START_TEST (test_lr_strip_range)
{
  g_autoptr (HydraSeries) series = lr_session (TRUE, TRUE);
  GtkWidget *plot = g_object_ref_sink (hydra_loss_plot_new ());
  HydraLossPlot *lp = HYDRA_LOSS_PLOT (plot);
  HnSchedule onecycle = schedule_defaults (SCHEDULE_ONECYCLE);
  double lo, hi, before, after;
  guint notified = 0;
  char label[32];

  /* rates read as training code writes them */
  hydra_chart_format_rate (label, sizeof label, 1e-3, 2);
  ck_assert_str_eq (label, "1e-3");
  hydra_chart_format_rate (label, sizeof label, 2.5e-4, 2);
  ck_assert_str_eq (label, "2.5e-4");
  hydra_chart_format_rate (label, sizeof label, 2.4873e-4, 3);
  ck_assert_str_eq (label, "2.49e-4");
  hydra_chart_format_rate (label, sizeof label, 9.996e-4, 3);
  ck_assert_str_eq (label, "1e-3");
  hydra_chart_format_rate (label, sizeof label, 0.1, 2);
  ck_assert_str_eq (label, "1e-1");

  ck_assert (!hydra_loss_plot_get_lr_range (lp, &lo, &hi)); /* no series */
  hydra_loss_plot_set_series (lp, series);
  ck_assert (hydra_loss_plot_get_show_learning_rate (lp));

  /* the whole run: the peak on top, 3 decades under it at the bottom (the one-cycle's
   * end, 4·10⁻⁸ × 0.25, is far below) */
  ck_assert (hydra_loss_plot_get_lr_range (lp, &lo, &hi));
  ck_assert_double_ge (hi, LR_PEAK);
  ck_assert_double_lt (hi, LR_PEAK * 1.5);
  ck_assert_double_le (lo, LR_PEAK * 1e-3);
  ck_assert_double_gt (lo, LR_PEAK * 1e-3 / 1.5);

  /* the warm-up alone: from the start (peak / 25) to the peak */
  hydra_loss_plot_set_x_range (lp, 1, LR_STEPS * 0.3);
  ck_assert (hydra_loss_plot_get_lr_range (lp, &lo, &hi));
  ck_assert_double_ge (hi, LR_PEAK);
  ck_assert_double_le (lo, LR_PEAK / 25);
  ck_assert_double_gt (lo, LR_PEAK / 25 / 1.5);

  /* around the live change: both sides of the jump are inside */
  before = LR_PEAK * schedule_factor (&onecycle, (LR_CHANGE_AT - 2.0) / LR_STEPS);
  after = 0.25 * LR_PEAK * schedule_factor (&onecycle, (LR_CHANGE_AT - 1.0) / LR_STEPS);
  hydra_loss_plot_set_x_range (lp, LR_CHANGE_AT - 100, LR_CHANGE_AT + 100);
  ck_assert (hydra_loss_plot_get_lr_range (lp, &lo, &hi));
  ck_assert_double_ge (hi, before);
  ck_assert_double_le (lo, after);
  ck_assert_double_lt (hi / lo, 10 * 1.5); /* a decade, the least it shows, not the run's 3 */
  hydra_loss_plot_reset_view (lp);

  /* a constant rate sits in the middle of a decade */
  {
    g_autoptr (HydraSeries) constant = hydra_series_new ();

    for (guint i = 0; i < 100; i++)
      {
        HydraStepPoint p = { .step = i + 1, .epoch = i / 50.0, .lr = 1e-3f };

        p.loss[HYDRA_CURVE_AGE] = 1;
        hydra_series_add_step (constant, &p);
      }
    hydra_series_commit (constant);
    hydra_loss_plot_set_series (lp, constant);
    ck_assert (hydra_loss_plot_get_lr_range (lp, &lo, &hi));
    ck_assert_double_eq_tol (sqrt (lo * hi), 1e-3, 1e-6);
    ck_assert_double_ge (hi / lo, 10);
    ck_assert_double_lt (hi / lo, 10 * 1.5);
    hydra_loss_plot_set_series (lp, series);
  }

  /* hidden (a notify, for a setting to bind), or in the balance view: no strip */
  g_signal_connect (plot, "notify::show-learning-rate", G_CALLBACK (on_notify), &notified);
  hydra_loss_plot_set_show_learning_rate (lp, FALSE);
  ck_assert_uint_eq (notified, 1);
  ck_assert (!hydra_loss_plot_get_lr_range (lp, NULL, NULL));
  hydra_loss_plot_set_show_learning_rate (lp, TRUE);
  hydra_loss_plot_set_view (lp, HYDRA_PLOT_BALANCE);
  ck_assert (!hydra_loss_plot_get_lr_range (lp, NULL, NULL));
  g_object_unref (plot);
}
END_TEST

/* The live change is a jump of the curve at its marker, and the curve stays lower after it;
 * before it the two runs draw the same. */
START_TEST (test_lr_strip_jump)
{
  g_autoptr (HydraSeries) live = lr_session (TRUE, TRUE);
  g_autoptr (HydraSeries) planned = lr_session (FALSE, TRUE);
  g_autoptr (HydraSeries) unmarked = lr_session (FALSE, FALSE);
  GtkWidget *plot = g_object_ref_sink (hydra_loss_plot_new ());
  HydraLossPlot *lp = HYDRA_LOSS_PLOT (plot);
  cairo_surface_t *a, *b, *c;
  const int w = 1000, h = 500;
  int changed = -1, marker = -1, top = h, bottom = -1, n_columns = 0;

  hydra_loss_plot_set_series (lp, live);
  a = render (plot, w, h);
  ui_save_artifact (a, "plot-lr-onecycle.png");
  hydra_loss_plot_set_series (lp, planned);
  b = render (plot, w, h);
  hydra_loss_plot_set_series (lp, unmarked);
  c = render (plot, w, h);

  /* the strip: a slim band of green under the losses, across the plot */
  for (int x = 0; x < w; x++)
    {
      double y = lr_row (a, x);

      if (y < 0)
        continue;
      n_columns++;
      top = MIN (top, (int) y - 2);
      bottom = MAX (bottom, (int) y + 2);
    }
  ck_assert_int_gt (n_columns, w / 2);
  ck_assert_int_gt (top, h / 2);
  ck_assert_int_lt (bottom - top, h / 4);

  for (int x = 0; x < w && (changed < 0 || marker < 0); x++)
    {
      double ya = lr_row (a, x), yb = lr_row (b, x);

      if (changed < 0 && ya >= 0 && yb >= 0 && fabs (ya - yb) > 2)
        changed = x;
      /* the marker's dashed line is where the two otherwise equal plans differ in the strip */
      for (int y = top; y <= bottom && marker < 0 && yb >= 0; y++)
        {
          int stride = cairo_image_surface_get_stride (b);
          const guint8 *pb = cairo_image_surface_get_data (b) + y * stride + 4 * x;
          const guint8 *pc = cairo_image_surface_get_data (c) + y * stride + 4 * x;

          if (memcmp (pb, pc, 4) != 0)
            marker = x;
        }
    }
  ck_assert_int_ge (changed, 0);
  ck_assert_int_ge (marker, 0);
  ck_assert_msg (ABS (changed - marker) <= 2, "the curve changes at x %d, the marker is at %d",
                 changed, marker);
  /* a jump down by log10(4) of the strip's ~3.2 decades, then lower all the way */
  ck_assert_double_gt (lr_row (a, changed + 2) - lr_row (a, changed - 2), 6);
  for (int x = changed + 3; x < w; x += 7)
    if (lr_row (a, x) >= 0 && lr_row (b, x) >= 0)
      ck_assert_double_gt (lr_row (a, x) - lr_row (b, x), 4);

  /* hidden, the green is gone and the losses take the room */
  hydra_loss_plot_set_series (lp, live);
  hydra_loss_plot_set_show_learning_rate (lp, FALSE);
  cairo_surface_destroy (c);
  c = render (plot, w, h);
  ck_assert_uint_eq (count_color (c, 0x26, 0xa2, 0x69, 30, NULL, NULL), 0);

  cairo_surface_destroy (a);
  cairo_surface_destroy (b);
  cairo_surface_destroy (c);
  g_object_unref (plot);
}
END_TEST

/* ---- on screen ---------------------------------------------------------------------------- */

static void
set_dark (gboolean dark)
{
  g_object_set (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", dark, NULL);
  spin (150);
}

static guint32
pixel (cairo_surface_t *surface, int x, int y)
{
  cairo_surface_flush (surface);
  return *(const guint32 *) (cairo_image_surface_get_data (surface)
                             + y * cairo_image_surface_get_stride (surface) + x * 4);
}

/* Grabs the window; the background must be light or dark as asked, and the curves there. */
static void
screenshot (GtkWidget *window, const char *name, gboolean dark)
{
  cairo_surface_t *surface;
  int w, h, r, g, b;
  guint32 bg;

  spin (200); /* the window's render node is the last frame's: let one be drawn */
  surface = ui_grab (window);
  w = cairo_image_surface_get_width (surface);
  h = cairo_image_surface_get_height (surface);
  bg = pixel (surface, 2, h - 2);
  r = (bg >> 16) & 0xff, g = (bg >> 8) & 0xff, b = bg & 0xff;
  ui_save_artifact (surface, name);
  if (dark)
    ck_assert_int_lt (r + g + b, 3 * 80);
  else
    ck_assert_int_gt (r + g + b, 3 * 200);
  /* mostly the window's background, plus the curves' colours */
  ck_assert_uint_gt (count_color (surface, r, g, b, 4, NULL, NULL), (guint) (w * h / 3));
  /* the heads' blue and orange, or an overlay's first two runs' teal and red */
  ck_assert_uint_gt (count_color (surface, 0x1c, 0x71, 0xd8, 24, NULL, NULL)
                         + count_color (surface, 0xe6, 0x61, 0x00, 24, NULL, NULL)
                         + count_color (surface, 0x12, 0x87, 0x7c, 24, NULL, NULL)
                         + count_color (surface, 0xd0, 0x1b, 0x24, 24, NULL, NULL),
                     200);
  cairo_surface_destroy (surface);
}

START_TEST (test_render_100k)
{
  g_autoptr (HydraSeries) series = make_session (100000, 12500, 42);
  GtkWidget *plot = hydra_loss_plot_new ();
  GtkWidget *window;
  HydraLossPlot *lp = HYDRA_LOSS_PLOT (plot);
  double x0, x1;

  hydra_loss_plot_set_series (lp, series);
  hydra_loss_plot_set_log_scale (lp, TRUE);
  window = show_in_window (plot, 1200, 640);

  set_dark (FALSE);
  screenshot (window, "plot-loss.png", FALSE);
  hydra_loss_plot_set_view (lp, HYDRA_PLOT_BALANCE);
  screenshot (window, "plot-balance.png", FALSE);

  set_dark (TRUE);
  screenshot (window, "plot-balance-dark.png", TRUE);
  hydra_loss_plot_set_view (lp, HYDRA_PLOT_LOSS);
  for (guint c = HYDRA_CURVE_AGE_WEIGHTED; c <= HYDRA_CURVE_RACE_WEIGHTED; c++)
    hydra_loss_plot_set_curve_visible (lp, c, TRUE);
  hydra_loss_plot_set_x_epochs (lp, TRUE);
  screenshot (window, "plot-loss-dark.png", TRUE);
  set_dark (FALSE);
  hydra_loss_plot_set_x_axis (lp, HYDRA_PLOT_X_TIME);
  screenshot (window, "plot-loss-time.png", FALSE);
  hydra_loss_plot_set_x_axis (lp, HYDRA_PLOT_X_IMAGES);
  screenshot (window, "plot-loss-images.png", FALSE);
  hydra_loss_plot_set_x_axis (lp, HYDRA_PLOT_X_EPOCHS);

  /* nothing was dropped for drawing */
  ck_assert_uint_eq (hydra_series_get_n_steps (series), 100000);
  hydra_loss_plot_get_x_range (lp, &x0, &x1);
  ck_assert_double_eq_tol (x0, 0.0, 1e-3);
  ck_assert_double_eq_tol (x1, 8.0, 1e-3);
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* ---- the x axis ------------------------------------------------------------------------ */

static void
add_xstep (HydraSeries *series, int64_t step, int images, float img_per_s)
{
  HydraStepPoint p = { 0 };

  p.step = step;
  p.epoch = step / 4.0;
  p.images = images;
  p.img_per_s = img_per_s;
  for (guint c = 0; c < HYDRA_N_CURVES; c++)
    p.loss[c] = 1.0f;
  hydra_series_add_step (series, &p);
}

/* Known steps to known x: images are the sum of the batches, time the sum of images / speed
 * (a pause is not a step: it adds nothing); a rollback continues from the step it returned
 * to; a fork's record, starting at step 11, starts where 10 steps of its size would end. */
START_TEST (test_x_axis_modes)
{
  g_autoptr (HydraSeries) series = hydra_series_new ();
  g_autoptr (HydraSeries) fork = hydra_series_new ();
  HydraEpochPoint e = { .step = 2, .epoch = 1, .at = 0.5 };
  HydraLossPlot *lp = HYDRA_LOSS_PLOT (g_object_ref_sink (hydra_loss_plot_new ()));
  static const double images[] = { 32, 64, 96, 112, 96 }, seconds[] = { 0.5, 1.5, 3.5, 4.5, 2.5 };
  double x0, x1;

  add_xstep (series, 1, 32, 64);
  add_xstep (series, 2, 32, 32);
  hydra_series_add_epoch (series, &e);
  hydra_series_add_marker (series, 2, HYDRA_MARKER_STATE, "paused");
  add_xstep (series, 3, 32, 16);
  add_xstep (series, 4, 16, 16);
  hydra_series_add_marker (series, 2, HYDRA_MARKER_ROLLBACK, "rollback");
  add_xstep (series, 3, 32, 32);
  hydra_series_commit (series);
  hydra_loss_plot_set_series (lp, series);

  ck_assert_int_eq (hydra_loss_plot_get_x_axis (lp), HYDRA_PLOT_X_STEPS);
  ck_assert_double_eq (hydra_loss_plot_get_step_x (lp, 4), 3.0);
  hydra_loss_plot_set_x_epochs (lp, TRUE);
  ck_assert_int_eq (hydra_loss_plot_get_x_axis (lp), HYDRA_PLOT_X_EPOCHS);
  ck_assert_double_eq (hydra_loss_plot_get_step_x (lp, 3), 1.0);
  ck_assert_double_eq (hydra_plot_epoch_x (lp, hydra_series_get_epoch (series, 0)),
                       hydra_series_get_epoch (series, 0)->at);

  hydra_loss_plot_set_x_axis (lp, HYDRA_PLOT_X_IMAGES);
  ck_assert (!hydra_loss_plot_get_x_epochs (lp));
  for (guint i = 0; i < G_N_ELEMENTS (images); i++)
    ck_assert_double_eq_tol (hydra_loss_plot_get_step_x (lp, i), images[i], 1e-9);
  ck_assert_double_eq_tol (hydra_plot_epoch_x (lp, hydra_series_get_epoch (series, 0)), 64, 1e-9);
  hydra_loss_plot_get_x_range (lp, &x0, &x1);
  ck_assert_double_eq_tol (x0, 32, 1e-9);
  ck_assert_double_eq_tol (x1, 112, 1e-9);

  hydra_loss_plot_set_x_axis (lp, HYDRA_PLOT_X_TIME);
  for (guint i = 0; i < G_N_ELEMENTS (seconds); i++)
    ck_assert_double_eq_tol (hydra_loss_plot_get_step_x (lp, i), seconds[i], 1e-6);
  ck_assert_double_eq_tol (hydra_plot_epoch_x (lp, hydra_series_get_epoch (series, 0)), 1.5, 1e-6);

  add_xstep (fork, 11, 32, 64);
  add_xstep (fork, 12, 0, 64); /* a record without images: the series' batch size */
  hydra_series_commit (fork);
  hydra_loss_plot_set_series (lp, fork);
  ck_assert_double_eq_tol (hydra_loss_plot_get_step_x (lp, 0), 5.5, 1e-6);
  ck_assert_double_eq_tol (hydra_loss_plot_get_step_x (lp, 1), 6.0, 1e-6);
  hydra_loss_plot_set_x_axis (lp, HYDRA_PLOT_X_IMAGES);
  ck_assert_double_eq_tol (hydra_loss_plot_get_step_x (lp, 0), 352, 1e-9);
  ck_assert_double_eq_tol (hydra_loss_plot_get_step_x (lp, 1), 384, 1e-9);
  g_object_unref (lp);
}
END_TEST

START_TEST (test_empty_and_defaults)
{
  GtkWidget *plot = hydra_loss_plot_new ();
  HydraLossPlot *lp = HYDRA_LOSS_PLOT (plot);
  g_autoptr (HydraSeries) series = hydra_series_new ();
  GtkWidget *window;
  double smoothing;
  HydraPlotView view;

  ck_assert (hydra_loss_plot_get_curve_visible (lp, HYDRA_CURVE_AGE));
  ck_assert (hydra_loss_plot_get_curve_visible (lp, HYDRA_CURVE_GENDER));
  ck_assert (hydra_loss_plot_get_curve_visible (lp, HYDRA_CURVE_RACE));
  ck_assert (hydra_loss_plot_get_curve_visible (lp, HYDRA_CURVE_TOTAL));
  ck_assert (!hydra_loss_plot_get_curve_visible (lp, HYDRA_CURVE_AGE_WEIGHTED));
  ck_assert (!hydra_loss_plot_get_curve_visible (lp, HYDRA_CURVE_RACE_WEIGHTED));
  g_object_get (plot, "smoothing", &smoothing, "view", &view, NULL);
  ck_assert_double_eq (smoothing, 0.6);
  ck_assert_int_eq (view, HYDRA_PLOT_LOSS);
  g_object_set (plot, "smoothing", 0.95, "view", HYDRA_PLOT_BALANCE, NULL);
  ck_assert_double_eq (hydra_loss_plot_get_smoothing (lp), 0.95);
  ck_assert_int_eq (hydra_loss_plot_get_view (lp), HYDRA_PLOT_BALANCE);
  hydra_loss_plot_set_view (lp, HYDRA_PLOT_LOSS);

  hydra_loss_plot_set_series (lp, series);
  window = show_in_window (plot, 800, 450);
  {
    cairo_surface_t *surface = ui_grab (window);
    guint32 bg = pixel (surface, 2, 2);
    int w = cairo_image_surface_get_width (surface), top, bottom;

    ui_save_artifact (surface, "plot-empty.png");
    /* text in the middle only: no axes, no curves */
    ck_assert_uint_eq (count_color (surface, 0x1c, 0x71, 0xd8, 24, NULL, NULL), 0);
    ck_assert_uint_lt (
        count_color (surface, (bg >> 16) & 0xff, (bg >> 8) & 0xff, bg & 0xff, 40, NULL, NULL),
        (guint) (w * 450));
    /* everything that is not background sits in a band around the middle */
    {
      cairo_surface_t *copy = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, 450);
      cairo_t *cr = cairo_create (copy);

      cairo_set_source_surface (cr, surface, 0, 0);
      cairo_paint (cr);
      cairo_destroy (cr);
      top = 450, bottom = -1;
      for (int y = 0; y < 450; y++)
        for (int x = 0; x < w; x++)
          if (pixel (copy, x, y) != bg)
            top = MIN (top, y), bottom = MAX (bottom, y);
      ck_assert_int_gt (top, 450 / 4);
      ck_assert_int_lt (bottom, 450 * 3 / 4);
      /* … and is centred horizontally */
      {
        int left = w, right = -1;

        for (int y = 0; y < 450; y++)
          for (int x = 0; x < w; x++)
            if (pixel (copy, x, y) != bg)
              left = MIN (left, x), right = MAX (right, x);
        ck_assert_int_lt (abs ((left + right) / 2 - w / 2), 6);
      }
      cairo_surface_destroy (copy);
    }
    cairo_surface_destroy (surface);
  }
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

static void
on_toggled (HydraLossPlot *plot, HydraPlotView view, guint curve, gboolean visible, guint *count)
{
  (*count)++;
}

/* While zoomed, new data does not move the view; autoscaled, it follows the data. */
START_TEST (test_view_follows_data)
{
  g_autoptr (HydraSeries) series = make_session (1000, 250, 5);
  GtkWidget *plot = g_object_ref_sink (hydra_loss_plot_new ());
  HydraLossPlot *lp = HYDRA_LOSS_PLOT (plot);
  double x0, x1;
  guint toggled = 0;

  hydra_loss_plot_set_series (lp, series);
  hydra_loss_plot_get_x_range (lp, &x0, &x1);
  ck_assert_double_eq (x0, 0); /* the "started" marker at step 0 */
  ck_assert_double_eq (x1, 1000);
  ck_assert (!hydra_loss_plot_get_zoomed (lp));

  hydra_loss_plot_set_x_range (lp, 100, 200);
  ck_assert (hydra_loss_plot_get_zoomed (lp));
  for (guint i = 0; i < 500; i++)
    {
      HydraStepPoint p = { .step = 1001 + i, .epoch = 4 + i / 250.0 };

      hydra_series_add_step (series, &p);
    }
  hydra_series_commit (series);
  hydra_loss_plot_get_x_range (lp, &x0, &x1);
  ck_assert_double_eq (x0, 100);
  ck_assert_double_eq (x1, 200);

  hydra_loss_plot_reset_view (lp);
  ck_assert (!hydra_loss_plot_get_zoomed (lp));
  hydra_loss_plot_get_x_range (lp, &x0, &x1);
  ck_assert_double_eq (x1, 1500);

  g_signal_connect (plot, "curve-toggled", G_CALLBACK (on_toggled), &toggled);
  hydra_loss_plot_set_curve_visible (lp, HYDRA_CURVE_TOTAL, FALSE);
  hydra_loss_plot_set_curve_visible (lp, HYDRA_CURVE_TOTAL, FALSE);
  hydra_loss_plot_set_balance_curve_visible (lp, HYDRA_BALANCE_COS_AGE_RACE, FALSE);
  ck_assert_uint_eq (toggled, 2);

  /* a new run (clear) empties the cache: the range follows the new data */
  hydra_series_clear (series);
  {
    HydraStepPoint p = { .step = 1, .epoch = 0 };

    hydra_series_add_step (series, &p);
    p.step = 50;
    hydra_series_add_step (series, &p);
    hydra_series_commit (series);
  }
  hydra_loss_plot_get_x_range (lp, &x0, &x1);
  ck_assert_double_eq (x0, 1);
  ck_assert_double_eq (x1, 50);
  g_object_unref (plot);
}
END_TEST

/* ---- the loss weights ------------------------------------------------------------------- */

/* Pixels near a colour inside area (of a picture whose background is opaque). */
static guint
count_color_in (cairo_surface_t *surface, const graphene_rect_t *area, int r, int g, int b,
                int tolerance)
{
  cairo_surface_t *part = cairo_image_surface_create (
      CAIRO_FORMAT_ARGB32, (int) ceil (area->size.width), (int) ceil (area->size.height));
  cairo_t *cr = cairo_create (part);
  guint n;

  cairo_set_source_surface (cr, surface, -area->origin.x, -area->origin.y);
  cairo_paint (cr);
  cairo_destroy (cr);
  n = count_color (part, r, g, b, tolerance, NULL, NULL);
  cairo_surface_destroy (part);
  return n;
}

static const LegendHit *
legend_hit (HydraLossPlot *lp, HitKind kind, guint index)
{
  for (guint i = 0; i < lp->legend_hits->len; i++)
    {
      const LegendHit *hit = &g_array_index (lp->legend_hits, LegendHit, i);

      if (hit->kind == kind && hit->index == index)
        return hit;
    }
  return NULL;
}

static void
on_weight_toggled (HydraLossPlot *plot, HydraPlotView view, guint curve, gboolean visible,
                   guint *last)
{
  ck_assert_int_eq (view, HYDRA_PLOT_BALANCE);
  ck_assert (!visible);
  *last = curve;
}

/* The CSV's cells of column name in its step rows. */
static GPtrArray *
csv_step_column (const char *path, const char *name)
{
  g_autofree char *text = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  GPtrArray *header;
  GPtrArray *cells = g_ptr_array_new_with_free_func (g_free);
  guint col = G_MAXUINT;

  ck_assert (g_file_get_contents (path, &text, NULL, NULL));
  rows = parse_csv (text);
  header = g_ptr_array_index (rows, 0);
  for (guint c = 0; c < header->len; c++)
    if (strcmp (g_ptr_array_index (header, c), name) == 0)
      col = c;
  ck_assert_msg (col != G_MAXUINT, "no column %s", name);
  for (guint r = 1; r < rows->len; r++)
    {
      GPtrArray *row = g_ptr_array_index (rows, r);

      if (strcmp (g_ptr_array_index (row, 0), "step") == 0)
        g_ptr_array_add (cells, g_strdup (g_ptr_array_index (row, col)));
    }
  return cells;
}

/* While a method chooses the weights, the balance view shows them in a third panel: the
 * series' weights, smoothed as the other curves, a curve per head that its legend entry
 * toggles; on a log axis with the gradient norms. Constant weights, or a plot too short,
 * keep two panels. The CSV export has the weights of every step. */
START_TEST (test_balance_weights)
{
  g_autoptr (HydraSeries) series = weights_session (6000, 1000, 31);
  g_autoptr (HydraSeries) constant = make_session (6000, 1000, 31);
  GtkWidget *plot = hydra_loss_plot_new (), *short_plot = hydra_loss_plot_new ();
  HydraLossPlot *lp = HYDRA_LOSS_PLOT (plot);
  const Frame *f = &lp->frame;
  const HydraStepPoint *first = hydra_series_get_step (series, 0);
  guint n = hydra_series_get_n_steps (series), toggled = G_MAXUINT;
  g_autofree float *want = g_new (float, n);
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *csv = test_path (dir, "weights.csv");
  g_autoptr (GError) error = NULL;
  float lo = INFINITY, hi = -INFINITY;
  GtkWidget *window, *short_window;
  cairo_surface_t *before, *after;
  const LegendHit *hit;

  hydra_loss_plot_set_series (lp, series);
  hydra_loss_plot_set_view (lp, HYDRA_PLOT_BALANCE);
  hydra_loss_plot_set_log_scale (lp, TRUE);
  window = show_in_window (plot, 760, 700); /* about the studio's, at its default size */

  /* the channels are the series' weights, smoothed as the other per-step curves are */
  ck_assert_uint_eq (lp->main.n_cached, n);
  for (guint h = 0; h < N_HEADS; h++)
    {
      for (guint i = 0; i < n; i++)
        {
          float w = hydra_series_get_step (series, i)->weight[h];

          ck_assert_float_eq (lp->main.channels[CH_W0 + h].raw[i], w);
          lo = MIN (lo, w), hi = MAX (hi, w);
        }
      hydra_smooth_ema (&first->weight[h], STRIDE, n, hydra_loss_plot_get_smoothing (lp), want);
      assert_close ("smoothed weight", hydra_plot_channel_smooth (lp, CH_W0 + h), want, n, 0, 0);
    }
  ck_assert_float_lt (lo, 4e-3f); /* FAMO's age weight */
  ck_assert_float_gt (hi, 2.0f);

  /* three panels, the gradient norms the tallest, none under 100 px; the weights on a log
   * axis that holds them all */
  ck_assert_uint_eq (f->n_panels, 3);
  for (guint p = 0; p < 3; p++)
    {
      ck_assert_double_ge (f->panels[p].area.size.height, 100);
      if (p > 0)
        ck_assert_double_gt (f->panels[PANEL_GRAD].area.size.height, f->panels[p].area.size.height);
      if (p + 1 < 3)
        ck_assert_double_lt (f->panels[p].area.origin.y + f->panels[p].area.size.height + 16,
                             f->panels[p + 1].area.origin.y);
    }
  ck_assert_uint_eq (f->panels[PANEL_WEIGHT].ch_first, CH_W0);
  ck_assert (f->panels[PANEL_WEIGHT].log);
  ck_assert_double_le (f->panels[PANEL_WEIGHT].ty0, log10 (lo));
  ck_assert_double_ge (f->panels[PANEL_WEIGHT].ty1, log10 (hi));

  /* the weights' entries share a row of their own when the legend needs two */
  {
    const LegendHit *age = legend_hit (lp, HIT_BALANCE, HYDRA_BALANCE_GRAD_AGE);
    const LegendHit *w_age = legend_hit (lp, HIT_BALANCE, HYDRA_BALANCE_WEIGHT_AGE);
    const LegendHit *w_race = legend_hit (lp, HIT_BALANCE, HYDRA_BALANCE_WEIGHT_RACE);

    ck_assert_ptr_nonnull (w_age);
    ck_assert_double_gt (w_age->rect.origin.y, age->rect.origin.y);
    ck_assert_double_eq (w_age->rect.origin.x, age->rect.origin.x);
    ck_assert_double_eq (w_race->rect.origin.y, w_age->rect.origin.y);
  }

  /* the tooltip has a row per weight, under a heading of their own */
  lp->hovering = TRUE;
  lp->hover_x
      = f->panels[PANEL_WEIGHT].area.origin.x + f->panels[PANEL_WEIGHT].area.size.width * 0.55;
  lp->hover_y = f->panels[PANEL_WEIGHT].area.origin.y + 20;
  gtk_widget_queue_draw (plot);
  spin (200);
  {
    cairo_surface_t *surface = ui_grab (plot);

    ui_save_artifact (surface, "plot-hover-weights.png");
    cairo_surface_destroy (surface);
  }
  lp->hovering = FALSE;
  gtk_widget_queue_draw (plot);
  spin (100);

  /* a click on w_gender's legend entry hides its curve, and only it */
  g_signal_connect (plot, "curve-toggled", G_CALLBACK (on_weight_toggled), &toggled);
  hit = legend_hit (lp, HIT_BALANCE, HYDRA_BALANCE_WEIGHT_GENDER);
  ck_assert_ptr_nonnull (hit);
  before = ui_grab (plot);
  hydra_plot_on_click_released (NULL, 1, hit->rect.origin.x + hit->rect.size.width / 2,
                                hit->rect.origin.y + hit->rect.size.height / 2, lp);
  ck_assert_uint_eq (toggled, HYDRA_BALANCE_WEIGHT_GENDER);
  ck_assert (!hydra_loss_plot_get_balance_curve_visible (lp, HYDRA_BALANCE_WEIGHT_GENDER));
  spin (200);
  after = ui_grab (plot);
  ck_assert_uint_eq (f->n_panels, 3);
  ck_assert_uint_gt (count_color_in (before, &f->panels[PANEL_WEIGHT].area, 0xe6, 0x61, 0x00, 8),
                     100);
  ck_assert_uint_eq (count_color_in (after, &f->panels[PANEL_WEIGHT].area, 0xe6, 0x61, 0x00, 40),
                     0);
  ck_assert_uint_gt (count_color_in (after, &f->panels[PANEL_WEIGHT].area, 0x1c, 0x71, 0xd8, 8),
                     100);
  ck_assert_uint_gt (count_color_in (after, &f->panels[PANEL_GRAD].area, 0xe6, 0x61, 0x00, 8), 100);
  cairo_surface_destroy (before);
  cairo_surface_destroy (after);
  g_signal_handlers_disconnect_by_data (plot, &toggled);

  /* with none of its curves shown, the panel gives its room back (the entries stay) */
  hydra_loss_plot_set_balance_curve_visible (lp, HYDRA_BALANCE_WEIGHT_AGE, FALSE);
  hydra_loss_plot_set_balance_curve_visible (lp, HYDRA_BALANCE_WEIGHT_RACE, FALSE);
  spin (200);
  ck_assert_uint_eq (f->n_panels, 2);
  ck_assert_ptr_nonnull (legend_hit (lp, HIT_BALANCE, HYDRA_BALANCE_WEIGHT_RACE));
  for (guint b = HYDRA_BALANCE_WEIGHT_AGE; b <= HYDRA_BALANCE_WEIGHT_RACE; b++)
    hydra_loss_plot_set_balance_curve_visible (lp, b, TRUE);

  /* linear without the log scale */
  hydra_loss_plot_set_log_scale (lp, FALSE);
  spin (200);
  ck_assert_uint_eq (f->n_panels, 3);
  ck_assert (!f->panels[PANEL_WEIGHT].log);
  ck_assert_double_eq (f->panels[PANEL_WEIGHT].ty0, 0);
  ck_assert_double_ge (f->panels[PANEL_WEIGHT].ty1, hi);

  /* the export: the picture, and every step's weights in the CSV */
  hydra_loss_plot_set_log_scale (lp, TRUE);
  {
    cairo_surface_t *surface = render (plot, 760, 700);

    ui_save_artifact (surface, "plot-balance-weights.png");
    cairo_surface_destroy (surface);
    surface = render (plot, 1200, 640);
    ui_save_artifact (surface, "plot-balance-weights-wide.png");
    cairo_surface_destroy (surface);
    surface = render (plot, 760, 330);
    ui_save_artifact (surface, "plot-balance-weights-short.png");
    cairo_surface_destroy (surface);
  }
  ck_assert_msg (hydra_loss_plot_export (lp, csv, 0, 0, &error), "%s", error ? error->message : "");
  for (guint h = 0; h < N_HEADS; h++)
    {
      static const char *columns[] = { "w_age", "w_gender", "w_race" };
      g_autoptr (GPtrArray) cells = csv_step_column (csv, columns[h]);

      ck_assert_uint_eq (cells->len, n);
      for (guint i = 0; i < n; i++)
        ck_assert_float_eq ((float) g_ascii_strtod (g_ptr_array_index (cells, i), NULL),
                            hydra_series_get_step (series, i)->weight[h]);
    }
  /* … and the method that chose them, which the step points keep */
  {
    g_autoptr (GPtrArray) cells = csv_step_column (csv, "balance");

    ck_assert_uint_eq (cells->len, n);
    ck_assert_str_eq (g_ptr_array_index (cells, 0), "manual");
    ck_assert_str_eq (g_ptr_array_index (cells, n / 2), "famo");
    ck_assert_str_eq (g_ptr_array_index (cells, n - 1), "rlw");
    ck_assert_int_eq (hydra_series_get_step (series, n / 2)->balance, BALANCE_FAMO);
  }

  /* constant weights: two panels, and no weights in the legend */
  hydra_loss_plot_set_series (lp, constant);
  spin (200);
  ck_assert_uint_eq (f->n_panels, 2);
  ck_assert_ptr_null (legend_hit (lp, HIT_BALANCE, HYDRA_BALANCE_WEIGHT_AGE));
  ck_assert_ptr_nonnull (legend_hit (lp, HIT_BALANCE, HYDRA_BALANCE_COS_GENDER_RACE));

  /* too short for three readable panels: the weights go, the others keep their room */
  hydra_loss_plot_set_series (HYDRA_LOSS_PLOT (short_plot), series);
  hydra_loss_plot_set_view (HYDRA_LOSS_PLOT (short_plot), HYDRA_PLOT_BALANCE);
  short_window = show_in_window (short_plot, 760, 300);
  ck_assert_uint_eq (HYDRA_LOSS_PLOT (short_plot)->frame.n_panels, 2);
  ck_assert_ptr_null (
      legend_hit (HYDRA_LOSS_PLOT (short_plot), HIT_BALANCE, HYDRA_BALANCE_WEIGHT_AGE));

  gtk_window_destroy (GTK_WINDOW (short_window));
  gtk_window_destroy (GTK_WINDOW (window));
  test_rmtree (dir);
}
END_TEST

/* New points are drawn at most four times a second: the first batch after a quiet spell at
 * once, the next within the quarter-second after it, and the last always. */
static gboolean
same_pixels (cairo_surface_t *a, cairo_surface_t *b)
{
  return cairo_image_surface_get_width (a) == cairo_image_surface_get_width (b)
         && cairo_image_surface_get_height (a) == cairo_image_surface_get_height (b)
         && memcmp (cairo_image_surface_get_data (a), cairo_image_surface_get_data (b),
                    (gsize) cairo_image_surface_get_stride (a) * cairo_image_surface_get_height (a))
                == 0;
}

START_TEST (test_redraw_rate)
{
  g_autoptr (HydraSeries) source = make_session (3000, 500, 21);
  g_autoptr (HydraSeries) live = hydra_series_new ();
  GtkWidget *plot = hydra_loss_plot_new ();
  GtkWidget *window;

  copy_steps (live, source, 0, 1000);
  hydra_loss_plot_set_series (HYDRA_LOSS_PLOT (plot), live);
  window = show_in_window (plot, 800, 450);
  spin (400);
  cairo_surface_t *before = ui_grab (plot);

  gint64 t0 = g_get_monotonic_time ();
  copy_steps (live, source, 1000, 2000); /* after a quiet spell: drawn at once */
  cairo_surface_t *first = ui_grab (plot);
  ck_assert_msg (!same_pixels (before, first), "new points after a pause were not drawn");

  copy_steps (live, source, 2000, 3000); /* within the quarter-second: waits its turn */
  cairo_surface_t *held = ui_grab (plot);
  if (g_get_monotonic_time () - t0 < 200 * G_TIME_SPAN_MILLISECOND) /* else too slow to tell */
    ck_assert_msg (same_pixels (first, held), "the plot redrew within a quarter of a second");

  spin (400);
  cairo_surface_t *last = ui_grab (plot);
  ck_assert_msg (!same_pixels (first, last), "the last points were never drawn");
  /* …and it is what a plot given the whole series at once shows */
  GtkWidget *whole = hydra_loss_plot_new ();
  hydra_loss_plot_set_series (HYDRA_LOSS_PLOT (whole), live);
  GtkWidget *other = show_in_window (whole, 800, 450);
  cairo_surface_t *fresh = ui_grab (whole);
  ck_assert_msg (same_pixels (last, fresh), "what is on screen is not the whole series");
  gtk_window_destroy (GTK_WINDOW (other));

  cairo_surface_destroy (before);
  cairo_surface_destroy (first);
  cairo_surface_destroy (held);
  cairo_surface_destroy (last);
  cairo_surface_destroy (fresh);
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* Real pointer input through the X server: wheel zoom, hover, double-click reset. */
static gboolean
run_xdotool (const char *args)
{
  g_autofree char *cmd = g_strdup_printf ("xdotool %s", args);
  int status = -1;

  return g_spawn_command_line_sync (cmd, NULL, NULL, &status, NULL) && status == 0;
}

START_TEST (test_pointer)
{
  g_autoptr (HydraSeries) series = make_session (20000, 2500, 9);
  GtkWidget *plot = hydra_loss_plot_new ();
  HydraLossPlot *lp = HYDRA_LOSS_PLOT (plot);
  GtkWidget *window;
  double x0, x1, y0, y1;

  if (g_find_program_in_path ("xdotool") == NULL)
    {
      g_print ("test_pointer: no xdotool, skipped\n");
      return;
    }
  hydra_loss_plot_set_series (lp, series);
  hydra_loss_plot_set_log_scale (lp, TRUE);
  window = show_in_window (plot, 1000, 560);
  /* undecorated under bare Xvfb, at 0,0 */
  ck_assert (run_xdotool ("mousemove 600 300"));
  spin (200);
  ck_assert (run_xdotool ("click 4 click 4 click 4")); /* wheel up: zoom in about x=600 */
  spin (300);
  ck_assert (hydra_loss_plot_get_zoomed (lp));
  hydra_loss_plot_get_x_range (lp, &x0, &x1);
  ck_assert_double_lt (x1 - x0, 20000 * 0.7);
  ck_assert_double_gt (x0, 0);

  ck_assert (run_xdotool ("mousemove 640 320"));
  spin (300);
  {
    cairo_surface_t *surface = ui_grab (window);

    ui_save_artifact (surface, "plot-hover.png");
    cairo_surface_destroy (surface);
  }
  set_dark (TRUE);
  hydra_loss_plot_set_view (lp, HYDRA_PLOT_BALANCE);
  ck_assert (run_xdotool ("mousemove 641 300"));
  spin (300);
  {
    cairo_surface_t *surface = ui_grab (window);

    ui_save_artifact (surface, "plot-hover-balance-dark.png");
    cairo_surface_destroy (surface);
  }
  hydra_loss_plot_set_view (lp, HYDRA_PLOT_LOSS);
  set_dark (FALSE);

  /* a dragged box zooms further */
  ck_assert (run_xdotool ("mousemove 400 200 mousedown 1"));
  spin (50);
  ck_assert (run_xdotool ("mousemove 450 250"));
  spin (50);
  ck_assert (run_xdotool ("mousemove 500 300"));
  spin (100);
  {
    cairo_surface_t *surface = ui_grab (window);

    ui_save_artifact (surface, "plot-zoombox.png");
    cairo_surface_destroy (surface);
  }
  ck_assert (run_xdotool ("mouseup 1"));
  spin (200);
  hydra_loss_plot_get_x_range (lp, &y0, &y1);
  ck_assert_double_lt (y1 - y0, (x1 - x0) * 0.5);

  ck_assert (run_xdotool ("mousemove 600 300 click --repeat 2 --delay 80 1"));
  spin (400);
  ck_assert (!hydra_loss_plot_get_zoomed (lp));
  ck_assert (run_xdotool ("mousemove 1500 900"));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* ---- overlay ---------------------------------------------------------------------------- */

/* A run like make_session's, its losses scaled, from first_step on (a fork's record starts
 * at its branch point). */
static HydraSeries *
other_run (guint n_steps, guint32 seed, float scale, int64_t first_step)
{
  g_autoptr (HydraSeries) base = make_session (n_steps, 250, seed);
  HydraSeries *series = hydra_series_new ();

  for (guint i = 0; i < hydra_series_get_n_steps (base); i++)
    {
      HydraStepPoint p = *hydra_series_get_step (base, i);

      if (p.step < first_step)
        continue;
      for (guint c = 0; c < HYDRA_N_CURVES; c++)
        p.loss[c] *= scale;
      hydra_series_add_step (series, &p);
    }
  for (guint e = 0; e < hydra_series_get_n_epochs (base); e++)
    {
      HydraEpochPoint ep = *hydra_series_get_epoch (base, e);

      if (ep.step < first_step)
        continue;
      for (guint c = 0; c < HYDRA_N_CURVES; c++)
        ep.loss[c] *= scale;
      ep.eval.age_mae *= scale;
      hydra_series_add_epoch (series, &ep);
    }
  hydra_series_commit (series);
  return series;
}

static gboolean
file_has_line_starting (const char *text, const char *prefix)
{
  g_autofree char *needle = g_strconcat ("\n", prefix, NULL);

  return strstr (text, needle) != NULL;
}

/* Two runs drawn together: each in its run's colour (no head colour left), the legend lists
 * both runs, the tooltip names both, the CSV holds both; clearing the overlay leaves one. */
START_TEST (test_overlay_two_runs)
{
  g_autoptr (HydraSeries) primary = make_session (2000, 250, 7);
  g_autoptr (HydraSeries) other = other_run (2000, 8, 0.6f, 1);
  HydraSeries *overlay[] = { other };
  const char *names[] = { "famo, seed 8" };
  GtkWidget *plot = hydra_loss_plot_new ();
  HydraLossPlot *lp = HYDRA_LOSS_PLOT (plot);
  GtkWidget *window;
  cairo_surface_t *surface;
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *csv = test_path (dir, "overlay.csv");
  g_autofree char *text = NULL, *tip = NULL;
  g_autoptr (GError) error = NULL;
  const Panel *p0;

  hydra_loss_plot_set_series (lp, primary);
  hydra_loss_plot_set_log_scale (lp, TRUE);
  hydra_loss_plot_set_primary_name (lp, "baseline");
  hydra_loss_plot_set_overlay (lp, overlay, names, 1);
  ck_assert_uint_eq (hydra_loss_plot_get_n_overlay (lp), 1);
  window = show_in_window (plot, 1200, 640);
  screenshot (window, "plot-overlay.png", FALSE);

  surface = render (plot, 1200, 640);
  ui_save_artifact (surface, "plot-overlay-export.png");
  /* teal: the primary; red: the other run; the heads' blue and orange are gone */
  ck_assert_uint_gt (count_color (surface, 0x12, 0x87, 0x7c, 12, NULL, NULL), 500);
  ck_assert_uint_gt (count_color (surface, 0xd0, 0x1b, 0x24, 12, NULL, NULL), 500);
  ck_assert_uint_lt (count_color (surface, 0x1c, 0x71, 0xd8, 12, NULL, NULL), 20);
  ck_assert_uint_lt (count_color (surface, 0xe6, 0x61, 0x00, 12, NULL, NULL), 20);
  cairo_surface_destroy (surface);

  ck_assert_ptr_nonnull (legend_hit (lp, HIT_RUN, 0));
  ck_assert_ptr_nonnull (legend_hit (lp, HIT_RUN, 1));
  ck_assert_ptr_nonnull (legend_hit (lp, HIT_LOSS, HYDRA_CURVE_AGE));

  p0 = &lp->frame.panels[0];
  tip = hydra_plot_tooltip_text (lp, p0->area.origin.x + p0->area.size.width / 2,
                                 p0->area.origin.y + p0->area.size.height / 2);
  ck_assert_ptr_nonnull (tip);
  ck_assert_msg (strstr (tip, "baseline  ·  step") != NULL, "%s", tip);
  ck_assert_msg (strstr (tip, "famo, seed 8  ·  step") != NULL, "%s", tip);

  ck_assert_msg (hydra_loss_plot_export (lp, csv, 0, 0, &error), "%s",
                 error ? error->message : "");
  ck_assert (g_file_get_contents (csv, &text, NULL, NULL));
  ck_assert (g_str_has_prefix (text, "run,kind,step,"));
  ck_assert (file_has_line_starting (text, "baseline,step,1,"));
  ck_assert (file_has_line_starting (text, "\"famo, seed 8\",step,2000,"));

  hydra_loss_plot_set_overlay (lp, NULL, NULL, 0);
  surface = render (plot, 1200, 640);
  ck_assert_uint_eq (count_color (surface, 0xd0, 0x1b, 0x24, 12, NULL, NULL), 0);
  ck_assert_uint_gt (count_color (surface, 0x1c, 0x71, 0xd8, 12, NULL, NULL), 500);
  cairo_surface_destroy (surface);
  gtk_window_destroy (GTK_WINDOW (window));
  test_rmtree (dir);
}
END_TEST

/* Four runs, one a fork from step 1000, in each view and x axis: for the eye (artefacts), and
 * the fork starts at its branch point. */
START_TEST (test_overlay_four_runs)
{
  g_autoptr (HydraSeries) primary = make_session (2000, 250, 7);
  g_autoptr (HydraSeries) a = other_run (2000, 8, 0.6f, 1);
  g_autoptr (HydraSeries) b = other_run (1600, 9, 1.4f, 1);
  g_autoptr (HydraSeries) fork = other_run (2000, 7, 0.8f, 1001);
  HydraSeries *overlay[] = { a, b, fork };
  const char *names[] = { "famo", "uncertainty", "fork @1000 w_age 0.3" };
  GtkWidget *plot = hydra_loss_plot_new ();
  HydraLossPlot *lp = HYDRA_LOSS_PLOT (plot);
  GtkWidget *window;

  hydra_loss_plot_set_series (lp, primary);
  hydra_loss_plot_set_log_scale (lp, TRUE);
  hydra_loss_plot_set_overlay (lp, overlay, names, 3);
  window = show_in_window (plot, 1200, 640);
  screenshot (window, "plot-overlay-4.png", FALSE);
  hydra_loss_plot_set_x_axis (lp, HYDRA_PLOT_X_TIME);
  screenshot (window, "plot-overlay-4-time.png", FALSE);
  ck_assert_double_eq_tol (lp->overlay[2]->xs[0], lp->main.xs[1000], 0.05 * lp->main.xs[1000]);
  hydra_loss_plot_set_x_axis (lp, HYDRA_PLOT_X_STEPS);
  hydra_plot_cache_sync (lp);
  ck_assert_double_eq (lp->overlay[2]->xs[0], 1001);
  hydra_loss_plot_set_view (lp, HYDRA_PLOT_BALANCE);
  screenshot (window, "plot-overlay-4-balance.png", FALSE);
  set_dark (TRUE);
  hydra_loss_plot_set_view (lp, HYDRA_PLOT_LOSS);
  screenshot (window, "plot-overlay-4-dark.png", TRUE);
  set_dark (FALSE);
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

static Suite *
plot_suite (void)
{
  Suite *s = suite_create ("plot");
  TCase *tc = tcase_create ("plot");

  tcase_set_timeout (tc, 240);
  tcase_add_test (tc, test_ema_hand);
  tcase_add_test (tc, test_ema_edges);
  tcase_add_test (tc, test_ema_stride);
  tcase_add_test (tc, test_series_find_step);
  tcase_add_test (tc, test_series_age_loss);
  tcase_add_test (tc, test_csv_round_trip);
  tcase_add_test (tc, test_csv_async);
  tcase_add_test (tc, test_decimate_keeps_spike);
  tcase_add_test (tc, test_plot_keeps_spike);
  tcase_add_test (tc, test_export);
  tcase_add_test (tc, test_markers_and_rollback);
  tcase_add_test (tc, test_incremental_matches_fresh);
  tcase_add_test (tc, test_lr_strip_range);
  tcase_add_test (tc, test_lr_strip_jump);
  tcase_add_test (tc, test_x_axis_modes);
  tcase_add_test (tc, test_overlay_two_runs);
  tcase_add_test (tc, test_overlay_four_runs);
  tcase_add_test (tc, test_empty_and_defaults);
  tcase_add_test (tc, test_view_follows_data);
  tcase_add_test (tc, test_balance_weights);
  tcase_add_test (tc, test_redraw_rate);
  tcase_add_test (tc, test_render_100k);
  tcase_add_test (tc, test_pointer);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  gtk_init ();
  return test_run_suite (plot_suite ());
}
