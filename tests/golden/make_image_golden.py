#!/usr/bin/python3
"""Writes the golden files of tests/test-image.c (all named tests/golden/image-*).

Run by hand with Debian's interpreter (PIL 9.4, numpy, torch), from anywhere:

    /usr/bin/python3 tests/golden/make_image_golden.py

Resize: for each (w, h, S) a source image-WxH.png (8-bit RGB) and image-WxH-S.rgb, the raw
(S, S, 3) bytes of Pillow's output along the reference's preprocess() path (crop, then
BILINEAR resize only when the size differs).

Normalise: image-101x77-32.f32, the (3, 32, 32) float32 tensor the reference's preprocess()
gives for image-101x77.png, and image-all-values.f32, the same arithmetic on the 16x16 image
image-all-values holding every byte value in every channel (generated the same way in C).

Decoding: files stb_image_write cannot make, and JPEGs as Pillow decodes them, each with
the RGB we expect from it (.rgb):
a palette GIF and a 16-bit RGBA PNG (both as PIL's convert("RGB")), and a 16-bit grey PNG.
For the last we expect the high byte of each sample, as stb_image gives and as PIL does for
16-bit RGB(A); PIL's own convert("RGB") of 16-bit grey ("I" mode) clips to 255 instead, so
the reference saturates such images (UTKFace has none).
"""

import os
import struct
import zlib

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]

# (w, h, S): landscape and portrait with odd crop offsets, upscaling (also from one pixel),
# an exact size (copied, not resampled), a face-sized source through a wide kernel, and a
# barely shrinking one.
RESIZE_CASES = [
    (101, 77, 32),
    (45, 123, 32),
    (13, 20, 32),
    (1, 1, 32),
    (70, 64, 64),
    (200, 200, 32),
    (9, 7, 64),
    (67, 65, 64),
]


def path(name):
    return os.path.join(HERE, name)


def crop_resize(img, size):
    """The first half of the reference's preprocess(), to 8-bit RGB."""
    img = img.convert("RGB")
    w, h = img.size
    s = min(w, h)
    if w != h:
        l, t = (w - s) // 2, (h - s) // 2
        img = img.crop((l, t, l + s, t + s))
    if img.size != (size, size):
        img = img.resize((size, size), Image.BILINEAR)
    return img


def normalize(rgb):
    """The second half of preprocess(): (H, W, 3) uint8 -> (3, H, W) float32."""
    x = torch.from_numpy(np.asarray(rgb, dtype=np.float32) / 255.0).permute(2, 0, 1)
    return (x - torch.tensor(MEAN)[:, None, None]) / torch.tensor(STD)[:, None, None]


def source(rng, w, h):
    """Noise over the full range, with saturated patches (to exercise clipping) on a smooth
    ramp plus small noise (which keeps the larger PNGs small)."""
    if w * h <= 100 * 100:
        a = rng.integers(0, 256, (h, w, 3))
    else:
        y, x = np.mgrid[0:h, 0:w]
        ramp = np.stack([x * 255 // w, y * 255 // h, (x + y) * 255 // (w + h)], axis=-1)
        a = np.clip(ramp + rng.integers(-6, 7, (h, w, 3)), 0, 255)
    a[: h // 4, : w // 4] = 255
    a[h - h // 5 :, w - w // 5 :] = 0
    return a.astype(np.uint8)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png16(name, a):
    """a (H, W, C) uint16, C = 1 or 4: a 16-bit PNG written by hand (PIL cannot write 16-bit
    RGBA)."""
    h, w, c = a.shape
    colour = {1: 0, 4: 6}[c]
    rows = b"".join(b"\0" + a[y].astype(">u2").tobytes() for y in range(h))
    with open(path(name), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, colour, 0, 0, 0)))
        f.write(png_chunk(b"IDAT", zlib.compress(rows, 9)))
        f.write(png_chunk(b"IEND", b""))


def main():
    rng = np.random.default_rng(20240611)

    for w, h, size in RESIZE_CASES:
        name = f"image-{w}x{h}"
        Image.fromarray(source(rng, w, h), "RGB").save(path(name + ".png"), optimize=True)
        img = Image.open(path(name + ".png"))
        out = np.asarray(crop_resize(img, size))
        out.tofile(path(f"{name}-{size}.rgb"))
        if (w, h, size) == (101, 77, 32):
            normalize(out).numpy().astype("<f4").tofile(path(f"{name}-{size}.f32"))

    # Channel c of pixel i holds (i + 85·c) mod 256: every value in every channel.
    i = np.arange(256)
    all_values = np.stack([(i + 85 * c) % 256 for c in range(3)], axis=-1).astype(np.uint8)
    normalize(all_values.reshape(16, 16, 3)).numpy().astype("<f4").tofile(
        path("image-all-values.f32"))

    pal = Image.fromarray(rng.integers(0, 4, (3, 5)).astype(np.uint8), "P")
    pal.putpalette([255, 0, 0, 0, 200, 0, 10, 20, 250, 128, 128, 128])
    pal.save(path("image-palette.gif"))
    np.asarray(Image.open(path("image-palette.gif")).convert("RGB")).tofile(
        path("image-palette.rgb"))

    rgba16 = rng.integers(0, 65536, (2, 3, 4)).astype(np.uint16)
    write_png16("image-rgba16.png", rgba16)
    rgb = np.asarray(Image.open(path("image-rgba16.png")).convert("RGB"))
    assert (rgb == rgba16[..., :3] >> 8).all()  # PIL keeps the high byte, as stb does
    rgb.tofile(path("image-rgba16.rgb"))

    grey16 = np.array([[0, 255, 256, 4660], [32768, 40000, 65279, 65535]], np.uint16)
    write_png16("image-grey16.png", grey16[..., None])
    np.repeat((grey16 >> 8).astype(np.uint8)[..., None], 3, axis=-1).tofile(
        path("image-grey16.rgb"))

    # JPEGs, baseline 4:2:0 and progressive, with the RGB Pillow (libjpeg-turbo) decodes from
    # them: ours must be the same bytes, not merely close.
    photo = Image.fromarray(source(rng, 61, 47), "RGB")
    for name, progressive in (("image-photo", False), ("image-photo-progressive", True)):
        photo.save(path(name + ".jpg"), quality=85, progressive=progressive)
        np.asarray(Image.open(path(name + ".jpg")).convert("RGB")).tofile(path(name + ".rgb"))


if __name__ == "__main__":
    main()
