#!/usr/bin/env python3
"""A run exported to PyTorch, trained under torchrun on two processes (gloo, CPU), and brought
back: the imported model predicts in hydranet-cli what PyTorch predicts with the same file; the
run's live changes are replayed at the images seen where they were made; one process and two
give the same first-step loss on the same batch (with --sync-bn, so that batch norm sees the
whole batch in both).

Usage: torchrun_test.py HYDRANET_CLI LIVE_RUN

Exit status (meson's): 0 pass, 1 fail, 77 skip where /usr/bin/python3 lacks torch,
torchvision, numpy or PIL. torchrun is started through the project's launch.py: torchrun
itself, mended where PyTorch 1.13 meets Python 3.11 (launch.py says how).
"""
import csv
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from clitest import run  # noqa: E402

TORCH_PYTHON = "/usr/bin/python3"
LIVE = {"w_age", "w_gender", "w_race", "age_loss", "lr", "balance"}
TOL_AGE, TOL_P, TOL_LOSS = 1e-3, 1e-4, 1e-4
LIVE_RUN = None


def torch_missing():
    probe = "import torch, torchvision, numpy, PIL"
    try:
        p = subprocess.run([TORCH_PYTHON, "-c", probe], capture_output=True, text=True, timeout=120)
    except OSError as e:
        return str(e)
    return p.stderr.strip().splitlines()[-1] if p.returncode else None


def changes(folder):
    """(images seen, setting, value) of each live change in a run's curves.csv."""
    out, images = [], 0
    with open(os.path.join(folder, "curves.csv"), newline="") as f:
        for row in csv.DictReader(f):
            if row["kind"] == "step":
                images += int(row["images"])
            elif row["kind"] == "setting" and row["setting"] in LIVE:
                value = row["value"]
                if row["setting"] not in ("age_loss", "balance"):  # as the float it was
                    value = struct.unpack("f", struct.pack("f", float(value)))[0]
                out.append((images, row["setting"], value))
    return out


class Torchrun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        code, _, err = run("synth", "--out", cls.path("faces"), "--count", "300", "--seed", "3")
        assert code == 0, err
        p = subprocess.run([LIVE_RUN, cls.path("faces"), cls.path("runs")], capture_output=True,
                           text=True, timeout=600)
        assert p.returncode == 0, p.stderr
        cls.source = p.stdout.strip()
        code, _, err = run("export-pytorch", "--run", cls.source, "--out", cls.path("project"))
        assert code == 0, err
        cls.two = cls.train("--nproc_per_node=2")
        code, out, err = run("runs", "import", cls.path("project"), "--dir", cls.path("imported"))
        assert code == 0, err
        cls.imported = json.loads(out)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def path(cls, *names):
        return os.path.join(cls.dir, *names)

    @classmethod
    def train(cls, nproc, *args):
        """Runs the project's train.py under torchrun; returns its last line of JSON."""
        project = cls.path("project")
        argv = [TORCH_PYTHON, os.path.join(project, "launch.py"), "--standalone", nproc,
                os.path.join(project, "train.py"), "--sync-bn", "--workers", "0", "--threads", "1", *args]
        env = dict(os.environ, OMP_NUM_THREADS="1")
        p = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env)
        assert p.returncode == 0, f"{' '.join(argv)}: exit {p.returncode}\n{p.stderr[-3000:]}"
        return json.loads(p.stdout.strip().splitlines()[-1])

    def test_the_run_trained_on_two_processes(self):
        self.assertEqual(self.two["state"], "finished")
        info = self.imported
        self.assertEqual(info["summary"]["state"], "finished")
        self.assertIn("2 × gloo", info["source"])
        with open(os.path.join(info["folder"], "run.json")) as f:
            written = json.load(f)
        self.assertEqual(written["world_size"], 2)
        self.assertEqual(written["exported_from"]["folder"], self.source)
        code, out, _ = run("runs", "--dir", self.path("imported"))
        self.assertEqual([r["folder"] for r in json.loads(out)["runs"]], [info["folder"]])

    def test_changes_are_replayed_where_they_were_made(self):
        want = changes(self.source)
        self.assertEqual([s for _, s, _ in want], ["w_age", "age_loss", "lr", "balance", "balance"])
        self.assertTrue(all(0 < images < 237 for images, _, _ in want), want)  # inside the epoch
        self.assertEqual(changes(self.imported["folder"]), want)

    def test_the_imported_model_predicts_as_pytorch_does(self):
        model = os.path.join(self.imported["folder"], "model.safetensors")
        images = sorted(os.path.join(self.path("faces"), f) for f in os.listdir(self.path("faces")))[:8]
        code, out, err = run("predict", "--faces", "whole", "--model", model, *images)
        self.assertEqual(code, 0, err)
        ours = [json.loads(line) for line in out.splitlines()]
        p = subprocess.run([TORCH_PYTHON, self.path("project", "hydranet.py"), "predict", "--model", model, *images],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr)
        theirs = [json.loads(line) for line in p.stdout.splitlines()]
        self.assertEqual(len(ours), len(theirs))
        for a, b in zip(ours, theirs):
            self.assertAlmostEqual(a["age"], b["age"], delta=TOL_AGE)
            self.assertAlmostEqual(a["p_female"], b["p_female"], delta=TOL_P)
            for race, prob in a["race_probs"].items():
                self.assertAlmostEqual(prob, b["race_probs"][race], delta=TOL_P)

    def test_one_process_and_two_take_the_same_first_step(self):
        one = self.train("--nproc_per_node=1", "--max-steps", "1", "--out", self.path("one"))
        for head, loss in one["first_step"].items():
            self.assertAlmostEqual(loss, self.two["first_step"][head], delta=TOL_LOSS * max(1, abs(loss)))

    def test_onnx(self):
        model = os.path.join(self.imported["folder"], "model.safetensors")
        out = self.path("model.onnx")
        p = subprocess.run([TORCH_PYTHON, self.path("project", "export_onnx.py"), "--model", model, "--out", out],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr)
        data = open(out, "rb").read()
        self.assertGreater(len(data), 40e6)  # ResNet-18's weights are in it
        # protobuf as written: a value's name is field 1 (0x0a, then its length), a dimension's
        # parameter field 2 (0x12): the input, the three outputs, and the batch axis by name
        for field in (b"image", b"age", b"gender_logit", b"race_logits"):
            self.assertIn(b"\n" + bytes([len(field)]) + field, data)
        self.assertIn(b"\x12\x05batch", data)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: torchrun_test.py HYDRANET_CLI LIVE_RUN")
    missing = torch_missing()
    if missing:
        print(f"SKIP: {TORCH_PYTHON} cannot import PyTorch ({missing}); the export is tested without it "
              "by export_test.py")
        sys.exit(77)
    import clitest
    clitest.CLI = os.path.abspath(sys.argv[1])
    LIVE_RUN = os.path.abspath(sys.argv[2])
    unittest.main(argv=sys.argv[:1], verbosity=2)
