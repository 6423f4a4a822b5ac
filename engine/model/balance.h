/* balance.h — how the three heads' losses are weighed against each other.
 *
 * manual           the weights the user sets
 * scale-invariant  Σ wᵢ·log Lᵢ: each loss weighed by wᵢ / Lᵢ, wᵢ the weights in force when
 *                  the method started
 * uncertainty      Kendall et al. 2018: Σ Lᵢ / (2 e^{sᵢ}) + sᵢ / 2, sᵢ = log σᵢ² learned
 * famo             Liu et al. 2023: softmax(ξ)ᵢ / Lᵢ, normalised; ξ follows the losses' decrease
 * mgda-ub          Sener & Koltun 2018: the min-norm point of the heads' feature gradients
 * imtl-g           Liu et al. 2021: the combination whose projection on each unit gradient is equal
 * pcgrad           Yu et al. 2020: each gradient projected off those it conflicts with
 * rlw              Lin et al. 2022: softmax of normal draws, a new draw each step (the control)
 */
#pragma once

#include <stdbool.h>

typedef enum
{
  BALANCE_MANUAL,
  BALANCE_SCALE_INVARIANT,
  BALANCE_UNCERTAINTY,
  BALANCE_FAMO,
  BALANCE_MGDA_UB,
  BALANCE_IMTL_G,
  BALANCE_PCGRAD,
  BALANCE_RLW,
  N_BALANCE
} HnBalance;

const char *balance_name (HnBalance method);  /* "manual", "scale-invariant", …: files, options */
const char *balance_title (HnBalance method); /* "Manual", "Scale-Invariant", …: for people */
bool balance_from_name (const char *name, HnBalance *method);

/* Whether the method weighs the heads' gradients at the shared feature (a step then runs the
 * heads' backward unweighted, solves for the weights, and runs the trunk's once). */
bool balance_uses_gradients (HnBalance method);
