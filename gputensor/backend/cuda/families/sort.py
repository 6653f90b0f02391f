"""Sorting kernels along the last axis (cuda_kernels/sort.cu): sort, argsort, top_k, unique."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from gputensor.backend.cuda import launch_config
from gputensor.backend.cuda.compile import KernelSource
from gputensor.backend.cuda.ctypes_map import c_type, compute_np
from gputensor.backend.cuda.families.common import checked_dtype, family_file, kernel_table
from gputensor.backend.cuda.families.copy import NUMERIC_DTYPES, StridedCopy, view_copy
from gputensor.errors import UnimplementedError

SORT_DTYPES = NUMERIC_DTYPES
SORT_KERNELS = ("rows", "load", "step", "store", "unique_marks")
UNIQUE_INDEX_DTYPES = ("int32", "int64")


@functools.cache
def source() -> KernelSource:
    """The sort compilation unit."""
    lines, names = [family_file("sort.cu")], [f"gt_sort_unique_index_{o}" for o in UNIQUE_INDEX_DTYPES]
    for d in SORT_DTYPES:
        lines.append(f"GT_SORT_KERNELS({d}, {c_type(d)})")
        names += [f"gt_sort_{k}_{d}" for k in SORT_KERNELS]
        names += [f"gt_sort_unique_{d}_{o}" for o in UNIQUE_INDEX_DTYPES]
    return KernelSource("sort", "sort", "\n".join(lines) + "\n", tuple(names))


def sources(ops: list) -> list[KernelSource]:
    return [source()]


def padded_length(n: int) -> int:
    """The power of two a row is padded to for the bitonic network."""
    return 1 << max(0, (int(n) - 1).bit_length())


def sort_last_axis(backend: Any, x: Any, k: int, descending: bool, op: str) -> tuple[Any, Any]:
    """(values, int32 indices) of the first k entries of every row of ``x`` in sorted order.

    Stable: equal keys keep their order (top_k: the lower index first). NaN sorts as
    the largest value.
    """
    x = backend.device_array(x)
    name = checked_dtype(np.dtype(x.dtype), SORT_DTYPES, op)
    length = int(x.shape[-1]) if x.ndim else 1
    rows = int(x.size) // length if length else 0
    shape = tuple(x.shape[:-1]) + (k,)
    values = backend.empty(shape, x.dtype)
    indices = backend.empty(shape, np.int32)
    if rows == 0 or k == 0:
        return values, indices
    if length > np.iinfo(np.int32).max:
        raise UnimplementedError(f"{op}: rows of {length} elements exceed the int32 indices it returns", op)
    p = padded_length(length)
    key = compute_np(name)
    flags = (np.int64(rows), np.int64(length), np.int64(p))
    if p <= launch_config.SHARED_SORT_LIMIT:
        config, shared = launch_config.sort(rows, p, key.itemsize)
        args = (x, values, indices, *flags, np.int64(k), np.int32(descending))
        backend.launch(source(), f"gt_sort_rows_{name}", config, args, shared_mem=shared)
        return values, indices
    keys, idx = _sorted_in_global_memory(backend, x, name, rows, length, descending)
    m = rows * k
    args = (keys, idx, values, indices, np.int64(p), np.int64(k), np.int64(m))
    backend.launch(source(), f"gt_sort_store_{name}", launch_config.copy(m), args)
    return values, indices


def _sorted_in_global_memory(backend: Any, x: Any, name: str, rows: int, length: int, descending: bool):
    """(keys, int64 original indices), each (rows, P), of rows of ``x`` sorted by the bitonic
    network in global memory: one launch per network stage."""
    p = padded_length(length)
    keys = backend.empty((rows, p), compute_np(name))
    idx = backend.empty((rows, p), np.int64)
    n = rows * p
    args = (x, keys, idx, np.int64(length), np.int64(p), np.int64(n))
    backend.launch(source(), f"gt_sort_load_{name}", launch_config.copy(n), args)
    size = 2
    while size <= p:
        stride = size // 2
        while stride > 0:
            args = (
                keys,
                idx,
                np.int64(p),
                np.int64(length),
                np.int64(size),
                np.int64(stride),
                np.int32(descending),
            )
            backend.launch(
                source(), f"gt_sort_step_{name}", launch_config.copy(n // 2), args + (np.int64(n // 2),)
            )
            stride //= 2
        size *= 2
    return keys, idx


def unique_1d(backend: Any, x: Any, out_idx: Any = np.int32, op: str = "unique") -> tuple[Any, Any]:
    """TF's unique: (distinct values in order of first occurrence, index of each input in them).

    NaN != NaN, so every NaN is a distinct value, as in TF.
    """
    x = backend.device_array(x)
    name = checked_dtype(np.dtype(x.dtype), SORT_DTYPES, op)
    oname = checked_dtype(np.dtype(out_idx), UNIQUE_INDEX_DTYPES, op)
    length = int(x.size)
    if length > np.iinfo(np.int32).max:
        raise UnimplementedError(f"{op}: {length} elements exceed the int32 indices it returns", op)
    if length > launch_config.UNIQUE_LIMIT:
        return _unique_global(backend, x, name, oname, length)
    y = backend.empty((length,), x.dtype)
    idx = backend.empty((length,), oname)
    if length == 0:
        return y, idx
    count = backend.empty((1,), np.int64)
    p = padded_length(length)
    config, shared = launch_config.sort(1, p, compute_np(name).itemsize, int_arrays=2)
    backend.launch(
        source(),
        f"gt_sort_unique_{name}_{oname}",
        config,
        (x, y, idx, count, np.int64(length), np.int64(p)),
        shared,
    )
    distinct = int(np.asarray(backend.to_host(count))[0])
    # A copy of the right size, so the memory counters see the bytes the result really holds.
    return view_copy(backend, y, StridedCopy((distinct,), (1,))), idx


def _unique_global(backend: Any, x: Any, name: str, oname: str, length: int) -> tuple[Any, Any]:
    """unique of an input too long for one block: global sort, run heads, two compactions."""
    from gputensor.backend.cuda.families import index

    keys, idx = _sorted_in_global_memory(backend, x.reshape(1, length), name, 1, length, False)
    heads = backend.empty((length,), np.uint8)
    first = backend.empty((length,), np.uint8)
    backend.launch(
        source(),
        f"gt_sort_unique_marks_{name}",
        launch_config.copy(length),
        (keys, idx, heads, first, np.int64(length)),
    )
    first_pos = index.nonzero_positions(backend, first)  # input positions of first occurrences, ascending
    head_pos = index.nonzero_positions(backend, heads)  # sorted positions where runs start
    y = index.gather(backend, x.reshape(length), first_pos, 0)
    out_idx = backend.empty((length,), oname)
    groups, distinct = np.int64(head_pos.size), np.int64(first_pos.size)
    args = (idx, head_pos, groups, first_pos, distinct, out_idx, np.int64(length))
    backend.launch(source(), f"gt_sort_unique_index_{oname}", launch_config.copy(length), args)
    return y, out_idx


# ------------------------------------------------------------- array-op kernels
def _sort_op(backend: Any, x: Any, *, descending: bool) -> tuple[Any, Any]:
    x = backend.device_array(x)
    return sort_last_axis(backend, x, int(x.shape[-1]) if x.ndim else 1, descending, "sort")


def _unique_op(backend: Any, x: Any, *, out_idx: Any) -> tuple[Any, Any]:
    return unique_1d(backend, x, out_idx)


KERNELS = kernel_table({"sort": _sort_op, "unique": _unique_op})
