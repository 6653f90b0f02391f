"""Merge layers of Keras 3 that gt.keras lacked: Subtract, Maximum, Minimum and Dot, with
their functional forms ``subtract maximum minimum dot``."""

from __future__ import annotations

import functools
import math
from typing import Any

import gputensor as gt
from gputensor.keras.layers.base import _shape_of
from gputensor.keras.layers.core import Add

__all__ = ["Subtract", "Maximum", "Minimum", "Dot", "subtract", "maximum", "minimum", "dot"]


class Subtract(Add):
    """``inputs[0] - inputs[1]`` for exactly two same-shaped inputs (Keras's ``Subtract``).

    Raises:
      ValueError: for other than two inputs or inputs of different shapes.
    """

    def _check_shapes(self, shapes: list) -> None:
        if len(shapes) != 2:
            raise ValueError(
                f"A `Subtract` layer ({self.name!r}) should be called on exactly 2 inputs. "
                f"Received: input_shape={shapes}"
            )
        super()._check_shapes(shapes)

    def call(self, inputs: Any) -> Any:
        return inputs[0] - inputs[1]


class _Folding(Add):
    """A merge that folds its inputs pairwise with ``_combine`` (Add's input checks)."""

    _combine: Any = None

    def call(self, inputs: Any) -> Any:
        return functools.reduce(self._combine, inputs)


class Maximum(_Folding):
    """The elementwise maximum of a list of same-shaped inputs.

    Raises:
      ValueError: for a single input or inputs of different shapes.
    """

    _combine = staticmethod(gt.maximum)


class Minimum(_Folding):
    """The elementwise minimum of a list of same-shaped inputs.

    Raises:
      ValueError: for a single input or inputs of different shapes.
    """

    _combine = staticmethod(gt.minimum)


def _l2_normalize(x: Any, axis: int) -> Any:
    # keras.ops.normalize(order=2) with epsilon 1e-7: x * min(rsqrt(sum(x^2)), 1/epsilon), written
    # as rsqrt(max(sum, epsilon^2)) (the same values) so an all-zero row makes no inf.
    square_sum = gt.reduce_sum(gt.square(x), axis=axis, keepdims=True)
    return x * gt.math.rsqrt(gt.maximum(square_sum, gt.cast(1e-14, x.dtype)))


class Dot(Add):
    """The dot product of two batched inputs along ``axes`` (Keras's ``batch_dot``).

    The output has ``x``'s axes but the contracted one, then ``y``'s but the batch axis and the
    contracted one; a result of rank 1 becomes ``(batch, 1)``.

    Args:
      axes: an int (the same axis of both inputs) or a pair of ints; axis 0 (batch) is not allowed.
      normalize: L2-normalize both inputs along the contracted axes first (cosine similarity).

    Raises:
      TypeError: ``axes`` is neither an int nor a list/tuple.
      ValueError: ``axes`` is not two ints, names the batch axis, or the contracted sizes differ;
        other than two inputs, or inputs of rank < 2.

    >>> Dot(axes=1)([gt.ones([2, 3]), gt.ones([2, 3])]).shape
    TensorShape([2, 1])
    """

    def __init__(self, axes: Any, normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError(
                    f"Invalid type for argument `axes`: it should be a list or an int. Received: axes={axes}"
                )
            if len(axes) != 2:
                raise ValueError(
                    f"Invalid format for argument `axes`: it should contain two elements. Received: axes={axes}"
                )
            if not isinstance(axes[0], int) or not isinstance(axes[1], int):
                raise ValueError(
                    f"Invalid format for argument `axes`: list elements should be integers. Received: axes={axes}"
                )
        self.axes = axes
        self.normalize = normalize

    def _resolved_axes(self, shapes: list) -> list:
        r1, r2 = len(shapes[0]), len(shapes[1])
        if isinstance(self.axes, int):
            axes = [self.axes % r1, self.axes % r2] if self.axes < 0 else [self.axes] * 2
        else:
            axes = [a % r if a < 0 else a for a, r in zip(self.axes, (r1, r2))]
        return axes

    def _check_shapes(self, shapes: list) -> None:
        if len(shapes) != 2:
            raise ValueError(
                f"A `Dot` layer ({self.name!r}) should be called on a list of 2 inputs. Received: input_shape={shapes}"
            )
        s1, s2 = shapes
        if len(s1) < 2 or len(s2) < 2:
            raise ValueError(
                f"Dot layer {self.name!r}: cannot do batch_dot on inputs with rank < 2. Received inputs with "
                f"shapes {tuple(s1)} and {tuple(s2)}."
            )
        a0, a1 = self._resolved_axes(shapes)
        if 0 in (a0, a1) or a0 >= len(s1) or a1 >= len(s2):
            raise ValueError(
                f"Dot layer {self.name!r}: invalid axes {self.axes} for inputs of shapes {tuple(s1)} and "
                f"{tuple(s2)}: the axes must lie in the inputs and cannot be the batch axis 0"
            )
        if s1[a0] is not None and s2[a1] is not None and s1[a0] != s2[a1]:
            raise ValueError(
                f"Incompatible input shapes: axis values {s1[a0]} (at axis {a0}) != {s2[a1]} (at axis {a1}). "
                f"Full input shapes: {tuple(s1)}, {tuple(s2)}"
            )

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """``x``'s shape without the contracted axis, then ``y``'s without batch and contracted axes."""
        self._check_shapes(list(input_shape))
        a0, a1 = self._resolved_axes(list(input_shape))
        s1, s2 = list(input_shape[0]), list(input_shape[1])
        s1.pop(a0)
        s2.pop(a1)
        s2.pop(0)
        out = s1 + s2
        return tuple(out + [1] if len(out) == 1 else out)

    def call(self, inputs: Any) -> Any:
        x, y = inputs
        s1, s2 = _shape_of(x), _shape_of(y)
        a0, a1 = self._resolved_axes([s1, s2])
        if self.normalize:
            x, y = _l2_normalize(x, a0), _l2_normalize(y, a1)
        # x -> (batch, rest_x, k), y -> (batch, k, rest_y), one batched matmul.
        xr = [d for d in range(1, len(s1)) if d != a0]
        yr = [d for d in range(1, len(s2)) if d != a1]
        x = gt.transpose(x, [0, *xr, a0])
        y = gt.transpose(y, [0, a1, *yr])
        xs, ys = [s1[d] for d in xr], [s2[d] for d in yr]
        k = s1[a0] if s1[a0] is not None else s2[a1]
        known = all(d is not None for d in (*xs, *ys, k))
        if known:  # -1 for the batch keeps every other dim static inside a trace
            x3 = gt.reshape(x, [-1, math.prod(xs), k])
            y3 = gt.reshape(y, [-1, k, math.prod(ys)])
            out = gt.matmul(x3, y3)
            return gt.reshape(out, [-1, *([*xs, *ys] or [1])])
        letters = "bcdefghijklmnopqrstuvw"
        xl = letters[1 : 1 + len(xr)]
        yl = letters[1 + len(xr) : 1 + len(xr) + len(yr)]
        out = gt.einsum(f"a{xl}z,az{yl}->a{xl}{yl}", x, y)
        return gt.expand_dims(out, -1) if not xl and not yl else out

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """None: Keras's Dot drops masks."""
        return None


def subtract(inputs: list, **kwargs: Any) -> Any:
    """``keras.layers.subtract``: ``Subtract(**kwargs)(inputs)``."""
    return Subtract(**kwargs)(inputs)


def maximum(inputs: list, **kwargs: Any) -> Any:
    """``keras.layers.maximum``: ``Maximum(**kwargs)(inputs)``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list, **kwargs: Any) -> Any:
    """``keras.layers.minimum``: ``Minimum(**kwargs)(inputs)``."""
    return Minimum(**kwargs)(inputs)


def dot(inputs: list, axes: Any = -1, **kwargs: Any) -> Any:
    """``keras.layers.dot``: ``Dot(axes, **kwargs)(inputs)``."""
    return Dot(axes=axes, **kwargs)(inputs)
