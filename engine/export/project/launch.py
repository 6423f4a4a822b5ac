#!/usr/bin/env python3
"""launch.py — torchrun, also where torchrun cannot start: PyTorch 1.13 under Python 3.11
(Debian 12's python3-torch). There torchrun stops before any worker starts, with
"AttributeError: 'NoneType' object has no attribute 'get'": its Std.from_str looks "0" up by
iterating the Std flags, which Python 3.11 no longer yields for a zero flag. This mends that one
lookup when it is broken, and is torchrun otherwise; it takes torchrun's arguments:

    python3 launch.py --standalone --nproc_per_node=2 train.py --data DIR
"""
import re
import sys

from torch.distributed import run
from torch.distributed.elastic.multiprocessing import Std


def from_str(vm):
    """"0" -> Std.NONE, "3" -> Std.ALL, "0:3,1:0" -> {0: Std.ALL, 1: Std.NONE}."""
    if re.fullmatch(r"[0-3]", vm):
        return Std(int(vm))
    if re.fullmatch(r"(\d+:[0-3],)*\d+:[0-3]", vm):
        return {int(i): Std(int(v)) for i, v in (m.split(":") for m in vm.split(","))}
    raise ValueError(f"{vm} does not match a number from 0 to 3 or a mapping rank:number")


if Std.from_str("0") is None:
    Std.from_str = staticmethod(from_str)

if __name__ == "__main__":
    sys.exit(run.main())
