#include "test-util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <unistd.h>

#include "safetensors.h"

bool
is_close (double got, double want, double atol, double rtol)
{
  if (isnan (got) || isnan (want))
    return false;
  return fabs (got - want) <= atol + rtol * fabs (want);
}

void
assert_close (const char *what, const float *got, const float *want, size_t n, double atol,
              double rtol)
{
  size_t bad = 0, first = 0, worst = 0;
  double worst_excess = -1.0;
  for (size_t i = 0; i < n; i++)
    {
      if (is_close (got[i], want[i], atol, rtol))
        continue;
      double excess = fabs ((double) got[i] - want[i]) / (atol + rtol * fabs (want[i]));
      if (bad == 0)
        first = i;
      if (isnan (excess) || excess > worst_excess)
        worst_excess = isnan (excess) ? INFINITY : excess, worst = i;
      bad++;
    }
  if (bad > 0)
    ck_abort_msg ("%s: %zu of %zu differ (atol %g, rtol %g); first [%zu] got %.9g want %.9g; "
                  "worst [%zu] got %.9g want %.9g",
                  what, bad, n, atol, rtol, first, got[first], want[first], worst, got[worst],
                  want[worst]);
}

char *
test_tmpdir (void)
{
  const char *base = getenv ("TMPDIR");
  char *path = NULL;
  ck_assert (asprintf (&path, "%s/hydranet-test-XXXXXX", base ? base : "/tmp") > 0);
  ck_assert_ptr_nonnull (mkdtemp (path));
  return path;
}

static int
remove_one (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
  return remove (path);
}

void
test_rmtree (const char *dir)
{
  nftw (dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *
test_path (const char *dir, const char *name)
{
  char *path = NULL;
  ck_assert (asprintf (&path, "%s/%s", dir, name) > 0);
  return path;
}

char *
test_data_path (const char *relative)
{
  const char *base = getenv ("HYDRANET_TEST_DATA");
  char *path = NULL;
  ck_assert (asprintf (&path, "%s/%s", base ? base : ".", relative) > 0);
  return path;
}

void
test_write_file (const char *path, const void *data, size_t len)
{
  FILE *f = fopen (path, "wb");
  ck_assert_msg (f != NULL, "cannot create %s", path);
  ck_assert_uint_eq (fwrite (data, 1, len, f), len);
  ck_assert_int_eq (fclose (f), 0);
}

int
test_run_suite (Suite *suite)
{
  SRunner *runner = srunner_create (suite);
  srunner_run_all (runner, CK_NORMAL);
  int failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

HnSafetensors *
test_read_golden (const char *relative)
{
  char *path = test_data_path (relative);
  HnError err;
  HnSafetensors *st = safetensors_read (path, &err);
  ck_assert_msg (st != NULL, "%s", err.message);
  free (path);
  return st;
}

int
dataset_find (const HnDataset *ds, const char *name)
{
  for (int i = 0; i < ds->n; i++)
    if (strcmp (ds->names[i], name) == 0)
      return i;
  return -1;
}

const char *
dataset_skip_reason (const HnDataset *ds, const char *name)
{
  for (int i = 0; i < ds->n_skipped; i++)
    if (strcmp (ds->skipped[i].file, name) == 0)
      return ds->skipped[i].reason;
  return NULL;
}

void
assert_dataset_skipped (const HnDataset *ds, const char *name, const char *expect)
{
  const char *reason = dataset_skip_reason (ds, name);
  ck_assert_msg (reason != NULL, "'%s' should have been skipped", name);
  ck_assert_msg (dataset_find (ds, name) < 0, "'%s' is both used and skipped", name);
  ck_assert_msg (strstr (reason, expect) != NULL, "'%s' skipped for '%s', expected '%s'", name,
                 reason, expect);
}
