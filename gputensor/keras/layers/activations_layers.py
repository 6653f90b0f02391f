"""Activation layers of Keras 3 that gt.keras lacked: Softmax, ELU and PReLU."""

from __future__ import annotations

from typing import Any

import gputensor as gt
from gputensor.keras import activations as _activations
from gputensor.keras import initializers as _initializers
from gputensor.keras import regularizers as _regularizers
from gputensor.keras.layers.base import InputSpec, Layer, _shape_of

__all__ = ["Softmax", "ELU", "PReLU"]


def _large_negative(dtype: Any) -> float:
    # Keras's _large_negative_number: -1e9, or -3e4 where float16 cannot hold it.
    return -3e4 if dtype == gt.float16 else -1e9


class Softmax(Layer):
    """``exp(x) / sum(exp(x))`` along ``axis`` (an int or a list of ints), as ``keras.layers.Softmax``.

    ``mask`` (given at call, or the input's Keras mask) must broadcast to the input: masked
    entries get a large negative logit and an output of 0.

    Raises:
      ValueError: at call, a mask that does not broadcast to the input, or an axis out of range.
    """

    supports_masking = True

    def __init__(self, axis: Any = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis

    def _check_axes(self, shape: tuple) -> None:
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        for a in axes:
            if not -len(shape) <= a < len(shape):
                raise ValueError(
                    f"Softmax layer {self.name!r}: axis {a} is out of bounds for an input of shape {shape} "
                    f"(rank {len(shape)})"
                )

    def call(self, inputs: Any, mask: Any = None) -> Any:
        shape = _shape_of(inputs)
        self._check_axes(shape)
        if mask is not None:
            mshape = _shape_of(mask)
            ok = len(mshape) <= len(shape) and all(
                m is None or i is None or m in (1, i) for m, i in zip(mshape[::-1], shape[::-1])
            )
            if not ok:
                raise ValueError(
                    "The `mask` must be broadcastable to `inputs`: each mask dimension must be 1 or match the "
                    f"corresponding input dimension. Received: inputs.shape={shape}, mask.shape={mshape}"
                )
            if mask.dtype != gt.bool:
                mask = gt.greater(mask, gt.cast(0.5, mask.dtype))
            mask = gt.logical_or(mask, gt.zeros_like(inputs, dtype=gt.bool))  # broadcast
            inputs = gt.where(
                mask, inputs, gt.fill(gt.shape(inputs), gt.cast(_large_negative(inputs.dtype), inputs.dtype))
            )
        if isinstance(self.axis, list):
            if len(self.axis) > 1:
                out = gt.exp(inputs - gt.reduce_logsumexp(inputs, axis=self.axis, keepdims=True))
            else:
                out = gt.nn.softmax(inputs, axis=self.axis[0])
        else:
            out = gt.nn.softmax(inputs, axis=self.axis)
        if mask is not None:
            out = gt.where(mask, out, gt.zeros_like(out))
        return out

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The input shape."""
        return input_shape


class ELU(Layer):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise (``keras.layers.ELU``, alpha 1.0)."""

    supports_masking = True

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = alpha

    def call(self, inputs: Any) -> Any:
        return _activations.elu(inputs, alpha=self.alpha)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The input shape."""
        return input_shape


class PReLU(Layer):
    """``max(x, 0) - alpha * max(-x, 0)`` with a learned ``alpha`` per input element.

    Args:
      alpha_initializer: default ``"Zeros"`` (Keras's spelling).
      alpha_regularizer, alpha_constraint: optional.
      shared_axes: axes (1-indexed, batch excluded) along which ``alpha`` is shared: ``[1, 2]``
        for one alpha per channel of an image batch.

    Raises:
      ValueError: at call, an input whose rank or non-shared sizes differ from the built ones,
        or a shared axis outside the input.
    """

    supports_masking = True

    def __init__(
        self,
        alpha_initializer: Any = "Zeros",
        alpha_regularizer: Any = None,
        alpha_constraint: Any = None,
        shared_axes: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.alpha_initializer = _initializers.get(alpha_initializer)
        self.alpha_regularizer = _regularizers.get(alpha_regularizer)
        self.alpha_constraint = alpha_constraint
        if shared_axes is None:
            self.shared_axes = None
        elif not isinstance(shared_axes, (list, tuple)):
            self.shared_axes = [shared_axes]
        else:
            self.shared_axes = list(shared_axes)

    def build(self, input_shape: Any) -> None:
        param_shape = list(input_shape[1:])
        for i in self.shared_axes or ():
            if not 1 <= i < len(input_shape):
                raise ValueError(
                    f"PReLU layer {self.name!r}: shared axis {i} is not an axis of the input shape "
                    f"{tuple(input_shape)} (use 1..{len(input_shape) - 1}; the batch axis 0 cannot be shared)"
                )
            param_shape[i - 1] = 1
        if any(d is None for d in param_shape):
            raise ValueError(
                f"PReLU layer {self.name!r}: the input shape {tuple(input_shape)} has unknown non-batch sizes; "
                "share those axes with shared_axes= or give a fixed input shape"
            )
        self.alpha = self.add_weight(
            "alpha", tuple(param_shape), initializer=self.alpha_initializer,
            regularizer=self.alpha_regularizer, constraint=self.alpha_constraint,
        )  # fmt: skip
        axes = {i: input_shape[i] for i in range(1, len(input_shape)) if i not in (self.shared_axes or ())}
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)
        self.built = True

    def call(self, inputs: Any) -> Any:
        return gt.nn.relu(inputs) - self.alpha * gt.nn.relu(-inputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The input shape."""
        return input_shape
