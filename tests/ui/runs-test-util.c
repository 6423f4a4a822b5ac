/* runs-test-util.c — the Runs view's suites' helpers (runs-test-util.h). */
#include "runs-test-util.h"

#include <check.h>

#include "ui-test-util.h"

static HydraRunsView *followed;
static guint n_loaded, wanted_loads;

static void
on_loaded (void)
{
  n_loaded++;
}

void
runs_test_follow (HydraRunsView *view)
{
  followed = view;
  g_signal_connect (view, "loaded", G_CALLBACK (on_loaded), NULL);
}

static gboolean
loaded (void)
{
  return n_loaded >= wanted_loads;
}

void
runs_test_reload (void)
{
  wanted_loads = n_loaded + 1;
  hydra_runs_view_refresh (followed);
  ck_assert (ui_wait_until (loaded, 30));
}

guint
runs_test_n_rows (void)
{
  return g_list_model_get_n_items (hydra_runs_view_get_rows (followed));
}
