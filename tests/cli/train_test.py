#!/usr/bin/env python3
"""hydranet-cli train and eval end to end, on built-in synthetic faces.

Usage: train_test.py HYDRANET_CLI
"""
import csv
import json
import os
import signal
import struct
import subprocess
import tempfile
import time
import unittest

import clitest
from clitest import run

SMALL = ["--synthetic", "96", "--batch", "16", "--threads", "1", "--seed", "4"]


def read_json(path):
    with open(path) as f:
        return json.load(f)


class Train(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def test_usage_errors_exit_2(self):
        for args in [(), ("--synthetic", "50", "--data", "x"), ("--synthetic", "ten"),
                     ("--synthetic", "50", "--size", "40"), ("--synthetic", "50", "--optimizer", "rmsprop"),
                     ("--synthetic", "50", "--age-loss", "l2"), ("--synthetic", "50", "--preset", "fast"),
                     ("--synthetic", "50", "--lr", "-1"), ("--synthetic", "50", "--augment", "shear"),
                     ("--synthetic", "50", "--augment", "crop=2"), ("--synthetic", "50", "--schedule", "cyclic"),
                     ("--synthetic", "50", "--time-budget", "0"), ("--synthetic", "50", "--tta", "five"),
                     ("--synthetic", "50", "--init", "a", "--resume", "b"), ("--synthetic", "50", "extra"),
                     ("--synthetic", "50", "--nesterov"), ("--synthetic", "50", "--balance", "gradnorm"),
                     ("--synthetic", "50", "--optimizer", "sgd", "--momentum", "0", "--nesterov"),
                     ("--fork", "a", "--init", "b"), ("--fork", "a", "--preset", "quick"),
                     ("--synthetic", "50", "--resume", "a", "--run-dir", "r"),
                     ("--synthetic", "50", "--run-dir", "r", "--log", "x.csv")]:
            code, out, err = run("train", *args)
            self.assertEqual(code, 2, args)
            self.assertEqual(out, "", args)
            self.assertIn("hydranet-cli train", err, args)

    def test_help_lists_every_option(self):
        code, out, _ = run("train", "--help")
        self.assertEqual(code, 0)
        for opt in ("--data", "--synthetic", "--preset", "--resume", "--init", "--log", "--json",
                    "--w-age", "--age-loss", "--augment", "--balance", "--run-dir", "--fork"):
            self.assertIn(opt, out)

    def test_options_refine_kinds_wherever_they_stand(self):
        # a decay before --optimizer, a warm-up before --schedule: both kept
        model = self.path("m.safetensors")
        code, _, err = run("train", *SMALL, "--epochs", "1", "--out", model, "--weight-decay", "0.125",
                           "--optimizer", "adamw", "--warmup", "0.25", "--schedule", "cosine")
        self.assertEqual(code, 0, err)
        meta = clitest.metadata(model)
        self.assertEqual((meta["optim.kind"], float(meta["optim.weight_decay"])), ("adamw", 0.125))
        self.assertEqual((meta["schedule.kind"], float(meta["schedule.warmup"])), ("cosine", 0.25))
        # the preset's own optimizer named again keeps the preset's decay
        code, _, err = run("train", *SMALL, "--epochs", "1", "--out", model, "--preset", "quick",
                           "--optimizer", "adamw")
        self.assertEqual(code, 0, err)
        self.assertAlmostEqual(float(clitest.metadata(model)["optim.weight_decay"]), 0.1, places=7)

    def test_json_log_and_checkpoint(self):
        out_model, log = self.path("m.safetensors"), self.path("steps.csv")
        code, out, err = run("train", *SMALL, "--epochs", "2", "--out", out_model, "--log", log,
                             "--json", "--w-gender", "2", "--age-loss", "huber")
        self.assertEqual(code, 0, err)
        summary = json.loads(out)
        self.assertEqual(summary["state"], "finished")
        self.assertEqual(summary["n_train"] + summary["n_val"], 96)
        self.assertGreater(summary["n_val"], 0)
        self.assertGreater(summary["img_per_s"], 0)
        final = summary["final"]
        self.assertEqual(final["n"], summary["n_val"])
        for k in ("age_mae", "age_rmse", "gender_acc", "race_acc", "race_confusion", "loss"):
            self.assertIn(k, final)
        self.assertEqual(sum(map(sum, final["race_confusion"])), final["n"])
        with open(log) as f:
            records = list(csv.DictReader(f))
        rows = [r for r in records if r["kind"] == "step"]
        self.assertEqual(len(rows), summary["steps"])
        self.assertEqual(rows[0]["age_loss"], "huber")
        self.assertEqual(float(rows[0]["w_gender"]), 2.0)
        self.assertAlmostEqual(float(rows[0]["weighted_gender"]), 2 * float(rows[0]["loss_gender"]), places=4)
        for col in ("gradnorm_age", "cos_age_gender", "img_per_s", "lr", "total"):
            self.assertIn(col, rows[0])
        # the log is the run's whole record: each validation, and how the run ended
        vals = [r for r in records if r["kind"] == "val"]
        self.assertEqual(len(vals), 2)
        self.assertAlmostEqual(float(vals[-1]["val_age_mae"]), final["age_mae"], places=5)
        self.assertEqual([r["state"] for r in records if r["kind"] == "state"][-1], "finished")
        # the checkpoint is a model predict and eval accept, and it carries training state
        info = json.loads(run("info", "--model", out_model)[1])
        self.assertTrue(info["optimizer_state"])
        self.assertEqual(info["metadata"]["train.epoch"], "2")

    def test_balance_method_chooses_the_weights(self):
        # each step's chosen weights are in the log and the last ones in the checkpoint
        model, log = self.path("m.safetensors"), self.path("steps.csv")
        code, _, err = run("train", *SMALL, "--epochs", "2", "--out", model, "--log", log,
                           "--balance", "famo", "--w-age", "3")
        self.assertEqual(code, 0, err)
        with open(log) as f:
            rows = [r for r in csv.DictReader(f) if r["kind"] == "step"]
        self.assertTrue(all(r["balance"] == "famo" for r in rows))
        weights = [tuple(float(r[k]) for k in ("w_age", "w_gender", "w_race")) for r in rows]
        for w in weights:
            self.assertAlmostEqual(sum(w), 1.0, places=5)  # FAMO's are normalised
        self.assertGreater(len(set(weights)), len(weights) // 2)  # chosen anew each step
        for r in rows:
            self.assertAlmostEqual(float(r["weighted_race"]), float(r["w_race"]) * float(r["loss_race"]),
                                   places=5)
        meta = clitest.metadata(model)
        self.assertEqual(meta["loss.balance"], "famo")
        self.assertAlmostEqual(float(meta["loss.w_age"]), weights[-1][0], places=6)

    def test_ctrl_c_saves_and_resume_continues(self):
        model = self.path("m.safetensors")
        p = subprocess.Popen([clitest.CLI, "train", *SMALL, "--epochs", "500", "--out", model],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # wait until training is under way (a step line on stderr), then interrupt
        deadline = time.time() + 120
        seen = ""
        while time.time() < deadline:
            line = p.stderr.readline()
            seen += line
            if line.startswith("epoch "):
                break
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
        err = seen + err
        self.assertEqual(p.returncode, 130, err)
        self.assertIn("--resume", err)
        info = json.loads(run("info", "--model", model)[1])
        step = int(info["metadata"]["train.step"])
        self.assertGreater(step, 0)
        code, out, err = run("train", *SMALL, "--epochs", "2", "--resume", model, "--json")
        self.assertEqual(code, 0, err)
        self.assertGreaterEqual(json.loads(out)["steps"], step)

    def test_bad_data_and_checkpoints_exit_1(self):
        code, _, err = run("train", "--data", self.path("nowhere"), "--epochs", "1")
        self.assertEqual(code, 1)
        self.assertIn("nowhere", err)
        junk = self.path("junk.safetensors")
        with open(junk, "wb") as f:
            f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}      ")
        for flag in ("--init", "--resume"):
            code, _, err = run("train", *SMALL, flag, junk)
            self.assertEqual(code, 1, flag)
            self.assertIn("junk.safetensors", err)

    def test_init_from_a_trunk_only_checkpoint(self):
        # what a converted ImageNet checkpoint looks like: the trunk, torchvision's own
        # classifier (net.fc.*), and no heads
        full = self.path("full.safetensors")
        self.assertEqual(run("init", "--out", full, "--seed", "8")[0], 0)
        with open(full, "rb") as f:
            raw = f.read()
        n = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + n])
        header.pop("__metadata__", None)
        data = raw[8 + n:]
        tensors = {k: data[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in header.items()
                   if not k.startswith(("net.fc1.", "net.fc2.", "net.fc3."))}
        tensors["net.fc.weight"] = bytes(1000 * 512 * 4)
        shapes = {k: header[k]["shape"] if k in header else [1000, 512] for k in tensors}
        dtypes = {k: header[k]["dtype"] if k in header else "F32" for k in tensors}
        out_header, blob = {}, b""
        for k in sorted(tensors):
            out_header[k] = {"dtype": dtypes[k], "shape": shapes[k],
                             "data_offsets": [len(blob), len(blob) + len(tensors[k])]}
            blob += tensors[k]
        hj = json.dumps(out_header).encode()
        trunk = self.path("trunk.safetensors")
        with open(trunk, "wb") as f:
            f.write(struct.pack("<Q", len(hj)) + hj + blob)
        # a plain load refuses it (heads missing), --init takes it
        code, _, err = run("predict", "--model", trunk, full)
        self.assertEqual(code, 1)
        self.assertIn("missing tensor net.fc1", err)
        code, out, err = run("train", *SMALL, "--epochs", "1", "--init", trunk, "--json",
                             "--out", self.path("m.safetensors"))
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out)["state"], "finished")

    # ---- run folders (engine/train/runfolder.h, runinfo.h) ----

    def train_in(self, runs, *args):
        """A run in a new folder of `runs`; returns (its --json summary, its folder)."""
        code, out, err = run("train", *args, "--run-dir", runs, "--json", cwd=self.tmp.name)
        self.assertEqual(code, 0, err)
        summary = json.loads(out)
        self.assertIn("run folder: " + summary["run_dir"], err)
        return summary, summary["run_dir"]

    def test_run_dir_and_runs(self):
        runs = self.path("runs")
        first, a = self.train_in(runs, *SMALL, "--epochs", "2", "--w-race", "0.5")
        second, b = self.train_in(runs, "--synthetic", "64", "--batch", "16", "--threads", "1",
                                  "--epochs", "1", "--age-loss", "mse", "--val-percent", "25")
        self.assertNotEqual(a, b)
        # the folder holds the run; --out is not written unless asked for
        self.assertEqual(first["model"], os.path.join(a, "model.safetensors"))
        self.assertEqual(sorted(os.listdir(a)), ["checkpoints", "curves.csv", "model.safetensors", "run.json"])
        self.assertEqual(sorted(os.listdir(os.path.join(a, "checkpoints"))),
                         [f"epoch-00{i}.safetensors{x}" for i in range(3) for x in ("", ".optim")])
        self.assertFalse(os.path.exists(self.path("hydranet.safetensors")))
        # what is not a run is skipped with the reason; a file beside the runs is ignored
        os.mkdir(os.path.join(runs, "junk"))
        os.mkdir(os.path.join(runs, "broken"))
        with open(os.path.join(runs, "broken", "run.json"), "w") as f:
            f.write('{"format": "hydranet-run-1", "settings": {"batch": "sixteen"}}')
        with open(os.path.join(runs, "notes.txt"), "w") as f:
            f.write("not a run")

        code, out, err = run("runs", "--dir", runs)
        self.assertEqual(code, 0, err)
        listing = json.loads(out)
        self.assertEqual([r["folder"] for r in listing["runs"]], [a, b])  # oldest first
        ra, rb = listing["runs"]
        self.assertEqual(ra["name"], os.path.basename(a))
        self.assertIsNone(ra["parent"])
        self.assertEqual(ra["source"], "hydranet-cli 0.1.0")
        self.assertEqual(ra["data"], {"synthetic": 96, "seed": 4})
        settings = ra["settings"]
        self.assertEqual((settings["preset"], settings["batch"], settings["epochs"], settings["seed"]),
                         ("studio", 16, 2, 4))
        self.assertEqual(settings["loss"]["w_race"], 0.5)
        self.assertEqual(settings["loss"]["balance"], "manual")
        self.assertEqual(rb["settings"]["loss"]["age_loss"], "mse")
        self.assertEqual(rb["settings"]["val_percent"], 25)
        for r, summary, epochs in ((ra, first, 2), (rb, second, 1)):
            s = r["summary"]
            self.assertEqual(s["state"], "finished")
            self.assertEqual((s["epochs"], s["steps"]), (epochs, summary["steps"]))
            self.assertEqual(s["images"], epochs * summary["n_train"])
            self.assertAlmostEqual(s["final"]["age_mae"], summary["final"]["age_mae"], places=9)
            self.assertEqual(s["final"]["epoch"], epochs)
            self.assertLessEqual(s["best"]["age_mae"], s["final"]["age_mae"])
            self.assertEqual([c["file"] for c in s["checkpoints"]],
                             [f"checkpoints/epoch-{i:03d}.safetensors" for i in range(epochs + 1)])
            self.assertEqual(r["model"], summary["model"])
        self.assertEqual(sorted((os.path.basename(s["folder"]), "run.json" in s["reason"]) for s in listing["skipped"]),
                         [("broken", True), ("junk", True)])
        broken = [s for s in listing["skipped"] if s["folder"].endswith("broken")][0]
        self.assertIn("settings.batch", broken["reason"])

        # by default, the studio's runs: $XDG_DATA_HOME/hydranet-studio/runs (none yet)
        data_home = self.path("data")
        code, out, _ = run("runs", env={"XDG_DATA_HOME": data_home})
        self.assertEqual((code, json.loads(out)), (0, {"runs": [], "skipped": []}))
        os.makedirs(os.path.join(data_home, "hydranet-studio"))
        os.symlink(runs, os.path.join(data_home, "hydranet-studio", "runs"))
        code, out, _ = run("runs", env={"XDG_DATA_HOME": data_home})
        self.assertEqual(len(json.loads(out)["runs"]), 2)
        self.assertEqual(run("runs", "--dir", self.path("nowhere"))[0], 1)
        self.assertEqual(run("runs", "extra")[0], 2)

    @staticmethod
    def tensors(path):
        """A safetensors file's tensors, as name → (dtype, shape, bytes): not its metadata."""
        with open(path, "rb") as f:
            raw = f.read()
        n = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + n])
        header.pop("__metadata__", None)
        data = raw[8 + n:]
        return {k: (v["dtype"], v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]])
                for k, v in header.items()}

    @staticmethod
    def records(folder, kinds=("step", "val")):
        """A run folder's record rows of those kinds, without the timing column."""
        with open(os.path.join(folder, "curves.csv")) as f:
            return [{k: v for k, v in r.items() if k != "img_per_s"}
                    for r in csv.DictReader(f) if r["kind"] in kinds]

    def parent_run(self):
        """Three epochs in a run folder; returns (its folder, epoch-001's path, its step)."""
        _, folder = self.train_in(self.path("runs"), *SMALL, "--epochs", "3")
        checkpoint = os.path.join(folder, "checkpoints", "epoch-001.safetensors")
        step = int(clitest.metadata(checkpoint)["train.step"])
        self.assertGreater(step, 0)
        return folder, checkpoint, step

    def test_fork_with_nothing_changed_repeats_its_parent(self):
        parent, checkpoint, step = self.parent_run()
        # no --run-dir: the fork's folder goes beside its parent's
        code, out, err = run("train", "--fork", checkpoint, "--threads", "1", "--json")
        self.assertEqual(code, 0, err)
        fork = json.loads(out)["run_dir"]
        self.assertEqual(os.path.dirname(fork), os.path.dirname(parent))
        # bit for bit: the final weights, and every step and validation after the branch
        want, got = (self.tensors(os.path.join(f, "model.safetensors")) for f in (parent, fork))
        self.assertEqual(len(got), 132)
        self.assertTrue(want == got, [k for k in want if want[k] != got.get(k)][:5])
        after = [r for r in self.records(parent) if int(r["step"]) > step]
        self.assertGreater(len(after), 5)
        self.assertEqual(self.records(fork), after)
        self.assertEqual(self.records(fork, ("setting",)), [])
        info = read_json(os.path.join(fork, "run.json"))
        self.assertEqual(info["parent"], {"folder": parent, "checkpoint": checkpoint, "step": step,
                                          "epoch": 1})
        self.assertEqual(info["settings"], read_json(os.path.join(parent, "run.json"))["settings"])
        # the fork's own checkpoints start at the branch point
        self.assertEqual([c["file"] for c in info["summary"]["checkpoints"]],
                         [f"checkpoints/epoch-00{i}.safetensors" for i in (1, 2, 3)])

    def test_fork_with_a_change_differs_and_marks_it(self):
        parent, checkpoint, step = self.parent_run()
        runs = self.path("forks")
        summary, fork = self.train_in(runs, "--fork", checkpoint, "--threads", "1", "--w-age", "2",
                                      "--epochs", "4")
        self.assertEqual(summary["state"], "finished")
        want, got = (self.tensors(os.path.join(f, "model.safetensors")) for f in (parent, fork))
        self.assertNotEqual(want, got)
        # the change is a setting row at the branch step, before the first step it weighs
        marks = self.records(fork, ("setting",))
        self.assertEqual([(int(r["step"]), r["setting"], float(r["value"]), float(r["old_value"]))
                          for r in marks], [(step, "w_age", 2.0, 1.0)])
        steps = self.records(fork, ("step",))
        self.assertEqual(int(steps[0]["step"]), step + 1)
        self.assertEqual(float(steps[0]["w_age"]), 2.0)
        self.assertEqual(int(steps[-1]["epoch"]), 3)  # --epochs took it a fourth epoch
        # …in the checkpoints' history, and in run.json's settings and parent
        history = json.loads(clitest.metadata(os.path.join(fork, "checkpoints", "epoch-001.safetensors"))
                             ["train.history"])
        self.assertIn({"step": step, "setting": "w_age", "value": 2}, history)
        info = read_json(os.path.join(fork, "run.json"))
        self.assertEqual(info["settings"]["loss"]["w_age"], 2)
        self.assertEqual(info["settings"]["epochs"], 4)
        self.assertEqual(info["parent"]["step"], step)

        # a balancing method too: marked at the branch, choosing every step's weights after it
        summary, famo = self.train_in(runs, "--fork", checkpoint, "--threads", "1", "--balance", "famo")
        self.assertEqual(summary["state"], "finished")
        marks = self.records(famo, ("setting",))
        self.assertEqual([(int(r["step"]), r["setting"], r["value"], r["old_value"]) for r in marks],
                         [(step, "balance", "famo", "manual")])
        steps = self.records(famo, ("step",))
        self.assertTrue(all(r["balance"] == "famo" for r in steps))
        self.assertAlmostEqual(sum(float(steps[-1][k]) for k in ("w_age", "w_gender", "w_race")), 1, places=5)
        self.assertEqual(read_json(os.path.join(famo, "run.json"))["settings"]["loss"]["balance"], "famo")

        # what would change the data order, or what the optimizer carries on, is refused
        for args, word in ((("--batch", "32"), "--batch"), (("--seed", "5"), "--seed"),
                           (("--synthetic", "90"), "--synthetic"), (("--size", "64"), "--size"),
                           (("--optimizer", "sgd"), "--optimizer"), (("--epochs", "1"), "--epochs")):
            code, out, err = run("train", "--fork", checkpoint, *args)
            self.assertEqual(code, 2, args)
            self.assertIn(word, err)
        # the same data given again is no change
        code, _, err = run("train", "--fork", checkpoint, "--synthetic", "96", "--batch", "16",
                           "--threads", "1", "--run-dir", runs)
        self.assertEqual(code, 0, err)
        # a checkpoint outside any run folder is not a fork's
        alone = self.path("alone.safetensors")
        self.assertEqual(run("train", *SMALL, "--epochs", "1", "--out", alone)[0], 0)
        code, _, err = run("train", "--fork", alone)
        self.assertEqual(code, 1)
        self.assertIn("--resume", err)

    def test_eval_json(self):
        folder = self.path("faces")
        code, _, err = run("synth", "--out", folder, "--count", "40", "--size", "64")
        self.assertEqual(code, 0, err)
        model = self.path("m.safetensors")
        self.assertEqual(run("init", "--out", model)[0], 0)
        code, out, err = run("eval", "--model", model, "--data", folder, "--split", "all",
                             "--cache-dir", "")
        self.assertEqual(code, 0, err)
        r = json.loads(out)
        self.assertEqual(r["n"], 40)
        self.assertEqual(set(r), {"n", "age_mae", "age_rmse", "gender_acc", "race_acc",
                                  "race_confusion", "loss"})
        self.assertTrue(0 <= r["gender_acc"] <= 1)
        code, _, _ = run("eval", "--model", model)
        self.assertEqual(code, 2)


if __name__ == "__main__":
    clitest.main()
