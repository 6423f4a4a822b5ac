#!/usr/bin/env python3
"""hydranet.py — the tutorial's HydraNet, its files and its preprocessing, as HydraNet Studio
has them, so that a model trained here loads in the studio and the other way round.

    python3 hydranet.py predict --model output/model.safetensors IMAGE...

prints one JSON line per image, as `hydranet-cli predict --faces whole` does.

- Tensor names are the tutorial's state_dict keys (net.*, heads net.fc1 age, net.fc2 gender,
  net.fc3 race); files are safetensors with string metadata (format "hydranet-1", backbone,
  input_size, mean, std, and when the age head is standardised age_mean and age_std: its
  output in years is then age_mean + age_std * z).
- Preprocessing: RGB, centre crop to a square, Pillow's antialiased bilinear resize to
  S x S, /255, ImageNet mean and std.
"""
import argparse
import json
import os
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torchvision
from PIL import Image, ImageOps

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
RACES = ("white", "black", "asian", "indian", "other")
FORMAT = "hydranet-1"


class HydraNet(nn.Module):
    """A torchvision ResNet trunk whose fc is the identity, and three heads beside it."""

    def __init__(self, backbone="resnet18"):
        super().__init__()
        self.net = getattr(torchvision.models, backbone)()
        n = self.net.fc.in_features
        self.net.fc = nn.Identity()

        def head(k):
            return nn.Sequential(OrderedDict([("linear", nn.Linear(n, n)), ("relu1", nn.ReLU()),
                                              ("final", nn.Linear(n, k))]))

        self.net.fc1, self.net.fc2, self.net.fc3 = head(1), head(1), head(5)

    def forward(self, x, features=False):
        """(age, gender logit, race logits), each (N, k); with features, also the shared (N, 512)
        feature the heads read, where the balancing methods weigh the heads' gradients."""
        f = self.net(x)
        out = (self.net.fc1(f), self.net.fc2(f), self.net.fc3(f))
        return out + (f,) if features else out


class InYears(nn.Module):
    """The model with its age in years (age_mean + age_std * z) and outputs named for export."""

    def __init__(self, model, age_mean=0.0, age_std=1.0):
        super().__init__()
        self.model = model
        self.age_mean, self.age_std = float(age_mean), float(age_std)

    def forward(self, x):
        age, gender, race = self.model(x)
        return self.age_mean + self.age_std * age, gender, race


# ---- files ----
DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def load_safetensors(path):
    """The tensors and metadata of a safetensors file (without the safetensors package)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short to be a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f"{path}: its header runs past the end of the file")
    head = json.loads(raw[8:8 + n])
    meta = head.pop("__metadata__", {}) or {}
    tensors = {}
    for name, t in head.items():
        a, b = t["data_offsets"]
        if not 0 <= a <= b <= len(raw) - 8 - n:
            raise ValueError(f"{path}: tensor {name} lies outside the file")
        data = np.frombuffer(raw, dtype=DTYPES[t["dtype"]], count=(b - a) // np.dtype(DTYPES[t["dtype"]]).itemsize,
                             offset=8 + n + a)
        tensors[name] = torch.from_numpy(data.reshape(t["shape"]).copy())
    return tensors, meta


def save_safetensors(path, tensors, meta):
    """Writes tensors (name -> tensor) and metadata (name -> str) atomically: a temporary file,
    fsync, rename — a crash leaves the old file."""
    inverse = {np.dtype(v): k for k, v in DTYPES.items()}
    head, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = tensors[name].detach().cpu().contiguous().numpy()
        b = a.tobytes()
        head[name] = {"dtype": inverse[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    head["__metadata__"] = {k: str(v) for k, v in meta.items()}
    text = json.dumps(head, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def model_tensors(tensors):
    """The model's own tensors: a resumable file's optimizer state (optim.*) left out."""
    return {k: v for k, v in tensors.items() if not k.startswith("optim.")}


def load_model(path):
    """(HydraNet in eval mode, metadata, age_mean, age_std) from a file the studio or train.py wrote."""
    tensors, meta = load_safetensors(path)
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not a HydraNet model (format {meta.get('format')!r})")
    model = HydraNet(meta.get("backbone", "resnet18"))
    model.load_state_dict(model_tensors(tensors), strict=True)
    return model.eval(), meta, float(meta.get("age_mean", 0)), float(meta.get("age_std", 1))


# ---- images ----
def square(img, size):
    """RGB, centre-cropped to a square and resized to size x size (uint8 numpy array, H W C)."""
    img = img.convert("RGB")
    w, h = img.size
    s = min(w, h)
    if w != h:
        left, top = (w - s) // 2, (h - s) // 2
        img = img.crop((left, top, left + s, top + s))
    if img.size != (size, size):
        img = img.resize((size, size), Image.BILINEAR)
    return np.array(img, dtype=np.uint8)


def normalize(x):
    """(…, 3, S, S) in [0, 1] -> normalised with ImageNet's mean and std."""
    mean = torch.tensor(MEAN, dtype=x.dtype).view(3, 1, 1)
    std = torch.tensor(STD, dtype=x.dtype).view(3, 1, 1)
    return (x - mean) / std


def preprocess(img, size):
    """A PIL image as the network takes it: (3, S, S) float32."""
    return normalize(torch.from_numpy(square(img, size)).permute(2, 0, 1).float() / 255.0)


def predict_file(path, model, size, age_mean=0.0, age_std=1.0):
    """What hydranet-cli predict --faces whole prints for one image (turned as EXIF says)."""
    with Image.open(path) as img:
        x = preprocess(ImageOps.exif_transpose(img), size)[None]
    with torch.no_grad():
        age, gender, race = InYears(model, age_mean, age_std)(x)
    p_female = torch.sigmoid(gender)[0, 0].item()
    probs = torch.softmax(race, 1)[0].tolist()
    return {"file": path, "age": age[0, 0].item(), "gender": "female" if p_female >= 0.5 else "male",
            "p_female": p_female, "race": RACES[int(np.argmax(probs))], "race_probs": dict(zip(RACES, probs))}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("predict", help="predict age, gender and race for images")
    c.add_argument("--model", required=True)
    c.add_argument("images", nargs="+")
    a = p.parse_args()
    model, meta, age_mean, age_std = load_model(a.model)
    size = int(meta.get("input_size", 32))
    status = 0
    for path in a.images:
        try:
            print(json.dumps(predict_file(path, model, size, age_mean, age_std)))
        except (OSError, ValueError) as e:
            print(json.dumps({"file": path, "error": str(e)}))
            status = 1
    sys.exit(status)


if __name__ == "__main__":
    main()
