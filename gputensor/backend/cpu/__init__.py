"""The CPU backend: every op is a NumPy call (kernels listed per family in this package)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.errors import UnimplementedError

_KERNELS: dict[str, Callable] | None = None


def _load_kernels() -> dict[str, Callable]:
    from gputensor.backend.cpu import array, elementwise, linalg, nn, random, reduction, strings

    table: dict[str, Callable] = {}
    for family in (elementwise, reduction, array, nn, random, linalg, strings):
        overlap = table.keys() & family.KERNELS.keys()
        assert not overlap, f"CPU kernels registered twice: {sorted(overlap)}"
        table.update(family.KERNELS)
    return table


class CpuBackend:
    """Runs kernels with NumPy on host memory. One instance serves every logical CPU."""

    name = "cpu"
    xp = np

    def kernel_table(self) -> dict[str, Callable]:
        global _KERNELS
        if _KERNELS is None:
            _KERNELS = _load_kernels()
        return _KERNELS

    def make_kernel(self, op: Any) -> Callable:
        raise UnimplementedError(f"{op.name}: no CPU kernel is registered for this op", op.name)

    def from_host(self, array: np.ndarray) -> np.ndarray:
        return array

    def to_host(self, array: Any) -> np.ndarray:
        return array

    def transfer(self, array: Any, source_backend: Any) -> np.ndarray:
        """Brings an array held by ``source_backend`` into host memory."""
        return source_backend.to_host(array)

    def scalar(self, value: Any, np_dtype: np.dtype) -> Any:
        return np_dtype.type(value)

    def memory_info(self, physical_index: int) -> dict[str, int]:
        return {}

    def fusable(self, node: Any) -> bool:
        """Whether graph node ``node`` may join a fused elementwise chain (graph/fusion.py)."""
        from gputensor.backend.cpu import fused

        return fused.fusable(node)

    def fused_kernel(self, chain: Any) -> Callable:
        """The function running a fused chain (graph/fusion.py FusedChain) on host arrays."""
        from gputensor.backend.cpu import fused

        return fused.fused_kernel(chain)

    def lowered_kernels(self) -> Any:
        """The kernels of graph/lowering.py's rules on host arrays (backend/cpu/lowered.py)."""
        from gputensor.backend.cpu import lowered

        return lowered


CPU = CpuBackend()
