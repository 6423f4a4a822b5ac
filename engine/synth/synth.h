/* synth.h — the built-in synthetic faces: a data set that needs no download.
 *
 * Procedurally drawn faces whose labels can be learned from the pixels, but not trivially:
 * age drives several visible traits smoothly, gender and each race class drive other,
 * deliberately neutral visual traits (shapes and colours of a cartoon, not depictions of
 * real groups), and noise, pose and lighting jitter keep every head below 100%. A teaching
 * aid for seeing multi-task training work, nothing more.
 *
 * How labels map to traits (each with noise and overlap; look.c has the numbers):
 *  - age: head proportions (a baby's big cranium, low eyes, small nose and chin), eye size,
 *    wrinkles, folds and eye bags, greying and receding hair, glasses more likely with age;
 *  - gender: hair length and volume, beards, earrings, lip colour, brow weight, lashes, jaw;
 *  - race class: only things that are not the person — the hue family of the background
 *    and the pattern of the clothing. Skin tone, hair and eye colour are drawn independently
 *    of every label.
 *
 * Every face is a pure function of (seed, index, size): labels and split key of (seed,
 * index) alone, so a face has the same labels at every size.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dataset.h"
#include "error.h"

#define SYNTH_MIN_SIZE 8
#define SYNTH_MAX_SIZE 512

/* The labels of face `index` of the stream `seed`, without drawing it: age 1…100, gender,
 * race class, never_val false, and split_key = the top 32 bits of
 * rng_splitmix64 (seed ^ SYNTH_SPLIT_SALT, index). */
void synth_labels (uint64_t seed, uint32_t index, HnFaceLabels *labels);

#define SYNTH_SPLIT_SALT 0x73706C69742D6B65ull /* "split-ke" */

/* Face number `index` of the stream `seed`: its labels (as synth_labels) and its pixels,
 * rgb (size, size, 3), SYNTH_MIN_SIZE ≤ size ≤ SYNTH_MAX_SIZE. Pure function of (seed,
 * index, size): any thread, any order. Fails only when scratch memory cannot be had. */
bool synth_face (uint64_t seed, uint32_t index, int size, uint8_t *rgb, HnFaceLabels *labels,
                 HnError *err);

typedef enum
{
  SYNTH_PNG,
  SYNTH_JPEG,
} HnSynthFormat;

/* The UTKFace name of a face: AGE_GENDER_RACE_DATETIME.jpg.chip.jpg (JPEG) or
 * AGE_GENDER_RACE_DATETIME.png, where DATETIME (yyyymmddHHMMSSmmm, 17 digits) is
 * 2017-01-01 00:00:00 UTC plus `index` seconds and index mod 1000 milliseconds, so names
 * are unique within a stream and say which face they hold. len ≥ 64 is always enough. */
void synth_file_name (const HnFaceLabels *labels, uint32_t index, HnSynthFormat format, char *name,
                      int len);

/* Writes count faces of size×size into dir (created, with its parents, if missing) under
 * the names of synth_file_name: a folder dataset_open_folder reads. Existing files of the
 * same names are replaced. threads ≤ 0: one per online CPU. progress may be NULL; its
 * total is set to count and done counts finished files; setting cancel stops the writing
 * (files already written stay) and fails with "cancelled". */
bool synth_write_folder (const char *dir, int count, uint64_t seed, int size, HnSynthFormat format,
                         int threads, HnLoadProgress *progress, HnError *err);

/* A data set of count synthetic faces drawn from seed at size×size, on `threads` threads
 * (0: all cores): what train --synthetic and the studio's built-in faces use. */
HnDataset *dataset_new_synthetic (int count,
                                  uint64_t seed,
                                  int size,
                                  int threads,
                                  HnLoadProgress *progress,
                                  HnError *err);
