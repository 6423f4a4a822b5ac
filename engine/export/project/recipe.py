"""The C engine's training recipe in PyTorch: losses, balancing methods, optimizer, learning-rate
schedule, augmentation and moving average, so that an exported project trains as the engine does.

Each piece ports one engine file (named in its docstring), down to the float32 roundings where
the engine keeps state in floats, so tests/export/recipe_test.py can hold it to the C.
Settings are the dicts of a run.json's "settings" (engine/train/runinfo.h).

train.py must, at each step, in this order (engine/train/trainer.c train_step):
  1. set every param group's lr to step_lr(settings lr, schedule, step / total_steps), step
     counting this one from 1 and total_steps = epochs x batches per epoch;
  2. under a method (not "manual"): take normal, order = step_draws(seed, step) and the three
     losses unweighted, averaged over all ranks (every rank must find the same weights);
  3. loss-based method: weights = balance.loss_step(losses, lr, normal) before the backward,
     then backward sum(w_h * L_h) (heads and trunk weighted);
     gradient method: the heads learn from their unweighted losses; g_h = dL_h/df at the pooled
     feature f (N, 512); gram[i][j] = g_i . g_j in float64, all-reduced (sum / world**2);
     weights = balance.gradient_weights(gram, order, weights); the trunk learns from
     f.backward(sum(w_h * g_h));
     manual: backward sum(w_h * L_h) with the weights in force;
  4. skip a step whose losses or weights are not finite, the Balance as it was before it
     (state_dict() before loss_step, load_state_dict() to undo);
  5. optimizer.step(), then ema.update(model);
  6. keep weights = those the step used: they are the weights in force, which a degenerate
     Gram matrix keeps and a method started later begins from.
Live changes, as trainer.c apply_setting does them: a new method is balance.start(method,
weights in force) (the same method again changes nothing); a new age loss is
balance.forget_previous_losses(); a weight set by hand to a new value under a method is
balance.start("manual", weights in force) first, then that one weight changes (the others stay
the method's last). Validate and save with the average swapped in: ema.swap(model), then swap
back.
"""
import math
from typing import NamedTuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HEADS = ("age", "gender", "race")
BALANCES = ("manual", "scale-invariant", "uncertainty", "famo", "mgda-ub", "imtl-g", "pcgrad",
            "rlw")
LOSS_METHODS = ("scale-invariant", "uncertainty", "famo", "rlw")
GRADIENT_METHODS = ("mgda-ub", "imtl-g", "pcgrad")

FAMO_LR = 0.025  # the FAMO logits' Adam, as LibMTL's defaults (balance.h); float32 in the C
FAMO_DECAY = 1e-3


# ---- float32 and C arithmetic in Python ----

def _f32(x):
    """x rounded to float32, as the C stores it. One double operation rounded this way is the
    float32 operation (53 >= 2 x 24 + 2 bits: double rounding is harmless)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.float32(x))


def _exp(x):
    """C's exp: infinite on overflow, where math.exp raises."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _div(a, b):
    """C's a / b: infinite or NaN when b is 0, where Python raises."""
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _fmin(a, b):
    """C's fmin: a NaN argument is ignored."""
    return b if math.isnan(a) else a if math.isnan(b) else min(a, b)


def _fmax(a, b):
    """C's fmax: a NaN argument is ignored."""
    return b if math.isnan(a) else a if math.isnan(b) else max(a, b)


# ---- random numbers (engine/core/rng.c) ----

_M64 = (1 << 64) - 1


def _splitmix64(seed, counter):
    """Value `counter` of stream `seed`: the engine's counter-based generator."""
    z = (seed + counter * 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


class _Rng:
    """HnRng: the engine's draws, so the step's draws can be the C's for the same seed."""

    def __init__(self, seed, counter=0):
        self.seed, self.counter = seed & _M64, counter

    def _next(self):
        self.counter += 1
        return _splitmix64(self.seed, self.counter)

    def uniform(self):
        return (self._next() >> 40) * (1.0 / 16777216.0)

    def normal(self):
        u1 = 1.0 - self.uniform()  # in (0, 1]: the log is finite
        u2 = self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def below(self, n):
        return ((self._next() >> 32) * n) >> 32


_STREAM_AUGMENT = 0x41554721  # "AUG!" (augment.c)
_STREAM_STEP = 0xBA1A4CE      # the step's draws (trainer.c step_draws)


def seed_of(run_seed, epoch, item):
    """The seed of image `item`'s augmentation in `epoch`: the C's augment_seed without its top
    bit, so torch.Generator.manual_seed takes it and every process draws the same image."""
    stream = (int(run_seed) & _M64) ^ _STREAM_AUGMENT
    return _splitmix64(stream, ((epoch & 0xFFFFFFFF) << 32) | (item & 0xFFFFFFFF)) & ((1 << 63) - 1)


def step_draws(run_seed, step):
    """The step's random numbers as the C draws them (trainer.c step_draws): rlw's three
    standard normal draws, and for each head the order (a permutation of 0..2) in which pcgrad
    projects its gradient. step counts from 1. The same seed gives the engine's weights."""
    rng = _Rng(_splitmix64(int(run_seed) & _M64, _STREAM_STEP), step * 32)
    normal = [_f32(rng.normal()) for _ in HEADS]
    order = []
    for _ in HEADS:
        o = list(range(len(HEADS)))
        for k in range(len(HEADS) - 1, 0, -1):  # Fisher-Yates
            j = rng.below(k + 1)
            o[k], o[j] = o[j], o[k]
        order.append(o)
    return normal, order


# ---- balancing the heads' losses (engine/model/balance.c) ----

def uses_gradients(method):
    """Whether the method weighs the heads' gradients at the shared feature (a step then
    solves for the weights between the heads' backward and the trunk's)."""
    _check_method(method)
    return method in GRADIENT_METHODS


def _check_method(method):
    if method not in BALANCES:
        raise ValueError(f"unknown balancing method {method!r}: one of {', '.join(BALANCES)}")


def _softmax3(x):
    mx = _fmax(x[0], _fmax(x[1], x[2]))
    e = [_exp(v - mx) for v in x]
    total = e[0] + e[1] + e[2]
    return [_div(v, total) for v in e]


class Balance:
    """What a method keeps from step to step (HnBalanceState), per engine/model/balance.{h,c}.
    The state is float32 as in the C, so a long run drifts from it no more than rounding."""

    def __init__(self, method, weights):
        self._begin(method, weights)

    def _begin(self, method, weights):
        """balance_start: warm, so the first weights are those in force (uncertainty
        s_i = -ln 2w_i, famo xi_i = ln w_i; a zero weight counts as 1e-6)."""
        _check_method(method)
        self.method = method
        self.base = [_f32(w) for w in weights]
        self.param = [0.0] * 3  # uncertainty: s_i = log sigma_i^2; famo: the logits xi_i
        for i, w in enumerate(self.base):
            w = _fmax(w, 1e-6)
            if method == "uncertainty":
                self.param[i] = _f32(-math.log(2 * w))
            elif method == "famo":
                self.param[i] = _f32(math.log(w))
        self.m, self.v, self.t = [0.0] * 3, [0.0] * 3, 0  # Adam on param
        self.prev_loss, self.has_prev = [0.0] * 3, False  # famo

    def start(self, method, weights):
        """A method chosen live: it starts from the weights in force; the method in force
        chosen again goes on as it was (trainer.c apply_setting)."""
        if method != self.method:
            self._begin(method, weights)

    def forget_previous_losses(self):
        """The age loss changed: the losses before are of another loss (famo learns nothing
        from the change)."""
        self.has_prev = False

    def state_dict(self):
        """A copy: loss_step changes the state in place."""
        return {k: list(v) if isinstance(v, list) else v for k, v in vars(self).items()}

    def load_state_dict(self, state):
        for k, v in state.items():
            setattr(self, k, list(v) if isinstance(v, (list, tuple)) else v)

    def _adam(self, grad, lr, decay):
        """One step of torch.optim.Adam (betas 0.9, 0.999, eps 1e-8, L2 decay) on param, in
        double with the moments and param stored as float32."""
        b1, b2, eps = 0.9, 0.999, 1e-8
        self.t += 1
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for i in range(3):
            g = grad[i] + _f32(decay * self.param[i])  # float x float in the C
            self.m[i] = _f32(b1 * self.m[i] + (1 - b1) * g)
            self.v[i] = _f32(b2 * self.v[i] + (1 - b2) * g * g)
            step = _f32(lr * (self.m[i] / c1) / (math.sqrt(self.v[i] / c2) + eps))
            self.param[i] = _f32(self.param[i] - step)

    def loss_step(self, losses, lr, normal):
        """balance_loss_step: the weights of a loss-based method for a step with these
        (unweighted) losses, and what the method learns from them. lr is the step's: the
        uncertainty s_i are trained with it. normal: three standard normal draws (rlw)."""
        if self.method not in LOSS_METHODS:
            raise ValueError(f"{self.method} is not a loss-based method")
        loss = [_f32(x) for x in losses]
        if self.method == "scale-invariant":  # d(w_i log L_i) = (w_i / L_i) dL_i
            return [_f32(_div(b, x + 1e-8)) for b, x in zip(self.base, loss)]
        if self.method == "uncertainty":
            return self._uncertainty_step(loss, _f32(lr))
        if self.method == "famo":
            return self._famo_step(loss)
        return [_f32(z) for z in _softmax3([_f32(x) for x in normal])]  # rlw

    def _uncertainty_step(self, loss, lr):
        """Kendall et al. in LibMTL's form, sum L_i / (2e^s_i) + s_i / 2: the gradient on
        s_i is 1/2 - L_i / (2e^s_i); its Adam has no decay."""
        w = [0.5 * _exp(-s) for s in self.param]
        self._adam([0.5 - wi * x for wi, x in zip(w, loss)], lr, 0.0)
        return [_f32(wi) for wi in w]

    def _famo_step(self, loss):
        """FAMO: xi moves along the softmax's Jacobian times the decrease of the log-losses
        since the step before (the previous batch's), then the weights are z_i / L_i
        normalised."""
        eps = 1e-8
        if self.has_prev:
            z = _softmax3(self.param)
            delta = [math.log(p + eps) - math.log(x + eps) for p, x in zip(self.prev_loss, loss)]
            zd = 0.0  # a plain loop: sum() of floats is compensated from Python 3.12
            for zi, d in zip(z, delta):
                zd += zi * d
            self._adam([zi * (d - zd) for zi, d in zip(z, delta)], _f32(FAMO_LR), _f32(FAMO_DECAY))
        self.prev_loss, self.has_prev = list(loss), True
        z = _softmax3(self.param)
        c = 0.0
        for zi, x in zip(z, loss):
            c += _div(zi, x + eps)
        return [_f32(_div(_div(zi, x + eps), c)) for zi, x in zip(z, loss)]

    def gradient_weights(self, gram, order, weights):
        """balance_gradient_weights: the weights of a gradient-based method from the Gram
        matrix gram[i][j] = g_i . g_j of the heads' unweighted gradients at the shared feature.
        order: pcgrad's projection order per head. weights: those in force, returned as they
        are when the gradients are degenerate (a zero one, a singular system, NaN)."""
        if self.method not in GRADIENT_METHODS:
            raise ValueError(f"{self.method} is not a gradient-based method")
        g = [[float(x) for x in row] for row in gram]
        if self.method == "mgda-ub":
            w = _mgda_weights(g)
        elif self.method == "imtl-g":
            w = _imtl_weights(g)
        else:
            w = _pcgrad_weights(g, order)
        if w is None or not all(math.isfinite(x) for x in w):
            return [_f32(x) for x in weights]
        return [_f32(x) for x in w]


def _min_norm_pair(v1v1, v1v2, v2v2):
    """min over gamma in [0, 1] of |gamma v1 + (1 - gamma) v2|^2 from the three dot products
    (Sener & Koltun's MinNormSolver): (gamma, cost)."""
    if v1v2 >= v1v1:
        return 0.999, v1v1
    if v1v2 >= v2v2:
        return 0.001, v2v2
    gamma = _div(-(v1v2 - v2v2), v1v1 + v2v2 - 2 * v1v2)
    return gamma, v2v2 + gamma * (v1v2 - v2v2)


def _project_to_simplex(y):
    """Euclidean projection onto the simplex (LibMTL's _projection2simplex)."""
    s = list(y)
    for i in range(3):  # descending, by the C's exchanges (NaN stays where it falls)
        for j in range(i + 1, 3):
            if s[j] > s[i]:
                s[i], s[j] = s[j], s[i]
    tmax, partial = (y[0] + y[1] + y[2] - 1.0) / 3, 0.0
    for i in range(2):
        partial += s[i]
        t = (partial - 1) / (i + 1.0)
        if t > s[i + 1]:
            tmax = t
            break
    return [_fmax(v - tmax, 0.0) for v in y]


def _next_point(cur, grad):
    """LibMTL's _next_point: a step along the projected direction to the simplex's border
    (the nearest coordinate falling to 0 sets it, else 1; one rising to 1 may shorten it)."""
    mean = (grad[0] + grad[1] + grad[2]) / 3
    proj = [g - mean for g in grad]
    t, to_zero, to_one = 1.0, math.inf, math.inf
    for c, p in zip(cur, proj):
        if p != 0:
            tm = -c / p if p < 0 else (1.0 - c) / p
            if tm > 1e-7:
                if p < 0:
                    to_zero = _fmin(to_zero, tm)
                else:
                    to_one = _fmin(to_one, tm)
    if math.isfinite(to_zero):
        t = to_zero
    t = _fmin(t, to_one)
    return _project_to_simplex([p * t + c for p, c in zip(proj, cur)])


def _quad(a, b, g):
    s = 0.0
    for i in range(3):
        for j in range(3):
            s += a[i] * b[j] * g[i][j]
    return s


def _mgda_weights(g):
    """MGDA-UB: the min-norm point of the gradients' convex hull, from the best pair, then
    Frank-Wolfe steps (at most 250, until the weights move less than 1e-5)."""
    dmin, gamma, bi, bj = math.inf, 0.0, 0, 1
    for i in range(3):
        for j in range(i + 1, 3):
            c, cost = _min_norm_pair(g[i][i], g[i][j], g[j][j])
            if cost < dmin:
                dmin, gamma, bi, bj = cost, c, i, j
    sol = [0.0] * 3
    sol[bi], sol[bj] = gamma, 1 - gamma
    for _ in range(250):
        direction = [-(g[i][0] * sol[0] + g[i][1] * sol[1] + g[i][2] * sol[2]) for i in range(3)]
        point = _next_point(sol, direction)
        nc, _ = _min_norm_pair(_quad(sol, sol, g), _quad(sol, point, g), _quad(point, point, g))
        nxt = [nc * s + (1 - nc) * p for s, p in zip(sol, point)]
        change = 0.0
        for a, b in zip(nxt, sol):
            change += abs(a - b)
        if change < 1e-5:
            return sol
        sol = nxt
    return sol


def _imtl_weights(g):
    """IMTL-G: alpha with equal projections of sum alpha_i g_i on every unit gradient,
    sum alpha_i = 1 (alpha_1..2 = g_0 U^T (D U^T)^-1). None when a gradient is zero or the
    2x2 system is singular relative to its terms."""
    norm = [math.sqrt(g[i][i]) if g[i][i] >= 0 else math.nan for i in range(3)]
    if not all(n > 0 for n in norm):
        return None
    du, gu = [[0.0, 0.0], [0.0, 0.0]], [0.0, 0.0]
    for k in (1, 2):
        gu[k - 1] = g[0][0] / norm[0] - g[0][k] / norm[k]
        for j in (1, 2):
            du[j - 1][k - 1] = (g[0][0] / norm[0] - g[0][k] / norm[k]
                                - g[j][0] / norm[0] + g[j][k] / norm[k])
    det = du[0][0] * du[1][1] - du[0][1] * du[1][0]
    if not abs(det) > 1e-12 * (abs(du[0][0] * du[1][1]) + abs(du[0][1] * du[1][0])):
        return None
    a1 = (gu[0] * du[1][1] - gu[1] * du[1][0]) / det
    a2 = (-gu[0] * du[0][1] + gu[1] * du[0][0]) / det
    return [1 - a1 - a2, a1, a2]


def _pcgrad_weights(g, order):
    """PCGrad: each g_i projected in turn off every original g_j (in order[i]) it conflicts
    with; the sum of the projections is sum beta_j g_j, tracked as coefficients so the dot
    products come from the Gram matrix."""
    beta = [1.0] * 3
    for i in range(3):
        c = [0.0] * 3
        c[i] = 1.0
        for j in order[i]:
            gij = c[0] * g[0][j] + c[1] * g[1][j] + c[2] * g[2][j]
            if gij < 0:
                f = _div(gij, g[j][j] + 1e-8)
                c[j] -= f
                beta[j] -= f
    return beta


# ---- the learning rate (engine/model/schedule.c) ----

def _cos_anneal(a, b, t):
    """From a to b along half a cosine as t goes from 0 to 1 (PyTorch's annealing)."""
    return b + (a - b) * (1.0 + math.cos(math.pi * t)) / 2.0


def schedule_factor(schedule, p):
    """The factor of the peak learning rate at progress p of the run (clamped to [0, 1]):
    constant; step (x gamma at 1/2 and again at 3/4); cosine (linear warm-up from 0, then
    half a cosine to 0); onecycle (cosine from 1/div up to 1 over the warm-up, then down to
    1/(div final_div))."""
    p = 0.0 if p < 0 else 1.0 if p > 1 else float(p)
    kind, w = schedule["kind"], _f32(schedule.get("warmup", 0.0))
    if kind == "constant":
        return 1.0
    if kind == "step":
        gamma = _f32(schedule["gamma"])
        return 1.0 if p < 0.5 else gamma if p < 0.75 else gamma * gamma
    if kind == "cosine":
        if p < w:
            return p / w
        return _cos_anneal(1.0, 0.0, (p - w) / (1 - w) if w < 1 else 1.0)
    if kind == "onecycle":
        start = 1.0 / _f32(schedule["div"])
        end = start / _f32(schedule["final_div"])
        if p < w:
            return _cos_anneal(start, 1.0, p / w)
        return _cos_anneal(1.0, end, (p - w) / (1 - w) if w < 1 else 1.0)
    raise ValueError(f"unknown schedule {kind!r}")


def step_lr(peak, schedule, p):
    """The step's learning rate as the trainer rounds it (a float): peak x the schedule's
    factor at p = (steps done, this one included) / total steps."""
    return _f32(_f32(peak) * schedule_factor(schedule, p))


# ---- the optimizer (engine/model/optimizer.{h,c}) ----

def _decays(module, name):
    """Whether weight decay applies to a parameter under decay "weights": convolution and
    linear weights only (optimizer_decay_weights_only), never batch-norm parameters or
    biases."""
    return name == "weight" and isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear))


def make_optimizer(model, optimizer):
    """torch.optim with the engine's update rule for settings.optimizer {kind, lr, momentum,
    nesterov, weight_decay, decay, beta1, beta2, eps}: decay "all" is one group, "weights" a
    group with decay and one without. train.py sets each group's lr every step."""
    kind, lr = optimizer["kind"], float(optimizer["lr"])
    wd = float(optimizer.get("weight_decay", 0.0))
    if optimizer.get("decay", "all") == "all":
        groups = [{"params": list(model.parameters()), "weight_decay": wd}]
    else:
        decay, plain = [], []
        for module in model.modules():
            for name, p in module.named_parameters(recurse=False):
                (decay if _decays(module, name) else plain).append(p)
        groups = [g for g in ({"params": decay, "weight_decay": wd},
                              {"params": plain, "weight_decay": 0.0}) if g["params"]]
    if kind == "sgd":
        momentum = float(optimizer.get("momentum", 0.0))
        # the C ignores Nesterov without momentum, which torch refuses
        nesterov = bool(optimizer.get("nesterov", False)) and momentum > 0
        return torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=nesterov)
    if kind in ("adam", "adamw"):
        betas = (float(optimizer.get("beta1", 0.9)), float(optimizer.get("beta2", 0.999)))
        cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
        return cls(groups, lr=lr, betas=betas, eps=float(optimizer.get("eps", 1e-8)))
    raise ValueError(f"unknown optimizer {kind!r}")


# ---- the losses (engine/ops/losses.{h,c}, engine/model/model.c) ----

def age_loss(kind, pred, target):
    """l1, mse or huber (SmoothL1, beta 1), the mean over the batch. In the units the age head
    trains on: years, or with age_target "standardized" z = (age - mean) / std for both pred
    and target (mean and population std of the training split's ages; std 1 when the variance
    is at most 1e-6): the engine's head then predicts z."""
    pred, target = pred.reshape(-1), target.reshape(-1).to(pred.dtype)
    if kind == "l1":
        return F.l1_loss(pred, target)
    if kind == "mse":
        return F.mse_loss(pred, target)
    if kind == "huber":
        return F.smooth_l1_loss(pred, target, beta=1.0)
    raise ValueError(f"unknown age loss {kind!r}")


def gender_loss(logit, target, smoothing):
    """Binary cross-entropy on the logit of P(female) (target 1 female, 0 male). Smoothing
    moves the targets themselves to y(1 - eps) + eps/2, the soft target BCE takes as is."""
    logit, target = logit.reshape(-1), target.reshape(-1).to(logit.dtype)
    if smoothing > 0:
        eps = np.float32(smoothing)
        target = target * float(np.float32(1) - eps) + float(np.float32(0.5) * eps)
    return F.binary_cross_entropy_with_logits(logit, target)


def race_loss(logits, target, smoothing):
    """Cross-entropy over the five races, smoothed as PyTorch's label_smoothing: the target
    distribution is (1 - eps) onehot + eps/K."""
    return F.cross_entropy(logits, target.reshape(-1).long(), label_smoothing=float(smoothing))


# ---- augmentation (engine/data/augment.c) ----

class Draw(NamedTuple):
    """What one image's draws came to: where each output pixel samples the source (the crop's
    centre, and the source displacement per output pixel along x and along y, rotated and
    flipped), and the colour factors."""
    cx: float
    cy: float
    ux: float
    uy: float
    vx: float
    vy: float
    brightness: float
    contrast: float
    saturation: float


_LUMA = (_f32(0.299), _f32(0.587), _f32(0.114))  # ITU-R 601, as torchvision's grayscale
_MAX_DRAWS = 9  # flip 1, crop 2, centre 2, rotation 1, colour 3


class Augment:
    """settings.augment {flip, crop, aspect, rotate, brightness, contrast, saturation}, as
    engine/data/augment.c: a mirror half of the time; a random-resized crop of between
    1 - crop and all of the area, aspect in [1/(1+aspect), 1+aspect] (only with crop);
    a rotation by up to +-rotate degrees about the crop's centre, sampled bilinearly with the
    edges repeated; then brightness, contrast and saturation factors in [1 - x, 1 + x] in that
    order (ColorJitter's operations). The draws come from a torch.Generator the caller seeds
    with seed_of(run seed, epoch, image index), so every process sees the same image."""

    def __init__(self, augment):
        a = dict(augment or {})
        self.flip = bool(a.get("flip", False))
        self.crop, self.aspect, self.rotate, self.brightness, self.contrast, self.saturation = (
            _f32(a.get(k, 0.0)) for k in
            ("crop", "aspect", "rotate", "brightness", "contrast", "saturation"))

    def is_none(self):
        """Nothing changes the image (aspect acts only through the crop)."""
        return not (self.flip or self.crop or self.rotate or self.brightness or self.contrast
                    or self.saturation)

    def __call__(self, rgb_uint8_hwc, generator):
        """(S, S, 3) uint8 -> (3, S, S) float32 in [0, 1], not normalised."""
        rgb = rgb_uint8_hwc
        if rgb.dtype != torch.uint8 or rgb.dim() != 3 or rgb.shape[2] != 3 \
                or rgb.shape[0] != rgb.shape[1]:
            raise ValueError("Augment takes a square (S, S, 3) uint8 image, "
                             f"not {tuple(rgb.shape)} {rgb.dtype}")
        if self.is_none():
            return rgb.permute(2, 0, 1).contiguous().to(torch.float32) / 255
        draws = iter(torch.rand(_MAX_DRAWS, generator=generator, dtype=torch.float64).tolist())
        return self.apply(rgb, self.draw(rgb.shape[0], lambda: next(draws)))

    def _jitter(self, x, uniform):
        return _f32(1.0 - x + 2.0 * x * uniform()) if x > 0 else 1.0

    def draw(self, size, uniform):
        """One image's Draw for a size x size image, from uniform() numbers in [0, 1) taken in
        the C's order (a change that is off takes none), rounded as the C rounds them."""
        flip = self.flip and uniform() >= 0.5
        w = h = float(size)
        if self.crop > 0:
            area = 1.0 - self.crop * uniform()
            log_r = math.log(1.0 + self.aspect)
            r = math.exp((2 * uniform() - 1) * log_r)
            w = _f32(min(size * math.sqrt(area * r), size))
            h = _f32(min(size * math.sqrt(area / r), size))
        cx = _f32(w / 2 + uniform() * _f32(size - w))
        cy = _f32(h / 2 + uniform() * _f32(size - h))
        angle = (2 * uniform() - 1) * self.rotate * math.pi / 180 if self.rotate > 0 else 0.0
        c, s = _f32(math.cos(angle)), _f32(math.sin(angle))
        sx, sy = _f32((-w if flip else w) / size), _f32(h / size)
        brightness = self._jitter(self.brightness, uniform)
        contrast = self._jitter(self.contrast, uniform)
        saturation = self._jitter(self.saturation, uniform)
        return Draw(cx, cy, _f32(c * sx), _f32(s * sx), _f32(-s * sy), _f32(c * sy),
                    brightness, contrast, saturation)

    @staticmethod
    def _luma(px):
        return px[0] * _LUMA[0] + px[1] * _LUMA[1] + px[2] * _LUMA[2]

    def apply(self, rgb, d):
        """The image (S, S, 3) uint8 changed as d says: (3, S, S) float32 in [0, 1]."""
        size = rgb.shape[0]
        src = rgb.permute(2, 0, 1).to(torch.float32)
        pos = torch.arange(size, dtype=torch.float32) + 0.5 - size / 2.0  # pixel centres
        u, v = pos[None, :], pos[:, None]
        fx = (d.cx + u * d.ux + v * d.vx - 0.5).clamp(0, size - 1)
        fy = (d.cy + u * d.uy + v * d.vy - 0.5).clamp(0, size - 1)
        x0, y0 = fx.long(), fy.long()
        x1, y1 = (x0 + 1).clamp(max=size - 1), (y0 + 1).clamp(max=size - 1)
        ax, ay = fx - x0, fy - y0
        top = src[:, y0, x0] * (1 - ax) + src[:, y0, x1] * ax
        bottom = src[:, y1, x0] * (1 - ax) + src[:, y1, x1] * ax
        px = (top * (1 - ay) + bottom * ay) / 255 * d.brightness
        px = px.clamp(max=1.0)
        if d.contrast == 1.0 and d.saturation == 1.0:
            return px
        mean = _f32(self._luma(px).double().sum().item() / (size * size))
        px = ((px - mean) * d.contrast + mean).clamp(0.0, 1.0)
        gray = self._luma(px)
        return ((px - gray) * d.saturation + gray).clamp(0.0, 1.0)


# ---- the moving average of the weights (engine/train/ema.{h,c}) ----

def _averaged(model):
    """The tensors the average keeps: every float parameter and buffer (batch-norm running
    statistics too); the batch counters stay the model's."""
    return {k: t for k, t in model.state_dict().items() if t.is_floating_point()}


class MovingAverage:
    """avg <- d avg + (1 - d) w after each step, d = min(decay, (1 + k)/(10 + k)) at the k-th
    update from 0 (TensorFlow's num_updates warm-up): early on it follows the weights. Starts
    at the model's weights. No bias correction."""

    def __init__(self, model, decay):
        self.decay, self.updates = _f32(decay), 0
        self.average = {k: t.detach().clone() for k, t in _averaged(model).items()}

    def update(self, model):
        k = self.updates
        self.updates += 1
        d = _f32(min((1 + k) / (10 + k), self.decay))
        e = _f32(1 - d)
        with torch.no_grad():
            for name, w in _averaged(model).items():
                self.average[name].mul_(d).add_(w * e)  # two roundings, as the C's d·avg + e·w

    def swap(self, model):
        """Exchanges the model's weights and running statistics with the average: validate or
        save between two swaps."""
        with torch.no_grad():
            for name, w in _averaged(model).items():
                mine = w.clone()
                w.copy_(self.average[name])
                self.average[name] = mine

    def state_dict(self):
        return {"decay": self.decay, "updates": self.updates, "average": self.average}

    def load_state_dict(self, state):
        """A resumed run goes on (the C restarts updates at the optimizer's step count)."""
        self.decay, self.updates = _f32(state["decay"]), int(state["updates"])
        self.average = {k: t.clone() for k, t in state["average"].items()}
