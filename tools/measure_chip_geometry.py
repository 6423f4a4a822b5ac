#!/usr/bin/env python3
"""Where the 68 landmarks sit in UTKFace's chips: their mean over a folder of chips.

    tools/measure_chip_geometry.py --cli build/app/hydranet-cli --data ../shared/datasets/utkface-dev \
        --out engine/face/chip.c

Runs `hydranet-cli faces --landmarks` on every chip, keeps the chips with exactly one face
found, and writes the mean position of each landmark as engine/face/chip.c's table (what
face_find aligns faces to). Also prints how many chips had one face, none, or several.
"""
import argparse
import json
import os
import subprocess
import sys

CHUNK = 200


def landmarks_of(cli, paths):
    out = subprocess.run([cli, "faces", "--landmarks", *paths], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        yield json.loads(line)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli", default="build/app/hydranet-cli")
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", default="engine/face/chip.c")
    args = ap.parse_args()

    files = sorted(f for f in os.listdir(args.data) if f.lower().endswith((".jpg", ".png")))
    paths = [os.path.join(args.data, f) for f in files]
    sums = [[0.0, 0.0] for _ in range(68)]
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
                for i in range(68):
                    sums[i][0] += xy[2 * i]
                    sums[i][1] += xy[2 * i + 1]
        print(f"{start + CHUNK}/{len(paths)} {counts}", file=sys.stderr, flush=True)
    n = counts["one"]
    mean = [(x / n, y / n) for x, y in sums]
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
    print(json.dumps({"chips": len(paths), **counts}))


if __name__ == "__main__":
    main()
