"""CPU execution harness for the CUDA kernels: the same .cu sources, compiled by g++.

`emulated_device()` returns a GPU `Device` whose CUDA backend launches through
`EmulatedLauncher`, so every test that takes the ``device`` fixture also runs the CUDA
backend's glue and kernels on machines without a GPU. See README.md.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

log = logging.getLogger("gputensor.cuda_harness")

_lock = threading.Lock()
_devices: dict[bool, Any] = {}


def emulated_device(sanitize: bool | None = None) -> Any:
    """The emulated CUDA device ``/EMU_GPU:0``, or None when it cannot exist here.

    None when g++ is missing, the CUDA backend (gputensor/backend/cuda) is not
    importable, or ``CUDA_EMU=0`` is set. The first call compiles every kernel source
    of the backend that is not in the cache yet (in parallel; ``CUDA_EMU_PREBUILD=0``
    builds each on its first launch instead); a source that does not compile fails the
    launches of its kernels, with g++'s message, not the whole run.

    Args:
      sanitize: build the kernels with AddressSanitizer and UBSan; default
        ``$CUDA_EMU_SANITIZE == "1"`` (the process needs libasan preloaded: sanitize.py).
    """
    if os.environ.get("CUDA_EMU", "1") == "0":
        return None
    if sanitize is None:
        sanitize = os.environ.get("CUDA_EMU_SANITIZE") == "1"
    with _lock:
        if sanitize in _devices:
            return _devices[sanitize]
        _devices[sanitize] = dev = _make_device(sanitize)
        return dev


def _make_device(sanitize: bool) -> Any:
    from tests.cuda_harness import build

    if build.compiler() is None:
        log.debug("cuda_harness: no g++, no emulated GPU")
        return None
    try:
        from gputensor.backend.cuda.backend import CudaBackend
        from gputensor.backend.cuda.compile import INCLUDE_DIR
    except ImportError as exc:
        log.debug("cuda_harness: CUDA backend unavailable (%s), no emulated GPU", exc)
        return None
    from gputensor.backend.device import Device
    from tests.cuda_harness.launcher import EmulatedLauncher

    launcher = EmulatedLauncher(sanitize=sanitize)
    if os.environ.get("CUDA_EMU_PREBUILD", "1") != "0":
        launcher.prebuild(all_sources(), INCLUDE_DIR)
    dev = Device("GPU", 0, 0, CudaBackend(launcher, 0))
    dev.short_name = "/EMU_GPU:0"
    return dev


def all_sources() -> list:
    """Every kernel source the CUDA backend can launch (all ops declared, all dtypes)."""
    import gputensor  # noqa: F401  (declares every op)
    from gputensor.backend.cuda.compile import all_sources as backend_sources
    from gputensor.framework.op_table import OPS

    return backend_sources(OPS.values())
