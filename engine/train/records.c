#include "records.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clocale.h"

/* The columns, in the order they are written. */
typedef enum
{
  COL_KIND, COL_STEP, COL_EPOCH, COL_BATCH, COL_BATCHES,
  COL_AGE_LOSS, COL_BALANCE, COL_W_AGE, COL_W_GENDER, COL_W_RACE, COL_LR,
  COL_LOSS_AGE, COL_LOSS_GENDER, COL_LOSS_RACE,
  COL_WEIGHTED_AGE, COL_WEIGHTED_GENDER, COL_WEIGHTED_RACE, COL_TOTAL,
  COL_IMG_PER_S, COL_GRADNORM_AGE, COL_GRADNORM_GENDER, COL_GRADNORM_RACE,
  COL_COS_AGE_GENDER, COL_COS_AGE_RACE, COL_COS_GENDER_RACE,
  COL_VAL_N, COL_VAL_AGE_MAE, COL_VAL_AGE_RMSE, COL_VAL_GENDER_ACC, COL_VAL_RACE_ACC,
  COL_VAL_RACE_CONFUSION,
  COL_SETTING, COL_VALUE, COL_OLD_VALUE, COL_STATE, COL_ERROR, COL_MESSAGE,
  COL_IMAGES, /* last: records written before it lack it, and read as 0 */
  N_COLUMNS
} Column;

static const char *const column_names[N_COLUMNS] = {
  "kind", "step", "epoch", "batch", "batches",
  "age_loss", "balance", "w_age", "w_gender", "w_race", "lr",
  "loss_age", "loss_gender", "loss_race",
  "weighted_age", "weighted_gender", "weighted_race", "total",
  "img_per_s", "gradnorm_age", "gradnorm_gender", "gradnorm_race",
  "cos_age_gender", "cos_age_race", "cos_gender_race",
  "val_n", "val_age_mae", "val_age_rmse", "val_gender_acc", "val_race_acc",
  "val_race_confusion",
  "setting", "value", "old_value", "state", "error", "message",
  "images",
};

static const char *const kind_names[] = {
  [EVENT_STEP] = "step", [EVENT_EPOCH] = "val", [EVENT_SETTING] = "setting",
  [EVENT_STATE] = "state", [EVENT_CHECKPOINT] = "checkpoint",
};

#define N_KINDS ((int) (sizeof kind_names / sizeof kind_names[0]))

static char header[512];
static pthread_once_t header_once = PTHREAD_ONCE_INIT;

static void
build_header (void)
{
  int used = 0;
  for (int c = 0; c < N_COLUMNS; c++)
    used += snprintf (header + used, sizeof header - (size_t) used, "%s%s", c ? "," : "",
                      column_names[c]);
  snprintf (header + used, sizeof header - (size_t) used, "\n");
}

const char *
records_header (void)
{
  pthread_once (&header_once, build_header);
  return header;
}

/* ---- writing ---- */

/* A row being built: each cell's text in one buffer, NULL for an empty cell. */
typedef struct
{
  const char *cell[N_COLUMNS];
  char text[RECORDS_MAX_ROW];
  int used;
} Row;

static void
set_cell (Row *r, Column c, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

static void
set_cell (Row *r, Column c, const char *fmt, ...)
{
  int room = (int) sizeof r->text - r->used;
  va_list ap;
  va_start (ap, fmt);
  int n = vsnprintf (r->text + r->used, (size_t) room, fmt, ap);
  va_end (ap);
  HN_ASSERT (n >= 0 && n < room); /* RECORDS_MAX_ROW holds the longest row */
  r->cell[c] = r->text + r->used;
  r->used += n + 1;
}

static void
set_float (Row *r, Column c, float v)
{
  char buf[C_FLOAT_MAX];
  c_format_float (v, buf);
  set_cell (r, c, "%s", buf);
}

static void
set_double (Row *r, Column c, double v)
{
  if (isfinite (v))
    set_cell (r, c, "%.9g", v);
  else
    set_float (r, c, (float) v);
}

static void
set_loss_settings (Row *r, const HnLossConfig *loss)
{
  set_cell (r, COL_AGE_LOSS, "%s", age_loss_name (loss->age_loss));
  set_cell (r, COL_BALANCE, "%s", balance_name (loss->balance));
  for (int h = 0; h < N_HEADS; h++)
    set_float (r, (Column) (COL_W_AGE + h), loss->weight[h]);
}

static void
set_losses (Row *r, const float raw[N_HEADS], const float weighted[N_HEADS], float total)
{
  for (int h = 0; h < N_HEADS; h++)
    {
      set_float (r, (Column) (COL_LOSS_AGE + h), raw[h]);
      set_float (r, (Column) (COL_WEIGHTED_AGE + h), weighted[h]);
    }
  set_float (r, COL_TOTAL, total);
}

static void
set_step (Row *r, const HnEvent *e)
{
  const HnStepEvent *s = &e->train;
  set_cell (r, COL_BATCH, "%d", s->batch_index);
  set_cell (r, COL_BATCHES, "%d", s->batches);
  set_float (r, COL_LR, s->lr);
  set_losses (r, s->raw, s->weighted, s->total);
  set_float (r, COL_IMG_PER_S, s->img_per_s);
  set_cell (r, COL_IMAGES, "%d", s->images);
  for (int h = 0; h < N_HEADS; h++)
    set_float (r, (Column) (COL_GRADNORM_AGE + h), s->grad_norm[h]);
  for (int p = 0; p < 3; p++)
    set_float (r, (Column) (COL_COS_AGE_GENDER + p), s->cosine[p]);
}

static void
set_val (Row *r, const HnEvent *e)
{
  const HnEvalResult *v = &e->val;
  float raw[N_HEADS], weighted[N_HEADS];
  const float total = eval_weighted (v, &e->loss, weighted);
  for (int h = 0; h < N_HEADS; h++)
    raw[h] = (float) v->loss[h];
  set_losses (r, raw, weighted, total);
  set_cell (r, COL_VAL_N, "%d", v->n);
  set_double (r, COL_VAL_AGE_MAE, v->age_mae);
  set_double (r, COL_VAL_AGE_RMSE, v->age_rmse);
  set_double (r, COL_VAL_GENDER_ACC, v->gender_acc);
  set_double (r, COL_VAL_RACE_ACC, v->race_acc);
  char matrix[N_RACES * N_RACES * 12];
  int used = 0;
  for (int t = 0; t < N_RACES; t++)
    for (int p = 0; p < N_RACES; p++)
      used += snprintf (matrix + used, sizeof matrix - (size_t) used, "%s%d", used ? " " : "",
                        v->race_confusion[t][p]);
  set_cell (r, COL_VAL_RACE_CONFUSION, "%s", matrix);
}

static void
set_setting (Row *r, const HnEvent *e)
{
  HnSettingKind what = e->setting.what;
  set_cell (r, COL_SETTING, "%s", setting_name (what));
  if (what == SETTING_AGE_LOSS)
    {
      set_cell (r, COL_VALUE, "%s", age_loss_name ((HnAgeLoss) e->setting.value));
      set_cell (r, COL_OLD_VALUE, "%s", age_loss_name ((HnAgeLoss) e->setting.old_value));
    }
  else if (what == SETTING_BALANCE)
    {
      set_cell (r, COL_VALUE, "%s", balance_name ((HnBalance) e->setting.value));
      set_cell (r, COL_OLD_VALUE, "%s", balance_name ((HnBalance) e->setting.old_value));
    }
  else
    {
      set_double (r, COL_VALUE, e->setting.value);
      set_double (r, COL_OLD_VALUE, e->setting.old_value);
    }
  char text[128];
  setting_describe (what, e->setting.value, e->setting.old_value, text, sizeof text);
  set_cell (r, COL_MESSAGE, "%s", text);
}

int
records_quote_cell (char *out, int room, const char *cell)
{
  if (strpbrk (cell, ",\"\r\n") == NULL)
    return snprintf (out, (size_t) room, "%s", cell);
  int n = 0;
  out[n++] = '"';
  for (const char *c = cell; *c != '\0' && n < room - 3; c++)
    {
      if (*c == '"')
        out[n++] = '"';
      out[n++] = *c;
    }
  out[n++] = '"';
  out[n] = '\0';
  return n;
}

int
records_format (const HnEvent *e, char *buf, int len)
{
  HN_ASSERT (e->kind >= 0 && e->kind < N_KINDS && len >= RECORDS_MAX_ROW);
  locale_t previous = c_locale_enter ();
  Row row = { 0 }, *r = &row;
  set_cell (r, COL_KIND, "%s", kind_names[e->kind]);
  set_cell (r, COL_STEP, "%lld", (long long) e->step);
  set_cell (r, COL_EPOCH, "%d", e->epoch);
  set_loss_settings (r, &e->loss);
  switch (e->kind)
    {
    case EVENT_STEP:
      set_step (r, e);
      break;
    case EVENT_EPOCH:
      set_val (r, e);
      break;
    case EVENT_SETTING:
      set_setting (r, e);
      break;
    case EVENT_STATE:
      set_cell (r, COL_STATE, "%s", trainer_state_name (e->state.state));
      /* fall through: the error flag and message, as a checkpoint's */
      __attribute__ ((fallthrough));
    case EVENT_CHECKPOINT:
      set_cell (r, COL_ERROR, "%d", e->state.error);
      set_cell (r, COL_MESSAGE, "%s", e->state.message);
      break;
    }
  int used = 0;
  for (int c = 0; c < N_COLUMNS; c++)
    {
      if (c > 0)
        buf[used++] = ',';
      if (r->cell[c] != NULL)
        used += records_quote_cell (buf + used, len - used - 2, r->cell[c]);
    }
  buf[used++] = '\n';
  buf[used] = '\0';
  c_locale_leave (previous);
  return used;
}

/* ---- reading ---- */

#define MAX_LINE (64 * 1024) /* real rows are under 2 KiB; more is not a record */

/* One row's cells, split in place. */
typedef struct
{
  char *line;
  int len, cap;
  char *cell[N_COLUMNS + 64]; /* room for columns this version does not know */
  int n_cells;
} Fields;

typedef enum
{
  LINE_OK,
  LINE_END,       /* no more input */
  LINE_PARTIAL,   /* input ended inside the row: a writer killed mid-line */
  LINE_TOO_LONG,
  LINE_NO_MEMORY,
} LineStatus;

static bool
push_char (Fields *f, char ch)
{
  if (f->len + 1 >= f->cap)
    {
      int cap = f->cap ? 2 * f->cap : 1024;
      char *p = realloc (f->line, (size_t) cap);
      if (p == NULL)
        return false;
      f->line = p;
      f->cap = cap;
    }
  f->line[f->len++] = ch;
  return true;
}

/* Reads one CSV row (quoted cells may hold commas, quotes and line breaks) into f->line,
 * cells separated by NULs. */
static LineStatus
read_row (FILE *in, Fields *f)
{
  f->len = 0;
  bool quoted = false, any = false;
  int ch;
  while ((ch = getc_unlocked (in)) != EOF)
    {
      any = true;
      if (f->len >= MAX_LINE)
        return LINE_TOO_LONG;
      if (quoted && ch == '"')
        {
          int next = getc_unlocked (in);
          if (next == '"')
            ch = '"';
          else
            {
              quoted = false;
              if (next == EOF)
                break;
              ungetc (next, in);
              continue;
            }
        }
      else if (!quoted && ch == '"')
        {
          quoted = true;
          continue;
        }
      else if (!quoted && ch == ',')
        ch = '\0';
      else if (!quoted && (ch == '\n' || ch == '\r'))
        {
          if (ch == '\r' && (ch = getc_unlocked (in)) != '\n' && ch != EOF)
            ungetc (ch, in);
          if (!push_char (f, '\0'))
            return LINE_NO_MEMORY;
          return LINE_OK;
        }
      if (!push_char (f, (char) ch))
        return LINE_NO_MEMORY;
    }
  return any ? LINE_PARTIAL : LINE_END;
}

static void
split (Fields *f)
{
  f->n_cells = 0;
  for (int i = 0; i < f->len && f->n_cells < (int) (sizeof f->cell / sizeof f->cell[0]); )
    {
      f->cell[f->n_cells++] = f->line + i;
      i += (int) strlen (f->line + i) + 1;
    }
}

/* Where each known column is in this file (−1: absent). */
typedef struct
{
  int at[N_COLUMNS];
} Layout;

static bool
parse_header (Fields *f, Layout *layout, HnError *err)
{
  for (int c = 0; c < N_COLUMNS; c++)
    layout->at[c] = -1;
  for (int i = 0; i < f->n_cells; i++)
    for (int c = 0; c < N_COLUMNS; c++)
      if (strcmp (f->cell[i], column_names[c]) == 0)
        layout->at[c] = i;
  static const Column needed[] = { COL_STEP, COL_EPOCH };
  for (size_t k = 0; k < sizeof needed / sizeof needed[0]; k++)
    if (layout->at[needed[k]] < 0)
      return hn_error_set (err, "line 1 is not a record header (no %s column)",
                           column_names[needed[k]]);
  return true;
}

/* The parsing of one row: cells by column, and the first problem met. */
typedef struct
{
  const Fields *f;
  const Layout *layout;
  const char *bad; /* the column that did not parse, or NULL */
} Cells;

static const char *
cell (Cells *c, Column col)
{
  int at = c->layout->at[col];
  return at >= 0 && at < c->f->n_cells ? c->f->cell[at] : "";
}

static int64_t
cell_int (Cells *c, Column col, int64_t lo, int64_t hi)
{
  const char *s = cell (c, col);
  if (*s == '\0')
    return 0;
  char *end;
  errno = 0;
  long long v = strtoll (s, &end, 10);
  if (errno || *end || v < lo || v > hi)
    {
      c->bad = c->bad ? c->bad : column_names[col];
      return 0;
    }
  return v;
}

static double
cell_number (Cells *c, Column col)
{
  const char *s = cell (c, col);
  if (*s == '\0')
    return 0;
  char *end;
  double v = strtod (s, &end);
  if (*end)
    {
      c->bad = c->bad ? c->bad : column_names[col];
      return 0;
    }
  return v;
}

static float
cell_float (Cells *c, Column col)
{
  return (float) cell_number (c, col);
}

/* name_of (i) for i in [0, n) against the cell; empty: fallback. */
static int
cell_enum (Cells *c, Column col, const char *const *names, int n, int fallback)
{
  const char *s = cell (c, col);
  if (*s == '\0')
    return fallback;
  for (int i = 0; i < n; i++)
    if (names[i] != NULL && strcmp (s, names[i]) == 0)
      return i;
  c->bad = c->bad ? c->bad : column_names[col];
  return fallback;
}

static HnAgeLoss
cell_age_loss (Cells *c, Column col)
{
  const char *s = cell (c, col);
  HnAgeLoss kind = AGE_LOSS_L1;
  if (*s != '\0' && !age_loss_from_name (s, &kind))
    c->bad = c->bad ? c->bad : column_names[col];
  return kind;
}

/* A record written before the balancing methods has no balance column: manual. */
static HnBalance
cell_balance (Cells *c, Column col)
{
  const char *s = cell (c, col);
  HnBalance method = BALANCE_MANUAL;
  if (*s != '\0' && !balance_from_name (s, &method))
    c->bad = c->bad ? c->bad : column_names[col];
  return method;
}

static void
read_loss_settings (Cells *c, HnLossConfig *loss)
{
  loss->age_loss = cell_age_loss (c, COL_AGE_LOSS);
  loss->balance = cell_balance (c, COL_BALANCE);
  for (int h = 0; h < N_HEADS; h++)
    loss->weight[h] = cell_float (c, (Column) (COL_W_AGE + h));
}

static void
read_step (Cells *c, HnEvent *e)
{
  HnStepEvent *s = &e->train;
  s->batch_index = (int) cell_int (c, COL_BATCH, 0, INT32_MAX);
  s->batches = (int) cell_int (c, COL_BATCHES, 0, INT32_MAX);
  s->lr = cell_float (c, COL_LR);
  for (int h = 0; h < N_HEADS; h++)
    {
      s->raw[h] = cell_float (c, (Column) (COL_LOSS_AGE + h));
      s->weighted[h] = cell_float (c, (Column) (COL_WEIGHTED_AGE + h));
      s->grad_norm[h] = cell_float (c, (Column) (COL_GRADNORM_AGE + h));
    }
  s->total = cell_float (c, COL_TOTAL);
  s->img_per_s = cell_float (c, COL_IMG_PER_S);
  s->images = (int) cell_int (c, COL_IMAGES, 0, INT32_MAX);
  for (int p = 0; p < 3; p++)
    s->cosine[p] = cell_float (c, (Column) (COL_COS_AGE_GENDER + p));
}

static void
read_val (Cells *c, HnEvent *e)
{
  HnEvalResult *v = &e->val;
  v->n = (int) cell_int (c, COL_VAL_N, 0, INT32_MAX);
  v->age_mae = cell_number (c, COL_VAL_AGE_MAE);
  v->age_rmse = cell_number (c, COL_VAL_AGE_RMSE);
  v->gender_acc = cell_number (c, COL_VAL_GENDER_ACC);
  v->race_acc = cell_number (c, COL_VAL_RACE_ACC);
  for (int h = 0; h < N_HEADS; h++)
    {
      /* the loss trained on is what its weight multiplied (or, weighed 0, the raw one) */
      v->loss[h] = cell_number (c, (Column) (COL_LOSS_AGE + h));
      const double weighted = cell_number (c, (Column) (COL_WEIGHTED_AGE + h));
      v->trained[h] = e->loss.weight[h] > 0 ? weighted / e->loss.weight[h] : v->loss[h];
    }
  const char *s = cell (c, COL_VAL_RACE_CONFUSION);
  for (int k = 0; *s != '\0' && k < N_RACES * N_RACES; k++)
    {
      char *end;
      long count = strtol (s, &end, 10);
      if (end == s || count < 0 || count > INT32_MAX || (*end != ' ' && *end != '\0')
          || (k == N_RACES * N_RACES - 1) != (*end == '\0'))
        {
          c->bad = c->bad ? c->bad : column_names[COL_VAL_RACE_CONFUSION];
          return;
        }
      v->race_confusion[k / N_RACES][k % N_RACES] = (int) count;
      s = end + (*end == ' ');
    }
}

static void
read_setting (Cells *c, HnEvent *e)
{
  HnSettingKind what = SETTING_W_AGE;
  if (!setting_from_name (cell (c, COL_SETTING), &what))
    c->bad = c->bad ? c->bad : column_names[COL_SETTING];
  e->setting.what = what;
  if (what == SETTING_AGE_LOSS)
    {
      e->setting.value = cell_age_loss (c, COL_VALUE);
      e->setting.old_value = cell_age_loss (c, COL_OLD_VALUE);
    }
  else if (what == SETTING_BALANCE)
    {
      e->setting.value = cell_balance (c, COL_VALUE);
      e->setting.old_value = cell_balance (c, COL_OLD_VALUE);
    }
  else
    {
      e->setting.value = cell_number (c, COL_VALUE);
      e->setting.old_value = cell_number (c, COL_OLD_VALUE);
    }
}

static void
read_state (Cells *c, HnEvent *e)
{
  if (e->kind == EVENT_STATE)
    {
      HnTrainerState state = TRAINER_RUNNING;
      if (!trainer_state_from_name (cell (c, COL_STATE), &state))
        c->bad = c->bad ? c->bad : column_names[COL_STATE];
      e->state.state = state;
    }
  e->state.error = cell_int (c, COL_ERROR, 0, 1) != 0;
  snprintf (e->state.message, sizeof e->state.message, "%s", cell (c, COL_MESSAGE));
}

/* Turns one row into an event; false (and *bad) when a cell does not parse. */
static bool
parse_row (const Fields *f, const Layout *layout, HnEvent *e, const char **bad)
{
  Cells c = { f, layout, NULL };
  memset (e, 0, sizeof *e);
  e->kind = layout->at[COL_KIND] < 0
                ? EVENT_STEP
                : (HnEventKind) cell_enum (&c, COL_KIND, kind_names, N_KINDS, EVENT_STEP);
  if (c.bad == NULL && *cell (&c, COL_KIND) == '\0' && layout->at[COL_KIND] >= 0)
    c.bad = column_names[COL_KIND];
  e->step = cell_int (&c, COL_STEP, 0, INT64_MAX / 2);
  e->epoch = (int) cell_int (&c, COL_EPOCH, 0, INT32_MAX);
  read_loss_settings (&c, &e->loss);
  switch (e->kind)
    {
    case EVENT_STEP:
      read_step (&c, e);
      break;
    case EVENT_EPOCH:
      read_val (&c, e);
      break;
    case EVENT_SETTING:
      read_setting (&c, e);
      break;
    case EVENT_STATE:
    case EVENT_CHECKPOINT:
      read_state (&c, e);
      break;
    }
  *bad = c.bad;
  return c.bad == NULL;
}

/* Opens a regular file for reading without blocking on a FIFO. */
static FILE *
open_regular (const char *path, HnError *err)
{
  int fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  struct stat st;
  if (fd < 0)
    return hn_error_set (err, "%s: cannot open (%s)", path, strerror (errno)), NULL;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      return hn_error_set (err, "%s: %s", path, S_ISDIR (st.st_mode) ? "is a folder, not a record file"
                                                                    : "not a regular file"), NULL;
    }
  FILE *in = fdopen (fd, "r");
  if (in == NULL)
    {
      close (fd);
      hn_error_set (err, "%s: out of memory", path);
    }
  return in;
}

bool
records_read (const char *path, HnRecordFn fn, void *ctx, int64_t *n_rows, HnError *err)
{
  FILE *in = open_regular (path, err);
  if (in == NULL)
    return false;
  locale_t previous = c_locale_enter ();
  Fields f = { 0 };
  Layout layout;
  HnEvent e;
  int64_t line = 1, rows = 0;
  bool ok = true;
  LineStatus status = read_row (in, &f);
  if (status != LINE_OK)
    ok = hn_error_set (err, "%s: %s", path, status == LINE_END ? "the file is empty"
                                                             : "line 1 is not a record header");
  else
    {
      split (&f);
      ok = parse_header (&f, &layout, err) || hn_error_prefix (err, "%s", path);
    }
  while (ok && (status = read_row (in, &f)) == LINE_OK)
    {
      const char *bad;
      line++;
      split (&f);
      if (f.n_cells == 1 && f.cell[0][0] == '\0')
        continue; /* a blank line */
      if (!parse_row (&f, &layout, &e, &bad))
        ok = hn_error_set (err, "%s: line %lld: the %s cell does not read", path, (long long) line,
                           bad);
      else if (rows++, !fn (&e, ctx))
        break;
    }
  if (ok && status == LINE_TOO_LONG)
    ok = hn_error_set (err, "%s: line %lld is too long for a record", path, (long long) line + 1);
  else if (ok && status == LINE_NO_MEMORY)
    ok = hn_error_set (err, "%s: out of memory", path);
  else if (ok && ferror (in))
    ok = hn_error_set (err, "%s: cannot read (%s)", path, strerror (errno));
  c_locale_leave (previous);
  free (f.line);
  fclose (in);
  if (n_rows != NULL)
    *n_rows = rows;
  return ok;
}
