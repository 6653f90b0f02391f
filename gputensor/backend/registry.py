"""Which devices exist: physical device discovery and logical device configuration.

CPU:0 always exists. GPUs are found through CuPy, imported on first use only;
without CuPy or a GPU (or with ``GPUTENSOR_DEVICE=cpu``) the CPU backend is used
and one debug-level log line says why.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from typing import Any

from gputensor.backend.cpu import CPU
from gputensor.backend.device import Device
from gputensor.errors import NotFoundError

log = logging.getLogger("gputensor")


@dataclass(frozen=True)
class PhysicalDevice:
    """A physical device, as ``tf.config.PhysicalDevice``."""

    name: str
    device_type: str


@dataclass(frozen=True)
class LogicalDevice:
    """A logical device, as ``tf.config.LogicalDevice``."""

    name: str
    device_type: str


@dataclass(frozen=True)
class LogicalDeviceConfiguration:
    """Configuration of one logical device (``memory_limit`` in MB, as TF)."""

    memory_limit: int | None = None
    experimental_priority: int | None = None
    experimental_device_ordinal: int | None = None


_lock = threading.RLock()
_physical: list[PhysicalDevice] | None = None
_gpu_count = 0
_logical_config: dict[str, list[LogicalDeviceConfiguration]] = {}
_devices: list[Device] | None = None
_by_key: dict[tuple[str, int], Device] = {}
# TF's soft device placement (tf.config.set_soft_device_placement), on by default: a device
# scope naming a device that does not exist falls back instead of raising.
soft_device_placement = True


def _count_gpus() -> int:
    forced = os.environ.get("GPUTENSOR_DEVICE", "").strip().lower()
    if forced == "cpu":
        log.debug("gputensor: GPUTENSOR_DEVICE=cpu, using the CPU backend only")
        return 0
    try:
        from gputensor.backend.cuda import gpu_count
    except ImportError as exc:
        log.debug("gputensor: CUDA backend unavailable (%s); using the CPU backend", exc)
        return 0
    n = gpu_count()
    if n == 0:
        log.debug("gputensor: CuPy sees no GPU; using the CPU backend")
    return n


def physical_devices() -> list[PhysicalDevice]:
    global _physical, _gpu_count
    with _lock:
        if _physical is None:
            _gpu_count = _count_gpus()
            _physical = [PhysicalDevice("/physical_device:CPU:0", "CPU")]
            _physical += [PhysicalDevice(f"/physical_device:GPU:{i}", "GPU") for i in range(_gpu_count)]
        return list(_physical)


def set_logical_configuration(physical: PhysicalDevice, configs: list | None) -> None:
    with _lock:
        if physical not in physical_devices():
            raise ValueError(f"Unrecognized physical device {physical!r}")
        if _devices is not None:
            raise RuntimeError("Virtual devices cannot be modified after being initialized")
        if configs is None:
            _logical_config.pop(physical.name, None)
            return
        configs = list(configs)
        if not configs:
            raise ValueError("set_logical_device_configuration needs at least one configuration")
        for c in configs:
            if not isinstance(c, LogicalDeviceConfiguration):
                raise TypeError(f"Expected LogicalDeviceConfiguration, got {type(c).__name__}")
        _logical_config[physical.name] = configs


def get_logical_configuration(physical: PhysicalDevice) -> list[LogicalDeviceConfiguration] | None:
    return _logical_config.get(physical.name)


def devices() -> list[Device]:
    """All logical devices, initialising them (and freezing the configuration) on first call."""
    global _devices
    if _devices is not None:
        return _devices
    with _lock:
        if _devices is None:
            made: list[Device] = []
            counters = {"CPU": 0, "GPU": 0}
            for phys in physical_devices():
                kind, pindex = phys.device_type, int(phys.name.rsplit(":", 1)[1])
                configs = _logical_config.get(phys.name) or [LogicalDeviceConfiguration()]
                backend = CPU if kind == "CPU" else _cuda_backend(pindex)
                for cfg in configs:
                    limit = None if cfg.memory_limit is None else int(cfg.memory_limit) * (1 << 20)
                    made.append(Device(kind, counters[kind], pindex, backend, limit))
                    counters[kind] += 1
            _by_key.update({(d.device_type, d.index): d for d in made})
            _devices = made
    return _devices


def _cuda_backend(physical_index: int) -> Any:
    from gputensor.backend.cuda import backend_for

    return backend_for(physical_index)


def default_device() -> Device:
    """GPU:0 when a GPU is visible, else CPU:0."""
    devs = devices()
    return _by_key.get(("GPU", 0)) or devs[0]


_SPEC = re.compile(
    r"^(?:/job:[^/]+)?(?:/replica:\d+)?(?:/task:\d+)?/?(?:device:)?(?P<type>cpu|gpu)(?::(?P<index>\d+))?$",
    re.IGNORECASE,
)


def lookup(spec: Any) -> Device:
    """Finds the logical device for a spec such as ``"/GPU:0"`` or ``"/device:CPU:1"``.

    Raises:
      NotFoundError: when no such device exists; the message lists those that do.
    """
    if isinstance(spec, Device):
        return spec
    name = getattr(spec, "name", spec)
    if not isinstance(name, str):
        raise TypeError(f"device: expected a device name string, got {type(spec).__name__}")
    m = _SPEC.match(name.strip())
    if m is None:
        raise ValueError(f"device: cannot parse device name {name!r}; use a name like '/GPU:0' or '/CPU:0'")
    key = (m.group("type").upper(), int(m.group("index") or 0))
    devs = devices()
    dev = _by_key.get(key)
    if dev is None:
        known = ", ".join(d.short_name for d in devs)
        raise NotFoundError(
            f"device: {name!r} does not exist on this machine; known devices: {known}. "
            "Split a device with gt.config.set_logical_device_configuration before first use."
        )
    return dev


def device_type_of(spec: str) -> str:
    """``"CPU"`` or ``"GPU"``, the type a parseable device name such as ``"/GPU:1"`` asks for."""
    m = _SPEC.match(spec.strip())
    if m is None:
        raise ValueError(f"device: cannot parse device name {spec!r}; use a name like '/GPU:0' or '/CPU:0'")
    return m.group("type").upper()


def _reset_for_tests() -> None:
    """Forgets devices and configuration so a test can configure them afresh."""
    global _physical, _devices
    with _lock:
        _physical = None
        _devices = None
        _by_key.clear()
        _logical_config.clear()
