"""Gradients of the array primitives: layout, slicing, padding, gather/scatter, concat, sort.

Layout ops have direct formulas (reshape back, transpose back, slice a concat
apart). Ops that pick input elements in ways without a cheap inverse (strided
slices with steps, reflect/symmetric padding, batched gathers) share one rule:
the gradient adds each output's gradient into the input element it read. Which
element that is comes from running the op's CPU kernel on an array of element
numbers, so every attribute combination is handled exactly as the forward op
handles it; positions depending only on shapes and attributes are cached.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from gputensor.autodiff.grads._util import known, runtime_shape, shape, unbroadcast
from gputensor.autodiff.indexed_slices import IndexedSlices
from gputensor.autodiff.registry import register_gradient, skip_input
from gputensor.framework.op_table import OPS, execute
from gputensor.framework.tensor import Tensor, convert_to_tensor, traced_value
from gputensor.ops import array_ops, math_ops

_RESHAPE, _TRANSPOSE, _SLICE = OPS["reshape"], OPS["transpose"], OPS["strided_slice"]
_PAD, _GATHER, _GATHER_ND, _SCATTER = OPS["pad"], OPS["gather"], OPS["gather_nd"], OPS["tensor_scatter_nd"]


def _reshape(t: Tensor, dims: tuple) -> Tensor:
    return t if shape(t) == tuple(dims) else execute(_RESHAPE, (t,), {"shape": tuple(dims)})


def _reshape_like(t: Tensor, like: Tensor) -> Tensor:
    """``t`` reshaped to ``like``'s shape, read at run time when tracing left dims unknown."""
    if known(shape(like)):
        return _reshape(t, shape(like))
    return execute(OPS["dynamic_reshape"], (t, runtime_shape(like)), {"static_shape": shape(like)})


def _zeros(dims: tuple, like: Tensor) -> Tensor:
    return array_ops.zeros(dims, dtype=like.dtype)


# ------------------------------------------------------------ the selection rule
def _cpu_kernel(name: str) -> Any:
    from gputensor.backend.cpu import CPU

    return CPU.kernel_table()[name]


def _numbers(dims: tuple) -> np.ndarray:
    """1, 2, ... n in ``dims``: element number k + 1 is flat position k (0 marks made-up elements)."""
    return np.arange(1, int(np.prod(dims, dtype=np.int64)) + 1, dtype=np.int64).reshape(dims)


@functools.lru_cache(maxsize=256)
def _cached_positions(op_name: str, in_dims: tuple, attrs: tuple) -> np.ndarray:
    kw = dict(attrs)
    if "constant_values" in kw:
        kw["constant_values"] = 0
    return np.asarray(_cpu_kernel(op_name)(_numbers(in_dims), **kw)).astype(np.int64).reshape(-1) - 1


def _scatter_back(positions: np.ndarray, dy: Tensor, x: Tensor) -> Tensor:
    """Adds the elements of ``dy`` into zeros shaped like ``x`` at flat ``positions`` (-1: dropped)."""
    flat = _reshape(dy, (positions.size,))
    keep = positions >= 0
    if not keep.all():
        where = np.nonzero(keep)[0]
        flat = execute(_GATHER, (flat, convert_to_tensor(where)), {"axis": 0, "batch_dims": 0})
        positions = positions[where]
    n = int(np.prod(shape(x), dtype=np.int64))
    summed = execute(
        _SCATTER, (_zeros((n,), dy), convert_to_tensor(positions.reshape(-1, 1)), flat), {"reduction": "add"}
    )
    return _reshape(summed, shape(x))


def _selection_grad(op_name: str, x: Tensor, attrs: dict, dy: Tensor) -> Tensor:
    positions = _cached_positions(op_name, shape(x), tuple(sorted(attrs.items())))
    return _scatter_back(positions, dy, x)


# ------------------------------------------------------------------- layout
@register_gradient("identity", replayable=True)
def _identity(inputs, attrs, y, dy):
    return (dy,)


@register_gradient("reshape", replayable=True)
def _reshape_grad(inputs, attrs, y, dy):
    return (_reshape_like(dy, inputs[0]),)


# The ops that read a shape at run time (tracing with None dims); the shape input has none.
@register_gradient("dynamic_reshape", replayable=True)
def _dynamic_reshape_grad(inputs, attrs, y, dy):
    return _reshape_like(dy, inputs[0]), None


@register_gradient("dynamic_broadcast_to", replayable=True)
def _dynamic_broadcast_to_grad(inputs, attrs, y, dy):
    return unbroadcast(dy, inputs[0]), None


@register_gradient("sum_to", replayable=True)
def _sum_to_grad(inputs, attrs, y, dy):
    g = inputs[0]
    return execute(OPS["dynamic_broadcast_to"], (dy, runtime_shape(g)), {"static_shape": shape(g)}), None


@register_gradient("transpose", replayable=True)
def _transpose(inputs, attrs, y, dy):
    perm = attrs["perm"]
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return (execute(_TRANSPOSE, (dy,), {"perm": tuple(inverse)}),)


@register_gradient("broadcast_to", replayable=True)
def _broadcast_to(inputs, attrs, y, dy):
    return (unbroadcast(dy, inputs[0]),)


@register_gradient("concat", replayable=True)
def _concat(inputs, attrs, y, dy):
    axis = attrs["axis"]
    if any(shape(x)[axis] is None for x in inputs):
        return _concat_unknown(inputs, axis, dy)
    grads, start = [], 0
    full = shape(dy)
    for i, x in enumerate(inputs):
        dims = shape(x)
        if not skip_input(i):
            begin = [0] * len(full)
            begin[axis] = start
            grads.append(
                execute(
                    _SLICE,
                    (dy,),
                    {"begin": tuple(begin), "size": dims, "strides": (1,) * len(full), "shape": dims},
                )
            )
        else:
            grads.append(None)
        start += dims[axis]
    return tuple(grads)


def _concat_unknown(inputs: tuple, axis: int, dy: Tensor) -> tuple:
    """The concat gradient where a piece's size along ``axis`` is known at run time only (a
    dynamic_size TensorArray growing in a loop): each piece's positions along the axis are
    gathered from dy, the offsets summed at run time."""
    grads: list = []
    start: Any = 0
    for i, x in enumerate(inputs):
        n = shape(x)[axis]
        if n is None:
            n = array_ops.shape(x, out_type=array_ops._dt.int32)[axis]
        if not skip_input(i):
            at = math_ops.cumsum(array_ops.ones([n], dtype=array_ops._dt.int32), exclusive=True) + start
            grads.append(array_ops.gather(dy, at, axis=axis))
        else:
            grads.append(None)
        start = start + n
    return tuple(grads)


# ------------------------------------------------------------------ slicing
# Slices along None dims: the gradient resolves the same spec on each call's shape.
@register_gradient("dynamic_strided_slice", replayable=True)
def _dynamic_strided_slice(inputs, attrs, y, dy):
    (x,) = inputs
    return (execute(OPS["dynamic_strided_slice_grad"], (x, dy), {**attrs, "static_shape": shape(x)}),)


@register_gradient("dynamic_strided_slice_grad", replayable=True)
def _dynamic_strided_slice_grad(inputs, attrs, y, ddx):
    return None, execute(OPS["dynamic_strided_slice"], (ddx,), {**attrs, "static_shape": shape(inputs[1])})


@register_gradient("strided_slice", replayable=True)
def _strided_slice(inputs, attrs, y, dy):
    (x,) = inputs
    dims = shape(x)
    begin, size, strides = attrs["begin"], attrs["size"], attrs["strides"]
    if all(s == 1 for s in strides):
        # A box: the gradient is dy padded back to the input's shape.
        paddings = tuple((b, d - b - n) for b, n, d in zip(begin, size, dims))
        return (
            execute(
                _PAD, (_reshape(dy, size),), {"paddings": paddings, "mode": "constant", "constant_values": 0}
            ),
        )
    return (_selection_grad("strided_slice", x, attrs, dy),)


@register_gradient("pad", replayable=True)
def _pad(inputs, attrs, y, dy):
    (x,) = inputs
    if attrs["mode"] == "constant":
        dims = shape(x)
        begin = tuple(before for before, _ in attrs["paddings"])
        spec = {"begin": begin, "size": dims, "strides": (1,) * len(dims), "shape": dims}
        return (execute(_SLICE, (dy,), spec),)
    return (_selection_grad("pad", x, attrs, dy),)


# ---------------------------------------------------------------- gather/scatter
def _host(t: Tensor) -> np.ndarray:
    """Index values on the host; while tracing, the value tracing knows (a constant's, as
    gt.repeat's indices), else a TypeError naming the tensor as for any unknown value."""
    known = traced_value(t)
    return np.asarray(t._device.backend.to_host(t._data) if known is None else known)


# Not replayable: outside the axis-0 case the positions come from the index values.
@register_gradient("gather")
def _gather(inputs, attrs, y, dy):
    params, indices = inputs
    axis, batch_dims = attrs["axis"], attrs["batch_dims"]
    pdims = shape(params)
    if axis == 0 and batch_dims == 0 and shape(indices) == (None,):
        # A run-time count of rows (indices of an input_signature's [None], or a growing
        # TensorArray's rows gathered by a loop gradient): dy holds one row per index already.
        if None not in pdims:  # as TF: a sparse gradient of the gathered rows
            return IndexedSlices(dy, indices, pdims), None
        rows = array_ops.expand_dims(indices, 1)
        return array_ops.tensor_scatter_nd_add(array_ops.zeros_like(params), rows, dy), None
    if axis == 0 and batch_dims == 0 and shape(indices) == () and None in pdims[1:]:
        # A row of stacks of stacks (a while_loop's kept values from a loop nested in its body,
        # padded to the longest inner trip count): the row's dims are known at run time only.
        rows = _reshape(indices, (1, 1))
        return array_ops.tensor_scatter_nd_add(
            array_ops.zeros_like(params), rows, array_ops.expand_dims(dy, 0)
        ), None
    if axis == 0 and batch_dims == 0:
        n = int(np.prod(shape(indices), dtype=np.int64))
        values = _reshape(dy, (n,) + pdims[1:])
        if pdims[:1] == (None,) and None not in pdims[1:]:
            # Rows of a tensor whose row count is known at run time only (a while_loop
            # gradient's stacks): IndexedSlices need a known dense shape, so add the rows
            # into zeros of the params' run-time shape.
            rows = _reshape(indices, (n, 1))
            return array_ops.tensor_scatter_nd_add(array_ops.zeros_like(params), rows, values), None
        # As TF: a sparse gradient of the gathered rows.
        return IndexedSlices(values, _reshape(indices, (n,)), pdims), None
    positions = (
        np.asarray(
            _cpu_kernel("gather")(_numbers(pdims), _host(indices), axis=axis, batch_dims=batch_dims)
        ).reshape(-1)
        - 1
    )
    return _scatter_back(positions, dy, params), None


# Not replayable: with batch dims the positions come from the index values.
@register_gradient("gather_nd")
def _gather_nd(inputs, attrs, y, dy):
    params, indices = inputs
    if attrs["batch_dims"] == 0:
        # zeros_like: params' dims may be known at run time only (a growing TensorArray's buffer)
        zeros = _zeros(shape(params), dy) if known(shape(params)) else array_ops.zeros_like(params)
        return execute(_SCATTER, (zeros, indices, dy), {"reduction": "add"}), None
    positions = (
        np.asarray(
            _cpu_kernel("gather_nd")(_numbers(shape(params)), _host(indices), batch_dims=attrs["batch_dims"])
        ).reshape(-1)
        - 1
    )
    return _scatter_back(positions, dy, params), None


def _gather_updates(dy: Tensor, indices: Tensor) -> Tensor:
    return execute(_GATHER_ND, (dy, indices), {"batch_dims": 0})


@register_gradient("tensor_scatter_nd", replayable=True)
def _tensor_scatter_nd(inputs, attrs, z, dy):
    tensor, indices, updates = inputs
    reduction = attrs["reduction"]
    if reduction == "add":
        return dy, None, _gather_updates(dy, indices)
    if reduction == "update":
        cleared = execute(_SCATTER, (dy, indices, array_ops.zeros_like(updates)), {"reduction": "update"})
        return cleared, None, _gather_updates(dy, indices)
    # max / min, as TF: the gradient is shared between the tensor and the updates that equal
    # the result, evenly where several do.
    x_hits = math_ops.cast(math_ops.equal(tensor, z), dy.dtype)
    y_hits = math_ops.cast(math_ops.equal(updates, _gather_updates(z, indices)), dy.dtype)
    y_count = execute(_SCATTER, (array_ops.zeros_like(tensor), indices, y_hits), {"reduction": "add"})
    share = dy / (x_hits + y_count)
    return share * x_hits, None, _gather_updates(share, indices) * y_hits


# ------------------------------------------------------------------- sorting
@register_gradient("sort", replayable=True)
def _sort(inputs, attrs, outputs, d_values, d_indices):
    values, indices = outputs
    if d_values is None:
        return (None,)
    # The sorted positions' inverse permutation puts each gradient back where its value came from.
    inverse = execute(OPS["sort"], (indices,), {"descending": False})[1]
    last = len(shape(values)) - 1
    return (execute(_GATHER, (d_values, inverse), {"axis": last, "batch_dims": last}),)
