/* test-util.h — small helpers shared by the Check suites. */
#pragma once

#include <check.h>
#include <stdbool.h>
#include <stddef.h>

#include "dataset.h"

/* Fails the running test unless |got − want| ≤ atol + rtol·|want| for every element, and
 * prints the first mismatch (index, both values) and the worst one. */
void assert_close (const char *what,
                   const float *got,
                   const float *want,
                   size_t n,
                   double atol,
                   double rtol);

/* Same comparison, as a predicate, for tests that count mismatches. */
bool is_close (double got, double want, double atol, double rtol);

/* A fresh directory under $TMPDIR (or /tmp); the caller frees the string. Removed by
 * test_rmtree. */
char *test_tmpdir (void);
void test_rmtree (const char *dir);

/* dir/name; the caller frees. */
char *test_path (const char *dir, const char *name);

/* path joined with the tests' source directory ($HYDRANET_TEST_DATA); caller frees. */
char *test_data_path (const char *relative);

/* The golden file at relative (to the tests' source directory), failing the test when it
 * cannot be read. */
struct HnSafetensors *test_read_golden (const char *relative);

/* Writes len bytes to path, failing the test on error. */
void test_write_file (const char *path, const void *data, size_t len);

/* A data set's image called name: its index, or -1; why it was skipped, or NULL. */
int dataset_find (const HnDataset *ds, const char *name);
const char *dataset_skip_reason (const HnDataset *ds, const char *name);
/* name was skipped, not used, and its reason says expect. */
void assert_dataset_skipped (const HnDataset *ds, const char *name, const char *expect);

/* Runs one suite, returns the process exit status (0 when every test passed). */
int test_run_suite (Suite *suite);
