#!/usr/bin/env python3
"""Loading a UTKFace folder: hydranet-cli's first and second open against the reference's PIL.

Three timings per round, alternating round after round (the machines here are noisy), and
the summary quotes medians:

  first   `hydranet-cli dataset DATA --size S --cache-dir FRESH`: list, hash, decode, crop,
          resize on every core, write the cache (its "load_seconds", timed inside the
          process around dataset_open_folder)
  second  the same command again with the same cache dir: the cache read back
  ref     the reference's scan() + tensors() for the train and the val split, as its
          `train` loads them, timed inside /usr/bin/python3 after the imports

An untimed warm-up pass reads every file first, so neither side pays for a cold disk.
Not a test: nothing here passes or fails on speed.

  tests/bench/bench_load.py [--cli build/app/hydranet-cli] [--ref ../shared/reference/hydranet_ref.py]
                            [--data ../shared/datasets/utkface-dev] [--size 32] [--rounds 3]
                            [--threads 0] [--val-percent 20]
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

# Runs in the reference's interpreter: imports the module from its path, then times only the
# loading (torch and PIL imports excluded, as our side's process start is).
REF_SNIPPET = r"""
import importlib.util, json, sys, time
spec = importlib.util.spec_from_file_location("hydranet_ref", sys.argv[1])
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)
data, size, vp = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
t = time.perf_counter()
xtr = ref.tensors(ref.scan(data, vp, "train"), size)[0]
xva = ref.tensors(ref.scan(data, vp, "val"), size)[0]
print(json.dumps({"seconds": time.perf_counter() - t, "train": len(xtr), "val": len(xva)}))
"""


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stderr}")
    return json.loads(p.stdout)


def ours(a, cache_dir):
    return run([a.cli, "dataset", a.data, "--size", str(a.size), "--cache-dir", cache_dir,
                "--val-percent", str(a.val_percent)] + (["--threads", str(a.threads)] if a.threads else []))


def reference(a):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")  # as the reference asks when timing
    return run(["/usr/bin/python3", "-c", REF_SNIPPET, a.ref, a.data, str(a.size), str(a.val_percent)], env)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "app", "hydranet-cli"))
    ap.add_argument("--ref", default=os.path.join(ROOT, "..", "shared", "reference", "hydranet_ref.py"))
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "datasets", "utkface-dev"))
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="0: every core")
    ap.add_argument("--val-percent", type=int, default=20)
    a = ap.parse_args()

    ours(a, "")  # warm-up: every file in the page cache
    first, second, ref = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.rounds):
            cache_dir = os.path.join(tmp, f"round{r}")  # fresh: a cold first open
            o1 = ours(a, cache_dir)
            o2 = ours(a, cache_dir)
            rf = reference(a)
            if o1["from_cache"] or not o2["from_cache"]:
                sys.exit(f"cache not used as expected: first {o1['cache']}, second {o2['cache']}")
            first.append(o1["load_seconds"])
            second.append(o2["load_seconds"])
            ref.append(rf["seconds"])
            print(f"round {r + 1}: first {o1['load_seconds']:.2f} s, second {o2['load_seconds']:.3f} s, "
                  f"reference {rf['seconds']:.2f} s", file=sys.stderr)

    m1, m2, mr = statistics.median(first), statistics.median(second), statistics.median(ref)
    print(f"\n{a.data} at {a.size}x{a.size}, {a.rounds} rounds, medians:")
    print(f"  hydranet first open (decode + resize + hash + cache)  {m1:8.3f} s")
    print(f"  hydranet second open (cache)                         {m2:8.3f} s")
    print(f"  reference scan + tensors, train + val (PIL)          {mr:8.3f} s")
    print(f"  reference / first open                               {mr / m1:8.2f}x")
    print(f"  images: hydranet {o1['usable']} usable ({o1['train']} train, {o1['val']} val; "
          f"{len(o1['skipped'])} skipped, of which copies of another file "
          f"{sum(len(g['files']) - 1 for g in o1['duplicate_groups'])}); "
          f"reference {rf['train'] + rf['val']} ({rf['train']} train, {rf['val']} val)")
    print(json.dumps({"size": a.size, "rounds": a.rounds, "first_s": m1, "second_s": m2, "ref_s": mr,
                      "speedup_first_vs_ref": mr / m1}))


if __name__ == "__main__":
    main()
