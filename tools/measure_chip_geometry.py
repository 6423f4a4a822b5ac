#!/usr/bin/env python3
"""Where the 68 landmarks sit in UTKFace's chips: their mean over a folder of chips.

    tools/measure_chip_geometry.py --cli build/app/hydranet-cli --data ../shared/datasets/utkface-dev \
        --out engine/face/chip.c

Runs `hydranet-cli faces --landmarks` on every chip, keeps the chips with exactly one face
found, and writes the mean position of each landmark as engine/face/chip.c's table (what
face_find aligns faces to). Also prints how many chips had one face, none, or several, and
for each set of landmarks a fit could use, how far fitting moves the chips (which are
aligned already) on average: the set that moves them least is the one to fit on (align.h).
"""
import argparse
import json
import math
import os
import subprocess
import sys

CHUNK = 200


# The landmark sets a fit could use (align.h's FACE_FIT_FIRST..FACE_FIT_LAST is 27-59).
SUBSETS = {"all": range(0, 68), "17-67": range(17, 68), "27-67": range(27, 68),
           "27-59": range(27, 60)}


def landmarks_of(cli, paths):
    out = subprocess.run([cli, "faces", "--landmarks", *paths], capture_output=True, text=True)
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    if out.returncode not in (0, 1) or len(lines) != len(paths):  # 1: some file unreadable
        sys.exit(f"{cli} faces failed ({out.returncode}): {out.stderr.strip()}")
    return lines


def corner_shift(points, template, subset):
    """How far the chip's corners move when points are fitted onto the template by a
    similarity over subset: the mean distance, in chip pixels (0 for a chip aligned as the
    mean is)."""
    p = [points[i] for i in subset]
    q = [template[i] for i in subset]
    n = len(p)
    px, py = sum(a[0] for a in p) / n, sum(a[1] for a in p) / n
    qx, qy = sum(a[0] for a in q) / n, sum(a[1] for a in q) / n
    re = im = norm = 0.0
    for (x, y), (u, v) in zip(p, q):
        x, y, u, v = x - px, y - py, u - qx, v - qy
        re += x * u + y * v
        im += x * v - y * u
        norm += x * x + y * y
    a, b = re / norm, im / norm
    tx, ty = qx - (a * px - b * py), qy - (b * px + a * py)
    corners = [(0, 0), (199, 0), (0, 199), (199, 199), (100, 100)]
    return sum(math.hypot(a * x - b * y + tx - x, b * x + a * y + ty - y)
               for x, y in corners) / len(corners)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli", default="build/app/hydranet-cli")
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", default="engine/face/chip.c")
    args = ap.parse_args()

    files = sorted(f for f in os.listdir(args.data) if f.lower().endswith((".jpg", ".png")))
    paths = [os.path.join(args.data, f) for f in files]
    sums = [[0.0, 0.0] for _ in range(68)]
    shapes = []
    counts = {"one": 0, "none": 0, "several": 0, "error": 0}
    for start in range(0, len(paths), CHUNK):
        for r in landmarks_of(args.cli, paths[start:start + CHUNK]):
            if "error" in r:
                counts["error"] += 1
                continue
            faces = r["faces"]
            counts["one" if len(faces) == 1 else "none" if not faces else "several"] += 1
            if len(faces) == 1:
                xy = faces[0]["landmarks"]
                shapes.append([(xy[2 * i], xy[2 * i + 1]) for i in range(68)])
                for i in range(68):
                    sums[i][0] += xy[2 * i]
                    sums[i][1] += xy[2 * i + 1]
        print(f"{start + CHUNK}/{len(paths)} {counts}", file=sys.stderr, flush=True)
    n = counts["one"]
    if n == 0:
        sys.exit("no chip with exactly one face found")
    mean = [(x / n, y / n) for x, y in sums]
    shifts = {name: round(sum(corner_shift(s, mean, sub) for s in shapes) / n, 2)
              for name, sub in SUBSETS.items()}
    rows = ",\n".join("  { %.2ff, %.2ff }" % p for p in mean)
    with open(args.out, "w") as f:
        f.write(f"""/* chip.c — where the 68 landmarks sit in UTKFace's 200×200 chips (align.h).
 *
 * The mean of dlib's landmarks over the {n} of {len(paths)} dev chips in which exactly one face
 * was found, in the chip's pixels; written by tools/measure_chip_geometry.py.
 */
#include "align.h"

const HnPoint face_chip_landmarks[FACE_LANDMARKS] = {{
{rows},
}};
""")
    print(json.dumps({"chips": len(paths), **counts, "corner_shift_px": shifts}))


if __name__ == "__main__":
    main()
