#!/usr/bin/python3
"""Parity test: the exported project's recipe.py (engine/export/project/) against the engine.

    recipe_test.py PATH/TO/recipe-dump PATH/TO/engine/export/project

recipe-dump prints, as JSON, what the C computes on fixed inputs (tests/export/recipe-dump.c
has them); this script feeds recipe.py the same inputs and compares. Exit status (meson
conventions): 0 pass, 1 fail, 77 skip when /usr/bin/python3 lacks torch / torchvision / numpy.
Run by a Python without torch, the script runs itself again with /usr/bin/python3.

Cases, each |got - C| <= atol + rtol |C|:
  balance_loss      Balance.loss_step over 16 steps of falling, noisy losses (one of 1e-9, one
                    jump), the lr changing each step: scale-invariant, uncertainty (twice, one
                    start with a zero weight), famo (twice, one forgetting its previous losses
                    midway), rlw; the weights of every step and the final state as balance_pack
                    lays it out. rtol 1e-5, atol 1e-9.
  balance_gradient  Balance.gradient_weights, mgda-ub, imtl-g and pcgrad (four orders), on
                    Gram matrices of conflicting, zero, all-zero, parallel, equal, nearly
                    parallel, orthogonal and unequal gradients, six random ones at scales
                    1e-3..1e4, and with a NaN or an infinite entry. rtol 1e-5, atol 1e-9.
  schedule          schedule_factor and step_lr for 11 schedules (each kind; warm-ups 0, 0.2,
                    0.25, 1; gamma 0.3; div 10 and 3, final_div 100) at 54 p in [-0.1, 1.5].
                    rtol 1e-12 (the factor), 1e-7 (the float lr).
  losses            age_loss (l1, mse, huber across |d| = 0, 1 and beyond), gender_loss and
                    race_loss (smoothing 0, 0.1, 0.25; logits up to +-20): values rtol 1e-5,
                    gradients rtol 1e-5 atol 1e-6.
  model_loss        the three losses model_loss trained on after a real forward (huber with
                    smoothing 0.1; l1 on a standardised age; mse, std 0.5, smoothing 0.3).
                    rtol 1e-5, atol 1e-6.
  optimizer         make_optimizer on a conv-bn-linear network for six steps, the lr set per
                    step: sgd (plain, momentum, nesterov, nesterov without momentum), adam and
                    adamw, decay "all" and "weights", non-default betas and eps; rtol 1e-5,
                    atol 1e-6. Decay "weights" on a ResNet-18 HydraNet: the same parameters
                    decay as the C's (by state_dict name); the optimizer starts at settings lr.
  ema               MovingAverage over 14 updates at decay 0.5 (past the warm-up), parameters
                    and batch-norm statistics, then swap; rtol 1e-6, atol 1e-7. The batch
                    counter is neither averaged nor swapped.
  augment           Augment.apply on the C's own draws (the engine's generator, through
                    Augment.draw) for nine settings x three seeds: the same pixels as
                    augment_image, atol 1e-5 normalised. seed_of is augment_seed without its
                    top bit. With everything off: exactly x/255; each change alone changes
                    the image and stays in [0, 1]; the same seed gives the same image.
  step_draws        step_draws against trainer.c's (rlw's normals rtol 1e-6, pcgrad's orders).
Each section also reports how many values are the C's bit for bit: today all but the losses'
and the optimizer's (torch's float32 kernels against the C's double sums), which are within a
few float32 ulps. A count that drops is a rounding slip the tolerances may not catch.
"""
import json
import math
import os
import subprocess
import sys

SKIP, FAIL = 77, 1
REF_PYTHON = "/usr/bin/python3"
TIMEOUT_DUMP = 120


def skip(msg):
    print(f"SKIP: {msg}")
    sys.exit(SKIP)


def ensure_torch():
    """Returns when torch is importable here; else runs this script with REF_PYTHON, or skips."""
    try:
        import numpy, torch, torchvision  # noqa: F401
        return
    except ImportError as e:
        reason = str(e)
    here = os.path.realpath(sys.executable)
    if here != os.path.realpath(REF_PYTHON) and os.access(REF_PYTHON, os.X_OK):
        try:
            probe = subprocess.run([REF_PYTHON, "-c", "import numpy, torch, torchvision"],
                                   capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            skip(f"{REF_PYTHON} timed out importing torch")
        if probe.returncode == 0:
            os.execv(REF_PYTHON, [REF_PYTHON] + sys.argv)
        reason = (probe.stderr.strip().splitlines() or ["?"])[-1]
    skip(f"{REF_PYTHON} cannot import torch/torchvision/numpy: {reason}")


class Checks:
    """Counts comparisons per section, and the values that are the C's bit for bit (where
    the port should be exact, a rounding slip shows there long before a tolerance trips);
    keeps the first few mismatches of each."""

    SHOWN = 5

    def __init__(self):
        self.section, self.counts, self.failures, self.exact = None, {}, {}, {}

    def begin(self, section):
        self.section = section
        self.counts[section], self.failures[section], self.exact[section] = 0, [], [0, 0]

    def fail(self, what):
        self.failures[self.section].append(what)

    def true(self, ok, what):
        self.counts[self.section] += 1
        if not ok:
            self.fail(what)

    def close(self, got, want, what, rtol, atol):
        """Each of got (a number or a sequence) within atol + rtol |want|; NaN matches NaN."""
        got = list(got) if isinstance(got, (list, tuple)) else [got]
        want = list(want) if isinstance(want, (list, tuple)) else [want]
        if len(got) != len(want):
            return self.true(False, f"{what}: {len(got)} values, the C {len(want)}")
        got, want = [float(g) for g in got], [float(w) for w in want]
        same = sum(g == w or (math.isnan(g) and math.isnan(w)) for g, w in zip(got, want))
        self.exact[self.section][0] += same
        self.exact[self.section][1] += len(want)
        for i, (g, w) in enumerate(zip(got, want)):
            ok = (math.isnan(g) and math.isnan(w)) or g == w or abs(g - w) <= atol + rtol * abs(w)
            if not ok:
                return self.true(False, f"{what}[{i}]: {g!r}, the C {w!r} (|d| {abs(g - w):.3g})")
        self.true(True, what)

    def report(self):
        bad = 0
        for section, n in self.counts.items():
            fails = self.failures[section]
            same, values = self.exact[section]
            print(f"{'FAIL' if fails else 'ok  '} {section}: {n} checks, {len(fails)} mismatched"
                  + (f"; {same} of {values} values the C's bit for bit" if values else ""))
            for f in fails[:self.SHOWN]:
                print(f"       {f}")
            if len(fails) > self.SHOWN:
                print(f"       ... and {len(fails) - self.SHOWN} more")
            bad += len(fails)
        return bad


# ---- the sections ----

def check_balance_loss(ck, recipe, cases):
    ck.begin("balance_loss")
    for case in cases:
        method = case["method"]
        b = recipe.Balance(method, case["start"])
        for k, step in enumerate(case["steps"]):
            if step["forget"]:
                b.forget_previous_losses()
            w = b.loss_step(step["loss"], step["lr"], step["normal"])
            ck.close(w, step["weight"], f"{method} from {case['start']}, step {k}", 1e-5, 1e-9)
        packed = b.base + b.param + b.m + b.v + b.prev_loss + [b.t, 1.0 if b.has_prev else 0.0]
        ck.close(packed, case["packed"], f"{method} from {case['start']}, state", 1e-5, 1e-9)

    # the trainer's usage: the same method again goes on; another starts afresh
    b = recipe.Balance("famo", [1, 1, 1])
    b.loss_step([2.0, 0.5, 1.0], 1e-3, [0, 0, 0])
    before = b.state_dict()
    b.start("famo", [5, 5, 5])
    ck.true(b.state_dict() == before, "start() with the method in force changed its state")
    b.start("uncertainty", [1, 2, 4])
    w = b.loss_step([1.0, 1.0, 1.0], 1e-3, [0, 0, 0])
    ck.close(w, [1, 2, 4], "uncertainty's first weights are those it started from", 1e-6, 0)
    # state_dict is a copy that undoes a step
    saved = b.state_dict()
    w1 = b.loss_step([0.5, 2.0, 1.0], 1e-2, [0, 0, 0])
    b.load_state_dict(saved)
    w2 = b.loss_step([0.5, 2.0, 1.0], 1e-2, [0, 0, 0])
    ck.true(w1 == w2, f"a step undone by load_state_dict then taken again: {w1} != {w2}")
    for m in recipe.BALANCES:
        ck.true(recipe.uses_gradients(m) == (m in ("mgda-ub", "imtl-g", "pcgrad")),
                f"uses_gradients({m!r})")
    ones, order = [1.0] * 3, [[0, 1, 2]] * 3
    for bad in (lambda: recipe.Balance("pcgrad", ones).loss_step(ones, 1, [0, 0, 0]),
                lambda: recipe.Balance("famo", ones).gradient_weights([ones] * 3, order, ones),
                lambda: recipe.Balance("nope", ones)):
        try:
            bad()
            ck.true(False, "a method used for what it is not did not raise ValueError")
        except ValueError:
            ck.true(True, "")


def check_balance_gradient(ck, recipe, cases):
    ck.begin("balance_gradient")
    for k, case in enumerate(cases):
        b = recipe.Balance(case["method"], [1, 1, 1])
        w = b.gradient_weights(case["gram"], case["order"], case["weight_in"])
        what = f"{case['method']} case {k} gram {case['gram']} order {case['order']}"
        ck.close(w, case["weight"], what, 1e-5, 1e-9)


def check_schedule(ck, recipe, data):
    ck.begin("schedule")
    for case in data["cases"]:
        s = {k: case[k] for k in ("kind", "warmup", "gamma", "div", "final_div")}
        for p, f, lr in zip(data["p"], case["factor"], case["lr"]):
            ck.close(recipe.schedule_factor(s, p), f, f"schedule_factor({s}, {p})", 1e-12, 1e-15)
            ck.close(recipe.step_lr(data["peak"], s, p), lr, f"step_lr({s}, {p})", 1e-7, 0)


def check_losses(ck, recipe, data):
    import torch
    ck.begin("losses")
    f32 = torch.float32
    for case in data["age"]:
        pred = torch.tensor(data["pred"], dtype=f32, requires_grad=True)
        loss = recipe.age_loss(case["kind"], pred[:, None], torch.tensor(data["target"], dtype=f32))
        loss.backward()
        ck.close(loss.item(), case["value"], f"age_loss {case['kind']}", 1e-5, 0)
        ck.close(pred.grad.tolist(), case["grad"], f"age_loss {case['kind']} gradient", 1e-5, 1e-6)
    for case in data["bce"]:
        logit = torch.tensor(data["logit"], dtype=f32, requires_grad=True)
        target = torch.tensor(data["gender"], dtype=f32)
        loss = recipe.gender_loss(logit[:, None], target, case["smoothing"])
        loss.backward()
        what = f"gender_loss smoothing {case['smoothing']}"
        ck.close(loss.item(), case["value"], what, 1e-5, 0)
        ck.close(logit.grad.tolist(), case["grad"], f"{what} gradient", 1e-5, 1e-6)
    n = len(data["race"])
    for case in data["ce"]:
        class_major = torch.tensor(data["race_logits"], dtype=f32).reshape(-1, n)
        logits = class_major.T.contiguous().requires_grad_()
        loss = recipe.race_loss(logits, torch.tensor(data["race"]), case["smoothing"])
        loss.backward()
        ck.close(loss.item(), case["value"], f"race_loss smoothing {case['smoothing']}", 1e-5, 0)
        ck.close(logits.grad.T.reshape(-1).tolist(), case["grad"],
                 f"race_loss smoothing {case['smoothing']} gradient", 1e-5, 1e-6)


def check_model_loss(ck, recipe, cases):
    import torch
    ck.begin("model_loss")
    f64, f32 = torch.float64, torch.float32
    for case in cases:
        what = (f"model_loss {case['age_loss']} smoothing {case['smoothing']} "
                f"age scale {case['age_mean']}, {case['age_std']}")
        n = len(case["age"])
        years, age = torch.tensor(case["out_age"], dtype=f64), torch.tensor(case["age"], dtype=f32)
        mean, std = case["age_mean"], case["age_std"]
        pred = (years - mean) / std  # the head's own output z
        target = (age - mean) / std  # in float32, as model.c
        logits = torch.tensor(case["out_race"]).reshape(5, n).T
        trained = [recipe.age_loss(case["age_loss"], pred, target.double()).item(),
                   recipe.gender_loss(torch.tensor(case["out_gender"]),
                                      torch.tensor(case["gender"]), case["smoothing"]).item(),
                   recipe.race_loss(logits, torch.tensor(case["race"]), case["smoothing"]).item()]
        ck.close(trained, case["trained"], what, 1e-5, 1e-6)


def tiny_network():
    import torch.nn as nn
    net = nn.Module()
    net.conv, net.bn, net.fc = nn.Conv2d(1, 2, 3, bias=False), nn.BatchNorm2d(2), nn.Linear(2, 3)
    return net


def hydranet18():
    """The engine's ResNet-18 HydraNet, its state_dict names the engine's."""
    from collections import OrderedDict
    import torch.nn as nn
    import torchvision

    def head(k):
        return nn.Sequential(OrderedDict([("linear", nn.Linear(512, 512)), ("relu1", nn.ReLU()),
                                          ("final", nn.Linear(512, k))]))

    model = nn.Module()
    model.net = torchvision.models.resnet18(weights=None)
    model.net.fc = nn.Identity()
    model.net.fc1, model.net.fc2, model.net.fc3 = head(1), head(1), head(5)
    return model


def check_optimizer(ck, recipe, cases, decay_table):
    import torch
    from torch.nn.utils import parameters_to_vector, vector_to_parameters
    ck.begin("optimizer")
    for case in cases:
        s = case["settings"]
        net = tiny_network()
        with torch.no_grad():
            vector_to_parameters(torch.tensor(case["p0"]), net.parameters())
        opt = recipe.make_optimizer(net, s)
        ck.true(all(g["lr"] == s["lr"] for g in opt.param_groups), f"{s}: the optimizer's first lr")
        for lr, grads in zip(case["lr"], case["grads"]):
            flat = torch.tensor(grads)
            for p in net.parameters():
                p.grad, flat = flat[:p.numel()].reshape(p.shape).clone(), flat[p.numel():]
            for g in opt.param_groups:
                g["lr"] = lr
            opt.step()
        ck.close(parameters_to_vector(net.parameters()).tolist(), case["p"], f"{s}", 1e-5, 1e-6)

    model = hydranet18()
    names = [n for n, _ in model.named_parameters()]
    ck.true(names == [n for n, _ in decay_table],
            "the test's ResNet-18 HydraNet has not the engine's parameter names")
    opt = recipe.make_optimizer(model, {"kind": "adamw", "lr": 1e-3, "weight_decay": 0.05,
                                        "decay": "weights", "beta1": 0.9, "beta2": 0.999,
                                        "eps": 1e-8})
    decayed = {id(p) for g in opt.param_groups if g["weight_decay"] > 0 for p in g["params"]}
    ours = {n: id(p) in decayed for n, p in model.named_parameters()}
    for name, decay in decay_table:
        ck.true(ours.get(name) == decay, f"{name}: decay {ours.get(name)}, the C {decay}")
    n_all = sum(len(g["params"]) for g in opt.param_groups)
    ck.true(n_all == len(names), f"decay 'weights' covers {n_all} of {len(names)} parameters")
    opt = recipe.make_optimizer(model, {"kind": "sgd", "lr": 0.1, "momentum": 0.9,
                                        "weight_decay": 1e-4, "decay": "all"})
    ck.true(len(opt.param_groups) == 1 and len(opt.param_groups[0]["params"]) == len(names),
            "decay 'all' is one group of every parameter")


# the engine's tensors that recipe-dump.c averages, and the probe module's names for them
EMA_TENSORS = {"net.fc3.final.bias": "fc3_bias", "net.fc2.final.bias": "fc2_bias",
               "net.bn1.running_mean": "bn1.running_mean", "net.bn1.running_var": "bn1.running_var"}


def check_ema(ck, recipe, data):
    import torch
    import torch.nn as nn
    ck.begin("ema")
    probe = nn.Module()
    probe.fc3_bias, probe.fc2_bias = nn.Parameter(torch.zeros(5)), nn.Parameter(torch.zeros(1))
    probe.bn1 = nn.BatchNorm2d(64)
    tensors = probe.state_dict()  # shares the module's storage

    def set_step(step):  # recipe-dump.c set_ema_tensors, exact in float32
        for k, key in enumerate(EMA_TENSORS.values()):
            t = tensors[key]
            for i in range(t.numel()):
                t[i] = ((i * 37 + step * 11 + k * 5) % 101 - 50) / 64.0 + (1.0 if k == 3 else 0.0)

    set_step(0)
    probe.bn1.num_batches_tracked.fill_(7)
    ema = recipe.MovingAverage(probe, data["decay"])
    for step in range(1, data["steps"] + 1):
        set_step(step)
        ema.update(probe)
    latest = {key: t.clone() for key, t in tensors.items()}
    for name, key in EMA_TENSORS.items():
        ck.close(ema.average[key].tolist(), data["average"][name], f"average of {name}", 1e-6, 1e-7)
    ema.swap(probe)
    for name, key in EMA_TENSORS.items():
        ck.close(tensors[key].tolist(), data["swapped"][name], f"{name} swapped in", 1e-6, 1e-7)
    ck.true(probe.bn1.num_batches_tracked.item() == 7, "the batch counter was swapped")
    ck.true("bn1.num_batches_tracked" not in ema.average, "the batch counter is averaged")
    ema.swap(probe)
    ck.true(all(torch.equal(t, latest[key]) for key, t in tensors.items()),
            "two swaps do not give the weights back")


def check_augment(ck, recipe, data):
    import numpy as np
    import torch
    ck.begin("augment")
    size = data["size"]
    rgb = torch.tensor(data["rgb"], dtype=torch.uint8).reshape(size, size, 3)
    mean = torch.tensor(data["mean"], dtype=torch.float32)[:, None, None]
    std = torch.tensor(data["std"], dtype=torch.float32)[:, None, None]
    for case in data["cases"]:
        aug = recipe.Augment(case["augment"])
        rng = recipe._Rng(case["seed"])  # the engine's own draws
        out = aug.apply(rgb, aug.draw(size, rng.uniform))
        got = ((out - mean) / std).reshape(-1).tolist()  # as image_normalize
        ck.close(got, case["out"], f"{case['augment']} seed {case['seed']}", 0, 1e-5)
    for seed, epoch, item, c_seed in data["seeds"]:
        ours = recipe.seed_of(seed, epoch, item)
        ck.true(ours == c_seed & ((1 << 63) - 1),
                f"seed_of({seed}, {epoch}, {item}) = {ours}, augment_seed {c_seed}")

    def run(settings, seed):
        g = torch.Generator()
        g.manual_seed(seed)
        return recipe.Augment(settings)(rgb, g)

    off = {"flip": False, "crop": 0, "aspect": 0.5, "rotate": 0, "brightness": 0, "contrast": 0,
           "saturation": 0}  # aspect acts only through the crop
    x255 = torch.from_numpy(rgb.numpy().astype(np.float32).transpose(2, 0, 1) / np.float32(255))
    plain = run(off, 1)
    ck.true(plain.dtype == torch.float32 and torch.equal(plain, x255),
            "everything off is not exactly x/255")
    seeds = [recipe.seed_of(12345, 2, i) for i in range(8)]
    for name, value in (("flip", True), ("crop", 0.3), ("rotate", 10.0), ("brightness", 0.2),
                        ("contrast", 0.2), ("saturation", 0.2)):
        outs = [run(dict(off, **{name: value}), s) for s in seeds]
        ck.true(any(not torch.equal(o, x255) for o in outs), f"{name} alone changes nothing")
        ck.true(all(o.shape == (3, size, size) and o.dtype == torch.float32
                    and o.min() >= 0 and o.max() <= 1 for o in outs),
                f"{name} alone leaves [0, 1] or the shape")
    everything = {"flip": True, "crop": 0.3, "aspect": 0.2, "rotate": 10, "brightness": 0.2,
                  "contrast": 0.2, "saturation": 0.2}
    ck.true(torch.equal(run(everything, seeds[3]), run(everything, seeds[3])),
            "the same seed gives another image")
    ck.true(not torch.equal(run(everything, seeds[3]), run(everything, seeds[4])),
            "two seeds give the same image")
    for bad in (rgb.float(), rgb[:, :-1], rgb[..., :2]):
        try:
            recipe.Augment(everything)(bad, torch.Generator())
            ck.true(False, f"Augment took a {tuple(bad.shape)} {bad.dtype} image")
        except ValueError:
            ck.true(True, "")


def check_step_draws(ck, recipe, cases):
    ck.begin("step_draws")
    for case in cases:
        normal, order = recipe.step_draws(case["seed"], case["step"])
        what = f"step_draws({case['seed']}, {case['step']})"
        ck.close(normal, case["normal"], what, 1e-6, 0)
        ck.true(order == case["order"], f"{what}: order {order}, the C {case['order']}")


def main():
    if len(sys.argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return FAIL
    dump, project = sys.argv[1], sys.argv[2]
    ensure_torch()
    import torch
    torch.set_num_threads(1)
    sys.path.insert(0, project)
    import recipe

    try:
        p = subprocess.run([dump], capture_output=True, text=True, timeout=TIMEOUT_DUMP)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"FAIL: {dump}: {e}")
        return FAIL
    if p.returncode != 0:
        print(f"FAIL: {dump}: exit status {p.returncode}\n{p.stderr}")
        return FAIL
    c = json.loads(p.stdout)

    ck = Checks()
    check_balance_loss(ck, recipe, c["balance_loss"])
    check_balance_gradient(ck, recipe, c["balance_gradient"])
    check_schedule(ck, recipe, c["schedule"])
    check_losses(ck, recipe, c["losses"])
    check_model_loss(ck, recipe, c["model_loss"])
    check_optimizer(ck, recipe, c["optimizer"], c["decay_table"])
    check_ema(ck, recipe, c["ema"])
    check_augment(ck, recipe, c["augment"])
    check_step_draws(ck, recipe, c["step_draws"])
    bad = ck.report()
    print("FAIL" if bad else "PASS")
    return FAIL if bad else 0


if __name__ == "__main__":
    sys.exit(main())
