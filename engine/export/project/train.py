#!/usr/bin/env python3
"""train.py — trains the recipe in run.json with PyTorch, on one process or many (torchrun, DDP).

    torchrun --standalone --nproc_per_node=N train.py --data DIR      one machine, N processes
    python3 train.py --data DIR                                       one process, no torchrun

The recipe is the HydraNet Studio run this project was exported from: the same model, input
size, split, losses and weights, balancing method, optimizer, learning-rate schedule,
augmentation and moving average; and every change made by hand while it trained (a weight, the
age loss, the learning rate, the balancing method) is made again when training has seen as many
images as the run had then — whatever the number of processes.

--batch is the global batch, split evenly over the processes. Every process applies the same
weights: losses, the heads' gradient products and the balancing methods' state are reduced
across processes before anything is decided from them.

Rank 0 writes a run folder into output/ (--out): run.json, curves.csv (a row per step,
validation and change, the studio's format) and model.safetensors (the studio's format and
tensor names), kept up to date at each epoch's end. `hydranet-cli runs import PROJECT` or the
studio's Import Run… bring it in.
"""
import argparse
import datetime
import hashlib
import io
import json
import math
import os
import re
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
from PIL import Image
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler

import hydranet
import recipe

PROJECT = os.path.dirname(os.path.abspath(__file__))
PROJECT_FORMAT = "hydranet-pytorch-project-1"
RUN_FORMAT = "hydranet-run-1"
NAME = re.compile(r"^(\d{1,3})_([01])_([0-4])_(\d+)\.(jpg|jpeg|png)(\.chip\.jpg)?$", re.I)
MAX_AGE = 116
LIVE = ("w_age", "w_gender", "w_race", "age_loss", "lr", "balance")
AGE_LOSSES = ("l1", "mse", "huber")  # the engine's order (losses.h)
TITLES = {"l1": "L1", "mse": "MSE", "huber": "Huber", "manual": "Manual",
          "scale-invariant": "Scale-Invariant", "uncertainty": "Uncertainty", "famo": "FAMO",
          "mgda-ub": "MGDA-UB", "imtl-g": "IMTL-G", "pcgrad": "PCGrad", "rlw": "RLW"}
COLUMNS = ("kind step epoch batch batches age_loss balance w_age w_gender w_race lr "
           "loss_age loss_gender loss_race weighted_age weighted_gender weighted_race total "
           "img_per_s gradnorm_age gradnorm_gender gradnorm_race cos_age_gender cos_age_race "
           "cos_gender_race val_n val_age_mae val_age_rmse val_gender_acc val_race_acc "
           "val_race_confusion setting value old_value state error message images").split()


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def number(x):
    """A float as the studio writes one: the fewest digits that read back as the same float32."""
    x = float(np.float32(x))
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    for digits in range(1, 10):
        text = f"{x:.{digits}g}"
        if np.float32(float(text)) == np.float32(x):
            return text
    return repr(x)


def write_atomically(path, data):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w" if isinstance(data, str) else "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# ---- processes ----
class Processes:
    """This process's place among those torchrun started (one, without torchrun)."""

    def __init__(self, backend):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        cuda = torch.cuda.is_available() and backend != "gloo"
        self.backend = backend or ("nccl" if cuda else "gloo")
        self.device = torch.device(f"cuda:{self.local_rank}" if cuda else "cpu")
        if cuda:
            torch.cuda.set_device(self.device)
        if self.world > 1:
            dist.init_process_group(self.backend)

    def sum(self, values):
        """values (a list of floats) summed over every process, as float64."""
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        if self.world > 1:
            dist.all_reduce(t)
        return t.cpu().tolist()

    def share(self, obj):
        """Rank 0's obj, on every process."""
        if self.world == 1:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def wait(self):
        if self.world > 1:
            dist.barrier()

    def close(self):
        if self.world > 1:
            dist.destroy_process_group()


# ---- data ----
def scan(folder, val_percent):
    """The studio's reading of a UTKFace folder: names parsed strictly, files that are not
    images skipped, byte-identical copies kept once (the first by name; when the copies' names
    disagree on the labels, in training only), and the split by content: validation iff
    int(sha1(bytes)[:8], 16) % 100 < val_percent.
    Returns (train, val, skipped): lists of (path, age, gender, race) by name, and a count."""
    entries, skipped = [], 0
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        m = NAME.match(name)
        if not m or int(m[1]) > MAX_AGE or not os.path.isfile(path):
            skipped += 1
            continue
        try:
            with open(path, "rb") as f:
                raw = f.read()
            digest = hashlib.sha1(raw).hexdigest()
            with Image.open(io.BytesIO(raw)) as img:
                img.load()  # a file that does not decode is skipped, as the studio skips it
        except (OSError, ValueError, Image.DecompressionBombError):
            skipped += 1
            continue
        entries.append((digest, (path, int(m[1]), int(m[2]), int(m[3]))))
    labels = {}
    for digest, item in entries:
        labels.setdefault(digest, set()).add(item[1:])
    train, val, seen = [], [], set()
    for digest, item in entries:
        if digest in seen:
            skipped += 1
            continue
        seen.add(digest)
        in_val = len(labels[digest]) == 1 and int(digest[:8], 16) % 100 < val_percent
        (val if in_val else train).append(item)
    return train, val, skipped


class Faces(Dataset):
    """Face images, preprocessed as the studio does. An item is asked for as (index, epoch,
    segment): its augmentation is the segment's, drawn from (seed, epoch, index) alone — the
    same in any process."""

    def __init__(self, items, size, augments=(), seed=0):
        self.items, self.size, self.augments, self.seed = items, size, list(augments), seed

    def __len__(self):
        return len(self.items)

    def __getitem__(self, key):
        index, epoch, segment = key if isinstance(key, tuple) else (key, 0, None)
        path, age, gender, race = self.items[index]
        with Image.open(path) as img:
            rgb = torch.from_numpy(hydranet.square(img, self.size).copy())
        if segment is not None:
            g = torch.Generator()
            g.manual_seed(recipe.seed_of(self.seed, epoch, index))
            x = self.augments[segment](rgb, g)
        else:
            x = rgb.permute(2, 0, 1).float() / 255.0
        return hydranet.normalize(x), float(age), float(gender), race


class EpochSampler(DistributedSampler):
    """DistributedSampler's share of the images, each with the epoch (set_epoch's) and the
    segment in force (set by the loop)."""

    segment = 0

    def __iter__(self):
        return ((i, self.epoch, self.segment) for i in super().__iter__())


class Batches(Sampler):
    """This process's share in batches of `batch`. A last batch smaller than `smallest` is
    dropped, as the studio drops a last batch of one image: batch norm cannot train on one."""

    def __init__(self, sampler, batch, smallest):
        self.sampler, self.batch, self.smallest = sampler, batch, smallest

    def __iter__(self):
        keys = list(self.sampler)
        for i in range(0, len(keys), self.batch):
            if len(keys) - i >= self.smallest:
                yield keys[i:i + self.batch]

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch + (n % self.batch >= self.smallest)


def collate(samples):
    x = torch.stack([s[0] for s in samples])
    age = torch.tensor([s[1] for s in samples], dtype=torch.float32)[:, None]
    gender = torch.tensor([s[2] for s in samples], dtype=torch.float32)[:, None]
    race = torch.tensor([s[3] for s in samples], dtype=torch.long)
    return x, age, gender, race


# ---- batch norm across processes, on the CPU too ----
class _SyncNorm(torch.autograd.Function):
    """Batch statistics over every process's batch: sums reduced forward, and backward the
    two sums the input gradient needs (what nn.SyncBatchNorm does, which needs CUDA here)."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        c = x.shape[1]
        stats = torch.cat([x.sum((0, 2, 3)), torch.tensor([x.numel() / c], dtype=x.dtype, device=x.device)])
        dist.all_reduce(stats)
        count = stats[-1]
        mean = stats[:c] / count
        # the spread about the mean in a second pass: E[x²] − mean² loses float32's digits
        centred = x - mean[None, :, None, None]
        square = (centred * centred).sum((0, 2, 3))
        dist.all_reduce(square)
        var = square / count
        invstd = torch.rsqrt(var.clamp_min(0) + eps)
        xhat = centred * invstd[None, :, None, None]
        unbiased = var * count / (count - 1).clamp_min(1)
        ctx.save_for_backward(xhat, weight, invstd, count)
        ctx.mark_non_differentiable(mean, unbiased)
        return xhat * weight[None, :, None, None] + bias[None, :, None, None], mean, unbiased

    @staticmethod
    def backward(ctx, dy, _dmean, _dvar):
        xhat, weight, invstd, count = ctx.saved_tensors
        c = xhat.shape[1]
        sums = torch.cat([dy.sum((0, 2, 3)), (dy * xhat).sum((0, 2, 3))])
        dbias, dweight = sums[:c].clone(), sums[c:].clone()  # this process's share, as DDP averages
        dist.all_reduce(sums)
        mean_dy, mean_dy_xhat = sums[:c] / count, sums[c:] / count
        dx = (dy - mean_dy[None, :, None, None] - xhat * mean_dy_xhat[None, :, None, None]) \
            * (weight * invstd)[None, :, None, None]
        return dx, dweight, dbias, None


class SyncBatchNorm2d(nn.BatchNorm2d):
    """nn.BatchNorm2d (same names, same running statistics) with training statistics taken
    over all processes' batches."""

    def forward(self, x):
        if not self.training or not dist.is_initialized() or dist.get_world_size() == 1:
            return super().forward(x)
        y, mean, var = _SyncNorm.apply(x, self.weight, self.bias, self.eps)
        with torch.no_grad():
            self.num_batches_tracked += 1
            self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
            self.running_var.mul_(1 - self.momentum).add_(self.momentum * var)
        return y


def sync_batch_norm(module):
    """Every BatchNorm2d of module made a SyncBatchNorm2d, weights and statistics kept."""
    for name, child in module.named_children():
        if type(child) is nn.BatchNorm2d:
            sync = SyncBatchNorm2d(child.num_features, child.eps, child.momentum)
            sync.load_state_dict(child.state_dict())
            setattr(module, name, sync)
        else:
            sync_batch_norm(child)
    return module


# ---- the settings in force, and the run's changes replayed ----
class Settings:
    """The loss settings and learning-rate scale in force, changed as the studio's trainer
    changes them (trainer.c, apply_setting); each change is reported to `record`."""

    def __init__(self, loss, base_lr, record):
        self.age_loss = loss["age_loss"]
        self.weights = [float(loss["w_age"]), float(loss["w_gender"]), float(loss["w_race"])]
        self.smoothing = float(loss.get("smoothing", 0))
        self.balance_method = loss.get("balance", "manual")
        self.balance = recipe.Balance(self.balance_method, self.weights)
        self.base_lr, self.lr_scale = base_lr, 1.0
        self.record = record

    def apply(self, setting, value):
        if setting in ("w_age", "w_gender", "w_race"):
            h = ("w_age", "w_gender", "w_race").index(setting)
            value = float(np.float32(value))
            if self.balance_method != "manual" and value != self.weights[h]:
                self.apply("balance", "manual")  # a weight set by hand takes them back
            old, self.weights[h] = self.weights[h], value
            if old != value:
                self.record(setting, value, old, f"{setting} {old:g} → {value:g}")
        elif setting == "age_loss":
            old, self.age_loss = self.age_loss, value
            self.balance.forget_previous_losses()
            if old != value:
                self.record(setting, value, old, f"age {TITLES[old]} → {TITLES[value]}")
        elif setting == "balance":
            old, self.balance_method = self.balance_method, value
            if old != value:
                self.balance.start(value, self.weights)
                self.record(setting, value, old, f"balance {TITLES[old]} → {TITLES[value]}")
        elif setting == "lr":
            old = self.base_lr * self.lr_scale
            if self.base_lr > 0:
                self.lr_scale = float(value) / self.base_lr
            if np.float32(old) != np.float32(value):
                self.record(setting, float(value), old, f"lr {old:g} → {float(value):g}")


class Replay:
    """The run's changes, each made before the first step whose images seen reach its own."""

    def __init__(self, history):
        self.pending = sorted((c for c in history if c["setting"] in LIVE), key=lambda c: c["images"])

    def due(self, images_seen):
        while self.pending and self.pending[0]["images"] <= images_seen:
            yield self.pending.pop(0)


def enum_value(change):
    """A change's value as the engine's checkpoints keep it (train.history): age_loss and
    balance by their index in the engine's lists."""
    if change["setting"] == "age_loss":
        return AGE_LOSSES.index(change["value"])
    if change["setting"] == "balance":
        return recipe.BALANCES.index(change["value"])
    return change["value"]


# ---- the record and the run folder ----
class Record:
    """curves.csv: one row per event, in the studio's columns (records.h)."""

    def __init__(self, path):
        self.file = open(path, "w", newline="")
        self.file.write(",".join(COLUMNS) + "\n")
        self.last_flush = time.monotonic()

    def row(self, settings, **cells):
        cells.setdefault("age_loss", settings.age_loss)
        cells.setdefault("balance", settings.balance_method)
        for h, key in enumerate(("w_age", "w_gender", "w_race")):
            cells.setdefault(key, number(settings.weights[h]))
        out = []
        for col in COLUMNS:
            v = str(cells.get(col, ""))
            out.append('"' + v.replace('"', '""') + '"' if any(ch in v for ch in ',"\n') else v)
        self.file.write(",".join(out) + "\n")
        if time.monotonic() - self.last_flush > 2:
            self.flush()

    def flush(self):
        self.file.flush()
        os.fsync(self.file.fileno())
        self.last_flush = time.monotonic()


def validation_json(v, epoch, step):
    if v is None:
        return None
    return {"epoch": epoch, "step": step, "n": v["n"], "age_mae": v["age_mae"], "age_rmse": v["age_rmse"],
            "gender_acc": v["gender_acc"], "race_acc": v["race_acc"],
            "loss": {"age": v["loss"][0], "gender": v["loss"][1], "race": v["loss"][2]},
            "race_confusion": v["confusion"]}


# ---- validation ----
@torch.no_grad()
def evaluate(model, data, age_loss, age_mean, age_std, tta, device, batch=256):
    """The studio's validation (evaluate.c): errors in years, accuracies, the race confusion,
    each head's loss, and the age loss as trained (on the standardised age when it is)."""
    model.eval()
    n, abs_sum, sq_sum, loss_sum, trained_age = 0, 0.0, 0.0, [0.0, 0.0, 0.0], 0.0
    gender_right = race_right = 0
    confusion = [[0] * 5 for _ in range(5)]
    loader = DataLoader(data, batch_size=batch, collate_fn=collate)
    for x, age, gender, race in loader:
        x, age, gender, race = x.to(device), age.to(device), gender.to(device), race.to(device)
        z, g, r = model(x)
        if tta:
            zf, gf, rf = model(torch.flip(x, dims=[3]))
            z, g, r = (z + zf) / 2, (g + gf) / 2, (r + rf) / 2
        years = age_mean + age_std * z
        k = len(x)
        loss_sum[0] += recipe.age_loss(age_loss, years, age).item() * k
        trained_age += recipe.age_loss(age_loss, z, (age - age_mean) / age_std).item() * k
        loss_sum[1] += nn.functional.binary_cross_entropy_with_logits(g, gender).item() * k
        loss_sum[2] += nn.functional.cross_entropy(r, race).item() * k
        d = (years - age).double()
        abs_sum += d.abs().sum().item()
        sq_sum += (d * d).sum().item()
        gender_right += ((g > 0).float() == gender).sum().item()
        predicted = r.argmax(1)
        race_right += (predicted == race).sum().item()
        for t, p in zip(race.tolist(), predicted.tolist()):
            confusion[t][p] += 1
        n += k
    model.train()
    if n == 0:
        return None
    return {"n": n, "age_mae": abs_sum / n, "age_rmse": math.sqrt(sq_sum / n), "gender_acc": gender_right / n,
            "race_acc": race_right / n, "loss": [s / n for s in loss_sum],
            "trained": [trained_age / n, loss_sum[1] / n, loss_sum[2] / n], "confusion": confusion}


# ---- training ----
class Segments:
    """The runs of the exported run's chain of forks, each from the images seen where it
    starts: its own epochs (the span of the learning-rate schedule, as the engine gives each
    run) and augmentation. --epochs sets the last one's."""

    def __init__(self, project, settings, epochs):
        self.items = [dict(seg) for seg in project.get("segments") or
                      [{"step": 0, "images": 0, "epochs": settings["epochs"], "augment": settings["augment"]}]]
        self.items[-1]["epochs"] = epochs

    def at(self, images_seen):
        """The index of the segment in force once training has seen images_seen images."""
        return max(i for i, seg in enumerate(self.items) if seg["images"] <= images_seen)

    def schedule_progress(self, images_seen, step, steps_per_epoch):
        """The schedule's progress at the step that is step-th of the whole run."""
        return step / (self.items[self.at(images_seen)]["epochs"] * steps_per_epoch)


def parse_args(project):
    s = project["settings"]
    data = (project.get("data") or {}).get("folder")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=data, required=data is None,
                   help=f"the UTKFace folder (default: the run's, {data})" if data else "the UTKFace folder")
    p.add_argument("--epochs", type=int, default=s["epochs"], help=f"default {s['epochs']}")
    p.add_argument("--batch", type=int, default=s["batch"],
                   help=f"the global batch, split over the processes (default {s['batch']})")
    p.add_argument("--size", type=int, default=s["size"], help=f"input side (default {s['size']})")
    p.add_argument("--init", nargs="?", const=os.path.join(PROJECT, "init.safetensors"), default=None,
                   help="start from these weights (without a value: the run's, init.safetensors)")
    p.add_argument("--no-history", action="store_true",
                   help="do not replay the run's live changes: train with its starting settings")
    p.add_argument("--sync-bn", action="store_true", help="batch-norm statistics over all processes' batches")
    p.add_argument("--backend", choices=("gloo", "nccl"), default=None,
                   help="nccl with CUDA GPUs, gloo on CPUs (default: nccl when CUDA is there)")
    p.add_argument("--out", default=os.path.join(PROJECT, "output"), help="where the run is written")
    p.add_argument("--workers", type=int, default=2, help="data-loading processes per training process")
    p.add_argument("--threads", type=int, default=0, help="CPU threads per process (default: cores / processes)")
    p.add_argument("--max-steps", type=int, default=0,
                   help="stop after this many steps, the schedule as the whole run's (a quick check)")
    a = p.parse_args()
    if a.epochs < 1 or a.batch < 1 or a.max_steps < 0 or a.workers < 0 or a.threads < 0:
        p.error("--epochs and --batch must be at least 1, --max-steps, --workers and --threads at least 0")
    if not 16 <= a.size <= 512:
        p.error(f"--size {a.size}: the studio takes 16 to 512")
    if a.init and not os.path.isfile(a.init):
        p.error(f"--init {a.init}: no such file (an export without weights has no init.safetensors)")
    return a


def train_step(ddp, settings, draws, procs, x, age, gender, race, age_scale):
    """One step's forward and backward (recipe.py's protocol): the weights in force, or those a
    balancing method chooses from the losses or the heads' gradients at the shared feature,
    reduced over every process. Returns the step's figures, or None when its losses or weights
    are not finite (then nothing was learned)."""
    age_mean, age_std = age_scale
    z, g, r, f = ddp(x, features=True)
    target = (age - age_mean) / age_std
    losses = [recipe.age_loss(settings.age_loss, z, target),
              recipe.gender_loss(g, gender, settings.smoothing),
              recipe.race_loss(r, race, settings.smoothing)]
    with torch.no_grad():  # the age loss in years, as the studio reports it
        standardized = age_mean != 0.0 or age_std != 1.0
        years = recipe.age_loss(settings.age_loss, age_mean + age_std * z, age) if standardized else losses[0]
    k = len(x)
    # the heads' unweighted gradients at the feature, and their products over the global batch
    grads = [torch.autograd.grad(loss, f, retain_graph=True)[0] for loss in losses]
    local = [(grads[i].double() * grads[j].double()).sum().item() for i in range(3) for j in range(3)]
    sums = procs.sum([l.item() * k for l in losses] + [years.item() * k, float(k)] + local)
    n = sums[4]
    mean_losses = [sums[h] / n for h in range(3)]
    gram = [[sums[5 + 3 * i + j] / procs.world ** 2 for j in range(3)] for i in range(3)]
    method = settings.balance_method
    before = settings.balance.state_dict()
    if method == "manual":
        weights = list(settings.weights)
    elif recipe.uses_gradients(method):
        weights = settings.balance.gradient_weights(gram, draws["order"], list(settings.weights))
    else:
        weights = settings.balance.loss_step(mean_losses, draws["lr"], draws["normal"])
    total = sum(w * l for w, l in zip(weights, mean_losses))
    if not math.isfinite(total) or not all(map(math.isfinite, weights)):
        settings.balance.load_state_dict(before)
        return None
    settings.weights = [float(np.float32(w)) for w in weights]  # the weights in force from now
    if recipe.uses_gradients(method):
        # the heads learn from their own losses; the trunk from the weighted sum of their gradients
        combined = sum(w * gh for w, gh in zip(weights, grads))
        f.register_hook(lambda _grad: combined)
        sum(losses).backward()
    else:
        sum(w * loss for w, loss in zip(weights, losses)).backward()
    norms = [abs(w) * math.sqrt(max(gram[h][h], 0.0)) for h, w in enumerate(weights)]

    def cos(i, j):
        d = math.sqrt(max(gram[i][i], 0.0) * max(gram[j][j], 0.0))
        return gram[i][j] / d if d > 0 else 0.0

    raw = [sums[3] / n, mean_losses[1], mean_losses[2]]
    return {"n": int(n), "raw": raw, "trained": mean_losses, "weights": weights, "total": total,
            "gradnorm": norms, "cos": [cos(0, 1), cos(0, 2), cos(1, 2)]}


def main():
    with open(os.path.join(PROJECT, "run.json")) as f:
        project = json.load(f)
    if project.get("format") != PROJECT_FORMAT:
        sys.exit(f"{PROJECT}/run.json is not a HydraNet Studio export ({PROJECT_FORMAT})")
    a = parse_args(project)
    procs = Processes(a.backend)
    if a.batch % procs.world:
        sys.exit(f"--batch {a.batch} does not split evenly over {procs.world} processes")
    if procs.share(os.path.exists(os.path.join(a.out, "run.json")) if procs.rank == 0 else None):
        sys.exit(f"{a.out} holds a run already: import it, move it away, or give --out another folder")
    if procs.rank == 0:
        for note in project.get("notes", []):
            print(f"note: {note}", file=sys.stderr)
    torch.set_num_threads(a.threads or max(1, (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", "1"))))
    s = dict(project["settings"])
    s.update(epochs=a.epochs, batch=a.batch, size=a.size)
    seed = int(s["seed"])
    history = [] if a.no_history else project.get("history", [])

    scanned = None
    if procs.rank == 0:  # read once; every process then has rank 0's answer, or its error
        try:
            scanned = scan(a.data, int(s["val_percent"]))
        except OSError as e:
            scanned = f"{a.data}: {e.strerror or e}"
    scanned = procs.share(scanned)
    if isinstance(scanned, str):
        sys.exit(scanned)
    train_items, val_items, skipped = scanned
    if len(train_items) < 2:
        sys.exit(f"{a.data}: {len(train_items)} training images; at least 2 are needed")

    torch.manual_seed(seed)
    model = hydranet.HydraNet(s["backbone"])
    if a.init:
        try:
            tensors, _ = hydranet.load_safetensors(a.init)
            model.load_state_dict(hydranet.model_tensors(tensors), strict=True)
        except (OSError, ValueError, KeyError, RuntimeError) as e:
            sys.exit(f"--init {a.init}: not weights for this {s['backbone']} ({e})")
    age_scale = (0.0, 1.0)
    if s.get("age_target") == "standardized":
        ages = np.array([it[1] for it in train_items], dtype=np.float64)
        std = ages.std()
        age_scale = (float(np.float32(ages.mean())), float(np.float32(std)) if std ** 2 > 1e-6 else 1.0)
    if a.sync_bn:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model) if procs.device.type == "cuda" else sync_batch_norm(model)
    model.to(procs.device)
    ddp = DistributedDataParallel(model, device_ids=[procs.local_rank] if procs.device.type == "cuda" else None) \
        if procs.world > 1 else model
    optimizer = recipe.make_optimizer(model, s["optimizer"])
    average = recipe.MovingAverage(model, float(s.get("ema", 0))) if float(s.get("ema", 0)) > 0 else None

    segments = Segments(project, s, a.epochs)
    train_set = Faces(train_items, a.size, [recipe.Augment(seg["augment"]) for seg in segments.items], seed)
    sampler = EpochSampler(train_set, num_replicas=procs.world, rank=procs.rank, shuffle=True, seed=seed)
    # one image a process is a batch norm can train on only when it sees the others' too
    batches = Batches(sampler, a.batch // procs.world, 1 if a.sync_bn and procs.world > 1 else 2)
    loader = DataLoader(train_set, batch_sampler=batches, collate_fn=collate, num_workers=a.workers,
                        pin_memory=procs.device.type == "cuda")
    val_set = Faces(val_items, a.size)
    total_steps = a.epochs * len(batches)
    if a.max_steps:
        total_steps = min(total_steps, a.max_steps)

    def say(text):
        if procs.rank == 0:
            print(text, file=sys.stderr, flush=True)

    say(f"{len(train_items)} training and {len(val_items)} validation images ({skipped} files skipped), "
        f"{procs.world} process{'es' if procs.world > 1 else ''} ({procs.backend}, {procs.device.type}), "
        f"{len(batches)} steps an epoch of {a.batch} images")
    record = None
    name = f"{project.get('name', 'run')} · torchrun {procs.world}×{procs.backend}"
    if procs.rank == 0:
        os.makedirs(a.out, exist_ok=True)
        record = Record(os.path.join(a.out, "curves.csv"))
    step = epoch = 0
    images_seen = 0

    def note(setting, value, old, message):
        say(f"step {step}: {message} (replayed at {images_seen} images)")
        if record:
            record.row(settings, kind="setting", step=step, epoch=epoch, setting=setting,
                       value=value if isinstance(value, str) else number(value),
                       old_value=old if isinstance(old, str) else number(old), message=message)

    settings = Settings(s["loss"], float(s["optimizer"]["lr"]), note)
    replay = Replay(history)
    state, final, best = "running", None, None
    created = now()

    def save(state_now):
        if procs.rank != 0:
            return
        if average is not None:
            average.swap(model)
        tensors = {k.replace("module.", "", 1): v for k, v in model.state_dict().items()}
        if average is not None:
            average.swap(model)
        meta = {"format": hydranet.FORMAT, "backbone": s["backbone"], "input_size": a.size,
                "mean": "[0.485, 0.456, 0.406]", "std": "[0.229, 0.224, 0.225]",
                "source": source, "train.step": step, "train.epoch": epoch, "train.batch_index": 0,
                "train.seed": seed, "train.history": json.dumps(applied),
                "loss.age_loss": settings.age_loss, "loss.w_age": number(settings.weights[0]),
                "loss.w_gender": number(settings.weights[1]), "loss.w_race": number(settings.weights[2]),
                "loss.smoothing": number(settings.smoothing), "loss.balance": settings.balance_method}
        if age_scale != (0.0, 1.0):
            meta["age_mean"], meta["age_std"] = f"{age_scale[0]:.9g}", f"{age_scale[1]:.9g}"
        if final is not None:
            meta.update({"val.n": final["n"], "val.age_mae": f"{final['age_mae']:.9g}",
                         "val.gender_acc": f"{final['gender_acc']:.9g}", "val.race_acc": f"{final['race_acc']:.9g}"})
        hydranet.save_safetensors(os.path.join(a.out, "model.safetensors"), tensors, meta)
        info = {"format": RUN_FORMAT, "name": name, "created": created, "source": source,
                "data": {"folder": os.path.abspath(a.data)}, "settings": s, "parent": None,
                "summary": {"state": state_now, "updated": now(), "steps": step, "epochs": epoch, "batch": 0,
                            "images": images_seen, "final": validation_json(final, final_at[0], final_at[1]),
                            "best": validation_json(best, best_at[0], best_at[1]), "checkpoints": []},
                "exported_from": project.get("from"), "world_size": procs.world, "backend": procs.backend,
                "device": procs.device.type, "sync_bn": a.sync_bn}
        write_atomically(os.path.join(a.out, "run.json"), json.dumps(info, indent=2) + "\n")
        record.flush()

    source = f"PyTorch {torch.__version__} train.py ({procs.world} × {procs.backend}, {procs.device.type})"
    applied = []
    final_at = best_at = (0, 0)
    every = max(1, int(s["val_every"])) if s.get("val_every") != "end" else None
    t0 = last_said = time.monotonic()
    try:
        while epoch < a.epochs and step < total_steps and state == "running":
            sampler.set_epoch(epoch)
            sampler.segment = segments.at(images_seen)
            for k, (x, age, gender, race) in enumerate(loader):
                for change in replay.due(images_seen):
                    settings.apply(change["setting"], change["value"])
                    applied.append({"step": step, "setting": change["setting"], "value": enum_value(change)})
                x, age = x.to(procs.device, non_blocking=True), age.to(procs.device)
                gender, race = gender.to(procs.device), race.to(procs.device)
                progress = segments.schedule_progress(images_seen, step + 1, len(batches))
                lr = recipe.step_lr(settings.base_lr * settings.lr_scale, s["schedule"], progress)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                normal, order = recipe.step_draws(seed, step + 1)
                optimizer.zero_grad(set_to_none=True)
                out = train_step(ddp, settings, {"lr": lr, "normal": normal, "order": order}, procs,
                                 x, age, gender, race, age_scale)
                if out is None:  # not finite: nothing to learn from, and nobody to un-pause
                    state = "diverged"
                    break
                optimizer.step()
                if average is not None:
                    average.update(model)
                step += 1
                images_seen += out["n"]
                elapsed = time.monotonic() - t0
                t0 = time.monotonic()
                if record:
                    record.row(settings, kind="step", step=step, epoch=epoch, batch=k, batches=len(batches),
                               lr=number(lr), images=out["n"], img_per_s=number(out["n"] / max(elapsed, 1e-9)),
                               total=number(out["total"]),
                               **{f"loss_{h}": number(out["raw"][i]) for i, h in enumerate(recipe.HEADS)},
                               **{f"weighted_{h}": number(out["weights"][i] * out["trained"][i])
                                  for i, h in enumerate(recipe.HEADS)},
                               **{f"gradnorm_{h}": number(out["gradnorm"][i]) for i, h in enumerate(recipe.HEADS)},
                               cos_age_gender=number(out["cos"][0]), cos_age_race=number(out["cos"][1]),
                               cos_gender_race=number(out["cos"][2]))
                if time.monotonic() - last_said > 10 or step == total_steps:
                    last_said = time.monotonic()
                    say(f"epoch {epoch + 1}/{a.epochs} step {step} batch {k + 1}/{len(batches)}: "
                        + " ".join(f"{h} {out['raw'][i]:.4g}" for i, h in enumerate(recipe.HEADS))
                        + f" total {out['total']:.4g}, {out['n'] / max(elapsed, 1e-9):.0f} img/s")
                if step >= total_steps:
                    break
            if state != "running":
                break
            epoch += 1
            last = epoch >= a.epochs or step >= total_steps
            if procs.rank == 0 and val_items and (last or (every and epoch % every == 0)):
                if average is not None:
                    average.swap(model)
                v = evaluate(model, val_set, settings.age_loss, *age_scale, bool(s.get("tta")), procs.device)
                if average is not None:
                    average.swap(model)
                final, final_at = v, (epoch, step)
                say(f"epoch {epoch}: validation ({v['n']} images) age MAE {v['age_mae']:.2f} years, "
                    f"gender {100 * v['gender_acc']:.1f}%, race {100 * v['race_acc']:.1f}%")
                if best is None or v["age_mae"] < best["age_mae"]:
                    best, best_at = v, (epoch, step)
                record.row(settings, kind="val", step=step, epoch=epoch, val_n=v["n"],
                           val_age_mae=number(v["age_mae"]), val_age_rmse=number(v["age_rmse"]),
                           val_gender_acc=number(v["gender_acc"]), val_race_acc=number(v["race_acc"]),
                           val_race_confusion=" ".join(str(c) for row in v["confusion"] for c in row),
                           **{f"loss_{h}": number(v["loss"][i]) for i, h in enumerate(recipe.HEADS)},
                           **{f"weighted_{h}": number(settings.weights[i] * v["trained"][i])
                              for i, h in enumerate(recipe.HEADS)},
                           total=number(sum(w * l for w, l in zip(settings.weights, v["trained"]))))
            save("finished" if last else "running")
            procs.wait()
        if state == "running":
            state = "finished"
    except KeyboardInterrupt:
        state = "stopped"
    if record:
        record.row(settings, kind="state", step=step, epoch=epoch, state=state, error=int(state == "diverged"),
                   message={"finished": f"finished {epoch} epochs", "stopped": "stopped",
                            "diverged": "the loss is not finite: training stopped"}[state])
        save(state)
        print(json.dumps({"out": os.path.abspath(a.out), "state": state, "steps": step, "images": images_seen,
                          "first_step": first_step(a.out), "final": validation_json(final, *final_at)}))
    procs.close()
    sys.exit(0 if state == "finished" else 1)


def first_step(out):
    """The first step's losses as curves.csv has them: one process or many, the same batch."""
    import csv
    with open(os.path.join(out, "curves.csv"), newline="") as f:
        for row in csv.DictReader(f):
            if row["kind"] == "step":
                return {h: float(row[f"loss_{h}"]) for h in recipe.HEADS}
    return None


if __name__ == "__main__":
    main()
