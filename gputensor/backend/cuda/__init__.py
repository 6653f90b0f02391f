"""The CUDA backend (CuPy). Importing this module does not import CuPy; `gpu_count` does."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("gputensor")
_backends: dict[int, Any] = {}


def gpu_count() -> int:
    """Number of GPUs CuPy sees; 0 without CuPy, a driver or a device."""
    try:
        import cupy
    except ImportError as exc:
        log.debug("gputensor: CuPy is not installed (%s)", exc)
        return 0
    try:
        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:  # no driver, no device: CuPy raises its own runtime errors
        log.debug("gputensor: CuPy found no usable GPU (%s)", exc)
        return 0


def backend_for(physical_index: int) -> Any:
    """The (shared) CudaBackend of one physical GPU."""
    b = _backends.get(physical_index)
    if b is None:
        from gputensor.backend.cuda.backend import CudaBackend
        from gputensor.backend.cuda.launcher import CupyLauncher

        b = CudaBackend(CupyLauncher(physical_index), physical_index)
        _backends[physical_index] = b
    return b


def device_details(physical_index: int) -> dict[str, Any]:
    """``{"device_name", "compute_capability", "total_memory"}`` via NVML, else CuPy."""
    import cupy

    props = cupy.cuda.runtime.getDeviceProperties(physical_index)
    details = {
        "device_name": props["name"].decode() if isinstance(props["name"], bytes) else props["name"],
        "compute_capability": (int(props["major"]), int(props["minor"])),
        "total_memory": int(props["totalGlobalMem"]),
    }
    try:
        import pynvml

        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(physical_index)
        mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
        details["total_memory"] = int(mem.total)
        details["utilization_gpu"] = int(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)
    except Exception as exc:  # nvidia-ml-py is optional; CuPy's figures stand
        log.debug("gputensor: NVML unavailable (%s)", exc)
    return details
