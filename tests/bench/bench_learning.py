#!/usr/bin/env python3
"""Learning quality side by side: hydranet-cli train against the reference's train.

Both train the same model (ResNet-18, 32x32) with the same settings on the same folder,
split by the same content-hash rule, and report validation age MAE, gender and race
accuracy and wall time. Runs are long, so they go one after the other (ours first); run on
a quiet machine. Extra variants of ours (e.g. the age loss on MSE, tuned weights) follow.

  tests/bench/bench_learning.py --data ../shared/datasets/utkface-dev [--epochs 5]
        [--variant "mse:--age-loss mse" --variant "mse-balanced:--age-loss mse --w-age 0.0025"]
        [--no-reference]
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def run_json(cmd, env=None):
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.time() - t0
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1]), wall, p.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "app", "hydranet-cli"))
    ap.add_argument("--ref", default=os.path.join(ROOT, "..", "shared", "reference", "hydranet_ref.py"))
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--variant", action="append", default=[], help="NAME:EXTRA-ARGS for another run of ours")
    ap.add_argument("--no-reference", action="store_true")
    a = ap.parse_args()

    common = ["--size", "32", "--epochs", str(a.epochs), "--batch", "64", "--optimizer", "adam",
              "--lr", "1e-3", "--val-percent", "20", "--threads", str(a.threads)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        runs = [("hydranet l1 1/1/1", [])] + [(v.split(":", 1)[0], shlex.split(v.split(":", 1)[1]))
                                              for v in a.variant]
        for name, extra in runs:
            out = os.path.join(tmp, "m.safetensors")
            s, wall, _ = run_json([a.cli, "train", "--data", a.data, *common, "--augment", "none",
                                   "--seed", "0", "--out", out, "--json", *extra])
            f = s["final"]
            rows.append((name, s["n_train"], s["n_val"], f["age_mae"], f["gender_acc"], f["race_acc"],
                         s["train_seconds"], wall))
            print(json.dumps({"run": name, **s}), flush=True)
        if not a.no_reference:
            env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
            s, wall, _ = run_json(["/usr/bin/python3", a.ref, "train", "--data", a.data, *common], env)
            f = s["final"]
            rows.append(("pytorch l1 1/1/1", s["n_train"], s["n_val"], f["age_mae"], f["gender_acc"],
                         f["race_acc"], s["train_s"], wall))
            print(json.dumps({"run": "pytorch", **s}), flush=True)

    print("\n| run | train | val | age MAE | gender acc | race acc | train s | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2f} | {100 * r[4]:.1f}% | {100 * r[5]:.1f}% | "
              f"{r[6]:.0f} | {r[7]:.0f} |")


if __name__ == "__main__":
    main()
