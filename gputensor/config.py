"""``gt.config``: device listing, logical device configuration, memory statistics."""

from __future__ import annotations

import types
from typing import Any

from gputensor.backend import registry
from gputensor.backend.registry import LogicalDevice, LogicalDeviceConfiguration, PhysicalDevice

VirtualDeviceConfiguration = LogicalDeviceConfiguration
_memory_growth: dict[str, bool] = {}


def list_physical_devices(device_type: str | None = None) -> list[PhysicalDevice]:
    """Lists physical devices (``/physical_device:CPU:0``, GPUs), optionally of one type."""
    devs = registry.physical_devices()
    if device_type is None:
        return devs
    return [d for d in devs if d.device_type == device_type.upper()]


def list_logical_devices(device_type: str | None = None) -> list[LogicalDevice]:
    """Lists logical devices (initialising them); names like ``/device:CPU:0`` as TF."""
    devs = [LogicalDevice(f"/device:{d.device_type}:{d.index}", d.device_type) for d in registry.devices()]
    if device_type is None:
        return devs
    return [d for d in devs if d.device_type == device_type.upper()]


def set_logical_device_configuration(device: PhysicalDevice, logical_devices: list | None) -> None:
    """Splits a physical CPU or GPU into several logical devices (before first use).

    Raises:
      RuntimeError: when devices were already initialised by an earlier op.
    """
    registry.set_logical_configuration(device, logical_devices)


def get_logical_device_configuration(device: PhysicalDevice) -> list | None:
    return registry.get_logical_configuration(device)


set_virtual_device_configuration = set_logical_device_configuration
get_virtual_device_configuration = get_logical_device_configuration


def set_visible_devices(devices: Any, device_type: str | None = None) -> None:
    raise RuntimeError(
        "set_visible_devices is not supported by gputensor; set CUDA_VISIBLE_DEVICES (or "
        "GPUTENSOR_DEVICE=cpu) before starting Python"
    )


def get_visible_devices(device_type: str | None = None) -> list[PhysicalDevice]:
    return list_physical_devices(device_type)


def _get_memory_info(device: str) -> dict[str, int]:
    """``{"current": bytes, "peak": bytes}`` of live tensors on ``device`` (e.g. ``"GPU:0"``)."""
    d = registry.lookup(device)
    return {"current": d.current_bytes, "peak": d.peak_bytes}


def _reset_memory_stats(device: str) -> None:
    """Sets the device's peak to its current use."""
    d = registry.lookup(device)
    d.peak_bytes = d.current_bytes


def _get_device_details(device: PhysicalDevice) -> dict[str, Any]:
    """Name, total memory and compute capability of a GPU (via NVML/CuPy); ``{}`` for a CPU."""
    if device.device_type != "GPU":
        return {}
    from gputensor.backend.cuda import device_details

    return device_details(int(device.name.rsplit(":", 1)[1]))


def _set_memory_growth(device: PhysicalDevice, enable: bool) -> None:
    """Recorded for TF compatibility: gputensor's GPU pool always grows on demand."""
    _memory_growth[device.name] = bool(enable)


def _get_memory_growth(device: PhysicalDevice) -> bool:
    return _memory_growth.get(device.name, True)


def set_soft_device_placement(enabled: bool) -> None:
    """Sets whether a ``gt.device`` scope naming a device that does not exist falls back to
    an existing one (True, the default, as TF) or raises NotFoundError (False).

    Args:
      enabled: whether soft device placement is on.
    """
    registry.soft_device_placement = bool(enabled)


def get_soft_device_placement() -> bool:
    """Whether soft device placement is on (see ``set_soft_device_placement``)."""
    return registry.soft_device_placement


def run_functions_eagerly(run_eagerly: bool) -> None:
    """Makes every gt.function call its Python function directly instead of a graph (for debugging)."""
    from gputensor.graph import polymorphic_function as function

    function.run_functions_eagerly(run_eagerly)


def functions_run_eagerly() -> bool:
    """Whether ``run_functions_eagerly(True)`` is in effect."""
    from gputensor.graph import polymorphic_function as function

    return function.functions_run_eagerly()


experimental = types.SimpleNamespace(
    get_memory_info=_get_memory_info,
    reset_memory_stats=_reset_memory_stats,
    get_device_details=_get_device_details,
    set_memory_growth=_set_memory_growth,
    get_memory_growth=_get_memory_growth,
    list_physical_devices=list_physical_devices,
    list_logical_devices=list_logical_devices,
    set_virtual_device_configuration=set_logical_device_configuration,
    VirtualDeviceConfiguration=LogicalDeviceConfiguration,
)
