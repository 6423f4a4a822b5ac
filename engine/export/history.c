#include "history.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"
#include "runfolder.h"
#include "runinfo.h"

#define MAX_FORKS 32 /* a chain of forks longer than this is a loop of folders */

/* One record being read. Images seen are kept per step from the record's first (a fork's
 * branch step), and overwritten when a rollback makes the steps start again. */
typedef struct
{
  HnHistory *h;
  int batch;
  int64_t base;          /* the step the record starts from */
  uint64_t *images;      /* images[s - base]: seen after step s */
  int64_t n_images, cap_images;
  int kept;              /* changes before the newest checkpoint… */
  int64_t kept_step;     /* …which was taken after this step, */
  bool has_checkpoint;
  int64_t stop;          /* a fork's branch step in this record (−1: none), and the changes */
  int kept_at_stop;      /* before the newest checkpoint taken there */
  bool stop_found;
  HnError *err;
  bool failed;           /* err says why */
} Reader;

static bool
grow (void **items, int64_t *cap, int64_t need, size_t size)
{
  if (need <= *cap)
    return true;
  int64_t cap2 = *cap > 0 ? *cap * 2 : 64;
  while (cap2 < need)
    cap2 *= 2;
  void *p = realloc (*items, (size_t) cap2 * size);
  if (p == NULL)
    return false;
  *items = p;
  *cap = cap2;
  return true;
}

static uint64_t
images_after (const Reader *r, int64_t step)
{
  int64_t i = step - r->base;
  if (i < 0)
    i = 0;
  if (i >= r->n_images)
    i = r->n_images - 1; /* a record cut short: the last count it has */
  return r->images[i];
}

static void
on_step (Reader *r, const HnEvent *e)
{
  int64_t i = e->step - r->base;
  if (i < 1 || i > r->n_images) /* not after a step the record has: not ours to count */
    return;
  if (!grow ((void **) &r->images, &r->cap_images, i + 1, sizeof *r->images))
    {
      r->failed = !hn_error_set (r->err, "out of memory");
      return;
    }
  r->images[i] = r->images[i - 1] + (uint64_t) (e->train.images > 0 ? e->train.images : r->batch);
  r->n_images = i + 1;
}

/* A value no trainer writes: a weight or a rate that is not a finite number of its range, a
 * rollback to a step that is not one. */
static bool
bad_value (const HnEvent *e)
{
  const double v = e->setting.value;
  switch (e->setting.what)
    {
    case SETTING_W_AGE:
    case SETTING_W_GENDER:
    case SETTING_W_RACE:
      return !(v >= 0 && v <= 1e6);
    case SETTING_LR:
      return !(v > 0 && v <= 1e6);
    case SETTING_ROLLBACK:
      return !(v >= 0 && v <= (double) e->step);
    default:
      return false; /* names, which the record's reader checked */
    }
}

static void
on_setting (Reader *r, const HnEvent *e)
{
  HnHistory *h = r->h;
  if (bad_value (e))
    {
      r->failed = !hn_error_set (r->err, "a %s change to %g at step %lld is not one a run makes",
                                 setting_name (e->setting.what), e->setting.value,
                                 (long long) e->step);
      return;
    }
  if (e->setting.what == SETTING_ROLLBACK)
    {
      /* back to the newest checkpoint, with the settings it holds */
      const int64_t to = (int64_t) e->setting.value;
      if (r->has_checkpoint && r->kept_step == to)
        h->n = r->kept < h->n ? r->kept : h->n;
      else
        while (h->n > 0 && h->items[h->n - 1].step > to)
          h->n--;
      return;
    }
  if (e->setting.what > SETTING_BALANCE)
    return; /* pause, resume */
  int64_t cap = h->cap;
  if (!grow ((void **) &h->items, &cap, h->n + 1, sizeof *h->items))
    {
      r->failed = !hn_error_set (r->err, "out of memory");
      return;
    }
  h->cap = (int) cap;
  h->items[h->n++] = (HnChange) { .step = e->step, .images = images_after (r, e->step),
                                  .what = e->setting.what, .value = e->setting.value,
                                  .old_value = e->setting.old_value };
}

static bool
on_event (const HnEvent *e, void *ctx)
{
  Reader *r = ctx;
  switch (e->kind)
    {
    case EVENT_STEP:
      on_step (r, e);
      break;
    case EVENT_SETTING:
      on_setting (r, e);
      break;
    case EVENT_CHECKPOINT:
      if (!e->state.error)
        {
          r->has_checkpoint = true;
          r->kept = r->h->n;
          r->kept_step = e->step;
          if (e->step == r->stop)
            {
              r->stop_found = true;
              r->kept_at_stop = r->h->n;
            }
        }
      break;
    default:
      break;
    }
  return !r->failed;
}

/* Reads folder's record, which starts after step base with base_images seen; stop ≥ 0 when a
 * fork branched from it at that step: its changes then end at the checkpoint taken there,
 * and *images_at_stop receives the images seen by then. */
static bool
read_record (const char *folder, int batch, HnHistory *h, int64_t base, uint64_t base_images,
             int64_t stop, uint64_t *images_at_stop, HnError *err)
{
  Reader r = { .h = h, .batch = batch, .base = base, .stop = stop, .n_images = 1, .err = err };
  char *path = run_folder_file (folder, RUN_RECORD);
  bool ok = path != NULL && grow ((void **) &r.images, &r.cap_images, 1, sizeof *r.images);
  if (!ok)
    hn_error_set (err, "out of memory");
  else
    {
      r.images[0] = base_images;
      ok = records_read (path, on_event, &r, NULL, err)
           && (!r.failed || hn_error_prefix (err, "%s", path));
    }
  if (ok && stop >= 0 && stop < base)
    ok = hn_error_set (err, "a fork branched from %s at step %lld, before the run itself starts "
                            "(step %lld)", folder, (long long) stop, (long long) base);
  if (ok && stop >= 0)
    {
      if (r.stop_found)
        h->n = r.kept_at_stop < h->n ? r.kept_at_stop : h->n;
      else
        while (h->n > 0 && h->items[h->n - 1].step > stop)
          h->n--;
      if (stop - base >= r.n_images)
        ok = hn_error_set (err, "%s ends before step %lld, where a fork branched from the run",
                           path, (long long) stop);
      else
        *images_at_stop = r.images[stop - base];
    }
  free (r.images);
  free (path);
  return ok;
}

/* Adds the segment of the run in folder, which starts at step with images seen. */
static bool
add_segment (HnHistory *h, const char *folder, int64_t step, uint64_t images, HnError *err)
{
  HnSegment *s = realloc (h->segments, sizeof *s * (size_t) (h->n_segments + 1));
  if (s == NULL)
    return hn_error_set (err, "out of memory");
  h->segments = s;
  s[h->n_segments] = (HnSegment) { .folder = strdup (folder), .step = step, .images = images };
  return s[h->n_segments++].folder != NULL || hn_error_set (err, "out of memory");
}

/* Reads the run in folder after its parents (stop, images_at_stop: read_record's). */
static bool
read_run (const char *folder, HnHistory *h, int64_t stop, uint64_t *images_at_stop, int depth,
          HnError *err)
{
  if (depth > MAX_FORKS)
    return hn_error_set (err, "%s: more than %d forks deep (do the runs' parents loop?)", folder,
                         MAX_FORKS);
  HnRunInfo info;
  bool ok = run_info_read (folder, &info, err);
  int64_t base = 0;
  uint64_t base_images = 0;
  if (ok && info.has_parent && info.parent.folder == NULL)
    ok = hn_error_set (err, "%s: run.json names a parent run but not its folder", folder);
  else if (ok && info.has_parent)
    {
      base = info.parent.step;
      ok = read_run (info.parent.folder, h, base, &base_images, depth + 1, err);
      if (!ok && depth == 0) /* once, however deep the chain */
        hn_error_prefix (err, "the run %s was forked from", info.folder);
    }
  ok = ok && add_segment (h, info.folder, base, base_images, err)
       && read_record (folder, info.settings.batch, h, base, base_images, stop, images_at_stop,
                       err);
  run_info_clear (&info);
  return ok;
}

bool
run_history_read (const char *folder, HnHistory *h, HnError *err)
{
  *h = (HnHistory) { 0 };
  return read_run (folder, h, -1, NULL, 0, err);
}

void
run_history_clear (HnHistory *h)
{
  for (int i = 0; i < h->n_segments; i++)
    free (h->segments[i].folder);
  free (h->segments);
  free (h->items);
  *h = (HnHistory) { 0 };
}
