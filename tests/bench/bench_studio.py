#!/usr/bin/env python3
"""How fast the studio trains against hydranet-cli, on the same folder and preset, in turn.

Each round runs `hydranet-cli train --data DIR --epochs E --json` and the studio's
build/tests/ui/bench-train (the real window under Xvfb, drawing its curves) on the same
folder with the studio preset at 32x32, each starting the round in turn, and reads both
img_per_s: training images a second, validation and checkpoints included. The summary gives
the medians and their ratio. The folder's cache is warmed first, untimed.

  tests/bench/bench_studio.py --data ../shared/datasets/utkface-dev [--epochs 1] [--rounds 3]
        [--studio NAME=PATH]...

--studio adds another bench-train binary (say, one built before a change) to the rotation;
each studio is compared with the CLI's median.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--studio", action="append", default=[], help="NAME=PATH of another bench-train")
    a = ap.parse_args()
    xvfb = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24"]
    studios = [("studio", os.path.join(a.build, "tests", "ui", "bench-train"))]
    studios += [tuple(s.split("=", 1)) for s in a.studio]
    cli = os.path.join(a.build, "app", "hydranet-cli")
    run([cli, "dataset", a.data, "--size", "32"])
    with tempfile.TemporaryDirectory() as tmp:
        sides = [("cli", [cli, "train", "--data", a.data, "--preset", "studio", "--size", "32",
                          "--epochs", str(a.epochs), "--out", os.path.join(tmp, "m.safetensors"), "--json"])]
        sides += [(name, xvfb + [path, a.data, str(a.epochs)]) for name, path in studios]
        rates = {name: [] for name, _ in sides}
        for r in range(a.rounds):  # each round starts with the next side
            k = r % len(sides)
            for name, cmd in sides[k:] + sides[:k]:
                rates[name].append(run(cmd)["img_per_s"])
            print(f"round {r + 1}: " + ", ".join(f"{n} {v[-1]:.0f} img/s" for n, v in rates.items()),
                  file=sys.stderr, flush=True)
    medians = {name: statistics.median(v) for name, v in rates.items()}
    print(json.dumps({"epochs": a.epochs, "rounds": a.rounds, "img_per_s": rates,
                      "medians": {n: round(m, 1) for n, m in medians.items()},
                      "over_cli": {n: round(m / medians["cli"], 3) for n, m in medians.items() if n != "cli"}}))


if __name__ == "__main__":
    main()
