#include "events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nametable.h"

static const char *const setting_names[N_SETTINGS] = {
  "w_age", "w_gender", "w_race", "age_loss", "lr", "balance", "pause", "resume", "rollback",
};

static const char *const state_names[N_TRAINER_STATES] = {
  "running", "paused", "diverged", "finished", "stopped", "failed",
};

const char *
setting_name (HnSettingKind kind)
{
  HN_ASSERT (kind >= 0 && kind < N_SETTINGS);
  return setting_names[kind];
}

bool
setting_from_name (const char *name, HnSettingKind *kind)
{
  int k = name_index (setting_names, N_SETTINGS, name);
  if (k >= 0)
    *kind = (HnSettingKind) k;
  return k >= 0;
}

void
setting_describe (HnSettingKind kind, double value, double old_value, char *buf, int len)
{
  switch (kind)
    {
    case SETTING_W_AGE:
    case SETTING_W_GENDER:
    case SETTING_W_RACE:
      snprintf (buf, (size_t) len, "%s %g → %g", setting_name (kind), old_value, value);
      break;
    case SETTING_AGE_LOSS:
      snprintf (buf, (size_t) len, "age %s → %s", age_loss_title ((HnAgeLoss) old_value),
                age_loss_title ((HnAgeLoss) value));
      break;
    case SETTING_LR:
      snprintf (buf, (size_t) len, "lr %g → %g", old_value, value);
      break;
    case SETTING_BALANCE:
      snprintf (buf, (size_t) len, "balance %s → %s", balance_title ((HnBalance) old_value),
                balance_title ((HnBalance) value));
      break;
    case SETTING_PAUSE:
      snprintf (buf, (size_t) len, "paused");
      break;
    case SETTING_RESUME:
      snprintf (buf, (size_t) len, "resumed");
      break;
    case SETTING_ROLLBACK:
      snprintf (buf, (size_t) len, "rolled back to step %lld", (long long) value);
      break;
    default:
      HN_ASSERT (!"a setting kind");
    }
}

const char *
trainer_state_name (HnTrainerState state)
{
  HN_ASSERT (state >= 0 && state < N_TRAINER_STATES);
  return state_names[state];
}

bool
trainer_state_from_name (const char *name, HnTrainerState *state)
{
  int k = name_index (state_names, N_TRAINER_STATES, name);
  if (k >= 0)
    *state = (HnTrainerState) k;
  return k >= 0;
}

/* ---- the channel: two bounded rings, merged by sequence number ---- */

#define OTHER_RING 1024 /* validation, settings, states: a few a minute */

static void
ring_push (HnEventRing *r, const HnEvent *e)
{
  if (r->count == r->capacity) /* full: the oldest goes */
    {
      r->head = (r->head + 1) % r->capacity;
      r->count--;
      r->dropped++;
    }
  r->items[(r->head + r->count) % r->capacity] = *e;
  r->count++;
}

static const HnEvent *
ring_peek (const HnEventRing *r)
{
  return r->count ? &r->items[r->head] : NULL;
}

static void
ring_pop (HnEventRing *r)
{
  r->head = (r->head + 1) % r->capacity;
  r->count--;
}

bool
event_channel_init (HnEventChannel *ch, int step_capacity)
{
  *ch = (HnEventChannel) { 0 };
  ch->steps.capacity = step_capacity;
  ch->others.capacity = OTHER_RING;
  ch->steps.items = malloc ((size_t) step_capacity * sizeof (HnEvent));
  ch->others.items = malloc (OTHER_RING * sizeof (HnEvent));
  if (ch->steps.items == NULL || ch->others.items == NULL)
    {
      free (ch->steps.items);
      free (ch->others.items);
      return false;
    }
  pthread_mutex_init (&ch->lock, NULL);
  pthread_cond_init (&ch->pushed, NULL);
  return true;
}

void
event_channel_clear (HnEventChannel *ch)
{
  pthread_mutex_destroy (&ch->lock);
  pthread_cond_destroy (&ch->pushed);
  free (ch->steps.items);
  free (ch->others.items);
  *ch = (HnEventChannel) { 0 };
}

void
event_channel_push (HnEventChannel *ch, HnEvent *e)
{
  pthread_mutex_lock (&ch->lock);
  e->seq = ch->seq++;
  ring_push (e->kind == EVENT_STEP ? &ch->steps : &ch->others, e);
  pthread_cond_broadcast (&ch->pushed);
  pthread_mutex_unlock (&ch->lock);
}

int
event_channel_poll (HnEventChannel *ch, HnEvent *out, int max, uint64_t *dropped)
{
  pthread_mutex_lock (&ch->lock);
  int n = 0;
  while (n < max)
    {
      const HnEvent *a = ring_peek (&ch->steps), *b = ring_peek (&ch->others);
      if (a == NULL && b == NULL)
        break;
      bool take_a = a != NULL && (b == NULL || a->seq < b->seq);
      out[n++] = take_a ? *a : *b;
      ring_pop (take_a ? &ch->steps : &ch->others);
    }
  if (dropped)
    *dropped = ch->steps.dropped + ch->others.dropped;
  ch->steps.dropped = ch->others.dropped = 0;
  pthread_mutex_unlock (&ch->lock);
  return n;
}

bool
event_channel_wait (HnEventChannel *ch, int timeout_ms)
{
  struct timespec until;
  clock_gettime (CLOCK_REALTIME, &until);
  until.tv_sec += timeout_ms / 1000;
  until.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L)
    until.tv_sec++, until.tv_nsec -= 1000000000L;
  pthread_mutex_lock (&ch->lock);
  while (ch->steps.count + ch->others.count == 0)
    if (pthread_cond_timedwait (&ch->pushed, &ch->lock, &until) != 0)
      break;
  bool any = ch->steps.count + ch->others.count > 0;
  pthread_mutex_unlock (&ch->lock);
  return any;
}
