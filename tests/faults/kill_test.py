#!/usr/bin/python3
"""hydranet-cli train killed with SIGKILL at random moments of its autosaves.

Each kill starts a run in a runs folder that checkpoints every two steps (an epoch of 16
synthetic faces in batches of 8), and kills it: every other time as soon as a temporary of a
save appears in its folder (then 0-20 ms later), otherwise at a random moment of its first
seconds. After each kill the run left behind must be one `runs` lists (or, killed before its
start was written, one it lists as skipped with a reason), its newest checkpoint that run.json
names must be whole, and `train --resume` from it must run an epoch. Leftover temporaries are
counted and reported: a kill cannot clean up. A run killed before its start was written
is no run: `runs` must list it as skipped, with the reason.

usage: kill_test.py HYDRANET_CLI [--kills N]   (default 10; the issue's soak: --kills 50)
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TRAIN = ["--synthetic", "16", "--size", "32", "--batch", "8", "--optimizer", "sgd", "--threads", "1"]
CLI = None


def run(*args):
    p = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    return p.returncode, p.stdout, p.stderr


def hidden(folder):
    """The hidden files (a save's temporaries) anywhere in folder."""
    out = []
    for root, _, names in os.walk(folder):
        out += [os.path.join(root, n) for n in names if n.startswith(".")]
    return out


def new_folder(runs, before):
    made = sorted(set(os.listdir(runs)) - before)
    return os.path.join(runs, made[-1]) if made else None


def kill_one(runs, scratch, at_save, rng):
    """Starts a run and kills it; returns (folder, how it was killed)."""
    before = set(os.listdir(runs))
    p = subprocess.Popen([CLI, "train", *TRAIN, "--epochs", "1000", "--seed", str(rng.randrange(1000)),
                          "--run-dir", runs], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    t0, how, started = time.monotonic(), None, None
    deadline = t0 + (60 if at_save else rng.uniform(0.5, 6.0))
    while time.monotonic() < deadline and p.poll() is None:
        folder = new_folder(runs, before)
        # an autosave: a temporary once the run has started (run.json is there) and a
        # random share of a few epochs has gone by
        if at_save and folder and started is None and os.path.exists(os.path.join(folder, "run.json")):
            started = time.monotonic() + rng.uniform(0, 3)
        if started is not None and time.monotonic() > started and hidden(folder):
            time.sleep(rng.uniform(0, 0.02))
            how = f"during a save at {time.monotonic() - t0:.2f} s"
            break
        time.sleep(0.002)
    how = how or f"at {time.monotonic() - t0:.2f} s"
    if p.poll() is not None:
        raise AssertionError(f"the run ended by itself ({p.returncode}) before it was killed")
    p.send_signal(signal.SIGKILL)
    p.wait()
    return new_folder(runs, before), how


def check(runs, folder, scratch, problems):
    """The run folder left behind lists and resumes; returns what it was."""
    code, out, err = run("runs", "--dir", runs)
    if code != 0:
        problems.append(f"runs --dir fails: {err.strip()}")
        return "unlisted"
    listing = json.loads(out)
    real = os.path.realpath(folder)
    info = next((r for r in listing["runs"] if r["folder"] == real), None)
    if info is None:
        skipped = [s for s in listing["skipped"] if real in json.dumps(s)]
        if not skipped:
            problems.append(f"{folder} is neither a run nor listed as skipped")
        elif os.path.exists(os.path.join(folder, "run.json")):
            problems.append(f"{folder} has a run.json but is skipped: {skipped}")
        return "killed in its start (skipped: " + json.dumps(skipped[0])[:120] + ")"
    points = info["summary"]["checkpoints"]
    if not points:
        problems.append(f"{folder}: run.json names no checkpoint")
        return "a run without checkpoints"
    newest = points[-1]
    path = os.path.join(folder, newest["file"])
    out_model = os.path.join(scratch, "resumed.safetensors")
    code, _, err = run("train", *TRAIN, "--resume", path, "--epochs", str(newest["epoch"] + 1),
                       "--out", out_model)
    if code != 0:
        problems.append(f"--resume {path} fails ({code}): {err.strip()[-300:]}")
    return f"a run at epoch {newest['epoch']}, resumed"


def main():
    global CLI
    args = sys.argv[1:]
    CLI = os.path.abspath(args[0])
    kills = int(args[args.index("--kills") + 1]) if "--kills" in args else 10
    rng = random.Random(int(os.environ.get("HN_KILL_SEED", "18")))
    base_dir = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    started = time.monotonic()
    problems, left = [], 0
    with tempfile.TemporaryDirectory(prefix="hn-kill-", dir=base_dir) as base:
        runs = os.path.join(base, "runs")
        os.makedirs(runs)
        for i in range(kills):
            folder, how = kill_one(runs, base, i % 2 == 0, rng)
            if folder is None:
                print(f"kill {i + 1}: {how}, before the run folder was made", flush=True)
                continue
            temps = hidden(folder)
            left += len(temps)
            n = len(problems)
            what = check(runs, folder, base, problems)
            names = ", ".join(sorted(os.path.basename(t) for t in temps))
            print(f"kill {i + 1}: {how}: {what}; {len(temps)} temporaries left {names}"
                  + ("" if len(problems) == n else f"; FAIL {problems[n:]}"), flush=True)
            shutil.rmtree(folder)  # its checkpoints: 100 MB an epoch
    print(f"{kills} kills, {len(problems)} problems, {left} temporaries left behind, "
          f"{time.monotonic() - started:.0f} s")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
