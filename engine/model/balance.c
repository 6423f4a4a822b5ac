#include "balance.h"

#include <string.h>

#include "error.h"

static const char *const names[N_BALANCE] = {
  "manual", "scale-invariant", "uncertainty", "famo", "mgda-ub", "imtl-g", "pcgrad", "rlw",
};
static const char *const titles[N_BALANCE] = {
  "Manual", "Scale-Invariant", "Uncertainty", "FAMO", "MGDA-UB", "IMTL-G", "PCGrad", "Random (RLW)",
};

const char *
balance_name (HnBalance method)
{
  HN_ASSERT (method >= 0 && method < N_BALANCE);
  return names[method];
}

const char *
balance_title (HnBalance method)
{
  HN_ASSERT (method >= 0 && method < N_BALANCE);
  return titles[method];
}

bool
balance_from_name (const char *name, HnBalance *method)
{
  for (int i = 0; i < N_BALANCE; i++)
    if (strcmp (name, names[i]) == 0)
      {
        *method = (HnBalance) i;
        return true;
      }
  return false;
}

bool
balance_uses_gradients (HnBalance method)
{
  return method == BALANCE_MGDA_UB || method == BALANCE_IMTL_G || method == BALANCE_PCGRAD;
}
