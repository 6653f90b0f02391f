"""BatchNormalization and LayerNormalization (Keras 3 defaults and semantics)."""

from __future__ import annotations

from typing import Any

import gputensor as gt
from gputensor.keras import initializers as _initializers
from gputensor.keras.layers.base import InputSpec, Layer

__all__ = ["BatchNormalization", "LayerNormalization"]


def _axes(axis: Any, rank: int, layer: Layer) -> list:
    axes = [axis] if isinstance(axis, int) else list(axis)
    out = []
    for a in axes:
        if not -rank <= a < rank:
            raise ValueError(
                f"{type(layer).__name__} layer {layer.name!r}: axis {a} is out of range for rank {rank}"
            )
        out.append(a % rank)
    return sorted(out)


class BatchNormalization(Layer):
    """Normalises with batch statistics in training and moving statistics in inference.

    In training (``training=True`` and the layer trainable) it uses the batch's
    mean and (biased) variance over every axis but ``axis`` and updates
    ``moving = moving * momentum + batch * (1 - momentum)``. With
    ``trainable=False`` it always runs in inference mode (Keras 3).

    Args:
      axis: the feature axis (default -1).
      momentum: default 0.99.
      epsilon: default 1e-3.
      center, scale: whether to learn ``beta`` and ``gamma``.
      beta_initializer, gamma_initializer, moving_mean_initializer,
      moving_variance_initializer, beta_regularizer, gamma_regularizer: as Keras.

    Weights (Keras order): gamma, beta, moving_mean, moving_variance.

    Raises:
      ValueError: at build, an unknown feature dim; at call, a different rank or feature size.
    """

    supports_masking = True  # Keras 3: passes the input's mask on

    _promotes_integers = True
    _float32_internal = True  # Keras 3: float32 math under a mixed policy, output in compute dtype

    def __init__(
        self,
        axis: Any = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("synchronized", None)
        if kwargs.pop("renorm", False):  # Keras 3 configs carry renorm=False and its defaults
            raise ValueError("BatchNormalization: renorm=True (batch renormalization) is not supported")
        kwargs.pop("renorm_clipping", None)
        kwargs.pop("renorm_momentum", None)
        super().__init__(**kwargs)
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = center, scale
        self.beta_initializer = _initializers.get(beta_initializer)
        self.gamma_initializer = _initializers.get(gamma_initializer)
        self.moving_mean_initializer = _initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = _initializers.get(moving_variance_initializer)
        self.beta_regularizer, self.gamma_regularizer = beta_regularizer, gamma_regularizer
        self.beta_constraint, self.gamma_constraint = beta_constraint, gamma_constraint

    def build(self, input_shape: Any) -> None:
        rank = len(input_shape)
        self._feature_axes = _axes(self.axis, rank, self)
        feat = tuple(input_shape[a] for a in self._feature_axes)
        if any(d is None for d in feat):
            raise ValueError(
                f"BatchNormalization layer {self.name!r}: axis {self.axis} of the input must be known, "
                f"got input shape {tuple(input_shape)}"
            )
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight(
                "gamma", feat, initializer=self.gamma_initializer, regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )  # fmt: skip
        if self.center:
            self.beta = self.add_weight(
                "beta", feat, initializer=self.beta_initializer, regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
            )  # fmt: skip
        self.moving_mean = self.add_weight(
            "moving_mean", feat, initializer=self.moving_mean_initializer, trainable=False
        )
        self.moving_variance = self.add_weight(
            "moving_variance", feat, initializer=self.moving_variance_initializer, trainable=False
        )
        self.input_spec = InputSpec(ndim=rank, axes={a: input_shape[a] for a in self._feature_axes})
        self._reduce_axes = [a for a in range(rank) if a not in self._feature_axes]
        self._bshape = [input_shape[a] if a in self._feature_axes else 1 for a in range(rank)]
        self.built = True

    def _broadcast(self, v: Any) -> Any:
        if self._feature_axes == [len(self._bshape) - 1]:
            return v
        return gt.reshape(v, self._bshape)

    def call(self, inputs: Any, training: Any = None) -> Any:
        if training and self.trainable:
            mean, var = gt.nn.moments(inputs, self._reduce_axes)
            m = self.momentum
            self.moving_mean.assign(self.moving_mean * m + gt.stop_gradient(mean) * (1.0 - m))
            self.moving_variance.assign(self.moving_variance * m + gt.stop_gradient(var) * (1.0 - m))
        else:
            mean, var = self.moving_mean, self.moving_variance
        b = self._broadcast
        return gt.nn.batch_normalization(
            inputs, b(mean), b(var),
            None if self.beta is None else b(self.beta), None if self.gamma is None else b(self.gamma), self.epsilon,
        )  # fmt: skip


class LayerNormalization(Layer):
    """Normalises each example over ``axis`` (default -1): ``(x - mean) / sqrt(var + eps) * gamma + beta``.

    Args:
      axis: an int or list of axes to normalise over.
      epsilon: default 1e-3 (Keras).
      center, scale: whether to learn ``beta`` and ``gamma``.
    """

    supports_masking = True  # Keras 3: passes the input's mask on

    _promotes_integers = True
    _float32_internal = True  # Keras 3: float32 math under a mixed policy, output in compute dtype
    _autocast_inputs = False  # Keras 3 sets autocast=False: float32 inputs are not rounded first

    def __init__(
        self,
        axis: Any = -1,
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
        kwargs.pop("rms_scaling", None)
        super().__init__(**kwargs)
        self.axis, self.epsilon, self.center, self.scale = axis, float(epsilon), center, scale
        self.beta_initializer = _initializers.get(beta_initializer)
        self.gamma_initializer = _initializers.get(gamma_initializer)
        self.beta_regularizer, self.gamma_regularizer = beta_regularizer, gamma_regularizer
        self.beta_constraint, self.gamma_constraint = beta_constraint, gamma_constraint

    def build(self, input_shape: Any) -> None:
        rank = len(input_shape)
        self._axes = _axes(self.axis, rank, self)
        shape = tuple(input_shape[a] for a in self._axes)
        if any(d is None for d in shape):
            raise ValueError(
                f"LayerNormalization layer {self.name!r}: axis {self.axis} of the input must be known, "
                f"got input shape {tuple(input_shape)}"
            )
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight(
                "gamma", shape, initializer=self.gamma_initializer, regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )  # fmt: skip
        if self.center:
            self.beta = self.add_weight(
                "beta", shape, initializer=self.beta_initializer, regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
            )  # fmt: skip
        self._bshape = [input_shape[a] if a in self._axes else 1 for a in range(rank)]
        self.input_spec = InputSpec(ndim=rank, axes={a: input_shape[a] for a in self._axes})
        self.built = True

    def call(self, inputs: Any) -> Any:
        mean, var = gt.nn.moments(inputs, self._axes, keepdims=True)
        y = (inputs - mean) * gt.rsqrt(var + self.epsilon)
        if self.gamma is not None:
            y = y * gt.reshape(self.gamma, self._bshape)
        if self.beta is not None:
            y = y + gt.reshape(self.beta, self._bshape)
        return y
