#!/usr/bin/env python3
"""tools/convert_torchvision.py: torchvision ResNet-18/34 state_dicts become files that
`hydranet-cli train --init` starts from, tensor for tensor.

Usage: convert_test.py HYDRANET_CLI

There is no internet here, so the state_dicts are torchvision's models built with
weights=None from fixed seeds, their batch norms given values of their own as ImageNet
weights have (a fresh init's 1, 0, 0, 1 would look the same whether --init loaded them or
not). Needs Debian's python3-torch and python3-torchvision: run by another Python, this script
runs itself again with /usr/bin/python3, and exits 77 (skip) where that has no torch.
"""
import functools
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

REF_PYTHON = "/usr/bin/python3"
SKIP = 77
try:
    import torch
    import torchvision
except ImportError as e:
    if (os.path.realpath(sys.executable) != os.path.realpath(REF_PYTHON)
            and os.access(REF_PYTHON, os.X_OK)):
        os.execv(REF_PYTHON, [REF_PYTHON, os.path.abspath(__file__), *sys.argv[1:]])
    print(f"SKIP: {REF_PYTHON} cannot import torch and torchvision: {e}")
    sys.exit(SKIP)

import clitest
from clitest import run

CONVERTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                         "convert_torchvision.py")
SEEDS = {"resnet18": 18, "resnet34": 34}
SHIFT = 1.0         # added to every running statistic of the twin file
BN_MOMENTUM = 0.1   # DESIGN.md: the running statistics' update
# --lr 1e-12 moves no weight by more than this: the trunk a run saves is the one it started from
TOL_WEIGHTS = 1e-9
TOL_STATS = 1e-5
HEADS = ("net.fc1.", "net.fc2.", "net.fc3.")
TORCHVISION_FC = {"net.fc.weight", "net.fc.bias"}
LAYOUT = {"F32": "<f4", "I64": "<i8"}


def read_safetensors(path):
    """{name: (dtype, shape, bytes)} and the metadata, read here rather than by the converter's
    own writer or the engine."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    head = json.loads(raw[8:8 + n])
    meta = head.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for k, v in head.items():
        begin, end = v["data_offsets"]
        tensors[k] = (v["dtype"], v["shape"], raw[base + begin:base + end])
    return tensors, meta


def as_tensor(entry):
    import numpy as np

    dtype, shape, raw = entry
    return torch.from_numpy(np.frombuffer(raw, dtype=LAYOUT[dtype]).reshape(shape).copy())


def torch_bytes(t):
    return t.numpy().astype("<i8" if t.dtype == torch.int64 else "<f4").tobytes()


def state_dict(backbone):
    torch.manual_seed(SEEDS[backbone])
    model = getattr(torchvision.models, backbone)(weights=None)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for i, m in enumerate(norms):
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.2, 0.2)
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.num_batches_tracked.fill_(1000 + i)
    return model.state_dict()


def convert(pth, out, *args):
    p = subprocess.run([sys.executable, CONVERTER, pth, "--out", out, *args],
                       capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


class Convert(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="hydranet-convert-")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def path(cls, name):
        return os.path.join(cls.tmp.name, name)

    @classmethod
    @functools.lru_cache(maxsize=None)
    def made(cls, backbone, twin=False):
        """(the state_dict, the .pth, the converted file, the converter's JSON); the twin's
        running statistics are SHIFT higher."""
        sd = state_dict(backbone)
        if twin:
            sd = {k: v + SHIFT if ".running_" in k else v for k, v in sd.items()}
        name = backbone + ("-twin" if twin else "")
        pth, out = cls.path(name + ".pth"), cls.path(name + ".safetensors")
        torch.save(sd, pth)
        code, stdout, stderr = convert(pth, out)
        if code != 0:
            raise AssertionError(f"converting {name}: exit {code}: {stderr}")
        return sd, pth, out, json.loads(stdout)

    @classmethod
    @functools.lru_cache(maxsize=None)
    def trained(cls, backbone, twin=False):
        """One epoch from the converted file at a rate too small to move a weight."""
        out = cls.path(backbone + ("-twin" if twin else "") + "-trained.safetensors")
        code, _, err = run("train", "--synthetic", "64", "--epochs", "1", "--lr", "1e-12",
                           "--seed", "3", "--init", cls.made(backbone, twin)[2], "--out", out)
        if code != 0:
            raise AssertionError(f"train --init from the converted {backbone}: exit {code}: {err}")
        return read_safetensors(out)

    def test_every_tensor_under_its_hydranet_name(self):
        for backbone in SEEDS:
            with self.subTest(backbone=backbone):
                sd, _, out, printed = self.made(backbone)
                tensors, meta = read_safetensors(out)
                self.assertEqual(set(tensors), {"net." + k for k in sd})
                for k, v in sd.items():
                    dtype, shape, raw = tensors["net." + k]
                    want = "I64" if k.endswith(".num_batches_tracked") else "F32"
                    self.assertEqual(dtype, want, k)
                    self.assertEqual(shape, list(v.shape), k)
                    self.assertEqual(raw, torch_bytes(v), k)
                self.assertEqual(meta["format"], "hydranet-1")
                self.assertEqual(meta["backbone"], backbone)  # told by the tensors
                self.assertEqual(meta["input_size"], "32")
                self.assertEqual((meta["mean"], meta["std"]),
                                 ("[0.485, 0.456, 0.406]", "[0.229, 0.224, 0.225]"))
                self.assertEqual(printed, {"file": out, "backbone": backbone, "input_size": 32,
                                           "tensors": len(sd)})

    def test_strict_round_trip_into_torchvision(self):
        for backbone in SEEDS:
            with self.subTest(backbone=backbone):
                sd, _, out, _ = self.made(backbone)
                tensors, _ = read_safetensors(out)
                model = getattr(torchvision.models, backbone)(weights=None)
                self.assertEqual([k for k in tensors if not k.startswith("net.")], [])
                loaded = {k[len("net."):]: as_tensor(v) for k, v in tensors.items()}
                model.load_state_dict(loaded, strict=True)
                for k, v in model.state_dict().items():
                    self.assertEqual(v.dtype, sd[k].dtype, k)
                    self.assertTrue(torch.equal(v, sd[k]), k)

    def test_options_and_refusals(self):
        sd, pth18, _, _ = self.made("resnet18")
        out = self.path("sized.safetensors")
        code, _, err = convert(pth18, out, "--backbone", "resnet18", "--size", "64")
        self.assertEqual(code, 0, err)
        self.assertEqual(read_safetensors(out)[1]["input_size"], "64")

        # torchvision's own downloads may predate the batch counters: they load as 0 there too
        old = self.path("old.pth")
        torch.save({k: v for k, v in sd.items() if not k.endswith(".num_batches_tracked")}, old)
        code, _, err = convert(old, out)
        self.assertEqual(code, 0, err)
        counters = {k: v for k, v in read_safetensors(out)[0].items() if k.endswith("_tracked")}
        self.assertEqual(len(counters), 20)
        self.assertEqual({as_tensor(v).item() for v in counters.values()}, {0})

        _, pth34, _, _ = self.made("resnet34")
        code, _, err = convert(pth34, self.path("wrong.safetensors"), "--backbone", "resnet18")
        self.assertEqual(code, 1)
        self.assertIn("not a torchvision resnet18 state_dict: unexpected tensor layer1.2.", err)
        self.assertFalse(os.path.exists(self.path("wrong.safetensors")))

        half = self.path("no-fc.pth")
        torch.save({k: v for k, v in sd.items() if not k.startswith("fc.")}, half)
        code, _, err = convert(half, self.path("no-fc.safetensors"))
        self.assertEqual(code, 1)
        self.assertIn("missing tensor fc.weight", err)

        model = self.path("model.pth")  # the model rather than its state_dict
        torch.save(torchvision.models.resnet18(weights=None), model)
        code, _, err = convert(model, self.path("model.safetensors"))
        self.assertEqual(code, 1)
        self.assertIn("save model.state_dict()", err)
        self.assertFalse(os.path.exists(self.path("model.safetensors")))

    def test_info_refuses_it_as_a_model(self):
        code, out, err = run("info", "--model", self.made("resnet18")[2])
        self.assertEqual(code, 1)
        self.assertEqual(out, "")
        self.assertIn("missing tensor net.fc1.", err)

    def test_train_starts_from_its_trunk(self):
        """train --init starts from every trunk tensor of the file. What proves it, by kind:
        weights and batch-norm affines: the run's model holds the file's to within what
        --lr 1e-12 can move, where a fresh init would differ by far more (the engine draws
        its own convolutions, and its batch norms start at 1 and 0, not the file's values);
        num_batches_tracked: the file's count plus the run's steps;
        running statistics: a training step blends them with the batch's, which this test
        cannot know; so a twin file, SHIFT higher in every running statistic, trains the
        same steps on the same batches (train mode normalises with batch statistics), and
        the two runs' statistics differ by (1 - momentum)^steps * SHIFT only if both runs
        started from their files'."""
        for backbone in SEEDS:
            with self.subTest(backbone=backbone):
                sd, _, _, _ = self.made(backbone)
                trained, meta = self.trained(backbone)
                twin, twin_meta = self.trained(backbone, twin=True)
                steps = int(meta["train.step"])
                self.assertGreater(steps, 0)
                self.assertEqual(twin_meta["train.step"], meta["train.step"])
                # the engine's own names: the file's trunk, and three fresh heads of two Linears
                heads = {k for k in trained if k.startswith(HEADS)}
                self.assertEqual(len(heads), 12)
                self.assertEqual(set(trained), {"net." + k for k in sd} - TORCHVISION_FC | heads)
                for k, v in sd.items():
                    if k.startswith("fc."):
                        continue
                    got = as_tensor(trained["net." + k])
                    if k.endswith(".num_batches_tracked"):
                        self.assertEqual(got.item(), v.item() + steps, k)
                    elif ".running_" in k:
                        moved = as_tensor(twin["net." + k]) - got
                        want = (1 - BN_MOMENTUM) ** steps * SHIFT
                        self.assertLessEqual((moved - want).abs().max().item(), TOL_STATS, k)
                    else:
                        self.assertLessEqual((got - v).abs().max().item(), TOL_WEIGHTS, k)


if __name__ == "__main__":
    clitest.main()
