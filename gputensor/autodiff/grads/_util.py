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


def shape(t: Tensor) -> tuple:
    return tuple(t._data.shape)


def unbroadcast(g: Tensor | None, like: Tensor) -> Tensor | None:
    """Sums ``g`` over the dimensions broadcasting added to ``like``'s shape."""
    if g is None:
        return None
    target = shape(like)
    gs = shape(g)
    if gs == target:
        return g
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


def expand_reduced(g: Tensor, in_shape: tuple, axis: tuple | None, keepdims: bool) -> Tensor:
    """Broadcasts the gradient of a reduction back to the input's shape."""
    if not keepdims and shape(g) != ():
        kept = reduced_shape(in_shape, axis)
        if shape(g) != kept:
            g = execute(_RESHAPE, (g,), {"shape": kept})
    return execute(_BROADCAST_TO, (g,), {"shape": tuple(in_shape)})


def conj(t: Any) -> Any:
    return math_ops.conj(t) if t._dtype.kind == "c" else t
