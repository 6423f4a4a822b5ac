/* runs-test-util.h — what the Runs view's suites share: following the view as it reads its
 * folder, and its rows. */
#pragma once

#include "hydra-runs-view.h"

/* Counts the view's reads ("loaded"); before the others. */
void runs_test_follow (HydraRunsView *view);

/* Reads the folder again and waits for the table to show it. */
void runs_test_reload (void);

guint runs_test_n_rows (void);
