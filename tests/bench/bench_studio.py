#!/usr/bin/env python3
"""How fast the studio trains against hydranet-cli, on the same folder and preset, in turn.

Each round runs `hydranet-cli train --data DIR --epochs E --json` and the studio's
build/tests/ui/bench-train (the real window under Xvfb, drawing its curves) on the same
folder with the studio preset at 32x32, each starting the round in turn, and reads both
img_per_s: training images a second, validation and checkpoints included. The summary gives
the medians and their ratio. The folder's cache is warmed first, untimed.

  tests/bench/bench_studio.py --data ../shared/datasets/utkface-dev [--epochs 1] [--rounds 3]
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
    a = ap.parse_args()
    cli = os.path.join(a.build, "app", "hydranet-cli")
    run([cli, "dataset", a.data, "--size", "32"])
    with tempfile.TemporaryDirectory() as tmp:
        sides = [("cli", [cli, "train", "--data", a.data, "--preset", "studio", "--size", "32",
                          "--epochs", str(a.epochs), "--out", os.path.join(tmp, "m.safetensors"), "--json"]),
                 ("studio", ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24",
                             os.path.join(a.build, "tests", "ui", "bench-train"), a.data, str(a.epochs)])]
        rates = {"cli": [], "studio": []}
        for r in range(a.rounds):
            for name, cmd in sides[r % 2:] + sides[:r % 2]:
                rates[name].append(run(cmd)["img_per_s"])
            print(f"round {r + 1}: cli {rates['cli'][-1]:.0f} img/s, studio {rates['studio'][-1]:.0f} img/s",
                  file=sys.stderr, flush=True)
    cli_m, studio_m = statistics.median(rates["cli"]), statistics.median(rates["studio"])
    print(json.dumps({"epochs": a.epochs, "rounds": a.rounds, "cli_img_per_s": rates["cli"],
                      "studio_img_per_s": rates["studio"], "cli_median": round(cli_m, 1),
                      "studio_median": round(studio_m, 1), "studio_over_cli": round(studio_m / cli_m, 3)}))


if __name__ == "__main__":
    main()
