"""CPU kernels of the array ops (see the op table in gputensor/ops/array_ops.py).

Attributes arrive validated and normalised by the public functions; the kernels
only check what needs the index values themselves (gather/scatter ranges).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gputensor.errors import InvalidArgumentError


def _prod(dims: Any) -> int:
    n = 1
    for d in dims:
        n *= int(d)
    return n


def _fill(shape: tuple, value: Any, dtype: np.dtype) -> np.ndarray:
    return np.full(shape, value, dtype=dtype)


def _range(start: Any, delta: Any, size: int, dtype: np.dtype) -> np.ndarray:
    acc = np.int64 if np.dtype(dtype).kind in "iu" else np.float64
    return (np.arange(size, dtype=acc) * acc(delta) + acc(start)).astype(dtype)


def _identity(x: Any) -> Any:
    return x


def _reshape(x: Any, shape: tuple) -> np.ndarray:
    return np.reshape(x, shape)


def _transpose(x: Any, perm: tuple) -> np.ndarray:
    return np.transpose(x, perm)


def _broadcast_to(x: Any, shape: tuple) -> np.ndarray:
    if x.size == 1 and x.ndim <= len(shape) and x.flags.c_contiguous:
        # One element everywhere: a zero-stride view built directly (np.broadcast_to's
        # checks cost ten times more; gradients of full reductions broadcast a scalar).
        out = np.ndarray(shape, x.dtype, x, 0, (0,) * len(shape))
        out.flags.writeable = False
        return out
    return np.broadcast_to(x, shape)


def _concat(*xs: Any, axis: int) -> np.ndarray:
    return np.concatenate(xs, axis=axis)


def _strided_slice(x: Any, begin: tuple, size: tuple, strides: tuple, shape: tuple) -> np.ndarray:
    key = []
    for b, n, s in zip(begin, size, strides):
        stop = b + n * s
        # A negative stop would count from the end in Python; -1 here means "past index 0".
        key.append(slice(b, stop if stop >= 0 else None, s))
    return np.asarray(np.asarray(x)[tuple(key)]).reshape(shape)


def _pad(x: Any, paddings: tuple, mode: str, constant_values: Any) -> np.ndarray:
    if mode == "constant":
        return np.pad(x, paddings, mode="constant", constant_values=constant_values)
    return np.pad(x, paddings, mode=mode)


def _position(shape: tuple, flat: int) -> str:
    return ",".join(str(int(i)) for i in np.unravel_index(flat, shape)) if shape else ""


def _gather(params: Any, indices: Any, axis: int, batch_dims: int) -> np.ndarray:
    indices = np.asarray(indices)
    n = params.shape[axis]
    bad = (indices < 0) | (indices >= n)
    if bad.any():
        first = int(np.argmax(bad.reshape(-1)))
        raise InvalidArgumentError(
            f"gather: indices[{_position(indices.shape, first)}] = {indices.reshape(-1)[first]} "
            f"is not in [0, {n}) (params shape {tuple(params.shape)}, axis {axis})",
            "gather",
        )
    if batch_dims == 0:
        return np.take(params, indices, axis=axis)
    bshape = params.shape[:batch_dims]
    pre, post = params.shape[batch_dims:axis], params.shape[axis + 1 :]
    ishape = indices.shape[batch_dims:]
    nb, npre, ni = _prod(bshape), _prod(pre), _prod(ishape)
    p = np.reshape(params, (nb, npre, n, _prod(post)))
    ind = indices.reshape((nb, ni))
    out = p[np.arange(nb)[:, None, None], np.arange(npre)[None, :, None], ind[:, None, :]]
    return out.reshape(bshape + pre + ishape + post)


def _linear(op: str, indices: np.ndarray, dims: tuple, whole: tuple, what: str) -> np.ndarray:
    """Row-major offsets of the index vectors in ``indices`` (last axis) into ``dims``, checked."""
    k = indices.shape[-1]
    rows = indices.reshape((-1, k)).astype(np.int64)
    bad = ((rows < 0) | (rows >= np.asarray(dims, dtype=np.int64))).any(axis=1)
    if bad.any():
        first = int(np.argmax(bad))
        at = _position(indices.shape[:-1], first)
        vec = ", ".join(str(int(v)) for v in rows[first])
        raise InvalidArgumentError(
            f"{op}: indices[{at}] = [{vec}] does not index into {what} [{','.join(str(d) for d in whole)}]",
            op,
        )
    strides = np.ones(k, dtype=np.int64)
    for j in range(k - 2, -1, -1):
        strides[j] = strides[j + 1] * dims[j + 1]
    return rows @ strides if k else np.zeros(rows.shape[0], dtype=np.int64)


def _gather_nd(params: Any, indices: Any, batch_dims: int) -> np.ndarray:
    indices = np.asarray(indices)
    k = indices.shape[-1]
    bshape = params.shape[:batch_dims]
    q, post = params.shape[batch_dims : batch_dims + k], params.shape[batch_dims + k :]
    ishape = indices.shape[batch_dims:-1]
    nb, ni = _prod(bshape), _prod(ishape)
    lin = _linear("gather_nd", indices, q, params.shape, "param shape").reshape((nb, ni))
    p = np.reshape(params, (nb, _prod(q), _prod(post)))
    out = p[np.arange(nb)[:, None], lin]
    return out.reshape(bshape + ishape + post)


def _tensor_scatter_nd(tensor: Any, indices: Any, updates: Any, reduction: str) -> np.ndarray:
    indices = np.asarray(indices)
    k = indices.shape[-1]
    q, post = tensor.shape[:k], tensor.shape[k:]
    lin = _linear(f"tensor_scatter_nd_{reduction}", indices, q, tensor.shape, "shape")
    out = np.array(tensor, copy=True)
    flat = out.reshape((_prod(q), _prod(post)))
    upd = np.reshape(updates, (lin.shape[0], _prod(post)))
    if reduction == "update":
        flat[lin] = upd
    else:
        {"add": np.add, "max": np.maximum, "min": np.minimum}[reduction].at(flat, lin, upd)
    return out


def _where(condition: Any) -> np.ndarray:
    return np.argwhere(condition).astype(np.int64)


def _sort(x: Any, descending: bool) -> tuple:
    if descending:
        # Stable descending order (equal values keep index order): sort the reversed row
        # ascending, then read the result backwards and map positions back.
        order = np.argsort(x[..., ::-1], axis=-1, kind="stable")[..., ::-1]
        idx = x.shape[-1] - 1 - order
    else:
        idx = np.argsort(x, axis=-1, kind="stable")
    return np.take_along_axis(x, idx, axis=-1), idx.astype(np.int32)


def _unique(x: Any, out_idx: np.dtype) -> tuple:
    values, first, inverse = np.unique(x, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # TF lists values in order of first occurrence
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return values[order], rank[inverse.reshape(-1)].astype(out_idx)


KERNELS = {
    "fill": _fill,
    "range": _range,
    "identity": _identity,
    "reshape": _reshape,
    "transpose": _transpose,
    "broadcast_to": _broadcast_to,
    "concat": _concat,
    "strided_slice": _strided_slice,
    "pad": _pad,
    "gather": _gather,
    "gather_nd": _gather_nd,
    "tensor_scatter_nd": _tensor_scatter_nd,
    "where": _where,
    "sort": _sort,
    "unique": _unique,
}
