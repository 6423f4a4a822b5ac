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

#include <stdint.h>

#define BALANCE_HEADS 3 /* N_HEADS, without model.h */

/* What a method keeps from step to step (the method itself is the loss settings'); a
 * checkpoint holds it (balance_pack), so a resumed run goes on exactly. */
typedef struct
{
  float base[BALANCE_HEADS];  /* the weights in force when the method started */
  float param[BALANCE_HEADS]; /* uncertainty: sᵢ = log σᵢ²; famo: the logits ξᵢ */
  float m[BALANCE_HEADS], v[BALANCE_HEADS]; /* Adam's moments on param */
  int64_t t;                  /* Adam's steps on param */
  float prev_loss[BALANCE_HEADS];           /* famo: the losses of the step before */
  bool has_prev;
} HnBalanceState;

/* Starts method from the weights in force, warm: uncertainty sᵢ = −ln 2wᵢ, so that its first
 * weights 1 / (2e^{sᵢ}) are wᵢ; famo ξᵢ = ln wᵢ (a zero weight counts as 10⁻⁶). */
void balance_start (HnBalanceState *s, HnBalance method, const float weight[BALANCE_HEADS]);

/* The FAMO logits' optimizer, as LibMTL's defaults: Adam, lr 0.025, L2 decay 10⁻³. */
#define FAMO_LR 0.025f
#define FAMO_DECAY 1e-3f

/* The weights of a loss-based method (scale-invariant, uncertainty, famo, rlw) for a step
 * whose losses (as trained on) are loss, and what the method learns from it. lr: the step's
 * learning rate, which uncertainty's sᵢ follow (they are parameters of the model in Kendall
 * et al., trained by its optimizer; here by Adam without decay). rlw: normal holds three
 * standard normal draws. famo learns from the change of the losses since the step before
 * (the next batch's losses: LibMTL's second forward pass on the same batch would cost a third
 * of a step). */
void balance_loss_step (HnBalance method, HnBalanceState *s, const float loss[BALANCE_HEADS], float lr,
                        const float normal[BALANCE_HEADS], float weight[BALANCE_HEADS]);

/* The weights of a gradient-based method (mgda-ub, imtl-g, pcgrad) from the Gram matrix of
 * the heads' unweighted gradients at the shared feature, gram[i][j] = gᵢ·gⱼ; the trunk then
 * learns from Σ weightᵢ·gᵢ. pcgrad: order[i] is the order (a permutation of 0…2) in which
 * head i's gradient is projected off the others, random in LibMTL. weight holds the weights
 * in force, and keeps them when the gradients are degenerate (a zero one, a singular system). */
void balance_gradient_weights (HnBalance method, const double gram[BALANCE_HEADS][BALANCE_HEADS],
                               const int order[BALANCE_HEADS][BALANCE_HEADS],
                               float weight[BALANCE_HEADS]);

/* The state as floats, for a checkpoint; unpack refuses values no state can hold. */
#define BALANCE_PACKED 17
void balance_pack (const HnBalanceState *s, float out[BALANCE_PACKED]);
bool balance_unpack (HnBalanceState *s, const float in[BALANCE_PACKED]);
