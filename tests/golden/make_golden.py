#!/usr/bin/python3
"""Write tests/golden/hydranet-r18-b4.safetensors: PyTorch's answers for the C engine's tests.

Run BY HAND (the test suite only reads the file it writes), with Debian's Python:

    /usr/bin/python3 tests/golden/make_golden.py [--ref PATH/hydranet_ref.py] [--out FILE]
                                                 [--no-sensitivity]

--ref defaults to <repo>/../shared/reference/hydranet_ref.py (found from this script's own
location); HydraNet and st_save are imported from it, so the model and the container are the
reference's own. The run is deterministic (one thread, float32): running it twice writes the
same bytes (the script prints the file's SHA-256).

CONTRACT — the C side implements this independently; change it only together with the C tests.

Model: HydraNet("resnet18") from the reference, batch 4, input 32x32.

Weights do not come from torch's RNG (C cannot reproduce it) but from a counter-based
splitmix64 that both sides compute, SEED = 20261128. For counter c = 1, 2, 3, ... (all
arithmetic on unsigned 64-bit integers, mod 2^64):

    z = SEED + c * 0x9E3779B97F4A7C15
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB
    z = z ^ (z >> 31)
    u = (double)(z >> 40) / 2^24                  a double in [0, 1), 24 significant bits

  Test vectors: u(1) = 0.524406909942627, u(2) = 0.13679063320159912,
                u(3) = 0.9858426451683044  (printed again by this script).

One global counter runs over model.state_dict() in its order (conv1, bn1, layer1 ... layer4,
fc1, fc2, fc3), element by element in C (row-major) order. Each float tensor consumes numel
draws; num_batches_tracked consumes none and is set to 7. Values are computed in double,
exactly in the order written here, then rounded to float32 (round to nearest):

  conv weight [OC,C,KH,KW]            (2*u - 1) * sqrt(6.0 / (C*KH*KW))
  BatchNorm weight                    0.5 + u
  BatchNorm bias                      0.4 * (u - 0.5)
  BatchNorm running_mean              0.4 * (u - 0.5)
  BatchNorm running_var               0.5 + 1.5 * u
  Linear weight [out,in], bias [out]  (2*u - 1) / sqrt((double)in)

(sqrt(6.0/fan) and sqrt(in) are single correctly-rounded doubles; note "/ sqrt(in)" is a
division, not a multiplication by 1/sqrt(in).)

Inputs and targets (stored in the file too, so C need not regenerate them):
  x [4,3,32,32] = (2*u - 1) * 2 with the SAME generator, continuing the same global counter
                  after the last weight (net.fc3.final.bias), C order, rounded to float32
  age [4,1] = [[23],[67],[5],[41]]      gender [4,1] = [[0],[1],[1],[0]]   (float32)
  race [4]  = [0,3,2,4] (int64)
Loss weights: w_age = 0.7, w_gender = 1.3, w_race = 0.9.
All losses are mean-reduced; loss.total = (0.7*L1 + 1.3*BCE) + 0.9*CE (L1 age loss), in float32.

Sampling rule ("sampled" below): flatten the tensor in C order, n = numel; if n <= 4096 keep
all n elements, else keep the 1024 elements at flat indices k*n // 1024 for k = 0..1023
(integer division, exact in 64-bit). Sampled float tensors are stored 1-D, F32 [m].
num_batches_tracked is never sampled: always stored as I64 with shape [] (a scalar).

Tensor names in the output file:
  input.x F32 [4,3,32,32]   target.age F32 [4,1]   target.gender F32 [4,1]   target.race I64 [4]
  init.<key>        every state_dict entry of the initial model, sampled (checks the fill)
  eval.age [4,1], eval.gender [4,1], eval.race [4,5]
                    model.eval() outputs with the initial weights (computed FIRST, before any
                    train-mode forward touches the running statistics)
  train.age, train.gender, train.race
                    model.train() outputs of a fresh copy of the initial weights
  loss.l1, loss.mse, loss.huber (SmoothL1, beta 1), loss.bce (BCE with logits),
  loss.ce (cross-entropy), loss.total      F32 [1], from the train-mode outputs
  grad.<param>      gradient of loss.total for every trainable parameter (named_parameters
                    order), from that train-mode forward, sampled, F32 [m]
  gradnorm.<param>  F64 [1]: L2 norm of the FULL float32 gradient, accumulated in float64
  bn_after_train.<buffer>
                    every running_mean / running_var (full tensors, original shape, F32) and
                    num_batches_tracked (I64 [], = 8) after that single train-mode forward
  sgd.<key>, adam.<key>, adamw.<key>
                    every state_dict entry (parameters AND buffers), sampled, after 3 steps
                    from a fresh copy of the initial weights; each step is
                      opt.zero_grad(); model.train(); out = model(x); loss.total; backward;
                      opt.step()
                    sgd:   torch.optim.SGD(lr=1e-3, momentum=0.9, weight_decay=5e-4)
                           (dampening 0, nesterov False; decay applies to every parameter)
                    adam:  torch.optim.Adam(lr=1e-4) (betas 0.9/0.999, eps 1e-8, no decay)
                    adamw: torch.optim.AdamW(lr=1e-4, weight_decay=0.01) (betas, eps default)
                    num_batches_tracked is 10 there (7 + 3 train-mode forwards).
                    Why these small rates: at batch 4 and 32x32 the last stage's BatchNorm
                    normalises 4 values per channel; with SGD lr 1e-2 one step collapses
                    some of those variances and PyTorch's own float32 and float64 runs then
                    disagree by 60-170% at step 3 -- a comparison no float32 engine could
                    pass. At these rates float32 and float64 agree (see the sensitivity
                    table) except for Adam's coordinates whose gradient is round-off-sized,
                    which Adam normalises to a full +-lr step of either sign.
  "rule.<opt>.p0" F32 [257], "rule.grads" F32 [3,257], "rule.<opt>.p" F32 [3,257]:
                    the optimizer arithmetic alone, exactly: parameters p0 = (2u-1) and three
                    gradients (2u-1)*0.1 (continuing the generator after x), with a third of
                    the gradient entries set to exactly 0, then opt.step() three times
                    with those gradients (no model), recording p after each step, for
                    sgd (lr 0.1, momentum 0.9, weight_decay 0.01), adam (lr 0.01,
                    weight_decay 0.01) and adamw (lr 0.01, weight_decay 0.1).
__metadata__: format "hydranet-golden-1", seed, loss weights, optimizer settings, torch version.

Besides the file, the script prints its size and SHA-256, a table of magnitudes, and (unless
--no-sensitivity) PyTorch's own float32-vs-float64 disagreement on the same computation, which
bounds the agreement a float32 C engine can be expected to reach.
"""
import argparse
import hashlib
import importlib.util
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

SEED = 20261128
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
W_AGE, W_GENDER, W_RACE = 0.7, 1.3, 0.9
BATCH, SIZE, BACKBONE = 4, 32, "resnet18"
AGE = [[23.0], [67.0], [5.0], [41.0]]
GENDER = [[0.0], [1.0], [1.0], [0.0]]
RACE = [0, 3, 2, 4]
OPTIMIZERS = {
    "sgd": (torch.optim.SGD, dict(lr=1e-3, momentum=0.9, weight_decay=5e-4)),
    "adam": (torch.optim.Adam, dict(lr=1e-4)),
    "adamw": (torch.optim.AdamW, dict(lr=1e-4, weight_decay=0.01)),
}
STEPS = 3
SAMPLE_ALL, SAMPLE_N = 4096, 1024


# ---- the shared generator ----
class Splitmix:
    """Counter-based splitmix64; next(n) returns u(c) for the next n counters as float64."""

    def __init__(self, seed):
        self.seed = np.uint64(seed)
        self.counter = 1  # the next counter to use

    def next(self, n):
        c = np.arange(self.counter, self.counter + n, dtype=np.uint64)
        self.counter += n
        with np.errstate(over="ignore"):
            z = self.seed + c * GOLDEN
            z = (z ^ (z >> np.uint64(30))) * MIX1
            z = (z ^ (z >> np.uint64(27))) * MIX2
            z = z ^ (z >> np.uint64(31))
        return (z >> np.uint64(40)).astype(np.float64) / 16777216.0


def load_reference(path):
    if not os.path.isfile(path):
        sys.exit(f"make_golden: reference script not found: {path}")
    spec = importlib.util.spec_from_file_location("hydranet_ref", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def fill_weights(model, gen):
    """Overwrites every state_dict entry of model following the CONTRACT, in state_dict order."""
    sd = model.state_dict()
    with torch.no_grad():
        for key, t in sd.items():
            owner, _, leaf = key.rpartition(".")
            mod = model.get_submodule(owner)
            if leaf == "num_batches_tracked":
                t.fill_(7)
                continue
            shape = tuple(t.shape)
            u = gen.next(t.numel()).reshape(shape)
            if isinstance(mod, nn.Conv2d) and leaf == "weight" and t.dim() == 4:
                fan = shape[1] * shape[2] * shape[3]
                v = (2.0 * u - 1.0) * math.sqrt(6.0 / fan)
            elif isinstance(mod, nn.BatchNorm2d):
                if leaf == "weight":
                    v = 0.5 + u
                elif leaf in ("bias", "running_mean"):
                    v = 0.4 * (u - 0.5)
                elif leaf == "running_var":
                    v = 0.5 + 1.5 * u
                else:
                    raise ValueError(f"unexpected BatchNorm entry {key}")
            elif isinstance(mod, nn.Linear) and leaf in ("weight", "bias"):
                v = (2.0 * u - 1.0) / math.sqrt(mod.in_features)
            else:
                raise ValueError(f"no fill rule for {key} ({type(mod).__name__})")
            assert t.dtype == torch.float32
            t.copy_(torch.from_numpy(v.astype(np.float32)))


def sample(t):
    """The sampling rule; num_batches_tracked (integer) tensors pass through as I64 []."""
    if not t.is_floating_point():
        return t.detach().clone().to(torch.int64).reshape(())
    flat = t.detach().to(torch.float32).reshape(-1)
    n = flat.numel()
    if n <= SAMPLE_ALL:
        return flat.clone()
    idx = torch.tensor([k * n // SAMPLE_N for k in range(SAMPLE_N)], dtype=torch.int64)
    return flat[idx].clone()


def losses(outs, age, gender, race):
    pa, pg, pr = outs
    l = {
        "l1": nn.functional.l1_loss(pa, age),
        "mse": nn.functional.mse_loss(pa, age),
        "huber": nn.functional.smooth_l1_loss(pa, age, beta=1.0),
        "bce": nn.functional.binary_cross_entropy_with_logits(pg, gender),
        "ce": nn.functional.cross_entropy(pr, race),
    }
    l["total"] = W_AGE * l["l1"] + W_GENDER * l["bce"] + W_RACE * l["ce"]
    return l


def fresh(ref, init_sd, dtype=torch.float32):
    m = ref.HydraNet(BACKBONE)
    m.load_state_dict(init_sd, strict=True)
    return m.to(dtype)


def train_forward(m, x, age, gender, race):
    m.train()
    m.zero_grad(set_to_none=True)
    outs = m(x)
    l = losses(outs, age, gender, race)
    l["total"].backward()
    return outs, l


def run_optimizer(m, name, x, age, gender, race, snapshots=None):
    cls, kw = OPTIMIZERS[name]
    opt = cls(m.parameters(), **kw)
    for _ in range(STEPS):
        opt.zero_grad()
        m.train()
        l = losses(m(x), age, gender, race)
        l["total"].backward()
        opt.step()
        if snapshots is not None:
            snapshots.append({k: p.detach().clone() for k, p in m.named_parameters()})
    return m


RULES = {
    "sgd": (torch.optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    "adam": (torch.optim.Adam, dict(lr=0.01, weight_decay=0.01)),
    "adamw": (torch.optim.AdamW, dict(lr=0.01, weight_decay=0.1)),
}
RULE_N = 257


def optimizer_rules(gen):
    """Three steps of each optimizer on fixed gradients: PyTorch's update rule, isolated."""
    p0 = torch.from_numpy((2.0 * gen.next(RULE_N) - 1.0).astype(np.float32))
    grads = torch.from_numpy(((2.0 * gen.next(STEPS * RULE_N) - 1.0) * 0.1)
                             .astype(np.float32).reshape(STEPS, RULE_N))
    grads[:, ::3] = 0.0
    out = {"rule.grads": grads.clone()}
    for name, (cls, kw) in RULES.items():
        p = nn.Parameter(p0.clone())
        opt = cls([p], **kw)
        after = []
        for s in range(STEPS):
            p.grad = grads[s].clone()
            opt.step()
            after.append(p.detach().clone())
        out[f"rule.{name}.p0"] = p0.clone()
        out[f"rule.{name}.p"] = torch.stack(after)
    return out


def layer_kind(model, pname):
    mod = model.get_submodule(pname.rpartition(".")[0])
    return {nn.Conv2d: "conv", nn.BatchNorm2d: "bn", nn.Linear: "linear"}[type(mod)]


# ---- float32 vs float64 comparison ----
class Diff:
    """Accumulates, over a group of tensors, how far float32 results are from float64 ones."""

    def __init__(self, label):
        self.label, self.scale, self.abs, self.tensor_rel, self.elem_rel = label, 0.0, 0.0, 0.0, 0.0
        self.worst, self.bad, self.n = "", 0, 0

    def add(self, name, f32, f64):
        a = f32.detach().double().reshape(-1)
        b = f64.detach().double().reshape(-1)
        d = (a - b).abs()
        scale = b.abs().max().item()
        self.n += b.numel()
        self.scale = max(self.scale, scale)
        self.abs = max(self.abs, d.max().item())
        if scale > 0:
            trel = d.max().item() / scale
            if trel > self.tensor_rel:
                self.tensor_rel, self.worst = trel, name
            big = b.abs() >= 0.01 * scale  # elementwise relative, ignoring near-zero elements
            self.elem_rel = max(self.elem_rel, (d[big] / b[big].abs()).max().item())
            self.bad += int((d > 0.01 * scale).sum().item())

    def row(self):
        frac = f"{self.bad}/{self.n}"
        return (f"{self.label:<26} {self.scale:9.2e} {self.abs:9.2e} {self.tensor_rel:9.2e} "
                f"{self.elem_rel:9.2e} {frac:>17}  {self.worst}")


SENSITIVITY_HELP = """
PyTorch float32 vs float64 (same initial weights and inputs; model.double()), i.e. how closely
two correct implementations that round differently can be expected to agree:
  max|f64|  largest float64 value in the group
  max abs   largest |f32 - f64|
  tens rel  worst over the group's tensors of max|f32 - f64| / max|f64 of that tensor|
  elem rel  largest |f32 - f64| / |f64| over elements with |f64| >= 1% of their tensor's max
  >1%       elements with |f32 - f64| > 1% of their tensor's max|f64|, of all elements
  delta-p   optimizer runs compare p_after - p_init; stepK = after K steps (all parameters)"""


def sensitivity(ref, init_sd, x, age, gender, race, golden, model32):
    print(SENSITIVITY_HELP)
    print(f"{'group':<26} {'max|f64|':>9} {'max abs':>9} {'tens rel':>9} {'elem rel':>9} {'>1%':>17}  worst tensor")
    x64, age64, gender64 = x.double(), age.double(), gender.double()
    rows = []

    m64 = fresh(ref, init_sd, torch.float64).eval()
    with torch.no_grad():
        e64 = m64(x64)
    d = Diff("outputs eval")
    for k, o in zip(("age", "gender", "race"), e64):
        d.add("eval." + k, golden["eval." + k], o)
    rows.append(d)

    m64 = fresh(ref, init_sd, torch.float64)
    t64, l64 = train_forward(m64, x64, age64, gender64, race)
    d = Diff("outputs train")
    for k, o in zip(("age", "gender", "race"), t64):
        d.add("train." + k, golden["train." + k], o)
    rows.append(d)
    d = Diff("losses")
    for k, v in l64.items():
        d.add("loss." + k, golden["loss." + k], v.reshape(1))
    rows.append(d)
    groups = {}
    for (n, p32), (n64, p64) in zip(model32.named_parameters(), m64.named_parameters()):
        assert n == n64
        kind = layer_kind(model32, n)
        groups.setdefault(kind, Diff(f"grads {kind}")).add(n, p32.grad, p64.grad)
    rows += [groups[k] for k in ("conv", "bn", "linear")]
    d = Diff("gradnorms")
    for (n, p32), (_, p64) in zip(model32.named_parameters(), m64.named_parameters()):
        d.add("gradnorm." + n, golden["gradnorm." + n], p64.grad.norm().reshape(1))
    rows.append(d)
    d = Diff("bn stats after 1 fwd")
    for (n, b32), (_, b64) in zip(model32.named_buffers(), m64.named_buffers()):
        if b32.is_floating_point():
            d.add(n, b32, b64)
    rows.append(d)

    init64 = {k: v.double() for k, v in init_sd.items()}
    for name in OPTIMIZERS:
        s32, s64 = [], []
        m32 = run_optimizer(fresh(ref, init_sd), name, x, age, gender, race, s32)
        m64 = run_optimizer(fresh(ref, init_sd, torch.float64), name, x64, age64, gender64, race, s64)
        for step in range(STEPS - 1):
            d = Diff(f"{name} step{step + 1} delta-p")
            for n in s32[step]:
                d.add(n, s32[step][n].double() - init64[n], s64[step][n] - init64[n])
            rows.append(d)
        dp = {kind: Diff(f"{name} step{STEPS} delta-p {kind}") for kind in ("conv", "bn", "linear")}
        for (n, p32), (_, p64) in zip(m32.named_parameters(), m64.named_parameters()):
            dp[layer_kind(m32, n)].add(n, p32.double() - init64[n], p64 - init64[n])
        rows += [dp[k] for k in ("conv", "bn", "linear")]
        d = Diff(f"{name} step{STEPS} bn stats")
        for (n, b32), (_, b64) in zip(m32.named_buffers(), m64.named_buffers()):
            if b32.is_floating_point():
                d.add(n, b32, b64)
        rows.append(d)
    for r in rows:
        print(r.row())


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ref", default=os.path.normpath(os.path.join(repo, "..", "shared", "reference",
                                                                  "hydranet_ref.py")))
    p.add_argument("--out", default=os.path.join(here, "hydranet-r18-b4.safetensors"))
    p.add_argument("--no-sensitivity", action="store_true",
                   help="skip the float32-vs-float64 comparison (it does not change the file)")
    a = p.parse_args()

    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)  # nothing below should draw from torch's RNG; this pins it anyway
    ref = load_reference(a.ref)

    gen = Splitmix(SEED)
    print("splitmix64 test vectors: u(1..3) =", ", ".join(repr(float(v)) for v in Splitmix(SEED).next(3)))
    base = ref.HydraNet(BACKBONE)
    fill_weights(base, gen)
    weight_draws = gen.counter - 1
    x = torch.from_numpy(((2.0 * gen.next(BATCH * 3 * SIZE * SIZE) - 1.0) * 2.0)
                         .astype(np.float32).reshape(BATCH, 3, SIZE, SIZE))
    age = torch.tensor(AGE, dtype=torch.float32)
    gender = torch.tensor(GENDER, dtype=torch.float32)
    race = torch.tensor(RACE, dtype=torch.int64)
    init_sd = {k: v.detach().clone() for k, v in base.state_dict().items()}
    print(f"weights consumed counters 1..{weight_draws}; x used {weight_draws + 1}..{gen.counter - 1}")

    out = {"input.x": x, "target.age": age, "target.gender": gender, "target.race": race}
    for k, v in init_sd.items():
        out["init." + k] = sample(v)

    # 1. eval mode, initial weights, before anything touches the running statistics
    m = fresh(ref, init_sd).eval()
    with torch.no_grad():
        ev = m(x)
    for k, o in zip(("age", "gender", "race"), ev):
        out["eval." + k] = o.detach().clone()

    # 2. one train-mode forward + backward of a fresh copy
    m = fresh(ref, init_sd)
    tr, l = train_forward(m, x, age, gender, race)
    for k, o in zip(("age", "gender", "race"), tr):
        out["train." + k] = o.detach().clone()
    for k, v in l.items():
        out["loss." + k] = v.detach().reshape(1).clone()
    for n, prm in m.named_parameters():
        out["grad." + n] = sample(prm.grad)
        out["gradnorm." + n] = prm.grad.detach().double().norm().reshape(1)
    for n, b in m.named_buffers():
        if n.endswith(("running_mean", "running_var")):
            out["bn_after_train." + n] = b.detach().clone()
        elif n.endswith("num_batches_tracked"):
            out["bn_after_train." + n] = b.detach().clone().reshape(())
    model_after_fwd = m

    # 3. three optimizer runs, three steps each
    deltas = {}
    for name in OPTIMIZERS:
        snaps = [{k: v.clone() for k, v in init_sd.items() if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))}]
        mo = run_optimizer(fresh(ref, init_sd), name, x, age, gender, race, snaps)
        for k, v in mo.state_dict().items():
            out[f"{name}.{k}"] = sample(v)
        deltas[name] = [max((s1[k] - s0[k]).abs().max().item() for k in s0) for s0, s1 in zip(snaps, snaps[1:])]
        nbt = mo.state_dict()["net.bn1.num_batches_tracked"].item()
        assert nbt == 7 + STEPS, nbt

    # 4. the optimizer rules alone, on fixed gradients
    out.update(optimizer_rules(gen))

    meta = {
        "format": "hydranet-golden-1",
        "backbone": BACKBONE,
        "batch": BATCH,
        "input_size": SIZE,
        "seed": SEED,
        "rng": "splitmix64 counter from 1, u=(z>>40)/2^24; see make_golden.py",
        "weight_draws": weight_draws,
        "w_age": W_AGE, "w_gender": W_GENDER, "w_race": W_RACE,
        "age_loss_in_total": "l1",
        "sample": f"n<={SAMPLE_ALL}: all; else flat[k*n//{SAMPLE_N}], k<{SAMPLE_N}",
        "steps": STEPS,
        "sgd": "lr=1e-3 momentum=0.9 weight_decay=5e-4 dampening=0 nesterov=False",
        "adam": "lr=1e-4 betas=(0.9,0.999) eps=1e-8 weight_decay=0",
        "adamw": "lr=1e-4 betas=(0.9,0.999) eps=1e-8 weight_decay=0.01",
        "rule": "sgd lr=0.1 momentum=0.9 wd=0.01; adam lr=0.01 wd=0.01; adamw lr=0.01 wd=0.1",
        "torch": torch.__version__,
        "numpy": np.__version__,
    }
    ref.st_save(a.out, out, meta)
    raw = open(a.out, "rb").read()
    print(f"wrote {a.out}: {len(raw)} bytes ({len(raw) / 2**20:.3f} MiB), {len(out)} tensors, "
          f"sha256 {hashlib.sha256(raw).hexdigest()}")
    if len(raw) >= 2 * 2**20:
        sys.exit("make_golden: the golden file must stay under 2 MB")

    # round trip through the reference's reader: names, dtypes and values as written
    back, bmeta = ref.st_load(a.out)
    assert set(back) == set(out) and bmeta["format"] == "hydranet-golden-1"
    for k, v in out.items():
        assert back[k].dtype == v.dtype and tuple(back[k].shape) == tuple(v.shape), k
        assert torch.equal(back[k], v.detach()), k

    print("\nMagnitudes (max |value|):")
    for k in ("eval.age", "eval.gender", "eval.race", "train.age", "train.gender", "train.race"):
        print(f"  {k:<14} {out[k].abs().max().item():10.4g}")
    print("  " + "  ".join(f"loss.{k}={v.item():.6g}" for k, v in l.items()))
    print(f"  max |param| initial: conv {max(v.abs().max().item() for k, v in init_sd.items() if v.dim() == 4):.4g}"
          f", all params {max(p.abs().max().item() for p in base.parameters()):.4g}")
    gmax = {}
    for n, prm in model_after_fwd.named_parameters():
        kind = layer_kind(model_after_fwd, n)
        gmax[kind] = max(gmax.get(kind, 0.0), prm.grad.abs().max().item())
    print("  max |grad|: " + ", ".join(f"{k} {v:.4g}" for k, v in gmax.items()))
    print("  per-step max |p_after - p_before| over all parameters:")
    for name, ds in deltas.items():
        print(f"    {name:<6} " + "  ".join(f"step{i + 1} {d:.4g}" for i, d in enumerate(ds)))

    if not a.no_sensitivity:
        sensitivity(ref, init_sd, x, age, gender, race, out, model_after_fwd)


if __name__ == "__main__":
    main()
