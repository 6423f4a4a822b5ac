#!/usr/bin/python3
"""Turns a torchvision ResNet-18 or ResNet-34 state_dict into a file for `train --init`.

On a machine with internet, save torchvision's ImageNet weights once:

    /usr/bin/python3 -c 'import torch, torchvision; torch.save(torchvision.models.resnet18(
        weights="IMAGENET1K_V1").state_dict(), "r18.pth")'

(resnet34 likewise), then wherever Debian's python3-torch and python3-torchvision are:

    /usr/bin/python3 tools/convert_torchvision.py r18.pth --out r18-imagenet.safetensors

The file holds the trunk under the reference HydraNet's names ("net." + torchvision's), in
float32 with int64 batch counters, and torchvision's own classifier as net.fc.*, which --init
ignores; the heads (net.fc1-3) are absent, so a run starts them fresh. Its metadata are the
model's own keys of engine/io/runmeta.h. Prints one JSON object on stdout; exit status 0 on
success, 1 when the input is not such a state_dict or the output cannot be written, 2 on a
usage error.
"""
import argparse
import importlib
import json
import os
import struct
import sys
import tempfile

FORMAT = "hydranet-1"
BACKBONES = ("resnet18", "resnet34")
SIZES = (32, 64, 96, 128)
# the input contract (engine/model/input.h), spelled as checkpoint_save writes it
MEAN, STD = "[0.485, 0.456, 0.406]", "[0.229, 0.224, 0.225]"


class ConvertError(Exception):
    pass


def read_state_dict(path):
    import torch

    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as e:
        raise ConvertError(f"{path}: {e.strerror or e}")
    except Exception as e:  # zip and unpickling errors alike
        raise ConvertError(f"{path}: cannot read a state_dict ({e}); save model.state_dict(), "
                           "not the model")
    if not isinstance(sd, dict) or not all(isinstance(k, str) and torch.is_tensor(v)
                                           for k, v in sd.items()):
        raise ConvertError(f"{path}: not a state_dict (a mapping of names to tensors)")
    return sd


def detect_backbone(sd):
    # ResNet-34's first stage has a third block, as checkpoint_info tells them apart
    return "resnet34" if "layer1.2.conv1.weight" in sd else "resnet18"


def check_names(sd, want, path, what):
    # state_dicts saved before PyTorch 0.4.1 lack the batch counters; torchvision loads 0 then
    missing = [k for k in want if k not in sd and not k.endswith(".num_batches_tracked")]
    unexpected = [k for k in sd if k not in want]
    for kind, names in (("missing", missing), ("unexpected", unexpected)):
        if names:
            more = f" and {len(names) - 1} more" if len(names) > 1 else ""
            raise ConvertError(f"{path}: not {what}: {kind} tensor {names[0]}{more}")
    for k, v in sd.items():
        if v.shape != want[k].shape:
            raise ConvertError(f"{path}: tensor {k} has shape {list(v.shape)}, expected "
                               f"{list(want[k].shape)} in {what}")
        if v.is_floating_point() != want[k].is_floating_point():
            raise ConvertError(f"{path}: tensor {k} has dtype {v.dtype}, expected {want[k].dtype}")


def trunk_tensors(sd, backbone, path, what):
    """sd loaded into torchvision's own model, whose state_dict then has its names and dtypes."""
    import torch
    import torchvision

    model = getattr(torchvision.models, backbone)(weights=None)
    check_names(sd, model.state_dict(), path, what)
    model.load_state_dict(sd, strict=False)  # casts half or double weights to float32
    tensors = {}
    for k, v in model.state_dict().items():
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise ConvertError(f"{path}: tensor {k} holds a non-finite value")
        tensors["net." + k] = v
    return tensors


def write_safetensors(path, tensors, meta):
    """The container of engine/io/safetensors.h, written atomically as the engine writes it:
    contiguous little-endian tensors after a JSON header padded to 8 bytes."""
    import torch

    kinds = {torch.float32: ("F32", "<f4"), torch.int64: ("I64", "<i8")}
    head, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        dtype, layout = kinds[t.dtype]
        raw = t.numpy().astype(layout).tobytes()
        head[name] = {"dtype": dtype, "shape": list(t.shape),
                      "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head["__metadata__"] = meta
    text = json.dumps(head, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".")
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp's 0600 is for the temporary, not the model
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text)
            for raw in blobs:
                f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Turn a torchvision ResNet-18/34 state_dict (.pth) into a file for "
                    "hydranet-cli train --init.",
        epilog='The .pth comes from torch.save(torchvision.models.resnet18(weights="IMAGENET1K_V1")'
               '.state_dict(), "r18.pth") on a machine with internet.')
    p.add_argument("state_dict", metavar="STATE_DICT.pth")
    p.add_argument("--out", required=True, metavar="INIT.safetensors")
    p.add_argument("--backbone", choices=BACKBONES, help="default: told by the tensors")
    p.add_argument("--size", type=int, choices=SIZES, default=32,
                   help="the input_size written in the metadata (train's own --size decides "
                        "a run's); default 32")
    a = p.parse_args(argv)
    for module in ("torch", "torchvision"):
        try:
            importlib.import_module(module)
        except ImportError as e:
            sys.exit(f"convert_torchvision.py: {e}: run it with Debian's /usr/bin/python3 "
                     "(python3-torch, python3-torchvision)")
    try:
        sd = read_state_dict(a.state_dict)
        backbone = a.backbone or detect_backbone(sd)
        what = f"a torchvision {a.backbone or 'resnet18 or resnet34'} state_dict"
        tensors = trunk_tensors(sd, backbone, a.state_dict, what)
        meta = {"format": FORMAT, "backbone": backbone, "input_size": str(a.size),
                "mean": MEAN, "std": STD,
                "source": f"convert_torchvision.py from {os.path.basename(a.state_dict)}"}
        write_safetensors(a.out, tensors, meta)
    except ConvertError as e:
        sys.exit(f"convert_torchvision.py: {e}")
    except OSError as e:
        sys.exit(f"convert_torchvision.py: {a.out}: {e.strerror or e}")
    print(json.dumps({"file": a.out, "backbone": backbone, "input_size": a.size,
                      "tensors": len(tensors)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
