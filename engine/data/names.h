/* names.h — the labels a UTKFace file name gives: AGE_GENDER_RACE_DATETIME.jpg.chip.jpg
 * (also .jpg, .jpeg, .png; README.md, Data), read as strictly as the reference script reads
 * them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "dataset.h"

/* The reference's NAME regex, ^(\d{1,3})_([01])_([0-4])_(\d+)\.(jpg|jpeg|png)(\.chip\.jpg)?$
 * case-insensitive, plus age ≤ LABEL_MAX_AGE. On success labels holds the name's age, gender
 * and race (its other fields zero); otherwise false with a reason for a person in why. */
bool utkface_parse_name (const char *name, HnFaceLabels *labels, char *why, size_t why_len);
