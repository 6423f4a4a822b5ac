#!/usr/bin/env python3
"""The balancing methods against hand-set weights: the README's table.

For each age loss (L1, MSE) and seed, hydranet-cli trains the same recipe with every
balancing method, with manual weights 1/1/1, and with a small grid of static age weights
(gender and race at 1), and validates each on the same split. The age is learned in years
(--age-target years), so the losses' scales fight as in the tutorial: MSE on years is in the
hundreds while BCE is below one.

  tests/bench/bench_balance.py --data ../shared/datasets/utkface-dev [--seeds 0,1,2]
        [--age-losses l1,mse] [--methods all] [--preset quick] [--results FILE.jsonl]
  tests/bench/bench_balance.py --overhead [--reps 3]

--overhead measures what a method costs a step instead: one epoch of 4,096 synthetic faces
(batch 64, 32x32, no validation, no files) per method and repetition, the methods
alternating (the order reversed every other round) so that they share the machine's drift; it prints each method's median
step rate (from --log) and its step time against manual's. The machine should be quiet for this one.

Each run is one JSON line in --results (runs already there are not run again, so a long
session can be stopped and continued). Then a table per age loss: mean and spread
(half the range over seeds) of age MAE, gender and race accuracy, and Δm, the mean relative
improvement over manual 1/1/1 across the three tasks (Maninis et al. 2019), in percent. The
best static weights are the grid point with the best mean Δm. Quality only: the machine may
be busy, but one run at a time keeps it fair to the grid.
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

METHODS = ["scale-invariant", "uncertainty", "famo", "mgda-ub", "imtl-g", "pcgrad", "rlw"]
# static age weights to try with gender and race at 1: around each loss's scale in years
GRID = {"l1": [0.03, 0.1, 0.3], "mse": [0.001, 0.003, 0.01]}


def configs(age_loss, methods):
    yield "manual 1/1/1", ["--balance", "manual"]
    for w in GRID[age_loss]:
        yield f"static w_age {w:g}", ["--balance", "manual", "--w-age", str(w)]
    for m in methods:
        yield m, ["--balance", m]


def run(cli, data, preset, age_loss, seed, args):
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [cli, "train", "--data", data, "--preset", preset, "--age-target", "years",
               "--age-loss", age_loss, "--seed", str(seed), "--out",
               os.path.join(tmp, "m.safetensors"), "--json"] + args
        p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return {"failed": p.stderr.strip().splitlines()[-1] if p.stderr.strip() else str(p.returncode)}
    f = json.loads(p.stdout.strip().splitlines()[-1])["final"]
    return {"age_mae": f["age_mae"], "gender_acc": f["gender_acc"], "race_acc": f["race_acc"]}


def delta_m(r, base):
    """Mean relative improvement over base, in percent: lower MAE, higher accuracies."""
    return 100 / 3 * ((base["age_mae"] - r["age_mae"]) / base["age_mae"]
                      + (r["gender_acc"] - base["gender_acc"]) / base["gender_acc"]
                      + (r["race_acc"] - base["race_acc"]) / base["race_acc"])


def mean_spread(xs):
    return statistics.mean(xs), (max(xs) - min(xs)) / 2


def table(results, age_loss, seeds, methods):
    rows = {}
    for name, _ in configs(age_loss, methods):
        runs = [results.get((age_loss, name, s)) for s in seeds]
        rows[name] = runs
    base = {s: rows["manual 1/1/1"][i] for i, s in enumerate(seeds)}

    def summary(name):
        runs = rows[name]
        if any(r is None for r in runs):
            return None
        if any("failed" in r for r in runs):
            return {"failed": sum("failed" in r for r in runs)}
        dm = [delta_m(r, base[s]) if "failed" not in base[s] else float("nan")
              for r, s in zip(runs, seeds)]
        return {k: mean_spread([r[k] for r in runs]) for k in ("age_mae", "gender_acc", "race_acc")} | \
               {"dm": mean_spread(dm)}

    sums = {name: summary(name) for name in rows}
    grid = [n for n in rows if n.startswith("static") and sums[n] and "failed" not in sums[n]]
    best = max(grid, key=lambda n: sums[n]["dm"][0]) if grid else None
    out = [f"\n{age_loss.upper()} age loss, {len(seeds)} seeds (mean ± half range)\n",
           "| weights | age MAE | gender | race | Δm vs 1/1/1 |", "|---|---|---|---|---|"]
    for name in rows:
        s = sums[name]
        label = name + (" (best static)" if name == best else "")
        if s is None:
            out.append(f"| {label} | not run | | | |")
        elif "failed" in s:
            out.append(f"| {label} | diverged in {s['failed']} of {len(seeds)} | | | |")
        else:
            out.append(f"| {label} | {s['age_mae'][0]:.2f} ± {s['age_mae'][1]:.2f} "
                       f"| {100 * s['gender_acc'][0]:.1f} ± {100 * s['gender_acc'][1]:.1f}% "
                       f"| {100 * s['race_acc'][0]:.1f} ± {100 * s['race_acc'][1]:.1f}% "
                       f"| {s['dm'][0]:+.1f} ± {s['dm'][1]:.1f}% |")
    return "\n".join(out)


def overhead(cli, methods, reps):
    rates = {m: [] for m in ["manual"] + methods}
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "steps.csv")
        for rep in range(reps):
            # the order reversed every other round: a place in the round is no advantage
            for m in (list(rates) if rep % 2 == 0 else list(rates)[::-1]):
                p = subprocess.run([cli, "train", "--synthetic", "4096", "--epochs", "1", "--batch", "64",
                                    "--val-percent", "0", "--balance", m, "--log", log,
                                    "--out", os.path.join(tmp, "m.safetensors")],
                                   capture_output=True, text=True)
                if p.returncode != 0:
                    sys.exit(f"{m}: {p.stderr.strip()[-500:]}")
                # each step's own rate, the first few (warming up) left out
                with open(log) as f:
                    steps = [float(r["img_per_s"]) for r in csv.DictReader(f) if r["kind"] == "step"]
                rates[m] += steps[5:]
    base = statistics.median(rates["manual"])
    print("| method | img/s (median step of %d runs) | step time vs manual |" % reps)
    print("|---|---|---|")
    for m, r in rates.items():
        med = statistics.median(r)
        print(f"| {m} | {med:.0f} | {100 * (base / med - 1):+.1f}% |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data")
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "app", "hydranet-cli"))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--age-losses", default="l1,mse")
    ap.add_argument("--methods", default="all")
    ap.add_argument("--preset", default="quick")
    ap.add_argument("--results", default="balance-results.jsonl")
    ap.add_argument("--table-only", action="store_true")
    ap.add_argument("--overhead", action="store_true")
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    seeds = [int(s) for s in a.seeds.split(",")]
    methods = METHODS if a.methods == "all" else a.methods.split(",")
    if a.overhead:
        return overhead(a.cli, methods, a.reps)
    results = {}
    if os.path.exists(a.results):
        for line in open(a.results):
            r = json.loads(line)
            results[(r["age_loss"], r["name"], r["seed"])] = r
    for seed in seeds:  # seed by seed, so that a run cut short has whole seeds
        for age_loss in a.age_losses.split(","):
            for name, args in configs(age_loss, methods):
                if a.table_only or (age_loss, name, seed) in results:
                    continue
                r = run(a.cli, a.data, a.preset, age_loss, seed, args)
                r |= {"age_loss": age_loss, "name": name, "seed": seed, "preset": a.preset}
                results[(age_loss, name, seed)] = r
                with open(a.results, "a") as f:
                    f.write(json.dumps(r) + "\n")
                print(json.dumps(r), flush=True)
    for age_loss in a.age_losses.split(","):
        print(table(results, age_loss, seeds, methods))


if __name__ == "__main__":
    sys.exit(main())
