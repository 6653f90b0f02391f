"""Helpers shared by the hand-written kernel families (conv, pool, copy)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from gputensor.backend.cuda.compile import INCLUDE_DIR
from gputensor.errors import UnimplementedError


def family_file(name: str) -> str:
    """The text of a kernel file in cuda_kernels/, embedded in its unit so that the cache key covers it."""
    return (INCLUDE_DIR / name).read_text()


@functools.lru_cache(maxsize=1024)
def checked_dtype(dtype: np.dtype, allowed: tuple, op: str) -> str:
    """The dtype's name if a kernel exists for it, else UnimplementedError naming the op and the choices.

    Cached: it runs on every launch, and ``np.dtype.name`` costs a microsecond.
    """
    name = np.dtype(dtype).name
    if name not in allowed:
        raise UnimplementedError(
            f"{op}: no CUDA kernel for dtype {name}; the GPU kernels take {', '.join(allowed)}. "
            "Cast the operands or run the op on the CPU",
            op,
        )
    return name


def kernel_table(ops: dict[str, Callable]) -> dict[str, Callable]:
    """``KERNELS`` of a family from op name -> ``fn(backend, *arrays, **attrs)``: factories binding the backend."""
    return {name: (lambda backend, fn=fn: functools.partial(fn, backend)) for name, fn in ops.items()}
