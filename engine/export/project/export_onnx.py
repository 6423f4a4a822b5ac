#!/usr/bin/env python3
"""export_onnx.py — the trained model as ONNX, for Netron, ONNX Runtime and the like.

    python3 export_onnx.py [--model output/model.safetensors] [--out output/model.onnx]

Opset 17; input "image" (N, 3, S, S), normalised as hydranet.py's preprocess does, with a
dynamic batch axis; outputs "age" (N, 1) in years, "gender_logit" (N, 1) (P(female) is its
sigmoid) and "race_logits" (N, 5) (white, black, asian, indian, other; softmax for
probabilities).
"""
import argparse
import os

import torch

import hydranet

PROJECT = os.path.dirname(os.path.abspath(__file__))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=os.path.join(PROJECT, "output", "model.safetensors"))
    p.add_argument("--out", default=None, help="default: the model's name with .onnx")
    a = p.parse_args()
    out = a.out or os.path.splitext(a.model)[0] + ".onnx"
    model, meta, age_mean, age_std = hydranet.load_model(a.model)
    size = int(meta.get("input_size", 32))
    wrapped = hydranet.InYears(model, age_mean, age_std).eval()
    example = torch.zeros(1, 3, size, size)
    torch.onnx.export(wrapped, example, out, opset_version=17, input_names=["image"],
                      output_names=["age", "gender_logit", "race_logits"],
                      dynamic_axes={"image": {0: "batch"}, "age": {0: "batch"},
                                    "gender_logit": {0: "batch"}, "race_logits": {0: "batch"}})
    print(out)


if __name__ == "__main__":
    main()
