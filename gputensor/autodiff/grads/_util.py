"""Helpers shared by the gradient modules: undoing broadcasting and reductions."""

from __future__ import annotations

from typing import Any

from gputensor.framework.op_table import OPS, execute
from gputensor.framework.tensor import Tensor
from gputensor.ops import math_ops

_REDUCE_SUM = OPS["reduce_sum"]
_BROADCAST_TO = OPS["broadcast_to"]
_RESHAPE = OPS["reshape"]


def reduce_sum(g: Tensor, axes: tuple, keepdims: bool) -> Tensor:
    """The reduce_sum primitive on normalised axes (gradients are on the hot path of training)."""
    return execute(_REDUCE_SUM, (g,), {"axis": axes, "keepdims": keepdims})


def shape(t: Tensor) -> tuple | None:
    """The static shape: while tracing with None dims it may hold None (None: unknown rank)."""
    s = t._data.shape
    return None if s is None else tuple(s)


def known(s: tuple | None) -> bool:
    return s is not None and None not in s


def _decidable(target: tuple | None, gs: tuple | None) -> bool:
    """Whether which axes broadcasting added is known while tracing (else sum_to decides at run time)."""
    if target is None or gs is None or len(gs) < len(target):
        return False
    lead = len(gs) - len(target)
    return all(d is not None or gs[lead + i] == 1 for i, d in enumerate(target))


def runtime_shape(t: Tensor) -> Tensor:
    from gputensor.ops import array_ops

    return array_ops.shape(t)


def unbroadcast(g: Tensor | None, like: Tensor) -> Tensor | None:
    """Sums ``g`` over the dimensions broadcasting added to ``like``'s shape."""
    if g is None:
        return None
    target = shape(like)
    gs = shape(g)
    if gs == target and known(gs):
        return g
    if not _decidable(target, gs):  # None dims while tracing: TF's BroadcastGradientArgs, at run time
        return execute(OPS["sum_to"], (g, runtime_shape(like)), {"static_shape": target})
    lead = len(gs) - len(target)
    if lead:
        g = reduce_sum(g, tuple(range(lead)), False)
    ones = tuple(i for i, d in enumerate(target) if d == 1 and gs[i + lead] != 1)
    if ones:
        g = reduce_sum(g, ones, True)
    return g


def reduced_shape(in_shape: tuple, axis: tuple | None) -> tuple:
    """The shape of a keepdims reduction of ``in_shape`` over ``axis``."""
    if axis is None:
        return (1,) * len(in_shape)
    return tuple(1 if i in axis else d for i, d in enumerate(in_shape))


def expand_reduced(
    g: Tensor, in_shape: tuple | None, axis: tuple | None, keepdims: bool, like: Tensor | None = None
) -> Tensor:
    """Broadcasts the gradient of a reduction back to the input's shape (``like``'s, the input,
    at run time when tracing left dims unknown)."""
    if not known(in_shape):
        return _expand_reduced_at_run_time(g, in_shape, axis, keepdims, like)
    if not keepdims and shape(g) != ():
        kept = reduced_shape(in_shape, axis)
        if shape(g) != kept:
            g = execute(_RESHAPE, (g,), {"shape": kept})
    return execute(_BROADCAST_TO, (g,), {"shape": tuple(in_shape)})


def conj(t: Any) -> Any:
    return math_ops.conj(t) if t._dtype.kind == "c" else t


def _expand_reduced_at_run_time(
    g: Tensor, in_shape: tuple | None, axis: tuple | None, keepdims: bool, like: Tensor
) -> Tensor:
    import numpy as np

    from gputensor.framework.tensor import convert_to_tensor
    from gputensor.ops import array_ops

    s = runtime_shape(like)
    if not keepdims and shape(g) != ():
        if in_shape is None:
            raise ValueError("the gradient of a reduction over an input of unknown rank is not supported")
        rank = len(in_shape)
        axes = range(rank) if axis is None else axis
        # The kept shape: the input's dims with a 1 (appended after them) at the reduced axes.
        index = np.asarray([rank if i in axes else i for i in range(rank)], dtype=np.int32)
        ones = array_ops.concat([s, convert_to_tensor(np.ones([1], np.int32))], 0)
        kept = array_ops.gather(ones, convert_to_tensor(index))
        g = execute(OPS["dynamic_reshape"], (g, kept), {"static_shape": reduced_shape(in_shape, axis)})
    return execute(OPS["dynamic_broadcast_to"], (g, s), {"static_shape": in_shape})
