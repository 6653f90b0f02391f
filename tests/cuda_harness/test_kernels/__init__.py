"""The harness's own test kernels (emu_checks.cu), as a build unit and launchers for them."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cuda_harness import build
from tests.cuda_harness.launcher import EmulatedLauncher

HERE = Path(__file__).resolve().parent
_CODE = (HERE / "emu_checks.cu").read_text()
CHECKS = build.Unit(
    "emu_checks", _CODE, tuple(re.findall(r'extern "C" __global__ void (\w+)', _CODE)), str(HERE)
)
_launchers: dict[tuple, EmulatedLauncher] = {}


def launcher_for(sanitize: bool = False, schedule: str = "forward") -> EmulatedLauncher:
    """One launcher per (sanitize, schedule), so each library is loaded once per process."""
    key = (sanitize, schedule)
    if key not in _launchers:
        _launchers[key] = EmulatedLauncher(sanitize=sanitize, schedule=schedule)
    return _launchers[key]
