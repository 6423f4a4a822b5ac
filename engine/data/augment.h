/* augment.h — random changes to a training image, so that the network learns faces rather
 * than the particular pixels of each one.
 *
 * Each is drawn from a seed that is a pure function of (the run's seed, epoch, image), so a
 * run paused, resumed or replayed sees the same images. They run where batches are built (the
 * data thread, batches.h) and in the data-set pane's samples, never on the trainer's thread.
 * An HnAugment of zeros changes nothing.
 *
 *   flip        mirror left–right, half of the time
 *   crop        a random-resized crop: a region of between 1 − crop and all of the image's
 *               area, resized back to the whole (torchvision's RandomResizedCrop)
 *   aspect      …whose aspect ratio lies in [1/(1 + aspect), 1 + aspect] (0: square)
 *   rotate      a rotation by up to ±rotate degrees about the crop's centre
 *   brightness, contrast, saturation   factors in [1 − x, 1 + x] (ColorJitter's)
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct
{
  bool flip;
  float crop, aspect, rotate;
  float brightness, contrast, saturation;
} HnAugment;

bool augment_is_none (const HnAugment *a);

/* rgb (size, size, 3) → dst (3, size, size), augmented with the draws of seed, then scaled to
 * [0, 1] and normalised as every network input is (input.h). With no augmentation it is
 * image_normalize, bit for bit. */
void augment_image (const uint8_t *rgb, int size, const HnAugment *a, uint64_t seed, float *dst);

/* The seed of image `item`'s augmentation in `epoch` of the run with seed `seed`. */
uint64_t augment_seed (uint64_t seed, int epoch, int item);

/* "none", or a comma-separated list (spaces around items allowed) of flip, crop[=AREA],
 * aspect[=R], rotate[=DEGREES], color[=X] (brightness, contrast and saturation),
 * brightness[=X], contrast[=X], saturation[=X]. Without a value: crop 0.3, aspect 0.33,
 * rotate 10, color 0.2. */
bool augment_from_names (const char *names, HnAugment *augment);

/* The same, written back ("flip,crop=0.3,rotate=10"); len ≥ 160 is always enough. */
void augment_to_names (const HnAugment *augment, char *buf, int len);
