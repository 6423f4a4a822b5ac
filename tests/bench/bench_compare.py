#!/usr/bin/env python3
"""Side-by-side speed of hydranet-cli and the PyTorch reference, measured in one run.

The machines here are noisy (neighbours come and go), so the sides alternate, round after
round, each round starting with the next side, and the summary quotes medians and their
ratio. Each side runs its own
`bench` (same model, batch, input size and thread count; the same JSON keys).

  tests/bench/bench_compare.py [--cli build/app/hydranet-cli] [--ref ../shared/reference/hydranet_ref.py]
                               [--sizes 32,64] [--batch 64] [--threads 2] [--rounds 3]

--cli may be given more than once, as NAME=PATH, to compare builds of hydranet-cli with each
other and with PyTorch in the same alternating rounds (before=…/hydranet-cli
after=…/hydranet-cli); ratios are to PyTorch, and the last column is the last build against
the first.

Also prints the fraction of the machine's FMA limit reached, using the model's training FLOPs
per image (3x the forward's multiply-adds x 2, counting every tap of every convolution,
padding included). --peak-gflops defaults to 256: 2 cores x 2 FMA units x 8 floats x 2 flops
x ~4.0 GHz, the clock these cores hold under load, which a large sgemm on two threads comes
close to (build/tests/bench-layers prints what it reaches; docs/performance.md).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def forward_macs(size, backbone="resnet18"):
    """Multiply-accumulates of one image's forward pass (convolutions and linear layers)."""
    depth = {"resnet18": [2, 2, 2, 2], "resnet34": [3, 4, 6, 3]}[backbone]
    out = lambda s, k, st, p: (s + 2 * p - k) // st + 1
    s = out(size, 7, 2, 3)
    macs = 64 * 3 * 49 * s * s
    s = out(s, 3, 2, 1)
    c_in = 64
    for stage, blocks in enumerate(depth):
        c = 64 << stage
        for i in range(blocks):
            stride = 2 if stage > 0 and i == 0 else 1
            s2 = out(s, 3, stride, 1)
            macs += c * c_in * 9 * s2 * s2 + c * c * 9 * s2 * s2
            if stride != 1 or c_in != c:
                macs += c * c_in * s2 * s2
            s, c_in = s2, c
    macs += 3 * (512 * 512) + 512 * (1 + 1 + 5)
    return macs


def run(cmd, env):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def parse_clis(values):
    """NAME=PATH pairs (a bare PATH is named hydranet), in the order given."""
    clis = []
    for v in values or [os.path.join(ROOT, "build", "app", "hydranet-cli")]:
        name, sep, path = v.partition("=")
        clis.append((name, path) if sep else ("hydranet", v))
    return clis


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", action="append", help="[NAME=]PATH of a hydranet-cli; repeatable")
    ap.add_argument("--ref", default=os.path.join(ROOT, "..", "shared", "reference", "hydranet_ref.py"))
    ap.add_argument("--sizes", default="32,64")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--peak-gflops", type=float, default=256.0)
    a = ap.parse_args()
    clis = parse_clis(a.cli)
    names = [n for n, _ in clis]

    env = dict(os.environ)
    # PyTorch runs its own pool; OpenBLAS's must not compete with it (the reference says so).
    ref_env = dict(env, OPENBLAS_NUM_THREADS="1")
    rows = []
    for size in [int(s) for s in a.sizes.split(",")]:
        common = ["--size", str(size), "--batch", str(a.batch), "--threads", str(a.threads)]
        results = {n: [] for n in names + ["pytorch"]}
        sides = [(n, [p, "bench", *common], env) for n, p in clis]
        sides.append(("pytorch", ["/usr/bin/python3", a.ref, "bench", *common], ref_env))
        for r in range(a.rounds):
            # each round starts with the next side, so that none always follows the same one
            for name, cmd, side_env in sides[r % len(sides):] + sides[:r % len(sides)]:
                results[name].append(run(cmd, side_env))
            print(f"size {size} round {r + 1}: " + ", ".join(
                f"{n} {results[n][-1]['train_img_per_s']:.1f} img/s" for n in results), file=sys.stderr)
        med = lambda n, k: statistics.median(x[k] for x in results[n])
        train_gflop = 3 * 2 * forward_macs(size) / 1e9
        row = {"size": size, "batch": a.batch, "threads": a.threads, "rounds": a.rounds,
               "gflop_per_train_img": round(train_gflop, 3)}
        for k in ("train_img_per_s", "infer_ms_batch1", "peak_rss_mb"):
            row[k] = {n: round(med(n, k), 2) for n in results}
            for n in names:
                key = "ratio" if len(names) == 1 else f"ratio_{n}"
                row[k][key] = round(med(n, k) / med("pytorch", k), 3)
            if len(names) > 1:
                row[k][f"{names[-1]}_over_{names[0]}"] = round(med(names[-1], k) / med(names[0], k), 3)
        row["fraction_of_fma_peak"] = {
            n: round(row["train_img_per_s"][n] * train_gflop / a.peak_gflops, 3) for n in results}
        rows.append(row)
        print(json.dumps(row))

    heads = names + ["pytorch"] + [f"{n}/pytorch" for n in names]
    if len(names) > 1:
        heads.append(f"{names[-1]}/{names[0]}")
    print("\n| size | | " + " | ".join(heads) + " |", file=sys.stderr)
    print("|---|---|" + "---|" * len(heads), file=sys.stderr)
    for r in rows:
        for k, label in (("train_img_per_s", "train img/s"), ("infer_ms_batch1", "infer ms (batch 1)"),
                         ("peak_rss_mb", "peak RSS MB")):
            v = r[k]
            cells = [v[n] for n in names + ["pytorch"]]
            cells += [v["ratio" if len(names) == 1 else f"ratio_{n}"] for n in names]
            if len(names) > 1:
                cells.append(v[f"{names[-1]}_over_{names[0]}"])
            print(f"| {r['size']} | {label} | " + " | ".join(str(c) for c in cells) + " |", file=sys.stderr)
        f = r["fraction_of_fma_peak"]
        print(f"| {r['size']} | share of FMA peak | " + " | ".join(str(f[n]) for n in names + ["pytorch"])
              + " |" + " |" * (len(heads) - len(names) - 1), file=sys.stderr)


if __name__ == "__main__":
    main()
