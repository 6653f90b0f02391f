"""Elements of differing shapes for ``gt.TensorArray`` (``infer_shape=False``, or ``split``
into unequal lengths), as TF's TensorList-backed TensorArray holds them.

Two forms hold the elements:

* a Python list of tensors (None: not written), eagerly and while tracing with indices known
  at trace time: reads and writes are list operations, ``concat`` one concat, as TF's eager
  TensorArray;
* a *flat* pair of tensors, when the array is a graph loop variable (or is written or read at
  an index known only at run time): ``values``, every element flattened and concatenated in
  index order (1-D), and ``shapes``, an int32 matrix ``[size, rank]`` with each element's
  shape (a row of -1: never written). Element ``i`` is ``values[off_i : off_i + size_i]``
  reshaped to ``shapes[i]``, with ``off`` the exclusive cumulative sum of the sizes; when the
  trailing dims agree, ``values`` reshaped to ``[-1, *trailing]`` is ``concat()``. Writes
  gather ``values`` and the new element into their new order, so gradients flow through
  ``gather``/``concat``/``reshape`` as for any op.

Elements in the flat form share one rank (the width of ``shapes``). Shape checks that only
the run-time shapes can decide (``stack`` of equal shapes, ``concat``'s trailing dims, reading
an element never written) run in one op, ``tensor_array_element_shape``, which returns the
shape the caller reshapes to and raises ``InvalidArgumentError`` naming the op, the shapes
and the fix.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gputensor.errors import InvalidArgumentError
from gputensor.framework import dtypes
from gputensor.framework.op_table import define, execute
from gputensor.framework.shape_inference import Spec
from gputensor.framework.tensor import Tensor, convert_to_tensor

UNWRITTEN = -1  # the shape row of an element never written (sizes count it as 0 values)


def _ops() -> Any:
    from gputensor.ops import array_ops

    return array_ops


def _math() -> Any:
    from gputensor.ops import math_ops

    return math_ops


# ---------------------------------------------------------------- the check op
def _infer_element_shape(op: Any, specs: list, attrs: dict) -> Spec:
    return Spec((attrs["width"],), dtypes.int32)


def _describe(rows: np.ndarray) -> str:
    return ", ".join(
        str([int(d) for d in r]) if not r.size or r[0] != UNWRITTEN else "never written" for r in rows
    )


def _compose_element_shape(device: Any) -> Any:
    backend = device.backend

    def kernel(shapes: Any, *index: Any, mode: str, width: int) -> Any:
        host = np.asarray(backend.to_host(shapes)).astype(np.int64)
        n = host.shape[0]
        op = f"TensorArray.{mode}"
        if index:
            idx = np.asarray(backend.to_host(index[0])).astype(np.int64).reshape(-1)
            bad = idx[(idx < 0) | (idx >= n)]
            if bad.size:
                raise InvalidArgumentError(
                    f"{op}: Tried to read from index {int(bad[0])} but array size is: {n}", "TensorArrayRead"
                )
            rows = host[idx]
        else:
            idx, rows = np.arange(n), host
        unwritten = [int(i) for i, r in zip(idx, rows) if r.size and r[0] == UNWRITTEN]
        if unwritten:
            raise InvalidArgumentError(
                f"{op}: element {unwritten[0]} was never written and the element shape is not fully "
                "defined, so it has no shape to read as zeros; write every element, or pass a fully "
                "defined element_shape=",
                "TensorArray" + mode.capitalize(),
            )
        if mode == "concat":
            if host.shape[1] == 0 and n:
                raise InvalidArgumentError(
                    f"{op}: Concat saw a scalar shape at index 0 but requires at least vectors; "
                    "use stack() for scalar elements",
                    "TensorArrayConcat",
                )
            trailing = rows[:, 1:]
            if n and (trailing != trailing[0]).any():
                raise InvalidArgumentError(
                    f"{op}: all elements must agree in every dim but the first to be concatenated, "
                    f"got shapes {_describe(rows)}; read() the elements one by one, or write elements "
                    "whose trailing dims agree",
                    "TensorArrayConcat",
                )
            out = trailing[0] if n else np.zeros(width, np.int64)
        else:
            if rows.shape[0] and (rows != rows[0]).any():
                raise InvalidArgumentError(
                    f"{op}: Shapes of all inputs must match to be stacked, got shapes {_describe(rows)}; "
                    "use concat() to join elements along their first axis, or read() them one by one",
                    "TensorArray" + mode.capitalize(),
                )
            out = rows[0] if rows.shape[0] else np.zeros(width, np.int64)
        return backend.from_host(np.asarray(out, dtype=np.int32))

    return kernel


_ELEMENT_SHAPE = define(
    "tensor_array_element_shape",
    attrs=("mode", "width"),
    differentiable=False,
    infer=_infer_element_shape,
    compose=_compose_element_shape,
)


def element_shape(shapes: Tensor, mode: str, index: Any = None) -> Tensor:
    """The int32 shape of the elements ``mode`` ("read", "gather", "stack", "concat": the
    trailing dims) reshapes to, checked at run time (see `_compose_element_shape`)."""
    rank = shapes.shape[1]
    width = rank - 1 if mode == "concat" else rank
    if mode == "concat" and rank == 0:
        raise InvalidArgumentError(
            "TensorArray.concat: Concat saw a scalar shape at index 0 but requires at least vectors; "
            "use stack() for scalar elements",
            "TensorArrayConcat",
        )
    inputs = (shapes,) if index is None else (shapes, _int32(index))
    return execute(_ELEMENT_SHAPE, inputs, {"mode": mode, "width": width})


# ---------------------------------------------------------------- helpers
def _int32(t: Any) -> Tensor:
    t = convert_to_tensor(t)
    return t if t.dtype is dtypes.int32 else _math().cast(t, dtypes.int32)


def _shape_of(t: Tensor) -> Tensor:
    return _ops().shape(t, out_type=dtypes.int32)


def _arange(n: Any) -> Tensor:
    """``0, 1, ..., n - 1`` for an int32 scalar ``n`` known only at run time (``gt.range``
    takes bounds known when tracing)."""
    ops, m = _ops(), _math()
    return m.cumsum(ops.ones(ops.reshape(_int32(n), [1]), dtype=dtypes.int32), exclusive=True)


def _repeat_row(row: Tensor, n: Tensor) -> Tensor:
    """``[n, k]``: the int32 ``[1, k]`` ``row`` repeated ``n`` times (``n`` known only at run
    time; the static shape keeps ``k``, also when it is 0)."""
    ops = _ops()
    k = row.shape[1]
    if k == 0:  # no values to reshape: cut the columns off an [n, 1] column instead
        return ops.reshape(_arange(n), [-1, 1])[:, :0]
    return ops.reshape(ops.broadcast_to(row, ops.stack([_int32(n), k])), [-1, k])


def _offsets(shapes: Tensor) -> tuple[Tensor, Tensor]:
    """Each element's number of values and its offset into ``values``."""
    m = _math()
    sizes = m.reduce_prod(m.maximum(shapes, 0), axis=1)
    return sizes, m.cumsum(sizes, exclusive=True)


def unwritten(n: Any, rank: int, fill: list | None, dtype: Any) -> tuple[Tensor, Tensor]:
    """The values and shape rows of ``n`` elements never written: zeros of ``fill`` when that
    is a fully defined shape (always for scalars), else no values and rows of -1."""
    ops = _ops()
    if rank == 0:
        fill = []
    count = _int32(n) if isinstance(n, Tensor) else n
    if fill is None:
        if isinstance(count, Tensor):
            rows = _repeat_row(convert_to_tensor([[UNWRITTEN] * rank], dtype=dtypes.int32), count)
        else:
            rows = convert_to_tensor(np.full((count, rank), UNWRITTEN, np.int32))
        return ops.zeros([0], dtype=dtype), rows
    k = int(np.prod(fill))
    row = convert_to_tensor([fill], dtype=dtypes.int32) if rank else ops.zeros([1, 0], dtype=dtypes.int32)
    if isinstance(count, Tensor):
        rows = _repeat_row(row, count)
        return ops.zeros(ops.reshape(count * k, [1]), dtype=dtype), rows
    return ops.zeros([count * k], dtype=dtype), ops.tile(row, [count, 1])


# ---------------------------------------------------------------- flat form
def read(values: Tensor, shapes: Tensor, index: Any) -> Tensor:
    """Element ``index`` of the flat form."""
    ops, m = _ops(), _math()
    row = element_shape(shapes, "read", ops.reshape(_int32(index), [1]))
    _, offsets = _offsets(shapes)
    start = ops.gather(offsets, _int32(index))
    pos = start + _arange(m.reduce_prod(row))
    return ops.reshape(ops.gather(values, pos), row)


def gather(values: Tensor, shapes: Tensor, indices: Any) -> Tensor:
    """The elements at ``indices`` (one shape), stacked."""
    ops, m = _ops(), _math()
    idx = ops.reshape(_int32(indices), [-1])
    row = element_shape(shapes, "gather", idx)
    _, offsets = _offsets(shapes)
    pos = ops.expand_dims(ops.gather(offsets, idx), 1) + ops.expand_dims(_arange(m.reduce_prod(row)), 0)
    out_shape = ops.concat([ops.reshape(ops.size(idx, out_type=dtypes.int32), [1]), row], 0)
    return ops.reshape(ops.gather(values, ops.reshape(pos, [-1])), out_shape)


def stack(values: Tensor, shapes: Tensor) -> Tensor:
    """All elements (one shape) stacked."""
    ops = _ops()
    row = element_shape(shapes, "stack")
    n = ops.reshape(_shape_of(shapes)[0], [1])
    return ops.reshape(values, ops.concat([n, row], 0))


def concat(values: Tensor, shapes: Tensor) -> Tensor:
    """All elements (trailing dims agreeing) concatenated along their first axis."""
    ops = _ops()
    trailing = element_shape(shapes, "concat")
    return ops.reshape(values, ops.concat([convert_to_tensor([-1], dtype=dtypes.int32), trailing], 0))


def grow(values: Tensor, shapes: Tensor, index: Any, fill: list | None, dtype: Any) -> tuple[Tensor, Tensor]:
    """The flat form with unwritten elements appended up to ``index + 1`` (dynamic_size)."""
    ops, m = _ops(), _math()
    have = _shape_of(shapes)[0]
    extra_values, extra_rows = unwritten(
        m.maximum(have, _int32(index) + 1) - have, shapes.shape[1], fill, dtype
    )
    return ops.concat([values, extra_values], 0), ops.concat([shapes, extra_rows], 0)


def write(values: Tensor, shapes: Tensor, index: Any, value: Tensor) -> tuple[Tensor, Tensor]:
    """The flat form with element ``index`` replaced by ``value``."""
    ops = _ops()
    i = _int32(index)
    sizes, offsets = _offsets(shapes)
    start, old = ops.gather(offsets, i), ops.gather(sizes, i)
    total = _shape_of(values)[0]
    n_new = ops.size(value, out_type=dtypes.int32)
    perm = ops.concat([_arange(start), total + _arange(n_new), start + old + _arange(total - start - old)], 0)
    values = ops.gather(ops.concat([values, ops.reshape(value, [-1])], 0), perm)
    row = ops.reshape(_shape_of(value), [1, shapes.shape[1]])
    shapes = ops.tensor_scatter_nd_update(shapes, ops.reshape(i, [1, 1]), row)
    return values, shapes


def from_rows(value: Tensor, lengths: Tensor | None) -> tuple[Tensor, Tensor]:
    """The flat form of ``value``'s rows (``unstack``), or of its pieces of ``lengths`` rows
    along the first axis (``split``)."""
    ops = _ops()
    dims, r = _shape_of(value), value.ndim - 1
    trailing = ops.reshape(dims[1:], [1, r]) if r else ops.zeros([1, 0], dtype=dtypes.int32)
    if lengths is None:
        shapes = _repeat_row(trailing, dims[0])
    else:
        lens = ops.reshape(_int32(lengths), [-1, 1])
        rest = _repeat_row(trailing, _shape_of(lens)[0])
        shapes = ops.concat([lens, rest], 1)
    return ops.reshape(value, [-1]), shapes


# ---------------------------------------------------------------- list <-> flat
def to_flat(elems: list, rank: int, fill: list | None, dtype: Any) -> tuple[Tensor, Tensor]:
    """The flat form of a list of elements (None: not written, then zeros of ``fill`` when
    that is a fully defined shape, else an unwritten row)."""
    ops = _ops()
    pieces, rows = [], []
    for k, e in enumerate(elems):
        if e is None:
            if fill is None and rank:
                rows.append(convert_to_tensor([UNWRITTEN] * rank, dtype=dtypes.int32))
                continue
            e = ops.zeros(fill or [], dtype=dtype)
        if e.ndim != rank:
            raise InvalidArgumentError(
                f"TensorArray: element {k} has rank {e.ndim} but element 0 has rank {rank}; a TensorArray "
                "of differing shapes carried through a graph loop (or read at an index known only at run "
                "time) holds elements of one rank: reshape the elements to one rank",
                "TensorArray",
            )
        pieces.append(ops.reshape(e, [-1]))
        rows.append(_shape_of(e))
    values = ops.concat(pieces, 0) if pieces else ops.zeros([0], dtype=dtype)
    shapes = ops.stack(rows) if rows else ops.zeros([0, rank], dtype=dtypes.int32)
    return values, shapes


def to_list(values: Tensor, shapes: Tensor) -> list:
    """The elements of a flat form whose tensors are concrete (eager)."""
    host = np.asarray(shapes).reshape(tuple(shapes.shape))
    out, off = [], 0
    ops = _ops()
    for row in host:
        if row.size and row[0] == UNWRITTEN:
            out.append(None)
            continue
        n = int(np.prod(row))
        out.append(ops.reshape(values[off : off + n], [int(d) for d in row]))
        off += n
    return out
