"""Philox4x32-10 random tensors on the GPU (cuda_kernels/random.cuh, spec in docs/random.md).

The kernels compute the same stream as the CPU backend (gputensor/backend/cpu/random.py)
from the op's ``key`` and ``offset``: the same uint32 words, uniform floats and integers
bit for bit, normals up to the last bits of logf/sinf/cosf. Integer outputs are written
through unsigned views of the same buffer (the arithmetic is modular, as the spec says).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.backend.cuda import launch_config
from gputensor.backend.cuda.compile import KernelSource
from gputensor.backend.cuda.ctypes_map import c_type
from gputensor.backend.cuda.families.common import checked_dtype

_FLOATS = ("float16", "bfloat16", "float32", "float64")
_UNSIGNED = {4: "uint32", 8: "uint64"}
# op -> (dtypes the public op takes, output C types the kernels are instantiated for)
_DTYPES = {
    "random_uniform": _FLOATS,
    "random_normal": _FLOATS,
    "random_truncated_normal": _FLOATS,
    "random_uniform_int": ("int32", "int64"),
    "random_bits": ("int32", "uint32", "int64", "uint64"),
}
_INTEGER_OPS = ("random_uniform_int", "random_bits")
_PER_BLOCK = {4: 4, 8: 2, 2: 4}  # outputs per Philox block by element width


def _kernel_types(op: str) -> tuple[str, ...]:
    """Output types of the kernels of ``op``; integer ops write unsigned words of the width."""
    return tuple(_UNSIGNED.values()) if op in _INTEGER_OPS else _FLOATS


@functools.cache
def source_for(op: str) -> KernelSource:
    """The unit holding the kernels of random op ``op``, one per output type."""
    code, names = ['#include "random.cuh"\n'], []
    extra = ", unsigned long long span, unsigned long long minval" if op == "random_uniform_int" else ""
    args = ", span, minval" if extra else ""
    for dt in _kernel_types(op):
        name = f"gt_{op}_{dt}"
        code.append(
            f'extern "C" __global__ void {name}({c_type(dt)}* __restrict__ y, long long n, '
            f"unsigned long long key, unsigned long long offset{extra}) {{\n"
            f"  gt::{op}(y, n, key, offset{args});\n}}\n"
        )
        names.append(name)
    return KernelSource("random", op, "".join(code), tuple(names))


def sources(ops: list) -> list[KernelSource]:
    declared = {op.name for op in ops}
    return [source_for(name) for name in _DTYPES if name in declared]


def _factory(op: str) -> Callable:
    def factory(backend: Any) -> Callable:
        def run(key: int, offset: int, shape: tuple, dtype: Any, **bounds: int) -> Any:
            dtype = np.dtype(dtype)
            checked_dtype(dtype, _DTYPES[op], op)
            kernel_type = _UNSIGNED[dtype.itemsize] if op in _INTEGER_OPS else dtype.name
            out = backend.empty(tuple(shape), np.dtype(kernel_type) if op in _INTEGER_OPS else dtype)
            n = math.prod(shape)
            if n == 0:
                return out.view(dtype)
            args: tuple = (out, np.int64(n), np.uint64(key), np.uint64(offset))
            if op == "random_uniform_int":
                span = bounds["maxval"] - bounds["minval"]
                args += (np.uint64(span), np.uint64(bounds["minval"] & 0xFFFFFFFFFFFFFFFF))
            if op == "random_truncated_normal":
                units = n  # one thread per element: each redraws on its own
            else:
                units = -(-n // _PER_BLOCK[dtype.itemsize])
            backend.launch(source_for(op), f"gt_{op}_{kernel_type}", launch_config.random(units), args)
            return out.view(dtype)

        return run

    return factory


KERNELS: dict[str, Callable] = {op: _factory(op) for op in _DTYPES}
