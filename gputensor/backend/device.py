"""The Device abstraction: one logical device, its backend, kernels and memory counters."""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from typing import Any

_JOB_PREFIX = "/job:localhost/replica:0/task:0/device:"
# Every Device alive, in creation order: gt.memory() counts tensors on devices outside the
# registry too (a device from an earlier logical configuration, the test suite's emulated GPU).
_alive: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_serial = itertools.count()


def all_devices() -> list:
    """Every Device object alive, registered or not, in creation order."""
    return [d for _, d in sorted(_alive.items())]


class Device:
    """A logical device (``/job:localhost/replica:0/task:0/device:GPU:0``).

    Every tensor lives on exactly one Device. The device owns the kernel table
    its ops dispatch through and counts the bytes and tensors alive on it, which
    ``gt.config.experimental.get_memory_info`` and ``gt.memory()`` report.
    """

    __slots__ = (
        "device_type",
        "index",
        "physical_index",
        "name",
        "short_name",
        "backend",
        "kernels",
        "memory_limit",
        "current_bytes",
        "peak_bytes",
        "num_tensors",
        "__weakref__",
    )

    def __init__(
        self,
        device_type: str,
        index: int,
        physical_index: int,
        backend: Any,
        memory_limit: int | None = None,
        register: bool = True,
    ) -> None:
        self.device_type = device_type
        self.index = index
        self.physical_index = physical_index
        self.name = f"{_JOB_PREFIX}{device_type}:{index}"
        self.short_name = f"/{device_type}:{index}"
        self.backend = backend
        self.kernels: dict[str, Callable] = backend.kernel_table()
        self.memory_limit = memory_limit
        self.current_bytes = 0
        self.peak_bytes = 0
        self.num_tensors = 0
        if register:  # a graph's tracing device holds no memory: gt.memory() does not list it
            _alive[next(_serial)] = self

    def kernel(self, op: Any) -> Callable:
        """Returns the kernel for op declaration ``op``, building it on first use."""
        fn = self.kernels.get(op.name)
        if fn is None:
            compose = getattr(op, "compose", None)
            fn = compose(self) if compose is not None else self.backend.make_kernel(op)
            self.kernels[op.name] = fn
        return fn

    @property
    def is_gpu(self) -> bool:
        return self.device_type == "GPU"

    def __repr__(self) -> str:
        return f"Device({self.name!r})"
