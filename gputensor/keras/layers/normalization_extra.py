"""UnitNormalization and GroupNormalization, as Keras 3's."""

from __future__ import annotations

from typing import Any

import gputensor as gt
from gputensor.keras import initializers as _initializers
from gputensor.keras import regularizers as _regularizers
from gputensor.keras.layers.base import InputSpec, Layer, _shape_of

__all__ = ["UnitNormalization", "GroupNormalization"]


def _check_axes(axes: Any, shape: tuple, who: str) -> None:
    for a in axes if isinstance(axes, (list, tuple)) else [axes]:
        if a >= len(shape) or a < -len(shape):
            raise ValueError(
                f"{who}: axis {a} is out of bounds for input shape {tuple(shape)} (rank {len(shape)})"
            )


class UnitNormalization(Layer):
    """Scales each input to unit L2 norm along ``axis``: ``x * min(rsqrt(sum(x^2)), 1e12)``.

    Raises:
      TypeError: ``axis`` is neither an int nor a list/tuple of ints.
      ValueError: at call, an axis outside the input.
    """

    supports_masking = True

    def __init__(self, axis: Any = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError(
                f"Invalid value for `axis` argument: expected an int or a list/tuple of ints. Received: axis={axis}"
            )

    def call(self, inputs: Any) -> Any:
        _check_axes(self.axis, _shape_of(inputs), f"UnitNormalization layer {self.name!r}")
        # Keras: x * min(rsqrt(sum(x^2)), 1e12); rsqrt(max(sum, 1e-24)) is the same without an inf.
        square_sum = gt.reduce_sum(gt.square(inputs), axis=self.axis, keepdims=True)
        return inputs * gt.math.rsqrt(gt.maximum(square_sum, gt.cast(1e-24, inputs.dtype)))

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The input shape.

        Raises:
          ValueError: an axis outside ``input_shape``.
        """
        _check_axes(self.axis, input_shape, f"UnitNormalization layer {self.name!r}")
        return input_shape


class GroupNormalization(Layer):
    """Normalizes over groups of channels: the ``axis`` channels split into ``groups``, each
    example's group normalized by its mean and variance over the group's channels and all other
    non-batch axes, then ``gamma * x + beta`` per channel. ``groups=-1`` is instance
    normalization, ``groups=1`` layer normalization over all axes.

    Args:
      groups: a positive divisor of the channel count, or -1 (default 32).
      axis: the channels axis (default -1).
      epsilon: added to the variance (default 1e-3).
      center, scale: whether to learn ``beta`` / ``gamma``.
      beta_initializer, gamma_initializer, *_regularizer, *_constraint: as Keras.

    Raises:
      ValueError: for a non-positive ``groups`` (other than -1); at build, an unknown channel
        count, more groups than channels or a count that the groups do not divide.
    """

    supports_masking = True
    _float32_internal = True

    def __init__(
        self,
        groups: int = 32,
        axis: int = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError(
                "Received an invalid value for argument `groups`, expected a positive integer (or `-1` for "
                f"instance normalization). Received: groups={groups}"
            )
        super().__init__(**kwargs)
        self.groups, self.axis, self.epsilon = groups, axis, epsilon
        self.center, self.scale = center, scale
        self.beta_initializer = _initializers.get(beta_initializer)
        self.gamma_initializer = _initializers.get(gamma_initializer)
        self.beta_regularizer = _regularizers.get(beta_regularizer)
        self.gamma_regularizer = _regularizers.get(gamma_regularizer)
        self.beta_constraint, self.gamma_constraint = beta_constraint, gamma_constraint

    def build(self, input_shape: Any) -> None:
        _check_axes(self.axis, input_shape, f"GroupNormalization layer {self.name!r}")
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(
                f"Axis {self.axis} of input tensor should have a defined dimension but the layer received an "
                f"input with shape {tuple(input_shape)}."
            )
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(
                f"Number of groups ({self.groups}) cannot be more than the number of channels ({dim})."
            )
        if dim % self.groups != 0:
            raise ValueError(
                f"Number of groups ({self.groups}) must be a multiple of the number of channels ({dim})."
            )
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: dim})
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight(
                "gamma", (dim,), initializer=self.gamma_initializer, regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )  # fmt: skip
        if self.center:
            self.beta = self.add_weight(
                "beta", (dim,), initializer=self.beta_initializer, regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
            )  # fmt: skip
        self.built = True

    def call(self, inputs: Any) -> Any:
        shape = _shape_of(inputs)
        rank = len(shape)
        axis = self.axis % rank
        dyn = gt.shape(inputs, out_type=gt.int32)
        dims = [shape[i] if shape[i] is not None else dyn[i] for i in range(rank)]
        group_shape = [-1, *dims[1:]]
        group_shape[axis] = shape[axis] // self.groups
        group_shape.insert(axis, self.groups)
        if any(gt.is_tensor(d) for d in group_shape):
            group_shape = gt.stack(group_shape)
        x = gt.reshape(inputs, group_shape)
        reduce_axes = [i for i in range(1, rank + 1) if i != axis]  # all but batch and the group axis
        mean, var = gt.nn.moments(x, axes=reduce_axes, keepdims=True)
        inv = gt.math.rsqrt(var + self.epsilon)
        bshape = [1] * rank
        bshape[axis] = shape[axis] // self.groups
        bshape.insert(axis, self.groups)
        if self.gamma is not None:
            inv = inv * gt.reshape(gt.cast(self.gamma, x.dtype), bshape)
        res = -mean * inv
        if self.beta is not None:
            res = res + gt.reshape(gt.cast(self.beta, x.dtype), bshape)
        out = x * inv + res
        return gt.reshape(out, dyn if any(d is None for d in shape) else list(shape))

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The input shape.

        Raises:
          ValueError: ``axis`` outside ``input_shape``.
        """
        _check_axes(self.axis, input_shape, f"GroupNormalization layer {self.name!r}")
        return input_shape
