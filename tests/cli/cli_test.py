#!/usr/bin/env python3
"""hydranet-cli end to end: JSON shapes, exit statuses (0 ok, 1 failed, 2 usage) and messages.

Standard library only (PNG files are written by hand with zlib), so it runs wherever the
suite runs.  Usage: cli_test.py HYDRANET_CLI
"""
import json
import os
import subprocess
import tempfile
import unittest

import clitest
from clitest import png, run


class Cli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.model = os.path.join(d, "m.safetensors")
        code, out, err = run("init", "--out", cls.model, "--seed", "11")
        assert code == 0, err
        cls.face = os.path.join(d, "face.png")
        png(cls.face, 40, 48, lambda x, y: ((x * 6) % 256, (y * 5) % 256, (x * y) % 256))
        cls.small = os.path.join(d, "small.png")
        png(cls.small, 32, 32, lambda x, y: (200, (x * 8) % 256, (y * 8) % 256))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def test_usage_errors_exit_2(self):
        for args in [(), ("frobnicate",), ("predict", self.face), ("predict", "--model", self.model),
                     ("predict", "--model", self.model, "--threads", "0", self.face),
                     ("info",), ("init",), ("init", "--out", "x", "--backbone", "vgg"),
                     ("init", "--out", "x", "--seed", "-1"), ("bench", "--batch", "ten")]:
            code, out, err = run(*args)
            self.assertEqual(code, 2, args)
            self.assertEqual(out, "", args)
            self.assertTrue(err.strip(), args)

    def test_help(self):
        code, out, _ = run("--help")
        self.assertEqual(code, 0)
        commands = ("predict", "faces", "info", "init", "bench", "train", "eval", "dataset", "synth")
        for cmd in commands:
            self.assertIn(cmd, out)
            code, out_cmd, _ = run(cmd, "--help")
            self.assertEqual(code, 0, cmd)
            self.assertIn("Usage: hydranet-cli " + cmd, out_cmd)

    def test_info(self):
        code, out, _ = run("info", "--model", self.model)
        self.assertEqual(code, 0)
        info = json.loads(out)
        self.assertEqual(info["backbone"], "resnet18")
        self.assertEqual(info["input_size"], 32)
        self.assertEqual(info["tensors"], 132)
        self.assertEqual(info["metadata"]["format"], "hydranet-1")
        self.assertGreater(info["parameters"], 11_000_000)

    def test_predict_json(self):
        code, out, err = run("predict", "--model", self.model, self.face, self.small)
        self.assertEqual(code, 0, err)
        lines = [json.loads(line) for line in out.splitlines()]
        self.assertEqual([r["file"] for r in lines], [self.face, self.small])
        for r in lines:
            self.assertEqual(set(r), {"file", "age", "gender", "p_female", "race", "race_probs",
                                      "face", "box"})
            self.assertIsNone(r["face"])  # no face in a test pattern: the whole image
            self.assertIsNone(r["box"])
            self.assertEqual(r["gender"], "female" if r["p_female"] >= 0.5 else "male")
            probs = r["race_probs"]
            self.assertEqual(list(probs), ["white", "black", "asian", "indian", "other"])
            self.assertAlmostEqual(sum(probs.values()), 1.0, places=5)
            self.assertEqual(r["race"], max(probs, key=probs.get))
        # deterministic, and the same image alone gives the same numbers as in a batch
        _, alone, _ = run("predict", "--model", self.model, self.small)
        self.assertAlmostEqual(json.loads(alone)["age"], lines[1]["age"], places=4)

    def test_predict_hostile_files(self):
        # A name that is not UTF-8, a FIFO and a folder: each an error line, in strict UTF-8
        # JSON, without waiting on the pipe; the good image still predicted.
        odd = os.path.join(os.fsencode(self.tmp.name), b"face \xe9.png")
        with open(self.face, "rb") as f, open(odd, "wb") as g:
            g.write(f.read())
        fifo = self.path("pipe.png")
        os.mkfifo(fifo)
        p = subprocess.run([clitest.CLI, "predict", "--model", self.model, "--faces", "whole", odd,
                            fifo, self.tmp.name, self.face], capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 1, p.stderr)
        lines = [json.loads(line) for line in p.stdout.decode("utf-8", errors="strict").splitlines()]
        self.assertEqual([r["file"] for r in lines],
                         [os.path.join(self.tmp.name, "face \ufffd.png"), fifo, self.tmp.name,
                          self.face])
        self.assertIn("age", lines[0])
        self.assertIn("a named pipe (FIFO), not a regular file", lines[1]["error"])
        self.assertIn("is a folder", lines[2]["error"])
        self.assertIn("age", lines[3])

    def test_predict_faces_whole_and_auto(self):
        # --faces whole is the old behaviour with "box": null; auto with no face found predicts
        # the same whole image and says so with "face": null
        _, auto, _ = run("predict", "--model", self.model, "--faces", "auto", self.face)
        code, whole, err = run("predict", "--model", self.model, "--faces", "whole", self.face)
        self.assertEqual(code, 0, err)
        auto, whole = json.loads(auto), json.loads(whole)
        self.assertNotIn("face", whole)
        self.assertIsNone(whole["box"])
        self.assertIsNone(auto["face"])
        for key in ("age", "p_female", "race_probs"):
            self.assertEqual(auto[key], whole[key], key)
        code, out, err = run("predict", "--model", self.model, "--faces", "some", self.face)
        self.assertEqual((code, out), (2, ""))
        self.assertIn("--faces", err)

    def test_faces_lists_none_in_a_pattern(self):
        code, out, err = run("faces", "--chips", self.path("chips"), self.face, self.path("gone.png"))
        self.assertEqual(code, 1, err)
        found, missing = [json.loads(line) for line in out.splitlines()]
        self.assertEqual((found["width"], found["height"], found["faces"]), (40, 48, []))
        self.assertIn("No such file", missing["error"])
        self.assertEqual(os.listdir(self.path("chips")), [])

    def test_bad_images_get_error_lines_and_the_rest_print(self):
        text = self.path("notes.jpg")
        with open(text, "w") as f:
            f.write("not a picture\n")
        truncated = self.path("cut.png")
        with open(self.face, "rb") as f:
            data = f.read()
        with open(truncated, "wb") as f:
            f.write(data[: len(data) // 2])
        empty = self.path("empty.png")
        open(empty, "wb").close()
        files = [self.face, self.path("missing.png"), text, truncated, empty, self.tmp.name, self.small]
        code, out, _ = run("predict", "--model", self.model, *files)
        self.assertEqual(code, 1)
        lines = [json.loads(line) for line in out.splitlines()]
        self.assertEqual([r["file"] for r in lines], files)
        self.assertIn("age", lines[0])
        self.assertIn("age", lines[-1])
        for r in lines[1:-1]:
            self.assertEqual(set(r), {"file", "error"}, r)
            self.assertTrue(r["error"])
        self.assertIn("No such file", lines[1]["error"])

    def test_bad_models_exit_1_with_a_message(self):
        broken = self.path("broken.safetensors")
        with open(self.model, "rb") as f:
            data = f.read()
        with open(broken, "wb") as f:
            f.write(data[:1000])
        for model in (broken, self.path("absent.safetensors"), self.face):
            code, out, err = run("predict", "--model", model, self.face)
            self.assertEqual(code, 1, model)
            self.assertEqual(out, "")
            self.assertIn(os.path.basename(model), err)
            code, out, err = run("info", "--model", model)
            self.assertEqual(code, 1, model)

    def test_init_resnet34_and_size(self):
        path = self.path("r34.safetensors")
        code, out, err = run("init", "--out", path, "--backbone", "resnet34", "--size", "64")
        self.assertEqual(code, 0, err)
        info = json.loads(run("info", "--model", path)[1])
        self.assertEqual((info["backbone"], info["input_size"], info["tensors"]), ("resnet34", 64, 228))
        code, out, err = run("predict", "--model", path, self.face)
        self.assertEqual(code, 0, err)

    def test_init_into_missing_directory_fails_cleanly(self):
        code, out, err = run("init", "--out", self.path("no/such/dir/m.safetensors"))
        self.assertEqual(code, 1)
        self.assertIn("m.safetensors", err)

    def test_bench_json(self):
        code, out, err = run("bench", "--batch", "4", "--steps", "1", "--runs", "1", "--threads", "1")
        self.assertEqual(code, 0, err)
        b = json.loads(out)
        self.assertEqual(set(b), {"impl", "size", "batch", "threads", "train_img_per_s",
                                  "infer_ms_batch1", "peak_rss_mb"})
        self.assertEqual((b["impl"], b["size"], b["batch"], b["threads"]), ("hydranet", 32, 4, 1))
        self.assertGreater(b["train_img_per_s"], 0)
        self.assertGreater(b["peak_rss_mb"], 0)


if __name__ == "__main__":
    clitest.main()
