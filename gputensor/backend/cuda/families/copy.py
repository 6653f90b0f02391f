"""Data movement and creation kernels (cuda_kernels/copy.cu).

Every layout change is one launch of ``gt_copy_strided``, described by `StridedCopy`:
an iteration shape, the source element each index reads (strides in elements,
negative for reversed axes, 0 for broadcast axes) and the destination element it
writes. transpose, strided_slice and broadcast_to are such views of one input (the
array ops build reverse, slice, split, unstack and tile from them); concat writes
each input into its part of the output.

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
from gputensor.backend.cuda.families.common import checked_dtype, family_file, kernel_table
from gputensor.errors import UnimplementedError

WIDTHS = {1: "unsigned char", 2: "unsigned short", 4: "unsigned int", 8: "unsigned long long"}
UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
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
        names += [f"gt_copy_{k}_b{size}" for k in ("strided", "pad", "fill")]
    for d in NUMERIC_DTYPES:
        acc = "double" if d in FLOAT_DTYPES else "long long"
        lines.append(f"GT_COPY_RANGE_KERNELS({d}, {c_type(d)}, {acc})")
        names.append(f"gt_copy_range_{d}")
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
      dst_strides: destination strides (default: the row-major strides of ``shape``).
      dst_base: destination element of index 0.
    """

    def __init__(
        self,
        shape: Sequence[int],
        src_strides: Sequence[int],
        src_base: int = 0,
        dst_strides: Sequence[int] | None = None,
        dst_base: int = 0,
    ) -> None:
        self.shape = [int(s) for s in shape]
        self.src_strides = [int(s) for s in src_strides]
        self.dst_strides = (
            [int(s) for s in dst_strides] if dst_strides is not None else contiguous_strides(shape)
        )
        self.src_base, self.dst_base = int(src_base), int(dst_base)

    def _merged(self) -> list[tuple[int, int, int]]:
        """(extent, src stride, dst stride) per dimension, size-1 dimensions dropped and
        neighbours merged where one flat index walks both (fewer divisions per element)."""
        out: list[tuple[int, int, int]] = []
        for n, s, d in zip(self.shape, self.src_strides, self.dst_strides):
            if n == 1:
                continue
            if out and out[-1][1] == s * n and out[-1][2] == d * n:
                out[-1] = (out[-1][0] * n, s, d)
            else:
                out.append((n, s, d))
        return out

    def run(self, backend: Any, src: Any, dst: Any) -> None:
        n = int(np.prod(self.shape, dtype=np.int64))
        if n == 0:
            return
        dims = self._merged() or [(1, 0, 0)]
        if len(dims) > MAX_DIMS:
            raise UnimplementedError(
                f"strided copy over {len(dims)} dimensions that cannot be merged; the CUDA copy kernel "
                f"takes at most {MAX_DIMS}. Reshape the tensor to fewer dimensions first"
            )
        extents, src_strides, dst_strides = (list(c) for c in zip(*dims))
        meta = np.asarray(extents + src_strides + dst_strides + [self.src_base, self.dst_base], np.int64)
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


# ----------------------------------------------------------------- layout views
def transpose(backend: Any, x: Any, perm: Sequence[int]) -> Any:
    """out.shape[i] == x.shape[perm[i]]: the source strides, permuted."""
    st = contiguous_strides(x.shape)
    return view_copy(backend, x, StridedCopy([x.shape[p] for p in perm], [st[p] for p in perm]))


def strided_view(
    backend: Any, x: Any, begin: Sequence[int], steps: Sequence[int], shape: Sequence[int]
) -> Any:
    """out[i0, i1, ...] = x[begin0 + i0 * step0, ...] (begin already resolved, steps of any sign)."""
    st = contiguous_strides(x.shape)
    base = sum(int(b) * s for b, s in zip(begin, st))
    return view_copy(backend, x, StridedCopy(shape, [int(k) * s for k, s in zip(steps, st)], base))


def broadcast_to(backend: Any, x: Any, shape: Sequence[int]) -> Any:
    """NumPy broadcasting: stride 0 on new leading and on stretched size-1 dimensions."""
    shape = tuple(int(s) for s in shape)
    lead = len(shape) - x.ndim
    st = contiguous_strides(x.shape)
    strides = [0] * lead + [0 if x.shape[d] == 1 and shape[lead + d] != 1 else st[d] for d in range(x.ndim)]
    return view_copy(backend, x, StridedCopy(shape, strides))


def concat(backend: Any, arrays: Sequence[Any], axis: int) -> Any:
    """Joins same-dtype arrays along ``axis``: one strided copy per input into its slab."""
    arrays = [backend.device_array(a) for a in arrays]
    shape = list(arrays[0].shape)
    shape[axis] = sum(int(a.shape[axis]) for a in arrays)
    out = backend.empty(tuple(shape), arrays[0].dtype)
    dst = contiguous_strides(shape)
    offset = 0
    for a in arrays:
        StridedCopy(a.shape, contiguous_strides(a.shape), 0, dst, offset * dst[axis]).run(backend, a, out)
        offset += int(a.shape[axis])
    return out


# ------------------------------------------------------------------ pad, range
def pad(backend: Any, x: Any, paddings: Sequence[Sequence[int]], mode: str, constant_value: Any) -> Any:
    """np.pad semantics for CONSTANT, REFLECT (edge not repeated) and SYMMETRIC (edge repeated)."""
    x = backend.device_array(x)
    before = [int(p[0]) for p in paddings]
    shape = tuple(int(n) + int(p[0]) + int(p[1]) for n, p in zip(x.shape, paddings))
    if x.size == 0:  # only a constant pad can grow an empty array (or nothing is left to fill)
        return fill(backend, shape, constant_value, x.dtype)
    out = backend.empty(shape, x.dtype)
    meta = np.asarray(list(shape) + list(x.shape) + before, np.int64)
    args = (
        x,
        out,
        backend.constant_array(meta),
        np.int32(x.ndim),
        np.int32(PAD_MODES[mode.upper()]),
        bits(constant_value, x.dtype),
        np.int64(out.size),
    )
    launch(backend, f"gt_copy_pad_{width_name(x.dtype)}", out.size, args)
    return out


def arange(backend: Any, start: Any, delta: Any, n: int, dtype: Any) -> Any:
    """start + i * delta for i < n, in ``dtype``."""
    name = checked_dtype(np.dtype(dtype), NUMERIC_DTYPES, "range")
    out = backend.empty((int(n),), dtype)
    acc = np.float64 if name in FLOAT_DTYPES else np.int64
    launch(backend, f"gt_copy_range_{name}", out.size, (out, acc(start), acc(delta), np.int64(out.size)))
    return out


# ------------------------------------------------------------- array-op kernels
# Signatures as gputensor/backend/cpu/array.py (attrs validated by gputensor/ops/array_ops.py).
def _fill_op(backend: Any, *, shape: tuple, value: Any, dtype: Any) -> Any:
    return fill(backend, shape, value, dtype)


def _range_op(backend: Any, *, start: Any, delta: Any, size: int, dtype: Any) -> Any:
    return arange(backend, start, delta, size, dtype)


def _identity_op(backend: Any, x: Any) -> Any:
    return x  # tensors are immutable, so the output may share the input's buffer


def _reshape_op(backend: Any, x: Any, *, shape: tuple) -> Any:
    return backend.device_array(x).reshape(shape)


def _transpose_op(backend: Any, x: Any, *, perm: tuple) -> Any:
    return transpose(backend, backend.device_array(x), perm)


def _broadcast_to_op(backend: Any, x: Any, *, shape: tuple) -> Any:
    return broadcast_to(backend, backend.device_array(x), shape)


def _concat_op(backend: Any, *xs: Any, axis: int) -> Any:
    return concat(backend, xs, axis)


def _strided_slice_op(
    backend: Any, x: Any, *, begin: tuple, size: tuple, strides: tuple, shape: tuple
) -> Any:
    return strided_view(backend, backend.device_array(x), begin, strides, size).reshape(shape)


def _pad_op(backend: Any, x: Any, *, paddings: tuple, mode: str, constant_values: Any) -> Any:
    return pad(backend, x, paddings, mode, constant_values)


KERNELS = kernel_table(
    {
        "fill": _fill_op,
        "range": _range_op,
        "identity": _identity_op,
        "reshape": _reshape_op,
        "transpose": _transpose_op,
        "broadcast_to": _broadcast_to_op,
        "concat": _concat_op,
        "strided_slice": _strided_slice_op,
        "pad": _pad_op,
    }
)
