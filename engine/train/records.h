/* records.h — a run's record: every event as one row of CSV, the one format for the
 * CLI's `--log` and the studio's curves (the studio opens either).
 *
 * One table, one row per event in the order they happened (after a rollback the steps
 * start again from an earlier one). Columns, by name (a reader must not rely on their order):
 *
 *   kind              step | val | setting | state | checkpoint
 *   step              optimizer steps done
 *   epoch             epochs completed
 *   batch, batches    step: its index in the epoch (from 0), and batches per epoch
 *   age_loss          l1 | mse | huber ─┐ the loss settings in force (after a setting
 *   balance           manual | famo | … │ row, the new ones; under a balancing method,
 *   w_age w_gender w_race              ─┘ the weights it chose for the step)
 *   lr                step: the learning rate of the step
 *   loss_age loss_gender loss_race     each head's loss (step: the batch's; val: validation)
 *   weighted_age weighted_gender weighted_race   weight · loss
 *   total             Σ weighted
 *   img_per_s         step: training speed
 *   gradnorm_age gradnorm_gender gradnorm_race   step: ‖∂(w·L_h)/∂feature‖, the size of the
 *                     gradient each weighted head sends into the shared 512-d feature
 *   cos_age_gender cos_age_race cos_gender_race  step: the cosines between those gradients
 *   val_n val_age_mae val_age_rmse val_gender_acc val_race_acc   val (accuracies in [0, 1])
 *   val_race_confusion  val: 25 counts [true][predicted], row after row, space-separated
 *   setting           setting: w_age | w_gender | w_race | age_loss | lr | balance | pause |
 *                     resume | rollback
 *   value old_value   setting: the new and the old value (age_loss, balance: their names;
 *                     rollback: the step returned to)
 *   state             state: running | paused | diverged | finished | stopped | failed
 *   error             state, checkpoint: 1 when it reports a failure
 *   message           setting: the change as a person reads it ("w_age 1 → 0.25"); state:
 *                     why; checkpoint: the file written, or why it was not
 *   images            step: the images in its batch (records written before this column
 *                     have none: a reader gets 0)
 *
 * Cells that do not apply to a row are empty. Numbers are in the C locale; floats have the
 * fewest digits that read back as the same float; a non-finite loss is "nan" or "inf".
 * Text is quoted as RFC 4180 says when it needs to be.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "events.h"

/* The header line, with its newline. */
const char *records_header (void);

/* The row for e, with its newline, into buf (len ≥ RECORDS_MAX_ROW is always enough).
 * Returns its length. */
#define RECORDS_MAX_ROW 2048
int records_format (const HnEvent *e, char *buf, int len);

/* Writes cell into out (room bytes, at least 2·strlen (cell) + 3 to hold it whole) as RFC 4180
 * says: quoted when it holds a comma, a quote or a line break. Returns its length. */
int records_quote_cell (char *out, int room, const char *cell);

/* Called for each row read, in order; return false to stop reading (without error). */
typedef bool (*HnRecordFn) (const HnEvent *e, void *ctx);

/* Reads a record file: this format, or a `--log` file written before it (one row per step,
 * no kind column). Treats the file as hostile: every cell is checked, and a file that is not
 * a record fails with a message naming the line. A last row cut short (the writer was
 * killed mid-line) is ignored. *n_rows (may be NULL) receives the rows read. */
bool records_read (const char *path, HnRecordFn fn, void *ctx, int64_t *n_rows, HnError *err);
