#!/usr/bin/env python3
"""Faces found and predicted on real photos: the targets of faces.h, measured on the dev chips.

    tests/bench/bench_faces.py --cli build/app/hydranet-cli --model M.safetensors \
        --data ../shared/datasets/utkface-dev [--count 500] [--seed 0] [--tta none|flip]
        [--speed-only | --accuracy-only]

For `--count` chips drawn with `--seed`:
  - dropped: each chip given to `predict --faces auto` as it is;
  - pasted: each chip scaled by 0.5–1.5, turned by up to ±15°, pasted at a random place of a
    640×480 background (a smooth random colour field with noise);
  - pasted at the edge: the same with a quarter of it past the left or the top edge;
and each compared with the chip's own whole-image prediction (`--faces whole`): found (a face
whose box centre lies inside the pasted chip), mean |age difference|, same gender, same race.
The chips are the ones the chip geometry was measured on, so how far a dropped chip moves back
to it ("back_to_itself") flatters a little. Then the time `hydranet-cli faces` takes to find and align the faces of a 1 MP and a 12 MP
photo (three chips pasted at photo scale), median of repeats, one core.
Needs PIL and numpy (Debian's python3-pil, python3-numpy). Prints one JSON object.
"""
import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

CHUNK = 100


def run_json(cmd, env=None):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return [json.loads(line) for line in out.stdout.splitlines()]


def predict(cli, model, mode, paths, tta="none"):
    lines = []
    for start in range(0, len(paths), CHUNK):
        lines += run_json([cli, "predict", "--model", model, "--faces", mode, "--tta", tta,
                           *paths[start:start + CHUNK]])
    by_file = {}
    for line in lines:
        by_file.setdefault(line["file"], []).append(line)
    return by_file


def background(rng, w, h):
    coarse = rng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
    field = np.asarray(Image.fromarray(coarse).resize((w, h), Image.BICUBIC), dtype=np.float32)
    field += rng.normal(0, 8, size=field.shape)
    return Image.fromarray(np.clip(field, 0, 255).astype(np.uint8))


def paste(chip, bg, rng, scale, degrees, cut=0.0):
    """chip scaled and turned, pasted inside bg (or with `cut` of it past the left or top
    edge); returns the pasted chip's centre and side."""
    side = max(1, round(chip.width * scale))
    turned = chip.resize((side, side), Image.BILINEAR).rotate(degrees, Image.BILINEAR, expand=True)
    mask = Image.new("L", (side, side), 255).rotate(degrees, Image.BILINEAR, expand=True)
    x = int(rng.integers(0, bg.width - turned.width + 1))
    y = int(rng.integers(0, bg.height - turned.height + 1))
    if cut:
        if rng.integers(0, 2):
            x = -round(cut * turned.width)
        else:
            y = -round(cut * turned.height)
    bg.paste(turned, (x, y), mask)
    return x + turned.width / 2, y + turned.height / 2, side


def agreement(whole, lines, centre=None, side=None):
    """The face that stands for the chip, compared with the chip's whole prediction."""
    faces = [l for l in lines if l.get("face") is not None]
    if centre is not None:
        def dist(l):
            x, y, w, h = l["box"]
            return math.hypot(x + w / 2 - centre[0], y + h / 2 - centre[1])
        faces = [l for l in faces if dist(l) < side / 2]
        faces.sort(key=dist)
    if not faces:
        return None
    f = faces[0]
    return (abs(f["age"] - whole["age"]), f["gender"] == whole["gender"], f["race"] == whole["race"])


def summary(results, n):
    found = [r for r in results if r is not None]
    return {
        "images": n,
        "found_pct": round(100 * len(found) / n, 2),
        "age_diff_mean": round(statistics.mean(r[0] for r in found), 3) if found else None,
        "age_diff_median": round(statistics.median(r[0] for r in found), 3) if found else None,
        "same_gender_pct": round(100 * sum(r[1] for r in found) / len(found), 2) if found else None,
        "same_race_pct": round(100 * sum(r[2] for r in found) / len(found), 2) if found else None,
    }


def speed(cli, chips, tmp, rng, repeats):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    out = {}
    for name, (w, h, face) in {"1mp": (1155, 866, 300), "12mp": (4000, 3000, 900)}.items():
        bg = background(rng, w, h)
        for i, chip in enumerate(chips[:3]):
            bg.paste(chip.resize((face, face), Image.BILINEAR), (int(w * (0.1 + 0.3 * i)), h // 3))
        path = os.path.join(tmp, f"photo-{name}.jpg")
        bg.save(path, quality=92)
        pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
        runs = run_json([*pin, cli, "faces", *[path] * repeats], env)[1:]
        if not runs or "faces" not in runs[0]:
            sys.exit(f"{cli} faces {path} gave {runs[:1]}")
        out[name] = {
            "pixels": w * h,
            "faces": len(runs[0]["faces"]),
            "find_align_ms_median": round(statistics.median(r["find_ms"] + r["align_ms"] for r in runs), 1),
            "find_align_ms_max": round(max(r["find_ms"] + r["align_ms"] for r in runs), 1),
            "decode_ms_median": round(statistics.median(r["decode_ms"] for r in runs), 1),
        }
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli", default="build/app/hydranet-cli")
    ap.add_argument("--model")
    ap.add_argument("--data", required=True)
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--speed-only", action="store_true")
    ap.add_argument("--accuracy-only", action="store_true")
    ap.add_argument("--tta", default="none", choices=("none", "flip"),
                    help="both predictions averaged with the mirror's (as quick and quality do)")
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    files = sorted(f for f in os.listdir(args.data) if f.lower().endswith((".jpg", ".png")))
    picked = [os.path.join(args.data, f) for f in random.Random(args.seed).sample(files, args.count)]
    chips = [Image.open(p).convert("RGB") for p in picked]
    report = {"count": args.count, "seed": args.seed, "model": args.model, "tta": args.tta}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.accuracy_only:
            report["speed"] = speed(args.cli, chips, tmp, rng, args.repeats)
        if not args.speed_only:
            whole = predict(args.cli, args.model, "whole", picked, args.tta)
            dropped = predict(args.cli, args.model, "auto", picked, args.tta)
            report["dropped"] = summary(
                [agreement(whole[p][0], dropped[p], (100, 100), 200) for p in picked], len(picked))
            poses = run_json([args.cli, "faces", *picked])
            ones = [r["faces"][0] for r in poses if len(r.get("faces", [])) == 1]
            report["dropped"]["back_to_itself"] = {
                "scale_median": round(statistics.median(f["scale"] for f in ones), 4),
                "abs_scale_error_p90": round(sorted(abs(f["scale"] - 1) for f in ones)[int(0.9 * len(ones))], 4),
                "abs_degrees_median": round(statistics.median(abs(f["degrees"]) for f in ones), 3),
                "abs_degrees_p90": round(sorted(abs(f["degrees"]) for f in ones)[int(0.9 * len(ones))], 3),
            }
            # pasted inside the picture (the target), and a quarter past its edge
            for name, cut in (("pasted", 0.0), ("pasted_at_edge", 0.25)):
                pasted, where = [], {}
                for i, (p, chip) in enumerate(zip(picked, chips)):
                    bg = background(rng, 640, 480)
                    scale = float(rng.uniform(0.5, 1.5))
                    degrees = float(rng.uniform(-15, 15))
                    cx, cy, side = paste(chip, bg, rng, scale, degrees, cut)
                    path = os.path.join(tmp, f"{name}-{i:05d}.png")
                    bg.save(path)
                    pasted.append(path)
                    where[path] = (p, (cx, cy), side)
                got = predict(args.cli, args.model, "auto", pasted, args.tta)
                report[name] = summary(
                    [agreement(whole[where[q][0]][0], got.get(q, []), where[q][1], where[q][2])
                     for q in pasted], len(pasted))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
