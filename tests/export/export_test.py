#!/usr/bin/env python3
"""hydranet-cli export-pytorch and runs import, without PyTorch: the project's files, its
run.json against the run it came from (settings, and each change where the run's record puts
it), the errors, and the way back for a run folder. torchrun_test.py trains a project.

Usage: export_test.py HYDRANET_CLI   (the tests/cli helpers are found beside this folder)
"""
import csv
import json
import os
import py_compile
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import clitest  # noqa: E402
from clitest import run  # noqa: E402

SMALL = ["--synthetic", "64", "--batch", "16", "--threads", "1", "--seed", "4", "--epochs", "1"]
FILES = ["README.md", "export_onnx.py", "hydranet.py", "launch.py", "recipe.py", "run.json", "train.py"]
LIVE = {"w_age", "w_gender", "w_race", "age_loss", "lr", "balance"}


def read_json(path):
    with open(path) as f:
        return json.load(f)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def changes_in_record(folder, images_before=0):
    """(step, images seen, setting, value) of each live change in a run's curves.csv, counted
    here from the step rows, independently of the engine."""
    out, images = [], images_before
    with open(os.path.join(folder, "curves.csv"), newline="") as f:
        for row in csv.DictReader(f):
            if row["kind"] == "step":
                images += int(row["images"])
            elif row["kind"] == "setting" and row["setting"] in LIVE:
                out.append((int(row["step"]), images, row["setting"], row["value"]))
    return out


class Export(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.runs = self.path("runs")

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, *names):
        return os.path.join(self.tmp.name, *names)

    def train(self, *args):
        code, out, err = run("train", *args, "--run-dir", self.runs, "--json")
        self.assertEqual(code, 0, err)
        return json.loads(out.splitlines()[-1])["run_dir"]

    def export(self, *args, code=0):
        got, out, err = run("export-pytorch", *args)
        self.assertEqual(got, code, err)
        return (json.loads(out) if code == 0 else None), err

    def run_info(self, folder):
        code, out, err = run("runs", "--dir", os.path.dirname(folder))
        self.assertEqual(code, 0, err)
        return next(r for r in json.loads(out)["runs"] if r["folder"] == folder)

    def test_a_run_exports_its_recipe(self):
        folder = self.train(*SMALL, "--w-race", "0.5", "--age-loss", "huber")
        summary, _ = self.export("--run", folder, "--out", self.path("project"))
        project = self.path("project")
        self.assertEqual(summary, {"project": project, "history": 0, "init": True})
        self.assertEqual(sorted(os.listdir(project)), sorted(FILES + ["init.safetensors"]))
        for name in FILES:
            if name.endswith(".py"):
                py_compile.compile(os.path.join(project, name), cfile=self.path("pyc", name + "c"), doraise=True)
        recipe, info = read_json(os.path.join(project, "run.json")), self.run_info(folder)
        self.assertEqual(recipe["format"], "hydranet-pytorch-project-1")
        self.assertEqual(recipe["name"], info["name"])
        self.assertEqual(recipe["settings"], info["settings"])
        self.assertEqual(recipe["settings"]["loss"]["w_race"], 0.5)
        self.assertEqual(recipe["data"], info["data"])
        self.assertEqual(recipe["from"]["folder"], folder)
        self.assertEqual(recipe["from"]["steps"], info["summary"]["steps"])
        self.assertEqual(recipe["history"], [])
        self.assertEqual(recipe["notes"], [])
        self.assertEqual(recipe["init"], "init.safetensors")
        self.assertEqual(read_bytes(os.path.join(project, "init.safetensors")),
                         read_bytes(os.path.join(folder, "model.safetensors")))
        readme = open(os.path.join(project, "README.md")).read()
        self.assertIn(f"# {info['name']} ", readme)
        self.assertIn("--nproc_per_node=N train.py --data DIR", readme)  # synthetic faces: no folder
        self.assertNotIn("@NAME@", readme)

    def test_a_fork_replays_its_changes_where_they_were_made(self):
        parent = self.train(*SMALL)
        checkpoint = os.path.join(parent, "checkpoints", "epoch-001.safetensors")
        code, out, err = run("train", "--fork", checkpoint, "--epochs", "2", "--w-age", "0.25",
                             "--age-loss", "mse", "--threads", "1", "--run-dir", self.runs, "--json")
        self.assertEqual(code, 0, err)
        fork = json.loads(out.splitlines()[-1])["run_dir"]
        summary, _ = self.export("--run", fork, "--out", self.path("project"))
        recipe = read_json(self.path("project", "run.json"))
        # the settings the chain started with: the parent's loss, the fork's epochs
        self.assertEqual(recipe["settings"]["loss"], self.run_info(parent)["settings"]["loss"])
        self.assertEqual(recipe["settings"]["epochs"], 2)
        parent_images = sum(int(r["images"]) for r in csv.DictReader(open(os.path.join(parent, "curves.csv")))
                            if r["kind"] == "step")
        want = changes_in_record(fork, parent_images)
        self.assertEqual(len(want), 2)
        got = [(c["step"], c["images"], c["setting"], str(c["value"])) for c in recipe["history"]]
        self.assertEqual(got, [(s, i, k, v if k == "age_loss" else str(float(v))) for s, i, k, v in want])
        self.assertEqual(summary["history"], 2)
        # each run of the chain from where it starts, with its own epochs (the schedule's span)
        segments = [(g["folder"], g["step"], g["images"], g["epochs"]) for g in recipe["segments"]]
        self.assertEqual(segments, [(parent, 0, 0, 1), (fork, want[0][0], parent_images, 2)])

    def test_the_readme_quotes_the_data_folder(self):
        faces = self.path("my 'faces'")
        code, _, err = run("synth", "--out", faces, "--count", "48")
        self.assertEqual(code, 0, err)
        folder = self.train("--data", faces, "--batch", "16", "--threads", "1", "--epochs", "1")
        self.export("--run", folder, "--out", self.path("project"))
        readme = open(self.path("project", "README.md")).read()
        quoted = "'" + faces.replace("'", "'\\''") + "'"
        self.assertIn(f"train.py --data {quoted}\n", readme)

    def test_a_model_alone_exports_the_recipe_it_was_saved_with(self):
        folder = self.train(*SMALL, "--w-gender", "3", "--optimizer", "sgd", "--lr", "0.02")
        model = self.path("loose.safetensors")
        shutil.copy(os.path.join(folder, "model.safetensors"), model)
        summary, _ = self.export("--model", model, "--out", self.path("project"))
        recipe = read_json(self.path("project", "run.json"))
        self.assertEqual(recipe["history"], [])
        self.assertIsNone(recipe["data"])
        self.assertIsNone(recipe["from"]["folder"])
        self.assertEqual(recipe["settings"]["loss"]["w_gender"], 3)
        # a plain model keeps its loss settings and schedule, not its optimizer: said so
        self.assertEqual(recipe["settings"]["schedule"], self.run_info(folder)["settings"]["schedule"])
        self.assertTrue(any("optimizer" in note for note in recipe["notes"]), recipe["notes"])
        self.assertTrue(summary["init"])
        # the same model inside its run folder exports the run
        summary, _ = self.export("--model", os.path.join(folder, "model.safetensors"), "--out", self.path("p2"))
        self.assertEqual(read_json(self.path("p2", "run.json"))["from"]["folder"], folder)

    def test_errors(self):
        folder = self.train(*SMALL)
        os.makedirs(self.path("full"))
        open(self.path("full", "keep.txt"), "w").write("mine")
        _, err = self.export("--run", folder, "--out", self.path("full"), code=1)
        self.assertIn("not empty", err)
        self.assertEqual(os.listdir(self.path("full")), ["keep.txt"])
        _, err = self.export("--run", self.path("nowhere"), "--out", self.path("p"), code=1)
        self.assertFalse(os.path.exists(self.path("p")))
        bad = self.path("bad.safetensors")
        open(bad, "wb").write(b"\x10\0\0\0\0\0\0\0{not json}      ")
        _, err = self.export("--model", bad, "--out", self.path("p"), code=1)
        self.assertIn("bad.safetensors", err)
        self.assertFalse(os.path.exists(self.path("p")))
        self.export("--out", self.path("p"), code=2)
        self.export("--run", folder, code=2)
        # weights that the run's network cannot start from
        other = self.train("--synthetic", "48", "--size", "64", "--batch", "16", "--threads", "1", "--epochs", "1")
        _, err = self.export("--run", folder, "--model", os.path.join(other, "model.safetensors"),
                             "--out", self.path("p"), code=1)
        self.assertIn("at 64×64, but the run trains a resnet18 at 32×32", err)
        self.assertFalse(os.path.exists(self.path("p")))

    def test_import_brings_a_trained_project_in_as_a_run(self):
        folder = self.train(*SMALL)
        self.export("--run", folder, "--out", self.path("project"))
        into = self.path("imported")
        code, _, err = run("runs", "import", self.path("project"), "--dir", into)
        self.assertEqual(code, 1)
        self.assertIn("has not been trained", err)
        # what train.py leaves in output/ is a run folder: stand one in for it
        output = self.path("project", "output")
        os.makedirs(output)
        for name in ("run.json", "curves.csv", "model.safetensors"):
            shutil.copy(os.path.join(folder, name), output)
        code, out, err = run("runs", "import", self.path("project"), "--dir", into)
        self.assertEqual(code, 0, err)
        imported = json.loads(out)
        self.assertEqual(read_json(os.path.join(imported["folder"], "run.json"))["imported"]["project"],
                         self.path("project"))
        self.assertEqual(read_bytes(os.path.join(imported["folder"], "model.safetensors")),
                         read_bytes(os.path.join(folder, "model.safetensors")))
        # the same summary, but its checkpoints: a run's model comes in, its checkpoints do not
        source = self.run_info(folder)["summary"]
        self.assertEqual({k: v for k, v in imported["summary"].items() if k not in ("checkpoints", "updated")},
                         {k: v for k, v in source.items() if k not in ("checkpoints", "updated")})
        code, _, err = run("runs", "import", self.path("project"), "--dir", into)
        self.assertEqual(code, 1)
        self.assertIn(f"already imported, as {imported['folder']}", err)
        # imported while it trained, then again once it has gone further: a run of its own
        info = read_json(os.path.join(output, "run.json"))
        info["summary"]["steps"] += 1
        open(os.path.join(output, "run.json"), "w").write(json.dumps(info))
        code, out, err = run("runs", "import", self.path("project"), "--dir", into)
        self.assertEqual(code, 0, err)
        code, out, _ = run("runs", "--dir", into)
        self.assertEqual(len(json.loads(out)["runs"]), 2)
        shutil.rmtree(json.loads(out)["runs"][-1]["folder"])
        code, out, _ = run("runs", "--dir", into)
        listed = json.loads(out)
        self.assertEqual([r["folder"] for r in listed["runs"]], [imported["folder"]])
        self.assertEqual(listed["skipped"], [])

    def test_import_refuses_a_broken_result_and_adds_nothing(self):
        folder = self.train(*SMALL)
        into = self.path("imported")
        cases = {"run.json": lambda b: b[: len(b) // 2], "curves.csv": lambda b: b"kind,step\nstep,x\n",
                 "model.safetensors": lambda b: b[:1000]}
        for name, damage in cases.items():
            with self.subTest(name):
                result = self.path("result-" + name)
                shutil.copytree(folder, result)
                open(os.path.join(result, name), "wb").write(damage(read_bytes(os.path.join(folder, name))))
                code, _, err = run("runs", "import", result, "--dir", into)
                self.assertEqual(code, 1, err)
                self.assertIn(name, err)
                self.assertEqual(os.listdir(into) if os.path.exists(into) else [], [])


if __name__ == "__main__":
    clitest.main()
