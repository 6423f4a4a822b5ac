#!/usr/bin/env python3
"""hydranet-cli dataset end to end: the JSON object, the cache, exit statuses and messages.

Standard library only (PNG files are written by hand with zlib), so it runs wherever the
suite runs.  Usage: dataset_test.py HYDRANET_CLI
"""
import json
import os
import subprocess
import tempfile
import unittest

import clitest
from clitest import png, run

REQUIRED = {"usable", "skipped", "duplicate_groups", "train", "val", "gender", "race",
            "age_histogram", "from_cache", "load_seconds"}


def face(path, seed, w=40, h=48):
    png(path, w, h, lambda x, y: ((x * 6 + seed * 31) % 256, (y * 5 + seed * 7) % 256, (x * y + seed) % 256))


class Dataset(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = os.path.join(cls.tmp.name, "faces")
        os.mkdir(cls.dir)
        d = cls.dir
        # Eight distinct faces: ages 3..94, both genders, every race.
        cls.faces = []
        for i in range(8):
            name = f"{3 + 13 * i}_{i % 2}_{i % 5}_2017010{i}.jpg.chip.jpg"
            face(os.path.join(d, name), i)
            cls.faces.append(name)
        # A copy with conflicting labels, a copy that agrees, broken and misnamed files.
        with open(os.path.join(d, cls.faces[0]), "rb") as f:
            first = f.read()
        with open(os.path.join(d, "50_1_4_20170200.jpg.chip.jpg"), "wb") as f:
            f.write(first)
        with open(os.path.join(d, cls.faces[1]), "rb") as f:
            second = f.read()
        with open(os.path.join(d, "16_1_1_20170201.jpg"), "wb") as f:
            f.write(second)
        open(os.path.join(d, "20_0_0_20170300.jpg"), "wb").close()
        with open(os.path.join(d, "21_0_0_20170301.png"), "w") as f:
            f.write("not a picture\n")
        face(os.path.join(d, "117_0_0_20170302.png"), 50)
        face(os.path.join(d, "IMG_0001.jpg"), 51)
        face(os.path.join(d, ".hidden_1_0_0_1.png"), 52)
        cls.cache = os.path.join(cls.tmp.name, "cache")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def dataset(self, *args, cache=""):
        code, out, err = run("dataset", self.dir, "--cache-dir", cache, *args)
        self.assertEqual(code, 0, err)
        return json.loads(out), err

    def test_json_object(self):
        ds, err = self.dataset()
        self.assertLessEqual(REQUIRED, set(ds))
        self.assertEqual(ds["usable"], 8)
        self.assertEqual(ds["files"], 14)  # the hidden file is not counted
        self.assertEqual(ds["usable"] + len(ds["skipped"]), ds["files"])
        reasons = {s["file"]: s["reason"] for s in ds["skipped"]}
        self.assertEqual(set(reasons), {"50_1_4_20170200.jpg.chip.jpg", "16_1_1_20170201.jpg",
                                        "20_0_0_20170300.jpg", "21_0_0_20170301.png",
                                        "117_0_0_20170302.png", "IMG_0001.jpg"})
        self.assertIn("empty", reasons["20_0_0_20170300.jpg"])
        self.assertIn("not a JPEG, PNG, BMP or GIF image", reasons["21_0_0_20170301.png"])
        self.assertIn("age 117", reasons["117_0_0_20170302.png"])
        self.assertIn("AGE_GENDER_RACE_DATETIME", reasons["IMG_0001.jpg"])
        self.assertIn(self.faces[0], reasons["50_1_4_20170200.jpg.chip.jpg"])

        groups = sorted(ds["duplicate_groups"], key=lambda g: g["files"][0])
        self.assertEqual([g["files"] for g in groups],
                         [[self.faces[1], "16_1_1_20170201.jpg"],
                          [self.faces[0], "50_1_4_20170200.jpg.chip.jpg"]])
        agree, conflict = groups
        self.assertFalse(agree["conflicting"])
        self.assertTrue(conflict["conflicting"])
        self.assertEqual(conflict["kept"], self.faces[0])
        self.assertEqual(conflict["kept_in"], "train")  # conflicting labels: never validation
        self.assertEqual(ds["never_val"], 1)

        self.assertEqual(ds["train"] + ds["val"], ds["usable"])
        self.assertEqual(len(ds["gender"]), 2)
        self.assertEqual(ds["gender"], [4, 4])
        self.assertEqual(len(ds["race"]), 5)
        self.assertEqual(ds["race"], [2, 2, 2, 1, 1])
        self.assertEqual(ds["race_labels"], ["white", "black", "asian", "indian", "other"])
        hist = ds["age_histogram"]
        self.assertEqual(list(hist)[0], "0-9")
        self.assertEqual(list(hist)[-1], "110-116")
        self.assertEqual(sum(hist.values()), ds["usable"])
        self.assertEqual(hist["0-9"], 1)  # age 3
        self.assertEqual(hist["90-99"], 1)  # age 94
        self.assertIsInstance(ds["load_seconds"], float)
        self.assertGreaterEqual(ds["load_seconds"], 0)
        self.assertFalse(ds["from_cache"])
        self.assertIsNone(ds["cache_file"])
        self.assertEqual(ds["cache"], "disabled")
        self.assertIn("100%", err)  # progress, as plain lines when stderr is not a terminal

    def test_cache_second_open(self):
        first, _ = self.dataset("--size", "64", cache=self.cache)
        second, _ = self.dataset("--size", "64", cache=self.cache)
        self.assertFalse(first["from_cache"])
        self.assertEqual(first["cache"], "written")
        self.assertTrue(second["from_cache"])
        self.assertEqual(second["cache"], "read")
        self.assertTrue(second["cache_file"].startswith(self.cache + "/"))
        self.assertTrue(os.path.isfile(second["cache_file"]))
        volatile = {"from_cache", "cache", "load_seconds"}
        self.assertEqual({k: v for k, v in first.items() if k not in volatile},
                         {k: v for k, v in second.items() if k not in volatile})
        self.assertEqual(second["size"], 64)

    def test_threads_and_val_percent(self):
        one, _ = self.dataset("--threads", "1")
        two, _ = self.dataset("--threads", "2")
        one.pop("load_seconds"), two.pop("load_seconds")
        self.assertEqual(one, two)
        none, _ = self.dataset("--val-percent", "0")
        self.assertEqual((none["train"], none["val"]), (8, 0))
        every, _ = self.dataset("--val-percent", "100")
        self.assertEqual((every["train"], every["val"]), (1, 7))  # the never_val copy trains

    def test_usage_errors_exit_2(self):
        for args in [(), (self.dir, self.dir), (self.dir, "--size", "48"), (self.dir, "--size", "big"),
                     (self.dir, "--threads", "0"), (self.dir, "--val-percent", "101"),
                     (self.dir, "--frobnicate")]:
            code, out, err = run("dataset", *args)
            self.assertEqual(code, 2, args)
            self.assertEqual(out, "", args)
            self.assertTrue(err.strip(), args)

    def test_bad_folders_exit_1(self):
        empty = os.path.join(self.tmp.name, "empty")
        os.makedirs(empty, exist_ok=True)
        junk = os.path.join(self.tmp.name, "junk")
        os.makedirs(junk, exist_ok=True)
        with open(os.path.join(junk, "notes.txt"), "w") as f:
            f.write("no faces here\n")
        cases = [(os.path.join(self.tmp.name, "missing"), "no such folder"),
                 (os.path.join(self.dir, self.faces[0]), "not a folder"),
                 (empty, "empty"),
                 (junk, "no usable face image")]
        for path, message in cases:
            code, out, err = run("dataset", path, "--cache-dir", "")
            self.assertEqual(code, 1, path)
            self.assertEqual(out, "", path)
            self.assertIn(path, err)
            self.assertIn(message, err)

    def test_hostile_entries_give_valid_json(self):
        # Names that are not UTF-8, a FIFO and a link loop beside good faces: every one listed
        # with a reason, the output strict UTF-8 JSON, and no wait on the pipe.
        d = os.path.join(self.tmp.name, "hostile")
        os.makedirs(d, exist_ok=True)
        face(os.path.join(d, "30_0_1_20170400.png"), 60)
        face(os.path.join(d, "31_1_2_20170401.png"), 61)
        bad = [b"caf\xe9.jpg", b"32_0_0_1\xff.png", b"\xc3.png"]
        for name in bad:
            open(os.path.join(os.fsencode(d), name), "wb").close()
        os.mkfifo(os.path.join(d, "33_0_0_1.jpg"))
        os.symlink("34_0_0_1.jpg", os.path.join(d, "34_0_0_1.jpg"))
        p = subprocess.run([clitest.CLI, "dataset", d, "--cache-dir", ""], capture_output=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout.decode("utf-8", errors="strict"))
        p.stderr.decode("utf-8", errors="strict")
        self.assertEqual(out["usable"], 2)
        reasons = {s["file"]: s["reason"] for s in out["skipped"]}
        self.assertEqual(reasons["33_0_0_1.jpg"], "a named pipe (FIFO), not a regular file")
        self.assertIn("a symbolic link that loops", reasons["34_0_0_1.jpg"])
        for name in bad:
            shown = name.decode("utf-8", errors="replace")
            self.assertIn("name is not AGE_GENDER_RACE", reasons[shown])

        # A folder whose own name is not UTF-8, with nothing usable: the message still is.
        odd = os.path.join(os.fsencode(self.tmp.name), b"odd \xff")
        os.makedirs(odd, exist_ok=True)
        open(os.path.join(odd, b"\xfe.jpg"), "wb").close()
        p = subprocess.run([clitest.CLI, "dataset", odd, "--cache-dir", ""], capture_output=True,
                           timeout=60)
        self.assertEqual(p.returncode, 1)
        err = p.stderr.decode("utf-8", errors="strict")
        self.assertIn("odd \ufffd has no usable face image", err)
        self.assertIn("\ufffd.jpg", err)

    def test_help_lists_dataset(self):
        code, out, _ = run("--help")
        self.assertEqual(code, 0)
        self.assertIn("dataset", out)


if __name__ == "__main__":
    clitest.main()
