"""`CupyLauncher`: loads cubins from our cache into CuPy modules and launches kernels on a GPU."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.backend.cuda import compile as kcompile


class CupyLauncher:
    """Kernel loading and memory for one physical GPU through CuPy."""

    def __init__(self, device_id: int) -> None:
        import cupy

        self.cupy = cupy
        self.xp = cupy
        self.device_id = device_id
        self._device = cupy.cuda.Device(device_id)
        major, minor = self._device.compute_capability[:1], self._device.compute_capability[1:]
        self.arch = f"sm_{major}{minor}"
        self._functions: dict[str, Callable] = {}
        self._modules: dict[str, Any] = {}

    def activate(self) -> None:
        if self.cupy.cuda.runtime.getDevice() != self.device_id:
            self._device.use()

    def kernel(self, source: kcompile.KernelSource, name: str) -> Callable:
        fn = self._functions.get(name)
        if fn is None:
            module = self._modules.get(source.key)
            if module is None:
                cubin = kcompile.cached_cubin(source, self.arch)
                module = self.cupy.cuda.function.Module()
                module.load(cubin)
                self._modules[source.key] = module
            func = module.get_function(name)

            def fn(grid: tuple, block: tuple, args: tuple, shared_mem: int = 0, _f=func) -> None:
                _f(grid, block, args, shared_mem=shared_mem)

            self._functions[name] = fn
        return fn

    def address(self, array: Any) -> int:
        """The device address of an array's first element."""
        return array.data.ptr

    def upload(self, host: np.ndarray) -> Any:
        # An explicit host-to-device copy of the bytes: cupy.asarray of a 0-d array may fill
        # the value instead, and a fill of -0.0 was seen to store +0.0 (gt.print showed "0").
        flat = host.reshape(-1)  # 1-d: the copy takes whole arrays of one shape
        with self._device:
            out = self.cupy.empty(flat.shape, flat.dtype)
            if flat.size:
                out.set(flat)
            return out.reshape(host.shape)

    def download(self, array: Any) -> np.ndarray:
        return self.cupy.asnumpy(array)

    def free_cached_blocks(self) -> None:
        self.cupy.get_default_memory_pool().free_all_blocks()

    def memory_info(self) -> dict[str, int]:
        pool = self.cupy.get_default_memory_pool()
        with self._device:
            free, total = self.cupy.cuda.runtime.memGetInfo()
        return {
            "pool_used_bytes": int(pool.used_bytes()),
            "pool_total_bytes": int(pool.total_bytes()),
            "free_bytes": int(free),
            "total_bytes": int(total),
        }
