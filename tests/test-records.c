/* test-records.c — the run's record (records.h) and the checkpoint metadata (runmeta.h):
 * every event and every key written and read back, the files written before them still
 * read, and every malformed file refused with a message that says where.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "records.h"
#include "runmeta.h"
#include "test-util.h"

typedef struct
{
  HnEvent *events;
  int n, cap;
} Collected;

static bool
collect (const HnEvent *e, void *data)
{
  Collected *c = data;
  if (c->n == c->cap)
    {
      c->cap = c->cap ? 2 * c->cap : 16;
      c->events = realloc (c->events, sizeof *c->events * (size_t) c->cap);
    }
  c->events[c->n++] = *e;
  return true;
}

/* Writes the events as a record file with records_format. */
static void
write_record (const char *path, const HnEvent *events, int n)
{
  FILE *f = fopen (path, "w");
  ck_assert_ptr_nonnull (f);
  fputs (records_header (), f);
  for (int i = 0; i < n; i++)
    {
      char row[RECORDS_MAX_ROW];
      int len = records_format (&events[i], row, sizeof row);
      ck_assert_int_eq ((int) strlen (row), len);
      ck_assert (row[len - 1] == '\n');
      fputs (row, f);
    }
  fclose (f);
}

static Collected
read_ok (const char *path)
{
  Collected c = { 0 };
  HnError err;
  int64_t rows = -1;
  ck_assert_msg (records_read (path, collect, &c, &rows, &err), "%s", err.message);
  ck_assert_int_eq (rows, c.n);
  return c;
}

static void
read_fails (const char *path, const char *needle)
{
  Collected c = { 0 };
  HnError err = { "" };
  ck_assert (!records_read (path, collect, &c, NULL, &err));
  ck_assert_msg (strstr (err.message, needle) != NULL, "expected \"%s\" in \"%s\"", needle,
                 err.message);
  free (c.events);
}

static HnEvent
sample_event (HnEventKind kind, int i)
{
  HnEvent e = { .kind = kind, .step = 100 + i, .epoch = 3,
                .loss = { AGE_LOSS_HUBER, { 0.25f, 2.0f, 1e-3f } } };
  e.loss.balance = i % 2 ? BALANCE_FAMO : BALANCE_MANUAL;
  switch (kind)
    {
    case EVENT_STEP:
      for (int h = 0; h < N_HEADS; h++)
        {
          e.train.raw[h] = 1.0f / (float) (h + 3 + i);
          e.train.weighted[h] = e.loss.weight[h] * e.train.raw[h];
          e.train.grad_norm[h] = 0.1f * (float) h + 1e-7f;
          e.train.cosine[h] = -0.3f + 0.2f * (float) h;
        }
      e.train.total = e.train.weighted[0] + e.train.weighted[1] + e.train.weighted[2];
      e.train.lr = 3e-4f;
      e.train.img_per_s = 1234.5f;
      e.train.batch_index = i % 7;
      e.train.images = 64 + i;
      e.train.batches = 7;
      break;
    case EVENT_EPOCH:
      e.val.n = 25;
      e.val.age_mae = 7.25;
      e.val.age_rmse = 9.5;
      e.val.gender_acc = 0.84;
      e.val.race_acc = 0.72;
      for (int h = 0; h < N_HEADS; h++)
        e.val.loss[h] = 0.5f + (float) h; /* floats: the record keeps losses as floats */
      for (int k = 0; k < 25; k++)
        e.val.race_confusion[k / 5][k % 5] = k == 24 ? 1000000 : k;
      break;
    case EVENT_SETTING:
      {
        static const HnSettingKind what[] = { SETTING_LR, SETTING_AGE_LOSS, SETTING_BALANCE };
        static const double value[] = { 1e-4, AGE_LOSS_MSE, BALANCE_PCGRAD };
        static const double old_value[] = { 3e-4, AGE_LOSS_HUBER, BALANCE_MANUAL };
        e.setting.what = what[i % 3];
        e.setting.value = value[i % 3];
        e.setting.old_value = old_value[i % 3];
      }
      break;
    case EVENT_STATE:
      e.state.state = TRAINER_DIVERGED;
      e.state.error = true;
      snprintf (e.state.message, sizeof e.state.message,
                "the loss exploded, \"100×\"\nits average");
      break;
    case EVENT_CHECKPOINT:
      snprintf (e.state.message, sizeof e.state.message, "/tmp/a,b/checkpoint.safetensors");
      break;
    }
  return e;
}

START_TEST (test_every_event_round_trips)
{
  char *dir = test_tmpdir (), *path = test_path (dir, "record.csv");
  HnEvent events[11];
  int n = 0;
  for (int kind = EVENT_STEP; kind <= EVENT_CHECKPOINT; kind++)
    for (int i = 0; i < (kind == EVENT_SETTING ? 3 : 2); i++)
      events[n++] = sample_event ((HnEventKind) kind, i);
  write_record (path, events, n);
  Collected c = read_ok (path);
  ck_assert_int_eq (c.n, n);
  for (int i = 0; i < n; i++)
    {
      const HnEvent *a = &events[i], *b = &c.events[i];
      ck_assert_int_eq (a->kind, b->kind);
      ck_assert_int_eq (a->step, b->step);
      ck_assert_int_eq (a->epoch, b->epoch);
      ck_assert_int_eq (a->loss.age_loss, b->loss.age_loss);
      ck_assert_int_eq (a->loss.balance, b->loss.balance);
      ck_assert_int_eq (memcmp (a->loss.weight, b->loss.weight, sizeof a->loss.weight), 0);
      switch (a->kind)
        {
        case EVENT_STEP:
          /* every float of a step comes back to the bit */
          ck_assert_int_eq (memcmp (a->train.raw, b->train.raw, sizeof a->train.raw), 0);
          ck_assert_int_eq (memcmp (a->train.cosine, b->train.cosine, sizeof a->train.cosine), 0);
          ck_assert_int_eq (memcmp (a->train.grad_norm, b->train.grad_norm,
                                    sizeof a->train.grad_norm), 0);
          ck_assert_float_eq (a->train.total, b->train.total);
          ck_assert_float_eq (a->train.lr, b->train.lr);
          ck_assert_int_eq (a->train.batch_index, b->train.batch_index);
          ck_assert_int_eq (a->train.images, b->train.images);
          ck_assert_int_eq (a->train.batches, b->train.batches);
          break;
        case EVENT_EPOCH:
          ck_assert_int_eq (a->val.n, b->val.n);
          ck_assert_double_eq (a->val.age_mae, b->val.age_mae);
          ck_assert_double_eq (a->val.gender_acc, b->val.gender_acc);
          ck_assert_int_eq (memcmp (a->val.race_confusion, b->val.race_confusion,
                                    sizeof a->val.race_confusion), 0);
          ck_assert_double_eq (a->val.loss[2], b->val.loss[2]);
          break;
        case EVENT_SETTING:
          ck_assert_int_eq (a->setting.what, b->setting.what);
          ck_assert_double_eq (a->setting.value, b->setting.value);
          ck_assert_double_eq (a->setting.old_value, b->setting.old_value);
          break;
        case EVENT_STATE:
          ck_assert_int_eq (a->state.state, b->state.state);
          /* fall through */
        case EVENT_CHECKPOINT:
          ck_assert_int_eq (a->state.error, b->state.error);
          ck_assert_str_eq (a->state.message, b->state.message);
          break;
        }
    }
  free (c.events);
  test_rmtree (dir);
  free (path), free (dir);
}
END_TEST

/* The cells a person reads: names, not numbers; the change in words. */
START_TEST (test_rows_read_as_documented)
{
  char row[RECORDS_MAX_ROW];
  HnEvent e = sample_event (EVENT_SETTING, 1);
  records_format (&e, row, sizeof row);
  ck_assert_msg (strncmp (row, "setting,101,3,,,huber,famo,0.25,2,0.001,", 40) == 0, "%s", row);
  ck_assert_msg (strstr (row, ",age_loss,mse,huber,,,age Huber → MSE,\n") != NULL, "%s", row);
  e = sample_event (EVENT_SETTING, 2);
  records_format (&e, row, sizeof row);
  ck_assert_msg (strstr (row, ",balance,pcgrad,manual,,,balance Manual → PCGrad,\n") != NULL, "%s",
                 row);
  e = sample_event (EVENT_STATE, 0);
  records_format (&e, row, sizeof row);
  ck_assert_msg (strstr (row, ",diverged,1,\"the loss exploded, \"\"100×\"\"\nits average\",\n")
                     != NULL, "%s", row);
  ck_assert_str_eq (records_header (),
                    "kind,step,epoch,batch,batches,age_loss,balance,w_age,w_gender,w_race,lr,loss_age,"
                    "loss_gender,loss_race,weighted_age,weighted_gender,weighted_race,total,"
                    "img_per_s,gradnorm_age,gradnorm_gender,gradnorm_race,cos_age_gender,"
                    "cos_age_race,cos_gender_race,val_n,val_age_mae,val_age_rmse,"
                    "val_gender_acc,val_race_acc,val_race_confusion,setting,value,old_value,"
                    "state,error,message,images\n");
}
END_TEST

/* A --log written before the record had a kind column: one step per row. */
START_TEST (test_old_step_log_reads)
{
  char *dir = test_tmpdir (), *path = test_path (dir, "steps.csv");
  const char *old =
    "step,epoch,batch,age_loss,w_age,w_gender,w_race,lr,loss_age,loss_gender,loss_race,"
    "weighted_age,weighted_gender,weighted_race,total,img_per_s,gradnorm_age,gradnorm_gender,"
    "gradnorm_race,cos_age_gender,cos_age_race,cos_gender_race\n"
    "1,0,0,mse,1,2,1,0.001,400.5,0.69,1.6,400.5,1.38,1.6,403.48,812.3,9.1,0.2,0.4,0.01,-0.2,0.3\n"
    "2,0,1,mse,1,2,1,0.001,390.25,0.68,1.5,390.25,1.36,1.5,393.11,815.0,9.0,0.2,0.4,0.01,-0.2,0.3\n";
  test_write_file (path, old, strlen (old));
  Collected c = read_ok (path);
  ck_assert_int_eq (c.n, 2);
  ck_assert_int_eq (c.events[1].kind, EVENT_STEP);
  ck_assert_int_eq (c.events[1].step, 2);
  ck_assert_int_eq (c.events[1].loss.age_loss, AGE_LOSS_MSE);
  ck_assert_float_eq (c.events[1].loss.weight[HEAD_GENDER], 2.0f);
  ck_assert_float_eq (c.events[1].train.raw[HEAD_AGE], 390.25f);
  ck_assert_float_eq (c.events[0].train.cosine[1], -0.2f);
  free (c.events);
  test_rmtree (dir);
  free (path), free (dir);
}
END_TEST

/* A writer killed mid-line leaves a last row cut short: the rows before it are the record. */
START_TEST (test_cut_last_row_is_ignored)
{
  char *dir = test_tmpdir (), *path = test_path (dir, "record.csv");
  HnEvent events[3] = { sample_event (EVENT_STEP, 0), sample_event (EVENT_STEP, 1),
                        sample_event (EVENT_STATE, 0) };
  write_record (path, events, 3);
  struct stat st;
  ck_assert_int_eq (stat (path, &st), 0);
  /* cut inside the quoted message, then inside a number */
  ck_assert_int_eq (truncate (path, st.st_size - 12), 0);
  Collected c = read_ok (path);
  ck_assert_int_eq (c.n, 2);
  free (c.events);
  write_record (path, events, 2);
  ck_assert_int_eq (stat (path, &st), 0);
  ck_assert_int_eq (truncate (path, st.st_size - 3), 0);
  c = read_ok (path);
  ck_assert_int_eq (c.n, 1);
  free (c.events);
  test_rmtree (dir);
  free (path), free (dir);
}
END_TEST

START_TEST (test_malformed_records_refused)
{
  char *dir = test_tmpdir (), *path = test_path (dir, "bad.csv");
  const char *header = records_header ();
  static const struct
  {
    const char *body;
    const char *needle;
  } cases[] = {
    { "", "empty" },
    { "a,b,c\n1,2,3\n", "line 1 is not a record header (no step column)" },
    { "kind,step,epoch\nstep,12x,0\n", "line 2: the step cell does not read" },
    { "kind,step,epoch\nsideways,1,0\n", "line 2: the kind cell" },
    { "kind,step,epoch\nstep,-4,0\n", "line 2: the step cell" },
    { "kind,step,epoch,setting\nsetting,4,0,w_nose\n", "line 2: the setting cell" },
    { "kind,step,epoch,state\nstate,4,0,asleep\n", "line 2: the state cell" },
    { "kind,step,epoch,val_race_confusion\nval,4,0,1 2 3\n", "the val_race_confusion cell" },
    { "kind,step,epoch,loss_age\nstep,1,0,0.5\nstep,2,0,zero\n", "line 3: the loss_age cell" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      test_write_file (path, cases[i].body, strlen (cases[i].body));
      read_fails (path, cases[i].needle);
    }
  /* a line no record has, without end */
  size_t n = strlen (header) + 200000;
  char *huge = malloc (n);
  memcpy (huge, header, strlen (header));
  memset (huge + strlen (header), '7', n - strlen (header));
  test_write_file (path, huge, n);
  read_fails (path, "line 2 is too long");
  free (huge);
  read_fails (dir, "is a folder");
  char *fifo = test_path (dir, "fifo");
  ck_assert_int_eq (mkfifo (fifo, 0600), 0);
  read_fails (fifo, "not a regular file");
  char *missing = test_path (dir, "missing.csv");
  read_fails (missing, "missing.csv: cannot open (No such file or directory)");
  test_rmtree (dir);
  free (fifo), free (missing), free (path), free (dir);
}
END_TEST

/* ---- checkpoint metadata ---- */

/* A minimal safetensors file holding only metadata, read back. */
static HnSafetensors *
with_meta (const char *dir, const StMeta *meta, int n)
{
  char *path = test_path (dir, "meta.safetensors");
  HnError err;
  ck_assert_msg (safetensors_write (path, NULL, 0, meta, n, &err), "%s", err.message);
  HnSafetensors *st = safetensors_read (path, &err);
  ck_assert_msg (st != NULL, "%s", err.message);
  free (path);
  return st;
}

START_TEST (test_run_meta_round_trip)
{
  char *dir = test_tmpdir ();
  HnRunMeta m = {
    .source = "hydranet-cli test",
    .has_progress = true, .step = 12345, .epoch = 7, .batch_index = 3,
    .seed = 18446744073709551615ull, .history = "[{\"step\":4,\"setting\":\"lr\",\"value\":0.5}]",
    .has_loss = true, .loss = { AGE_LOSS_MSE, { 0.1f, 3.0f, 1e-5f } },
    .has_optimizer = true, .optimizer = optimizer_defaults (OPTIMIZER_ADAMW, 3e-4f),
    .optimizer_step = 12000,
    .has_schedule = true, .schedule = schedule_defaults (SCHEDULE_ONECYCLE), .lr_scale = 0.5f,
    .schedule_done = 0.625f, .ema_decay = 0.999f,
    .val_n = 4000, .val_age_mae = 5.875, .val_gender_acc = 0.9125, .val_race_acc = NAN,
  };
  HnMetaList list;
  run_meta_format (&m, &list);
  HnSafetensors *st = with_meta (dir, list.items, list.n);
  HnRunMeta r;
  HnError err;
  ck_assert_msg (run_meta_read (st, &r, &err), "%s", err.message);
  ck_assert_str_eq (r.source, m.source);
  ck_assert (r.has_progress && r.has_loss && r.has_optimizer);
  ck_assert_int_eq (r.step, m.step);
  ck_assert_int_eq (r.epoch, m.epoch);
  ck_assert_int_eq (r.batch_index, m.batch_index);
  ck_assert (r.seed == m.seed);
  ck_assert_str_eq (r.history, m.history);
  ck_assert_int_eq (r.loss.age_loss, AGE_LOSS_MSE);
  ck_assert_int_eq (memcmp (r.loss.weight, m.loss.weight, sizeof r.loss.weight), 0);
  ck_assert_int_eq (r.optimizer.kind, OPTIMIZER_ADAMW);
  ck_assert_float_eq (r.optimizer.lr, m.optimizer.lr);
  ck_assert_float_eq (r.optimizer.weight_decay, m.optimizer.weight_decay);
  ck_assert_int_eq (r.optimizer_step, 12000);
  ck_assert (r.has_schedule && r.schedule.kind == SCHEDULE_ONECYCLE);
  ck_assert_float_eq (r.schedule.warmup, m.schedule.warmup);
  ck_assert_float_eq (r.schedule.div, m.schedule.div);
  ck_assert_float_eq (r.schedule.final_div, m.schedule.final_div);
  ck_assert_float_eq (r.lr_scale, 0.5f);
  ck_assert_float_eq (r.schedule_done, 0.625f);
  ck_assert_float_eq (r.ema_decay, 0.999f);
  ck_assert_int_eq (r.val_n, 4000);
  ck_assert_double_eq (r.val_age_mae, 5.875);
  ck_assert (isnan (r.val_race_acc));
  safetensors_free (st);
  test_rmtree (dir);
  free (dir);
}
END_TEST

/* What the studio wrote before the one schema: train.w_age…, train.age_loss, and an empty
 * val.age_mae when there was no validation. */
START_TEST (test_run_meta_reads_old_studio_keys)
{
  char *dir = test_tmpdir ();
  StMeta old[] = {
    { "source", "HydraNet Studio 0.1.0" }, { "train.w_age", "0.25" }, { "train.w_gender", "1" },
    { "train.w_race", "2" },               { "train.age_loss", "huber" }, { "train.step", "40" },
    { "val.age_mae", "" },
  };
  HnSafetensors *st = with_meta (dir, old, 7);
  HnRunMeta r;
  HnError err;
  ck_assert_msg (run_meta_read (st, &r, &err), "%s", err.message);
  ck_assert (r.has_loss);
  ck_assert_int_eq (r.loss.age_loss, AGE_LOSS_HUBER);
  ck_assert_float_eq (r.loss.weight[HEAD_AGE], 0.25f);
  ck_assert_float_eq (r.loss.weight[HEAD_RACE], 2.0f);
  ck_assert_int_eq (r.step, 40);
  ck_assert (!r.has_progress); /* no epoch or batch: not enough to resume from */
  ck_assert (!r.has_optimizer);
  ck_assert (isnan (r.val_age_mae));
  safetensors_free (st);
  test_rmtree (dir);
  free (dir);
}
END_TEST

START_TEST (test_run_meta_refuses_malformed_values)
{
  char *dir = test_tmpdir ();
  static const struct
  {
    StMeta meta;
    const char *needle;
  } cases[] = {
    { { "train.step", "-3" }, "train.step" },
    { { "train.epoch", "many" }, "train.epoch" },
    { { "train.seed", "-1" }, "train.seed" },
    { { "loss.w_age", "nan" }, "loss.w_age" },
    { { "loss.w_gender", "1e31" }, "loss.w_gender" }, /* below 0 is IMTL-G's right */
    { { "loss.age_loss", "cubic" }, "loss.age_loss" },
    { { "optim.kind", "lbfgs" }, "optim.kind" },
    { { "optim.lr", "1e400" }, "optim.lr" },
    { { "val.gender_acc", "1.5" }, "val.gender_acc" },
    { { "schedule.kind", "sawtooth" }, "schedule.kind" },
    { { "schedule.div", "0" }, "schedule.div" },
    { { "schedule.final_div", "0" }, "schedule.final_div" },
    { { "train.schedule_done", "1.5" }, "train.schedule_done" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      HnSafetensors *st = with_meta (dir, &cases[i].meta, 1);
      HnRunMeta r;
      HnError err = { "" };
      ck_assert_msg (!run_meta_read (st, &r, &err), "%s accepted", cases[i].meta.value);
      ck_assert_msg (strstr (err.message, cases[i].needle) != NULL, "%s", err.message);
      safetensors_free (st);
    }
  test_rmtree (dir);
  free (dir);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("records");
  TCase *tc = tcase_create ("records");
  tcase_add_test (tc, test_every_event_round_trips);
  tcase_add_test (tc, test_rows_read_as_documented);
  tcase_add_test (tc, test_old_step_log_reads);
  tcase_add_test (tc, test_cut_last_row_is_ignored);
  tcase_add_test (tc, test_malformed_records_refused);
  tcase_add_test (tc, test_run_meta_round_trip);
  tcase_add_test (tc, test_run_meta_reads_old_studio_keys);
  tcase_add_test (tc, test_run_meta_refuses_malformed_values);
  suite_add_tcase (s, tc);
  return test_run_suite (s);
}
