/* test-export.c — a run's history as the export replays it (engine/export/history.h): where
 * each change took effect in images seen, what a rollback undoes, what a fork inherits. The
 * project itself and the way back are tested end to end in tests/export/. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "history.h"
#include "records.h"
#include "runfolder.h"
#include "runinfo.h"
#include "test-util.h"

#define BATCH 16

/* A run folder: run.json (with parent, when given) and a record written row by row. */
typedef struct
{
  char *folder;
  FILE *record;
  int64_t step;
} Run;

static Run
run_new (const char *dir, const char *name, const HnRunParent *parent)
{
  Run r = { .folder = test_path (dir, name) };
  ck_assert_int_eq (mkdir (r.folder, 0777), 0);
  HnTrainConfig c = train_preset_studio ();
  c.batch = BATCH;
  c.synthetic = 100;
  HnError err;
  char *start = run_info_begin (r.folder, &c, &c.loss, c.optimizer.lr, parent, &err);
  ck_assert_msg (start != NULL, "%s", err.message);
  ck_assert_msg (run_info_write_summary (r.folder, start, &(HnRunSummary) { 0 }, &err), "%s",
                 err.message);
  free (start);
  char *path = run_folder_file (r.folder, RUN_RECORD);
  r.record = fopen (path, "w");
  free (path);
  fputs (records_header (), r.record);
  if (parent != NULL)
    r.step = parent->step;
  return r;
}

static void
row (Run *r, HnEvent e)
{
  char buf[RECORDS_MAX_ROW];
  e.step = r->step;
  records_format (&e, buf, sizeof buf);
  fputs (buf, r->record);
}

/* n steps of `images` each. */
static void
steps (Run *r, int n, int images)
{
  for (int i = 0; i < n; i++)
    {
      r->step++;
      HnEvent e = { .kind = EVENT_STEP };
      e.train.images = images;
      row (r, e);
    }
}

static void
change (Run *r, HnSettingKind what, double value)
{
  HnEvent e = { .kind = EVENT_SETTING };
  e.setting.what = what;
  e.setting.value = value;
  row (r, e);
}

static void
checkpoint (Run *r)
{
  row (r, (HnEvent) { .kind = EVENT_CHECKPOINT });
}

static void
rollback (Run *r, int64_t to)
{
  r->step = to;
  change (r, SETTING_ROLLBACK, (double) to);
}

static void
run_close (Run *r)
{
  fclose (r->record);
  free (r->folder);
}

static HnHistory
history_of (const char *folder)
{
  HnHistory h;
  HnError err;
  ck_assert_msg (run_history_read (folder, &h, &err), "%s", err.message);
  return h;
}

static void
assert_change (const HnHistory *h, int i, HnSettingKind what, int64_t step, uint64_t images,
               double value)
{
  ck_assert_int_lt (i, h->n);
  ck_assert_int_eq (h->items[i].what, what);
  ck_assert_int_eq (h->items[i].step, step);
  ck_assert_uint_eq (h->items[i].images, images);
  ck_assert_double_eq (h->items[i].value, value);
}

START_TEST (test_images_seen)
{
  char *dir = test_tmpdir ();
  Run r = run_new (dir, "run", NULL);
  checkpoint (&r);
  steps (&r, 3, BATCH);
  change (&r, SETTING_W_AGE, 0.5);
  change (&r, SETTING_PAUSE, 1);
  change (&r, SETTING_AGE_LOSS, AGE_LOSS_MSE);
  steps (&r, 2, 5); /* an epoch's last batch */
  change (&r, SETTING_LR, 1e-4);
  steps (&r, 1, 0); /* a row from before the images column: a whole batch */
  change (&r, SETTING_BALANCE, BALANCE_FAMO);
  char *folder = strdup (r.folder);
  run_close (&r);

  HnHistory h = history_of (folder);
  ck_assert_int_eq (h.n, 4); /* the pause is not a setting of the recipe */
  assert_change (&h, 0, SETTING_W_AGE, 3, 48, 0.5);
  assert_change (&h, 1, SETTING_AGE_LOSS, 3, 48, AGE_LOSS_MSE);
  assert_change (&h, 2, SETTING_LR, 5, 58, 1e-4);
  assert_change (&h, 3, SETTING_BALANCE, 6, 58 + BATCH, BALANCE_FAMO);
  char *real = realpath (folder, NULL);
  ck_assert_int_eq (h.n_segments, 1);
  ck_assert_str_eq (h.segments[0].folder, real);
  run_history_clear (&h);
  test_rmtree (dir);
  free (dir), free (folder), free (real);
}
END_TEST

/* A rollback returns to the newest checkpoint and the settings it holds: the changes recorded
 * after it are undone, those before it (at its step too) stay; the steps run again. */
START_TEST (test_rollback)
{
  char *dir = test_tmpdir ();
  Run r = run_new (dir, "run", NULL);
  steps (&r, 4, BATCH);
  change (&r, SETTING_W_GENDER, 2);   /* step 4, before the checkpoint: kept */
  checkpoint (&r);
  change (&r, SETTING_W_RACE, 3);     /* step 4, after it: undone */
  steps (&r, 2, BATCH);
  change (&r, SETTING_LR, 1e-5);      /* step 6: undone */
  steps (&r, 1, BATCH);
  rollback (&r, 4);
  steps (&r, 1, 8);
  change (&r, SETTING_W_AGE, 0.25);   /* step 5 of the path that stays */
  char *folder = strdup (r.folder);
  run_close (&r);

  HnHistory h = history_of (folder);
  ck_assert_int_eq (h.n, 2);
  assert_change (&h, 0, SETTING_W_GENDER, 4, 64, 2);
  assert_change (&h, 1, SETTING_W_AGE, 5, 72, 0.25);
  run_history_clear (&h);
  test_rmtree (dir);
  free (dir), free (folder);
}
END_TEST

/* A fork inherits its parent's changes up to the checkpoint it branched from, and counts its
 * images on from there; a grandchild goes through both. */
START_TEST (test_forks)
{
  char *dir = test_tmpdir ();
  Run parent = run_new (dir, "parent", NULL);
  steps (&parent, 2, BATCH);
  change (&parent, SETTING_W_AGE, 0.5);
  steps (&parent, 2, BATCH);
  checkpoint (&parent);               /* step 4: the branch point */
  change (&parent, SETTING_W_RACE, 9); /* after it: not the fork's */
  steps (&parent, 4, BATCH);
  checkpoint (&parent);
  char *parent_folder = realpath (parent.folder, NULL);
  run_close (&parent);

  HnRunParent p = { .folder = parent_folder, .checkpoint = "x", .step = 4, .epoch = 1 };
  Run child = run_new (dir, "child", &p);
  change (&child, SETTING_AGE_LOSS, AGE_LOSS_HUBER); /* the fork's own change, marked at 4 */
  checkpoint (&child);
  steps (&child, 3, 10);
  change (&child, SETTING_W_GENDER, 0.75);
  steps (&child, 1, 10);
  checkpoint (&child);
  char *child_folder = realpath (child.folder, NULL);
  run_close (&child);

  HnRunParent q = { .folder = child_folder, .checkpoint = "y", .step = 8, .epoch = 2 };
  Run grandchild = run_new (dir, "grandchild", &q);
  change (&grandchild, SETTING_LR, 2e-3);
  steps (&grandchild, 1, 10);
  char *folder = strdup (grandchild.folder);
  run_close (&grandchild);

  HnHistory h = history_of (folder);
  ck_assert_int_eq (h.n, 4);
  assert_change (&h, 0, SETTING_W_AGE, 2, 32, 0.5);
  assert_change (&h, 1, SETTING_AGE_LOSS, 4, 64, AGE_LOSS_HUBER);
  assert_change (&h, 2, SETTING_W_GENDER, 7, 94, 0.75);
  assert_change (&h, 3, SETTING_LR, 8, 104, 2e-3);
  /* the chain, each run from where it starts */
  ck_assert_int_eq (h.n_segments, 3);
  ck_assert_str_eq (h.segments[0].folder, parent_folder);
  ck_assert_str_eq (h.segments[1].folder, child_folder);
  ck_assert_int_eq (h.segments[1].step, 4);
  ck_assert_uint_eq (h.segments[1].images, 64);
  ck_assert_int_eq (h.segments[2].step, 8);
  ck_assert_uint_eq (h.segments[2].images, 104);
  run_history_clear (&h);
  test_rmtree (dir);
  free (dir), free (folder), free (parent_folder), free (child_folder);
}
END_TEST

/* A record missing, a parent that does not reach its branch, forks that loop: errors. */
START_TEST (test_broken)
{
  char *dir = test_tmpdir ();
  HnError err;
  HnHistory h;

  Run r = run_new (dir, "no-record", NULL);
  char *folder = strdup (r.folder), *record = run_folder_file (r.folder, RUN_RECORD);
  run_close (&r);
  unlink (record);
  ck_assert (!run_history_read (folder, &h, &err));
  ck_assert_msg (strstr (err.message, "curves.csv") != NULL, "%s", err.message);
  run_history_clear (&h);
  free (folder), free (record);

  Run short_parent = run_new (dir, "short", NULL);
  steps (&short_parent, 2, BATCH);
  char *short_folder = realpath (short_parent.folder, NULL);
  run_close (&short_parent);
  Run fork = run_new (dir, "fork", &(HnRunParent) { .folder = short_folder, .step = 5 });
  folder = strdup (fork.folder);
  run_close (&fork);
  ck_assert (!run_history_read (folder, &h, &err));
  ck_assert_msg (strstr (err.message, "before step 5") != NULL, "%s", err.message);
  run_history_clear (&h);
  free (folder);

  /* a grandchild that branched before its parent's own branch: no step there to stand on */
  Run deep = run_new (dir, "deep", &(HnRunParent) { .folder = short_folder, .step = 1 });
  steps (&deep, 3, BATCH);
  char *deep_folder = realpath (deep.folder, NULL);
  run_close (&deep);
  Run early = run_new (dir, "early", &(HnRunParent) { .folder = deep_folder, .step = 0 });
  folder = strdup (early.folder);
  run_close (&early);
  ck_assert (!run_history_read (folder, &h, &err));
  ck_assert_msg (strstr (err.message, "before the run itself starts") != NULL, "%s", err.message);
  run_history_clear (&h);
  free (folder), free (deep_folder);

  /* values no run writes */
  const double bad[][2] = { { SETTING_LR, NAN }, { SETTING_W_AGE, INFINITY }, { SETTING_W_RACE, -1 },
                            { SETTING_ROLLBACK, 1e300 } };
  for (int i = 0; i < 4; i++)
    {
      char name[16];
      snprintf (name, sizeof name, "bad-%d", i);
      Run b = run_new (dir, name, NULL);
      steps (&b, 2, BATCH);
      change (&b, (HnSettingKind) bad[i][0], bad[i][1]);
      folder = strdup (b.folder);
      run_close (&b);
      ck_assert (!run_history_read (folder, &h, &err));
      ck_assert_msg (strstr (err.message, "is not one a run makes") != NULL, "%s", err.message);
      run_history_clear (&h);
      free (folder);
    }

  /* a run whose parent is itself */
  char *self = test_path (dir, "self");
  char *real_dir = realpath (dir, NULL), *self_abs = test_path (real_dir, "self");
  Run loop = run_new (dir, "self", &(HnRunParent) { .folder = self_abs, .step = 0 });
  run_close (&loop);
  ck_assert (!run_history_read (self, &h, &err));
  ck_assert_msg (strstr (err.message, "forks deep") != NULL, "%s", err.message);
  run_history_clear (&h);

  test_rmtree (dir);
  free (dir), free (short_folder), free (self), free (real_dir), free (self_abs);
}
END_TEST

static Suite *
export_suite (void)
{
  Suite *s = suite_create ("export");
  TCase *tc = tcase_create ("history");
  tcase_add_test (tc, test_images_seen);
  tcase_add_test (tc, test_rollback);
  tcase_add_test (tc, test_forks);
  tcase_add_test (tc, test_broken);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (export_suite ());
}
