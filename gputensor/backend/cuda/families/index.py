"""Gather, scatter and compaction kernels (cuda_kernels/index.cu)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.backend.cuda import launch_config
from gputensor.backend.cuda.compile import KernelSource
from gputensor.backend.cuda.ctypes_map import C_TYPE, c_type
from gputensor.backend.cuda.families.common import checked_dtype, family_file, kernel_table
from gputensor.backend.cuda.families.copy import NUMERIC_DTYPES, WIDTHS, StridedCopy, fill, width_name

INDEX_DTYPES = {"int32": "int", "int64": "long long"}
SCATTER_OPS = ("add", "min", "max")


@functools.cache
def source() -> KernelSource:
    """The index compilation unit."""
    lines = [family_file("index.cu")]
    names = ["gt_index_scan_tiles", "gt_index_unravel", *(f"gt_index_find_bad_{i}" for i in INDEX_DTYPES)]
    for iname, itype in INDEX_DTYPES.items():
        for size, w in WIDTHS.items():
            lines.append(f"GT_INDEX_MOVE_KERNELS(b{size}, {w}, {iname}, {itype})")
            names += [f"gt_index_{k}_b{size}_{iname}" for k in ("gather", "gather_nd", "scatter_update")]
        for d in NUMERIC_DTYPES:
            lines.append(f"GT_INDEX_SCATTER_KERNELS({d}, {c_type(d)}, {iname}, {itype})")
            names += [f"gt_index_scatter_{op}_{d}_{iname}" for op in SCATTER_OPS]
    for d in C_TYPE:
        lines.append(f"GT_INDEX_COMPACT_KERNELS({d}, {c_type(d)})")
        names += [f"gt_index_count_{d}", f"gt_index_compact_{d}"]
    return KernelSource("index", "index", "\n".join(lines) + "\n", tuple(names))


def sources(ops: list) -> list[KernelSource]:
    return [source()]


def launch(backend: Any, name: str, n: int, args: tuple, tiles: bool = False) -> None:
    if n > 0:
        backend.launch(source(), name, launch_config.index(n, tiles=tiles), args)


def nonzero_positions(backend: Any, x: Any) -> Any:
    """The flat positions (int64, ascending) of the non-zero elements of ``x``.

    Three passes (index.cu): per-tile counts, one block scanning them into tile
    offsets and the total, then each tile writing its positions. The total is read
    back to size the result, as TF's where() must too.
    """
    x = backend.device_array(x)
    n = int(x.size)
    name = np.dtype(x.dtype).name
    tile = launch_config.INDEX_TILE
    tiles = max(1, -(-n // tile))
    offsets = backend.empty((tiles,), np.int64)
    total = backend.empty((1,), np.int64)
    if n == 0:
        return backend.empty((0,), np.int64)
    launch(backend, f"gt_index_count_{name}", n, (x, offsets, np.int64(n)), tiles=True)
    backend.launch(
        source(), "gt_index_scan_tiles", launch_config.index_scan(), (offsets, np.int64(tiles), total)
    )
    count = int(np.asarray(backend.to_host(total))[0])
    positions = backend.empty((count,), np.int64)
    if count:
        launch(backend, f"gt_index_compact_{name}", n, (x, offsets, positions, np.int64(n)), tiles=True)
    return positions


def _prod(shape: Any) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _index_name(indices: Any, op: str) -> str:
    return checked_dtype(np.dtype(indices.dtype), tuple(INDEX_DTYPES), op)


def gather(backend: Any, params: Any, indices: Any, axis: int, batch_dims: int = 0) -> Any:
    """TF's gather: params.shape[:axis] + indices.shape[batch_dims:] + params.shape[axis + 1:].

    Out-of-range indices give zeros, as on TF's GPU.
    """
    params, indices = backend.device_array(params), backend.device_array(indices)
    iname = _index_name(indices, "gather")
    shape = tuple(params.shape[:axis]) + tuple(indices.shape[batch_dims:]) + tuple(params.shape[axis + 1 :])
    out = backend.empty(shape, params.dtype)
    k = _prod(indices.shape[batch_dims:])
    per_batch = _prod(params.shape[batch_dims:axis])
    args = (params, indices, out, np.int64(max(1, per_batch)), np.int64(params.shape[axis]), np.int64(k))
    args += (np.int64(_prod(params.shape[axis + 1 :])), np.int64(out.size))
    launch(backend, f"gt_index_gather_{width_name(params.dtype)}_{iname}", out.size, args)
    return out


def _nd_meta(backend: Any, shape: tuple, depth: int) -> Any:
    """Extents and element strides of the first ``depth`` dimensions of a contiguous ``shape``."""
    strides = [_prod(shape[d + 1 :]) for d in range(depth)]
    return backend.constant_array(np.asarray(list(shape[:depth]) + strides, np.int64))


def gather_nd(backend: Any, params: Any, indices: Any, batch_dims: int = 0) -> Any:
    """TF's gather_nd: indices[..., :depth] select slices of params (after batch_dims batch dimensions)."""
    params, indices = backend.device_array(params), backend.device_array(indices)
    iname = _index_name(indices, "gather_nd")
    depth = int(indices.shape[-1])
    inner_shape = tuple(params.shape[batch_dims + depth :])
    out = backend.empty(tuple(indices.shape[:-1]) + inner_shape, params.dtype)
    rows = _prod(indices.shape[batch_dims:-1])
    meta = _nd_meta(backend, tuple(params.shape[batch_dims:]), depth)
    args = (params, indices, out, meta, np.int32(depth), np.int64(max(1, rows)))
    args += (np.int64(_prod(params.shape[batch_dims:])), np.int64(_prod(inner_shape)), np.int64(out.size))
    launch(backend, f"gt_index_gather_nd_{width_name(params.dtype)}_{iname}", out.size, args)
    return out


def scatter_nd(backend: Any, indices: Any, updates: Any, target: Any, op: str) -> Any:
    """A copy of ``target`` with ``updates`` combined in at ``indices`` by op (update, add, sub, min, max).

    Duplicate indices combine atomically (update: one of them wins); out-of-range
    indices are skipped, as on TF's GPU.
    """
    indices, updates = backend.device_array(indices), backend.device_array(updates)
    target = backend.device_array(target)
    iname = _index_name(indices, f"tensor_scatter_nd_{op}")
    # 1- and 2-byte elements are combined through the aligned 32-bit word holding them:
    # pad the buffer to a multiple of 4 bytes so that word never leaves it.
    itemsize = np.dtype(target.dtype).itemsize
    padded = -(-max(1, target.size) * itemsize // 4) * 4 // itemsize
    buf = backend.empty((padded,), target.dtype)
    out = buf[: target.size].reshape(target.shape)
    StridedCopy((target.size,), (1,)).run(backend, target.reshape(-1), buf)
    depth = int(indices.shape[-1]) if indices.ndim else 0
    n = int(updates.size)
    if n == 0:
        return out
    meta = _nd_meta(backend, tuple(target.shape), depth)
    inner = _prod(target.shape[depth:])
    if op == "update":
        name = f"gt_index_scatter_update_{width_name(target.dtype)}_{iname}"
    else:
        dtype = checked_dtype(np.dtype(target.dtype), NUMERIC_DTYPES, f"tensor_scatter_nd_{op}")
        name = f"gt_index_scatter_{op}_{dtype}_{iname}"
    args = (indices, updates, buf, meta, np.int32(depth), np.int64(inner), np.int64(n))
    launch(backend, name, n, args)
    return out


def where_coordinates(backend: Any, condition: Any) -> Any:
    """tf.where(condition): the (count, ndim) int64 coordinates of the true/non-zero elements."""
    condition = backend.device_array(condition)
    positions = nonzero_positions(backend, condition)
    ndim = condition.ndim
    coords = backend.empty((int(positions.size), ndim), np.int64)
    if coords.size:
        shape = backend.constant_array(np.asarray(condition.shape, np.int64))
        args = (positions, coords, shape, np.int32(ndim), np.int64(coords.size))
        launch(backend, "gt_index_unravel", coords.size, args)
    return coords


# ------------------------------------------------------------- array-op kernels
def _raise_if_out_of_range(backend: Any, rows: Any, extents: tuple, cpu_call: Callable[[], Any]) -> None:
    """Raises the CPU backend's InvalidArgumentError when an index row of ``rows`` leaves ``extents``.

    One pass on the device finds the first bad row; only then does ``cpu_call`` run the
    CPU kernel on the downloaded indices (with zero-strided stand-ins for the data), so
    the message is the CPU backend's, word for word.
    """
    depth = len(extents)
    count = _prod(rows.shape) // depth if depth else 0
    if count == 0:
        return
    first_bad = fill(backend, (1,), count, np.int64)
    meta = backend.constant_array(np.asarray(extents, np.int64))
    args = (rows, meta, np.int32(depth), np.int64(count), first_bad)
    launch(backend, f"gt_index_find_bad_{_index_name(rows, 'gather')}", count, args)
    if int(np.asarray(backend.to_host(first_bad))[0]) < count:
        cpu_call()


def _cpu(name: str) -> Callable:
    from gputensor.backend.cpu.array import KERNELS as CPU_KERNELS

    return CPU_KERNELS[name]


def _stand_in(a: Any) -> np.ndarray:
    """A zero-strided host array of ``a``'s shape and dtype (no copy of the data)."""
    return np.broadcast_to(np.zeros((), a.dtype), a.shape)


def _gather_op(backend: Any, params: Any, indices: Any, *, axis: int, batch_dims: int) -> Any:
    params, indices = backend.device_array(params), backend.device_array(indices)
    _raise_if_out_of_range(
        backend,
        indices.reshape(-1, 1),
        (int(params.shape[axis]),),
        lambda: _cpu("gather")(_stand_in(params), backend.to_host(indices), axis=axis, batch_dims=batch_dims),
    )
    return gather(backend, params, indices, axis, batch_dims)


def _gather_nd_op(backend: Any, params: Any, indices: Any, *, batch_dims: int) -> Any:
    params, indices = backend.device_array(params), backend.device_array(indices)
    extents = tuple(int(d) for d in params.shape[batch_dims : batch_dims + int(indices.shape[-1])])
    _raise_if_out_of_range(
        backend,
        indices,
        extents,
        lambda: _cpu("gather_nd")(_stand_in(params), backend.to_host(indices), batch_dims=batch_dims),
    )
    return gather_nd(backend, params, indices, batch_dims)


def _tensor_scatter_nd_op(backend: Any, tensor: Any, indices: Any, updates: Any, *, reduction: str) -> Any:
    tensor, indices = backend.device_array(tensor), backend.device_array(indices)
    updates = backend.device_array(updates)
    extents = tuple(int(d) for d in tensor.shape[: int(indices.shape[-1])])
    _raise_if_out_of_range(
        backend,
        indices,
        extents,
        lambda: _cpu("tensor_scatter_nd")(
            _stand_in(tensor), backend.to_host(indices), _stand_in(updates), reduction=reduction
        ),
    )
    return scatter_nd(backend, indices, updates, tensor, reduction)


def _where_op(backend: Any, condition: Any) -> Any:
    return where_coordinates(backend, condition)


KERNELS = kernel_table(
    {
        "gather": _gather_op,
        "gather_nd": _gather_nd_op,
        "tensor_scatter_nd": _tensor_scatter_nd_op,
        "where": _where_op,
    }
)
