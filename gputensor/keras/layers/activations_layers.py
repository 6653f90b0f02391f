"""Activation layers of Keras 3 that gt.keras lacked: ELU and PReLU (Softmax: attention.py)."""

from __future__ import annotations

from typing import Any

import gputensor as gt
from gputensor.keras import activations as _activations
from gputensor.keras import initializers as _initializers
from gputensor.keras import regularizers as _regularizers
from gputensor.keras.layers.base import InputSpec, Layer

__all__ = ["ELU", "PReLU"]


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
