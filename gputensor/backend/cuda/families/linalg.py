"""Matrix products on the GPU: ``matmul`` through ``backend.xp.matmul`` (cuBLAS on a GPU).

No kernel of our own: GEMM is cuBLAS's job. Transposes are views (cuBLAS takes the
transposed operand as is, no copy), batch dimensions broadcast as in NumPy, and
the output is allocated through ``backend.empty`` so an out-of-memory error is
retried and reported like every other op's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.backend.cuda.compile import KernelSource
from gputensor.backend.cuda.families.common import checked_dtype

_DTYPES = ("float16", "bfloat16", "float32", "float64", "complex64", "complex128", "int32", "int64")
_HALF = ("float16", "bfloat16")


def sources(ops: list) -> list[KernelSource]:
    return []  # cuBLAS only


def _matmul_factory(backend: Any) -> Callable:
    xp = backend.xp

    def run(a: Any, b: Any, transpose_a: bool, transpose_b: bool) -> Any:
        a = backend.device_array(a)
        b = backend.device_array(b)
        dtype = checked_dtype(a.dtype, _DTYPES, "matmul")
        if transpose_a:
            a = xp.swapaxes(a, -1, -2)
        if transpose_b:
            b = xp.swapaxes(b, -1, -2)
        batch = np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
        out = backend.empty(batch + (a.shape[-2], b.shape[-1]), a.dtype)
        if xp is np and dtype in _HALF:
            # Only under the CPU emulation harness: NumPy would accumulate float16 in
            # float16, where cuBLAS (GemmEx, float compute) accumulates in float32.
            out[...] = np.matmul(a.astype(np.float32), b.astype(np.float32))
            return out
        xp.matmul(a, b, out=out)
        return out

    return run


KERNELS: dict[str, Callable] = {"matmul": _matmul_factory}
