/* fuzz.h — what the fuzz targets share (README.md).
 *
 * Each target is one file defining fuzz_target: the body of LLVMFuzzerTestOneInput. The fuzz
 * build (-Dfuzz=true, clang) links it with fuzz-main.c under libFuzzer; every build links it
 * with replay.c too, which feeds it its seeds and the crashes kept in regressions/, so the
 * default `meson test` replays them. A target returns 0 and aborts (FUZZ_CHECK) when the
 * engine breaks a promise its header makes about what it read.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Feeds data to one reader. */
int fuzz_target (const uint8_t *data, size_t size);

/* The target's name ("safetensors"), for its seeds and messages. */
extern const char fuzz_target_name[];

/* Aborts with file, line and what was expected: a promise broken is a crash to keep. */
#define FUZZ_CHECK(x)                                                                              \
  do                                                                                               \
    {                                                                                              \
      if (!(x))                                                                                    \
        fuzz_fail (__FILE__, __LINE__, #x);                                                        \
    }                                                                                              \
  while (0)

void fuzz_fail (const char *file, int line, const char *expr) __attribute__ ((noreturn));

/* With FUZZ_VERBOSE set, prints what became of an input: the reader's message, or "read"
 * for "" (to see which seeds get past the checks: replay's output). */
void fuzz_note (const char *outcome);

/* A folder of the process's own, made on first use and removed (with everything in it) when
 * the process exits: "/tmp/hn-fuzz-XXXXXX". */
const char *fuzz_dir (void);

/* fuzz_dir ()/rel, malloc'd (never NULL: out of memory aborts). */
char *fuzz_path (const char *rel);

/* Replaces fuzz_dir ()/rel (its folders made) with len bytes of data; data NULL removes it. */
void fuzz_put (const char *rel, const void *data, size_t len);

/* Removes path and everything under it; fine when it is not there. */
void fuzz_remove_tree (const char *path);

/* A fuzzer's input as several files: the parts between lines FUZZ_SPLIT ("\n--8<--\n").
 * Returns how many (at most max); part i is parts[i], len[i] bytes (not NUL-terminated). */
#define FUZZ_SPLIT "\n--8<--\n"
int fuzz_split (const uint8_t *data, size_t size, const uint8_t **parts, size_t *len, int max);

/* text with every "@DIR@" replaced by fuzz_dir (), so that an input can name a file of the
 * run's own folder (a fork's parent, by absolute path). malloc'd; *out_len its length. */
char *fuzz_expand (const uint8_t *text, size_t len, size_t *out_len);

/* A run folder laid out from one input, for the run.json readers (runinfo, history, import):
 * parts run.json, curves.csv, then a second run's run.json and curves.csv (a fork's parent,
 * "@DIR@/runs/b"), written to DIR/runs/a and DIR/runs/b (both folders always made); a part absent is a file
 * absent. */
void fuzz_put_runs (const uint8_t *data, size_t size);

/* Seeds: writes the target's starting corpus into dir (made if missing). False, with a
 * message on stderr, when a file cannot be written. */
bool fuzz_write_seeds (const char *target, const char *dir);
