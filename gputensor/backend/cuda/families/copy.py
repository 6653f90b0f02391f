"""Data movement and creation kernels (cuda_kernels/copy.cu).

Every layout change is one launch of ``gt_copy_strided``, described by `StridedCopy`:
an iteration shape, the source element each index reads (strides in elements,
negative for reversed axes, 0 for broadcast axes, a modulo for tiled axes) and the
destination element it writes. transpose, strided_slice, reverse, broadcast_to and
tile are such views of one input; concat/stack write each input into its part of the
output; split/unstack read each output's part of the input.

Movement kernels are instantiated per element width, so they serve every dtype.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from gputensor.backend.cuda import launch_config
from gputensor.backend.cuda.compile import KernelSource
from gputensor.backend.cuda.ctypes_map import C_TYPE, c_type
from gputensor.backend.cuda.families.common import checked_dtype, family_file
from gputensor.errors import UnimplementedError

WIDTHS = {1: "unsigned char", 2: "unsigned short", 4: "unsigned int", 8: "unsigned long long"}
UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
ONE_HOT_INDEX_DTYPES = ("int32", "int64", "uint8")
NUMERIC_DTYPES = tuple(d for d in C_TYPE if d != "bool")
FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
MAX_DIMS = 8  # dimensions of one strided copy after merging (copy.cu)
PAD_MODES = {"CONSTANT": 0, "REFLECT": 1, "SYMMETRIC": 2}


def width_name(dtype: Any) -> str:
    """The instantiation suffix of the movement kernels for dtype's element width (b1..b8)."""
    size = np.dtype(dtype).itemsize
    if size not in WIDTHS:
        raise UnimplementedError(f"no CUDA copy kernel for {size}-byte elements ({np.dtype(dtype).name})")
    return f"b{size}"


def bits(value: Any, dtype: Any) -> np.generic:
    """``value`` converted to ``dtype``, as the unsigned integer with the same bytes (by-value kernel argument)."""
    dtype = np.dtype(dtype)
    return np.asarray(value).astype(dtype).reshape(()).view(UINT[dtype.itemsize])[()]


@functools.cache
def source() -> KernelSource:
    """The copy compilation unit."""
    lines, names = [family_file("copy.cu")], []
    for size, w in WIDTHS.items():
        lines.append(f"GT_COPY_WIDTH_KERNELS(b{size}, {w})")
        names += [f"gt_copy_{k}_b{size}" for k in ("strided", "pad", "fill", "eye")]
        names += [f"gt_copy_one_hot_b{size}_{i}" for i in ONE_HOT_INDEX_DTYPES]
    for d in NUMERIC_DTYPES:
        acc = "double" if d in FLOAT_DTYPES else "long long"
        lines.append(f"GT_COPY_RANGE_KERNELS({d}, {c_type(d)}, {acc})")
        names.append(f"gt_copy_range_{d}")
    for d in FLOAT_DTYPES:
        lines.append(f"GT_COPY_LINSPACE_KERNELS({d}, {c_type(d)})")
        names.append(f"gt_copy_linspace_{d}")
    return KernelSource("copy", "copy", "\n".join(lines) + "\n", tuple(names))


def sources(ops: list) -> list[KernelSource]:
    return [source()]


def launch(backend: Any, name: str, n: int, args: tuple) -> None:
    if n > 0:
        backend.launch(source(), name, launch_config.copy(n), args)


def contiguous_strides(shape: Sequence[int]) -> list[int]:
    """Row-major strides in elements."""
    strides, acc = [0] * len(shape), 1
    for d in range(len(shape) - 1, -1, -1):
        strides[d] = acc
        acc *= max(1, shape[d])
    return strides


class StridedCopy:
    """One launch of gt_copy_strided: for every index of ``shape``, dst[...] = src[...].

    Args:
      shape: the iteration shape.
      src_strides: source strides in elements per iteration dimension (any sign, 0 to broadcast).
      src_base: source element of index 0.
      src_mods: per dimension, 0 or the extent the index wraps at before it meets the stride (tile).
      dst_strides: destination strides (default: the row-major strides of ``shape``).
      dst_base: destination element of index 0.
    """

    def __init__(
        self,
        shape: Sequence[int],
        src_strides: Sequence[int],
        src_base: int = 0,
        src_mods: Sequence[int] | None = None,
        dst_strides: Sequence[int] | None = None,
        dst_base: int = 0,
    ) -> None:
        self.shape = [int(s) for s in shape]
        self.src_strides = [int(s) for s in src_strides]
        self.src_mods = [int(m) for m in src_mods] if src_mods is not None else [0] * len(self.shape)
        self.dst_strides = (
            [int(s) for s in dst_strides] if dst_strides is not None else contiguous_strides(shape)
        )
        self.src_base, self.dst_base = int(src_base), int(dst_base)

    def _merged(self) -> list[tuple[int, int, int, int]]:
        """(extent, src stride, src mod, dst stride) per dimension, size-1 dimensions dropped and
        neighbours merged where one flat index walks both (fewer divisions per element)."""
        dims = [
            (n, s, m, d)
            for n, s, m, d in zip(self.shape, self.src_strides, self.src_mods, self.dst_strides)
            if n != 1
        ]
        out: list[tuple[int, int, int, int]] = []
        for n, s, m, d in dims:
            if out:
                pn, ps, pm, pd = out[-1]
                if pm == 0 and m == 0 and ps == s * n and pd == d * n:
                    out[-1] = (pn * n, s, 0, d)
                    continue
            out.append((n, s, m, d))
        return out

    def run(self, backend: Any, src: Any, dst: Any) -> None:
        n = int(np.prod(self.shape, dtype=np.int64))
        if n == 0:
            return
        dims = self._merged() or [(1, 0, 0, 0)]
        if len(dims) > MAX_DIMS:
            raise UnimplementedError(
                f"strided copy over {len(dims)} dimensions that cannot be merged; the CUDA copy kernel "
                f"takes at most {MAX_DIMS}. Reshape the tensor to fewer dimensions first"
            )
        extents, src_strides, mods, dst_strides = (list(c) for c in zip(*dims))
        meta = np.asarray(
            extents + src_strides + mods + dst_strides + [self.src_base, self.dst_base], np.int64
        )
        args = (src, dst, backend.constant_array(meta), np.int32(len(dims)), np.int64(n))
        launch(backend, f"gt_copy_strided_{width_name(src.dtype)}", n, args)


def view_copy(backend: Any, x: Any, copy: StridedCopy) -> Any:
    """A new contiguous array of ``copy.shape`` read from ``x`` as ``copy`` says."""
    x = backend.device_array(x)
    out = backend.empty(tuple(copy.shape), x.dtype)
    copy.run(backend, x, out)
    return out


def fill(backend: Any, shape: Sequence[int], value: Any, dtype: Any) -> Any:
    """A new array of ``shape`` with every element ``value`` (converted to ``dtype``)."""
    out = backend.empty(tuple(shape), dtype)
    launch(
        backend, f"gt_copy_fill_{width_name(dtype)}", out.size, (out, bits(value, dtype), np.int64(out.size))
    )
    return out


def checked_numeric(dtype: Any, op: str, allowed: tuple = NUMERIC_DTYPES) -> str:
    return checked_dtype(np.dtype(dtype), allowed, op)
