"""What the hydranet-cli test scripts share: running the CLI and writing small PNGs.

Standard library only, so the tests run wherever the suite runs.
"""
import json
import os
import struct
import subprocess
import sys
import unittest
import zlib

CLI = None


def run(*args, timeout=600, env=None, cwd=None):
    """Runs hydranet-cli with args (env: variables to set, cwd: where); returns (exit status,
    stdout, stderr)."""
    p = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, **env) if env else None, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def metadata(path):
    """The __metadata__ map of a safetensors file."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n)).get("__metadata__", {})


def png(path, w, h, pixel):
    """An 8-bit RGB PNG whose pixel (x, y) is pixel(x, y), written with zlib by hand."""
    raw = b"".join(b"\0" + bytes(c for x in range(w) for c in pixel(x, y)) for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def main():
    """unittest.main for a script run as SCRIPT HYDRANET_CLI [unittest args]."""
    global CLI
    if len(sys.argv) < 2:
        sys.exit(f"usage: {os.path.basename(sys.argv[0])} HYDRANET_CLI")
    CLI = os.path.abspath(sys.argv.pop(1))
    unittest.main(module="__main__", verbosity=2)
