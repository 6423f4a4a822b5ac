#!/usr/bin/python3
"""Interop test: hydranet-cli and the PyTorch reference read each other's checkpoints and
predict the same thing on the same images.

    interop_test.py PATH/TO/hydranet-cli PATH/TO/hydranet_ref.py

Exit status (meson conventions): 0 pass, 1 fail, 77 skip (no reference script, or
/usr/bin/python3 lacks torch / torchvision / PIL / numpy). The script itself needs only the
standard library, whatever Python runs it: the images are drawn by /usr/bin/python3 (it re-runs
this file with --make-images DIR).

Cases, each on the same six PNG images (made here with PIL from a fixed numpy seed: four 32x32
ones — RGB noise, a smooth gradient, greyscale "L", RGBA — and two non-square larger RGB ones,
61x47 and 40x90, which exercise the centre crop and the antialiased resize):
  ref-init-r18   reference init --seed 3 -> predict with hydranet-cli and with the reference
  app-init-r18   hydranet-cli init --seed 5 -> the reference loads it (strict names) and both predict
  ref-init-r34, app-init-r34   the same two with --backbone resnet34
For every image: |d age| < 1e-3, |d p_female| < 1e-4, every |d race_prob| < 1e-4, and the same
gender and race labels (they may differ only where the reference's probabilities are within
1e-4 of the decision boundary). Files written by our CLI must also carry the metadata engine/io/runmeta.h lists
(format hydranet-1, backbone, input_size).
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

SKIP, FAIL = 77, 1
REF_PYTHON = "/usr/bin/python3"
RACES = ["white", "black", "asian", "indian", "other"]
TOL_AGE, TOL_P, TOL_LABEL = 1e-3, 1e-4, 1e-4
TIMEOUT_REF, TIMEOUT_CLI = 300, 120
IMAGE_SEED = 20261128


def skip(msg):
    print(f"SKIP: {msg}")
    sys.exit(SKIP)


class Failure(Exception):
    pass


def run(argv, timeout, env=None, what=None):
    """Runs a command; returns stdout, raising Failure with its stderr on any problem."""
    what = what or " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(argv))
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise Failure(f"{what}: timed out after {timeout} s")
    except OSError as e:
        raise Failure(f"{what}: cannot run: {e}")
    if p.returncode != 0:
        tail = "\n    ".join(p.stderr.strip().splitlines()[-15:])
        raise Failure(f"{what}: exit status {p.returncode}\n    {tail}")
    return p.stdout


def make_images(d):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(IMAGE_SEED)

    def smooth(h, w):
        y, x = np.mgrid[0:h, 0:w].astype(np.float64)
        r = 255 * x / max(w - 1, 1)
        g = 255 * y / max(h - 1, 1)
        b = 127.5 + 127.5 * np.sin(0.23 * x + 0.17 * y)
        return np.stack([r, g, b], axis=-1)

    def textured(h, w):  # smooth structure plus noise, like a photo more than pure noise is
        a = 0.6 * smooth(h, w) + 0.4 * rng.integers(0, 256, (h, w, 3))
        return np.clip(np.rint(a), 0, 255).astype(np.uint8)

    images = [
        ("noise_32.png", Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), "RGB")),
        ("gradient_32.png", Image.fromarray(np.rint(smooth(32, 32)).astype(np.uint8), "RGB")),
        ("grey_32.png", Image.fromarray(textured(32, 32)[:, :, 0], "L")),
        ("rgba_32.png", Image.fromarray(np.concatenate(
            [textured(32, 32), rng.integers(0, 256, (32, 32, 1), dtype=np.uint8)], axis=-1), "RGBA")),
        ("wide_61x47.png", Image.fromarray(textured(47, 61), "RGB")),
        ("tall_40x90.png", Image.fromarray(textured(90, 40), "RGB")),
    ]
    paths = []
    for name, img in images:
        p = os.path.join(d, name)
        img.save(p)
        paths.append(p)
    return paths


def read_metadata(path):
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) != 8:
            raise Failure(f"{path}: shorter than a safetensors header")
        (n,) = struct.unpack("<Q", raw)
        if n > 100 << 20:
            raise Failure(f"{path}: implausible header length {n}")
        try:
            head = json.loads(f.read(n))
        except ValueError as e:
            raise Failure(f"{path}: header is not JSON: {e}")
    return head.get("__metadata__", {})


def parse_predictions(text, images, who):
    rows = [line for line in text.splitlines() if line.strip()]
    if len(rows) != len(images):
        raise Failure(f"{who} predict: {len(rows)} lines of output for {len(images)} images")
    out = []
    for line, img in zip(rows, images):
        try:
            o = json.loads(line)
        except ValueError as e:
            raise Failure(f"{who} predict: not JSON ({e}): {line[:200]}")
        if not isinstance(o, dict):
            raise Failure(f"{who} predict: not a JSON object: {line[:200]}")
        if "error" in o:
            raise Failure(f"{who} predict: {os.path.basename(img)}: error: {o['error']}")
        missing = {"file", "age", "gender", "p_female", "race", "race_probs"} - set(o)
        if missing:
            raise Failure(f"{who} predict: {os.path.basename(img)}: missing keys {sorted(missing)}")
        if os.path.basename(str(o["file"])) != os.path.basename(img):
            raise Failure(f"{who} predict: line for {o['file']!r} where {img!r} was expected")
        if not isinstance(o["race_probs"], dict) or set(o["race_probs"]) != set(RACES):
            raise Failure(f"{who} predict: {os.path.basename(img)}: race_probs keys "
                          f"{sorted(o['race_probs']) if isinstance(o['race_probs'], dict) else o['race_probs']}")
        if o["gender"] not in ("male", "female") or o["race"] not in RACES:
            raise Failure(f"{who} predict: {os.path.basename(img)}: labels {o['gender']!r}, {o['race']!r}")
        out.append(o)
    return out


def self_consistent(o):
    """Problems with our CLI's labels disagreeing with its own probabilities, as a list."""
    name = os.path.basename(str(o["file"]))
    errors = []
    p = float(o["p_female"])
    if not 0.0 <= p <= 1.0:
        errors.append(f"{name}: p_female {p} outside [0,1]")
    elif p != 0.5 and o["gender"] != ("female" if p > 0.5 else "male"):
        errors.append(f"{name}: gender {o['gender']!r} but p_female {p}")
    probs = [float(o["race_probs"][r]) for r in RACES]
    if abs(sum(probs) - 1.0) > 1e-4:
        errors.append(f"{name}: race_probs sum to {sum(probs):.7g}")
    if probs[RACES.index(o["race"])] < max(probs):
        errors.append(f"{name}: race {o['race']!r} is not its most probable class")
    return errors


def compare(ref_rows, app_rows, case):
    """Returns (max |d age|, max |d p_female|, max |d race prob|, boundary label differences)."""
    worst = [0.0, 0.0, 0.0, 0]
    errors = []
    for r, a in zip(ref_rows, app_rows):
        name = os.path.basename(str(r["file"]))
        errors += [f"hydranet-cli output: {e}" for e in self_consistent(a)]
        d_age = abs(float(a["age"]) - float(r["age"]))
        d_p = abs(float(a["p_female"]) - float(r["p_female"]))
        d_race = max(abs(float(a["race_probs"][k]) - float(r["race_probs"][k])) for k in RACES)
        worst[0], worst[1], worst[2] = max(worst[0], d_age), max(worst[1], d_p), max(worst[2], d_race)
        if not d_age < TOL_AGE:
            errors.append(f"{name}: age {a['age']} vs reference {r['age']} (|d| {d_age:.3g} >= {TOL_AGE})")
        if not d_p < TOL_P:
            errors.append(f"{name}: p_female {a['p_female']} vs reference {r['p_female']} "
                          f"(|d| {d_p:.3g} >= {TOL_P})")
        if not d_race < TOL_P:
            k = max(RACES, key=lambda k: abs(float(a["race_probs"][k]) - float(r["race_probs"][k])))
            errors.append(f"{name}: race_probs[{k}] {a['race_probs'][k]} vs reference "
                          f"{r['race_probs'][k]} (|d| {d_race:.3g} >= {TOL_P})")
        if a["gender"] != r["gender"]:
            if abs(float(r["p_female"]) - 0.5) <= TOL_LABEL:
                worst[3] += 1
            else:
                errors.append(f"{name}: gender {a['gender']!r} vs reference {r['gender']!r} "
                              f"(reference p_female {r['p_female']})")
        if a["race"] != r["race"]:
            rp = r["race_probs"]
            if float(rp[r["race"]]) - float(rp[a["race"]]) <= TOL_LABEL:
                worst[3] += 1
            else:
                errors.append(f"{name}: race {a['race']!r} vs reference {r['race']!r} "
                              f"(reference probs {rp[r['race']]} vs {rp[a['race']]})")
    if errors:
        raise Failure(f"{case}: predictions differ:\n    " + "\n    ".join(errors) +
                      f"\n    (worst |d age| {worst[0]:.3g}, |d p_female| {worst[1]:.3g}, "
                      f"|d race_prob| {worst[2]:.3g})")
    return worst


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--make-images":
        print(json.dumps(make_images(sys.argv[2])))
        return
    if len(sys.argv) != 3:
        print("usage: interop_test.py PATH/TO/hydranet-cli PATH/TO/hydranet_ref.py", file=sys.stderr)
        sys.exit(2)
    cli, ref = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if not os.path.isfile(ref):
        skip(f"reference script not found: {ref}")
    if not os.access(REF_PYTHON, os.X_OK):
        skip(f"{REF_PYTHON} not found")
    try:
        probe = subprocess.run([REF_PYTHON, "-c", "import torch, torchvision, PIL, numpy"],
                               capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        skip(f"{REF_PYTHON} timed out importing torch")
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        skip(f"{REF_PYTHON} cannot import torch/torchvision/PIL/numpy: {last}")
    if not (os.path.isfile(cli) and os.access(cli, os.X_OK)):
        print(f"FAIL: hydranet-cli not found or not executable: {cli}")
        sys.exit(FAIL)

    ref_env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    tmp = tempfile.mkdtemp(prefix="hydranet-interop-")
    results, failures = [], []
    try:
        try:
            images = json.loads(run([REF_PYTHON, os.path.abspath(__file__), "--make-images", tmp],
                                    TIMEOUT_REF, what="making the test images"))
        except Failure as e:
            print(f"FAIL: {e}")
            failures.append(str(e))
            raise SystemExit(FAIL)

        def ref_cmd(*args):
            return run([REF_PYTHON, ref, *args], TIMEOUT_REF, env=ref_env,
                       what="reference " + " ".join(args[:1]))

        def cli_cmd(*args):
            return run([cli, *args], TIMEOUT_CLI, what="hydranet-cli " + " ".join(args[:1]))

        cases = [("ref-init-r18", "ref", "resnet18", 3), ("app-init-r18", "app", "resnet18", 5),
                 ("ref-init-r34", "ref", "resnet34", 3), ("app-init-r34", "app", "resnet34", 5),
                 ("app-trained", "train", "resnet18", 6)]
        for case, writer, backbone, seed in cases:
            model = os.path.join(tmp, f"{case}.safetensors")
            init = ["init", "--out", model, "--seed", str(seed), "--backbone", backbone]
            try:
                if writer == "ref":
                    ref_cmd(*init)
                elif writer == "train":
                    # a checkpoint saved by training (with running statistics that moved and
                    # optimizer state beside it) must load strictly in PyTorch too
                    run([cli, "train", "--synthetic", "48", "--epochs", "1", "--batch", "16",
                         "--seed", str(seed), "--out", model], TIMEOUT_CLI, what="hydranet-cli train")
                else:
                    cli_cmd(*init, "--size", "32")
                    meta = read_metadata(model)
                    want = {"format": "hydranet-1", "backbone": backbone, "input_size": "32"}
                    bad = {k: meta.get(k) for k, v in want.items() if meta.get(k) != v}
                    if bad:
                        raise Failure(f"{case}: hydranet-cli init wrote metadata {bad}, want {want}")
                # The reference loads with load_state_dict(strict=True): for app-written files
                # this is the name/shape check.
                ref_rows = parse_predictions(ref_cmd("predict", "--model", model, *images), images,
                                             f"{case}: reference")
                app_rows = parse_predictions(cli_cmd("predict", "--model", model, *images), images,
                                             f"{case}: hydranet-cli")
                results.append((case, len(images), *compare(ref_rows, app_rows, case)))
            except (Failure, ValueError, TypeError, KeyError) as e:
                msg = str(e) if isinstance(e, Failure) else f"malformed output: {type(e).__name__}: {e}"
                failures.append(msg if msg.startswith(case) else f"{case}: {msg}")
                results.append((case, len(images), None, None, None, None))
    finally:
        if failures:
            print(f"(keeping {tmp} for inspection)")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print(f"{'case':<14} {'images':>6} {'max|d age|':>11} {'max|d p_f|':>11} {'max|d race_p|':>13} "
          f"{'boundary labels':>15}")
    for case, n, da, dp, dr, nb in results:
        if da is None:
            print(f"{case:<14} {n:>6} {'FAILED':>11}")
        else:
            print(f"{case:<14} {n:>6} {da:11.3g} {dp:11.3g} {dr:13.3g} {nb:>15}")
    print(f"tolerances: |d age| < {TOL_AGE}, |d p_female| < {TOL_P}, |d race_prob| < {TOL_P}")
    if failures:
        print("\nFAIL:\n  " + "\n  ".join(failures))
        sys.exit(FAIL)
    print("PASS")


if __name__ == "__main__":
    main()
