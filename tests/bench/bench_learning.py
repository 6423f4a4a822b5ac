#!/usr/bin/env python3
"""Time to quality, side by side: the presets of hydranet-cli train against the reference.

For each seed, the reference's `train` (the tutorial's model, Adam 1e-3, 5 epochs, 32x32)
and our presets run one after the other on the same folder, so that they share the
machine's drift; each run's wall time covers everything a user waits for: opening the folder
(ours from its cache, warmed first as a returning user has it), training and validation.
Quality is measured on each side's validation split (both split by the same content-hash
rule; ours leaves byte-identical copies out, so it holds a few images fewer). The machine
should otherwise be quiet, and nothing else should run: these are long.

  tests/bench/bench_learning.py --data ../shared/datasets/utkface-dev [--seeds 0,1]
        [--presets quick,quality] [--budget 60] [--no-reference]
        [--variant "NAME:EXTRA ARGS"]... [--logs DIR]

Prints one JSON object per run, then a table: each run, and per preset the mean over seeds
with its time as a share of the reference's.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


# the presets' input sizes (engine/train/config.c), whose caches are warmed before timing
PRESET_SIZES = {"quick": "32", "quality": "96"}


def run_json(cmd, env=None):
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.time() - t0
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1]), wall


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "app", "hydranet-cli"))
    ap.add_argument("--ref", default=os.path.join(ROOT, "..", "shared", "reference", "hydranet_ref.py"))
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--presets", default="quick,quality")
    ap.add_argument("--budget", type=float, default=60, help="minutes for the quality preset")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--variant", action="append", default=[], help="NAME:EXTRA-ARGS, another run of ours")
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--logs", help="keep each run of ours's record (--log) here, as NAME-SEED.csv")
    a = ap.parse_args()

    runs = [(p, ["--preset", p] + (["--time-budget", str(a.budget)] if p == "quality" else []))
            for p in a.presets.split(",") if p]
    runs += [(v.split(":", 1)[0], shlex.split(v.split(":", 1)[1])) for v in a.variant]
    sizes = {"32"}
    for _, extra in runs:
        if "--size" in extra:
            sizes.add(extra[extra.index("--size") + 1])
    sizes |= {PRESET_SIZES[name] for name, _ in runs if name in PRESET_SIZES}
    for size in sorted(sizes):  # a returning user's cache, untimed
        run_json([a.cli, "dataset", a.data, "--size", size])

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in [int(s) for s in a.seeds.split(",")]:
            if not a.no_reference:
                env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
                s, wall = run_json(["/usr/bin/python3", a.ref, "train", "--data", a.data, "--size", "32",
                                    "--epochs", "5", "--batch", "64", "--optimizer", "adam", "--lr", "1e-3",
                                    "--threads", str(a.threads), "--seed", str(seed)], env)
                f = s["final"]
                rows.append(("reference", seed, s["n_val"], f["age_mae"], f["gender_acc"], f["race_acc"], wall))
                print(json.dumps({"run": "reference", "seed": seed, "wall_s": wall, **s}), flush=True)
            for name, extra in runs:
                out = os.path.join(tmp, "m.safetensors")
                log = os.path.join(a.logs or tmp, f"{name}-{seed}.csv")
                s, wall = run_json([a.cli, "train", "--data", a.data, "--threads", str(a.threads),
                                    "--seed", str(seed), "--out", out, "--log", log, "--json", *extra])
                f = s["final"]
                rows.append((name, seed, s["n_val"], f["age_mae"], f["gender_acc"], f["race_acc"], wall))
                print(json.dumps({"run": name, "seed": seed, "wall_s": wall, **s}), flush=True)

    print("\n| run | seed | val images | age MAE | gender | race | wall s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2f} | {100 * r[4]:.1f}% | {100 * r[5]:.1f}% | {r[6]:.0f} |")
    names = list(dict.fromkeys(r[0] for r in rows))
    ref_wall = statistics.mean(r[6] for r in rows if r[0] == "reference") if "reference" in names else None
    print("\n| run | age MAE | gender | race | wall s | time / reference's |")
    print("|---|---|---|---|---|---|")
    for name in names:
        rs = [r for r in rows if r[0] == name]
        m = [statistics.mean(c) for c in list(zip(*rs))[3:]]
        share = f"{m[3] / ref_wall:.2f}" if ref_wall else ""
        print(f"| {name} (mean of {len(rs)}) | {m[0]:.2f} | {100 * m[1]:.1f}% | {100 * m[2]:.1f}% | "
              f"{m[3]:.0f} | {share} |")


if __name__ == "__main__":
    main()
