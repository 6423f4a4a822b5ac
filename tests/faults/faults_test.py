#!/usr/bin/python3
"""Every writer of hydranet-cli under injected I/O faults (iofault.c, LD_PRELOAD).

For each writer — a training run's folder, the data-set cache, a model saved with --out (and
its --log), an export, an import — the writer runs once to count its calls of each kind under
its folder, then once per case with the Nth open, write, fsync, rename or mkdir failing with
ENOSPC, EIO or EACCES (once, or from then on: a full disk). Each case must leave:
  - an exit status, not a signal; 0 when the writer goes on by design (a training run whose
    autosave failed finishes; a data set whose cache was not written loads)
  - a message naming the file and the error, wherever the fault was not best effort
  - every file that was there before byte-identical, or replaced by a whole, valid one
  - no temporary file, no half-made run
  - something usable: every run lists, the newest checkpoint resumes, the cache reloads.

usage: faults_test.py HYDRANET_CLI IOFAULT_SO [--full [--errors-in-turn]] [--only WRITER]
                                             [--kinds open,write,…]
  default: first, middle and last call of each kind, the errors in turn (about 80 cases)
  --full:  every call of each kind (sampled past 40) with each of the three errors, and a
           resume after each case (--errors-in-turn: one error a call, a third of the cases)
"""
import errno
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

KINDS = ["open", "write", "fsync", "rename", "mkdir"]
ERRORS = ["ENOSPC", "EIO", "EACCES"]
# A temporary of file_replace (".NAME.XXXXXX"), of the import (".import-XXXXXX"), or a
# checkpoint's sidecar waiting for it (".NAME.optim.pending").
TEMP = re.compile(r"^\.(.+)\.[A-Za-z0-9]{6}$|^\.import-|\.pending$")
TRAIN = ["--synthetic", "16", "--size", "32", "--batch", "8", "--optimizer", "sgd",
         "--threads", "1", "--epochs", "2"]
STEPS = 4  # 2 epochs of 13 training images in batches of 8 (the last one dropped: none here)
PROJECT_FILES = {"README.md", "export_onnx.py", "hydranet.py", "launch.py", "recipe.py",
                 "run.json", "train.py", "init.safetensors"}

CLI = SHIM = None


def run(*args, env=None, timeout=300):
    p = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, OPENBLAS_NUM_THREADS="1", **(env or {})))
    return p.returncode, p.stdout, p.stderr


def files_under(top):
    """{path relative to top: bytes} of every file under top."""
    out = {}
    for root, _, names in os.walk(top):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, top)] = f.read()
    return out


def safetensors_whole(path):
    """Why the safetensors file at path is not whole, or None: its header parses and its
    tensors end where the file does."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        return f"{path}: {len(data)} bytes"
    n = struct.unpack("<Q", data[:8])[0]
    try:
        header = json.loads(data[8:8 + n])
    except ValueError as e:
        return f"{path}: header is not JSON ({e})"
    end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
    return None if 8 + n + end == len(data) else f"{path}: {len(data)} bytes, tensors end at {8 + n + end}"


def step_of(path):
    """A checkpoint's or its sidecar's train.step."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n)).get("__metadata__", {}).get("train.step")


def target_name(path):
    """The file a faulted call was writing: a temporary's target, else the path's own name."""
    name = os.path.basename(path)
    m = TEMP.match(name)
    name = m.group(1) if m and m.group(1) else name
    return name[1:-len(".pending")] if name.endswith(".pending") else name


class Writer:
    """One writer: what it needs made once (fixture), per case (prepare), how it runs, and
    what it must leave (check). `folder` is where its faults go."""
    name = ""
    resumes = False

    def fixture(self, base):
        pass

    def prepare(self, case):
        os.makedirs(self.folder(case))

    def folder(self, case):
        return os.path.join(case, "out")

    def check(self, case, code, out, err, fired, problems):
        pass


def run_folders(runs):
    return sorted(os.path.join(runs, d) for d in os.listdir(runs)
                  if os.path.isdir(os.path.join(runs, d)) and not d.startswith("."))


def check_runs_list(runs, problems):
    """Every folder in runs is a run `runs` lists, with a run.json that parses."""
    code, out, err = run("runs", "--dir", runs)
    if code != 0:
        problems.append(f"runs --dir fails: {err.strip()}")
        return []
    listed = {r["folder"] for r in json.loads(out)["runs"]}
    for folder in run_folders(runs):
        if os.path.realpath(folder) not in listed:
            problems.append(f"{folder} is left behind but is not a run: {sorted(os.listdir(folder))}")
    return sorted(listed)


def check_resume(checkpoint, case, problems, epochs, torn=False):
    """train --resume from checkpoint runs; torn: the sidecar's own rename failed, leaving the
    new model beside the old moments, which resuming must refuse, saying why."""
    out = os.path.join(case, "resumed.safetensors")
    code, _, err = run("train", *TRAIN[:-2], "--resume", checkpoint, "--epochs", str(epochs),
                       "--out", out)
    if torn and (code != 1 or "from another step" not in err):
        problems.append(f"--resume {checkpoint} of a torn pair: ({code}) {err.strip()[-300:]}")
    elif not torn and code != 0:
        problems.append(f"--resume {checkpoint} fails ({code}): {err.strip()[-300:]}")


class TrainRun(Writer):
    """train --run-dir: the first checkpoint, run.json, curves.csv, a checkpoint per epoch, the
    model at the end."""
    name = "run-folder"
    resumes = True

    def command(self, case):
        return ["train", *TRAIN, "--seed", "3", "--run-dir", self.folder(case), "--json"]

    def check(self, case, code, out, err, fired, problems):
        if code == 0:
            steps = json.loads(out.splitlines()[-1])["steps"]
            if steps != STEPS:
                problems.append(f"training stopped at step {steps} of {STEPS}")
        for folder in check_runs_list(self.folder(case), problems):
            points = sorted(f for f in os.listdir(os.path.join(folder, "checkpoints"))
                            if f.endswith(".safetensors")
                            and os.path.exists(os.path.join(folder, "checkpoints", f + ".optim")))
            if self.resume_now and points:
                check_resume(os.path.join(folder, "checkpoints", points[-1]), case, problems, 3)


class ModelOut(Writer):
    """train --out M --log L without a run folder: M (and M.optim) at the start and at each
    epoch's end, over an M from an earlier run; the record L."""
    name = "model-out"
    resumes = True

    def fixture(self, base):
        self.before = os.path.join(base, "model-out")
        os.makedirs(self.before)
        code, _, err = run("train", *TRAIN, "--seed", "9",
                           "--out", os.path.join(self.before, "m.safetensors"),
                           "--log", os.path.join(self.before, "steps.csv"))
        assert code == 0, err

    def prepare(self, case):
        shutil.copytree(self.before, self.folder(case))

    def command(self, case):
        d = self.folder(case)
        return ["train", *TRAIN, "--seed", "3", "--out", os.path.join(d, "m.safetensors"),
                "--log", os.path.join(d, "steps.csv"), "--json"]

    def check(self, case, code, out, err, fired, problems):
        if code == 0:
            steps = json.loads(out.splitlines()[-1])["steps"]
            if steps != STEPS:
                problems.append(f"training stopped at step {steps} of {STEPS}")
        model = os.path.join(self.folder(case), "m.safetensors")
        if self.resume_now:
            torn = bool(fired) and fired[0][0] == "rename" and fired[0][4].endswith(".optim")
            check_resume(model, case, problems, 3, torn)


class Cache(Writer):
    """dataset DIR --cache-dir C over a stale cache of DIR: a cache not written is no error."""
    name = "cache"

    def fixture(self, base):
        self.faces = os.path.join(base, self.name, "faces")
        spare = os.path.join(base, self.name, "spare")
        for d, n in ((self.faces, 24), (spare, 25)):
            code, _, err = run("synth", "--out", d, "--count", str(n), "--seed", "1")
            assert code == 0, err
        self.stale = os.path.join(base, self.name, "stale-cache")
        code, _, err = run("dataset", self.faces, "--cache-dir", self.stale, "--threads", "1")
        assert code == 0, err
        # one face more: the cache above is now stale, and rebuilt by every case
        extra = sorted(set(os.listdir(spare)) - set(os.listdir(self.faces)))[0]
        shutil.copy(os.path.join(spare, extra), self.faces)

    def prepare(self, case):
        shutil.copytree(self.stale, self.folder(case))

    def command(self, case):
        return ["dataset", self.faces, "--cache-dir", self.folder(case), "--threads", "1"]

    def check(self, case, code, out, err, fired, problems):
        if code != 0:
            problems.append(f"the data set did not load ({code}): {err.strip()}")
            return
        status = json.loads(out)["cache"]
        if fired and status.startswith(("written", "rebuilt")):
            problems.append(f"cache status {status!r} after a fault")
        again, out2, err2 = run("dataset", self.faces, "--cache-dir", self.folder(case), "--threads", "1")
        if again != 0 or json.loads(out2)["usable"] != 25:
            problems.append(f"the data set does not load again: {err2.strip()} {out2[:200]}")


class TrainCache(Cache):
    """train --data DIR --cache-dir C: the same cache, written by a training run, which must
    train on and say that the cache was not written."""
    name = "train-cache"

    def command(self, case):
        return ["train", "--data", self.faces, "--cache-dir", self.folder(case), *TRAIN[2:-2],
                "--epochs", "1", "--out", os.path.join(case, "m.safetensors")]

    def check(self, case, code, out, err, fired, problems):
        if code != 0:
            problems.append(f"training did not go on ({code}): {err.strip()[-300:]}")


class Export(Writer):
    """export-pytorch --run R --out P: P whole, or taken away again."""
    name = "export"

    def __init__(self, run_fixture):
        self.runs = run_fixture

    def command(self, case):
        project = os.path.join(self.folder(case), "project")
        return ["export-pytorch", "--run", self.runs.first, "--out", project]

    def check(self, case, code, out, err, fired, problems):
        project = os.path.join(self.folder(case), "project")
        there = set(os.listdir(project)) if os.path.isdir(project) else set()
        if code == 0 and there != PROJECT_FILES:
            problems.append(f"exported, but the project holds {sorted(there)}")
        if code != 0 and there:
            problems.append(f"the export failed but left {sorted(there)}")


class Import(Writer):
    """runs import P --dir D beside a run already there: one run more, or none."""
    name = "import"

    def __init__(self, run_fixture):
        self.runs = run_fixture

    def fixture(self, base):
        self.project = os.path.join(base, "project")
        output = os.path.join(self.project, "output")
        os.makedirs(output)
        for name in ("run.json", "curves.csv", "model.safetensors"):
            shutil.copy(os.path.join(self.runs.first, name), output)

    def prepare(self, case):
        there = os.path.join(self.folder(case), "2000-01-01-000000")
        os.makedirs(there)
        for name in ("run.json", "curves.csv", "model.safetensors"):  # its checkpoints: not needed
            shutil.copy(os.path.join(self.runs.second, name), there)

    def command(self, case):
        return ["runs", "import", self.project, "--dir", self.folder(case)]

    def check(self, case, code, out, err, fired, problems):
        listed = check_runs_list(self.folder(case), problems)
        want = 2 if code == 0 else 1
        if len(listed) != want:
            problems.append(f"exit {code} but {len(listed)} runs in the folder")


class Runs:
    """Two finished runs, for the export and the import."""

    def fixture(self, base):
        runs = os.path.join(base, "runs")
        folders = []
        for seed in ("3", "4"):
            code, out, err = run("train", *TRAIN, "--seed", seed, "--run-dir", runs, "--json")
            assert code == 0, err
            folders.append(json.loads(out.splitlines()[-1])["run_dir"])
        self.first, self.second = folders


def read_report(path):
    counts, fired = {}, []
    if os.path.exists(path):
        for line in open(path):
            parts = line.split()
            if parts and parts[0] == "fault":
                fired.append((parts[1], int(parts[2]), parts[3], parts[4] == "folder",
                              " ".join(parts[5:])))
            elif parts:
                counts = {k: int(v) for k, v in (p.split("=") for p in parts)}
    return counts, fired


def run_case(writer, case, kind=None, n=0, error=None, sticky=False):
    """Runs one case; returns (counts, fired, problems)."""
    shutil.rmtree(case, ignore_errors=True)
    os.makedirs(case)
    writer.prepare(case)
    folder = writer.folder(case)
    before = files_under(folder)
    report = os.path.join(case, "report")
    env = {"LD_PRELOAD": SHIM, "HN_FAULT_DIR": folder, "HN_FAULT_REPORT": report}
    if kind:
        env["HN_FAULT"] = f"{kind}:{n}:{error}" + (":sticky" if sticky else "")
    code, out, err = run(*writer.command(case), env=env)
    counts, fired = read_report(report)
    problems = []
    if code < 0 or code > 2:
        problems.append(f"exit status {code}: {err.strip()[-300:]}")
    if not counts:
        problems.append("no report: the process did not exit normally")
    # the message: the error as strerror words it, and the file's name (a folder's fsync or
    # open to fsync it is best effort: the file is in place already)
    if fired:
        _, _, _, folder_call, path = fired[0]
        strerror = os.strerror(getattr(errno, error))
        # a folder made under a hidden name (mkdtemp) is named by the folder it is made in
        names = {target_name(path)}
        if kind == "mkdir":
            names.add(os.path.basename(os.path.dirname(path)))
        said = strerror in out + err and any(n in out + err for n in names)
        if not folder_call and not said:
            problems.append(f"no message naming {' or '.join(sorted(names))} and '{strerror}': "
                            f"{(out + err).strip()[-400:]!r}")
    # what was there: the same bytes, or whole
    after = files_under(folder)
    for rel, data in before.items():
        if rel in after and after[rel] != data and rel.endswith((".safetensors", ".optim")):
            why = safetensors_whole(os.path.join(folder, rel))
            if why:
                problems.append(f"{rel} was replaced by a torn file: {why}")
        elif rel not in after:
            problems.append(f"{rel} was there before and is gone")
    for rel in after:
        full = os.path.join(folder, rel)
        if any(TEMP.match(part) for part in rel.split(os.sep)):
            problems.append(f"temporary left behind: {rel}")
        elif rel.endswith((".safetensors", ".optim")):
            why = safetensors_whole(full)
            if why:
                problems.append(why)
        elif rel.endswith("run.json"):
            try:
                json.loads(after[rel])
            except ValueError as e:
                problems.append(f"{rel} does not parse: {e}")
    # a checkpoint and its sidecar from the same step: only a failed rename of the sidecar
    # itself, said above, may leave the new model beside the old moments
    for rel in after:
        model = rel[:-len(".optim")]
        if not rel.endswith(".optim") or model not in after or safetensors_whole(os.path.join(folder, rel)):
            continue
        optim_renamed = fired and fired[0][0] == "rename" and fired[0][4].endswith(rel)
        if step_of(os.path.join(folder, rel)) != step_of(os.path.join(folder, model)) and not optim_renamed:
            problems.append(f"{rel} is from another step than its checkpoint")
    writer.check(case, code, out, err, fired, problems)
    return counts, fired, problems


def picks(count, full):
    """Which N to fail: all of them up to 40, else the first and last ten and 20 between; by
    default the first, the middle and the last."""
    if count == 0:
        return []
    if not full:
        return sorted({1, (count + 1) // 2, count})
    if count <= 40:
        return list(range(1, count + 1))
    middle = [11 + i * (count - 21) // 21 for i in range(1, 21)]
    return sorted(set(range(1, 11)) | set(middle) | set(range(count - 9, count + 1)))


def main():
    global CLI, SHIM
    args = sys.argv[1:]
    full = "--full" in args
    in_turn = not full or "--errors-in-turn" in args
    only = args[args.index("--only") + 1] if "--only" in args else None
    kinds = args[args.index("--kinds") + 1].split(",") if "--kinds" in args else KINDS
    CLI, SHIM = os.path.abspath(args[0]), os.path.abspath(args[1])
    # tmpfs when there is one: the writers fsync every model, which a disk makes slow
    base_dir = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    started = time.monotonic()
    failures, total = [], 0
    with tempfile.TemporaryDirectory(prefix="hn-faults-", dir=base_dir) as base:
        runs = Runs()
        if only in (None, "export", "import"):
            runs.fixture(base)
        writers = [TrainRun(), ModelOut(), Cache(), TrainCache(), Export(runs), Import(runs)]
        turn = 0
        for w in writers:
            if only and w.name != only:
                continue
            t0 = time.monotonic()
            w.fixture(base)
            w.resume_now = True
            counts, _, problems = run_case(w, os.path.join(base, "case"))
            assert not problems, f"{w.name} fails without faults: {problems}"
            cases = []
            for kind in kinds:
                for n in picks(counts.get(kind, 0), full):
                    for error in ([ERRORS[turn % 3]] if in_turn else ERRORS):
                        cases.append((kind, n, error, False))
                    turn += 1
            # a full disk from the middle of the writes on
            middle = (counts.get("write", 0) + 1) // 2
            for error in (ERRORS if full else ["ENOSPC"]) if "write" in kinds else []:
                cases.append(("write", middle, error, True))
            n_fired = 0
            for kind, n, error, sticky in cases:
                # resuming costs a run: every case with --full, else the full disk's
                w.resume_now = w.resumes and (full or sticky)
                _, fired, problems = run_case(w, os.path.join(base, "case"), kind, n, error, sticky)
                n_fired += bool(fired)
                label = f"{w.name} {kind}:{n}:{error}{':sticky' if sticky else ''}"
                if not fired and n <= counts.get(kind, 0) - 2:
                    problems.append("the fault was never reached")  # the writer changed its course
                for p in problems:
                    failures.append(f"{label}: {p}")
                    print(f"FAIL {label}: {p}", flush=True)
            total += len(cases)
            print(f"{w.name}: calls {counts}; {len(cases)} cases, {n_fired} faults made, "
                  f"{time.monotonic() - t0:.0f} s", flush=True)
    print(f"{total} cases, {len(failures)} problems, {time.monotonic() - started:.0f} s")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
