"""``Masking``: marks the timesteps whose features all equal ``mask_value`` as padding."""

from __future__ import annotations

from typing import Any

import gputensor as gt
from gputensor.keras import masks as _masks
from gputensor.keras.layers.base import Layer

__all__ = ["Masking"]


class Masking(Layer):
    """Masks timesteps where every feature equals ``mask_value``, as ``keras.layers.Masking``.

    The output is the input with masked steps set to 0, and carries the mask
    ``any(inputs != mask_value, axis=-1)`` (shape ``(batch, steps)``) that the layers
    after it take (recurrent layers skip masked steps, ``GlobalAveragePooling1D``
    averages the others).

    Args:
      mask_value: the padding value (default 0.0).

    >>> x = gt.constant([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]])
    >>> Masking().compute_mask(x).numpy()
    array([[ True, False,  True]])
    """

    supports_masking = True

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.built = True

    def _keep(self, inputs: Any, keepdims: bool) -> Any:
        value = gt.cast(gt.constant(self.mask_value), inputs.dtype)
        return gt.reduce_any(gt.not_equal(inputs, value), axis=-1, keepdims=keepdims)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """``any(inputs != mask_value, axis=-1)``: True for the steps kept."""
        return self._keep(inputs, keepdims=False)

    def call(self, inputs: Any) -> Any:
        keep = self._keep(inputs, keepdims=True)
        outputs = inputs * gt.cast(keep, inputs.dtype)
        # The mask and the output from one comparison, as Keras.
        _masks.set_keras_mask(outputs, gt.squeeze(keep, axis=-1))
        return outputs


class _KerasOp(Layer):
    """A Keras 3 op recorded in a functional config (``keras.src.ops.numpy``): Keras writes the
    mask computations of ``Embedding(mask_zero=True)`` and ``Masking`` as ``NotEqual`` and
    ``Any`` nodes passed to the next layers as ``mask=``, so reading Keras's configs needs them."""

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> _KerasOp:
        return cls(**config)


class _NotEqual(_KerasOp):
    _keras_registration = ("keras.src.ops.numpy", "NotEqual")  # how serialize() writes it

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name)

    def call(self, x: Any, y: Any = 0) -> Any:
        if not gt.is_tensor(y):
            y = gt.cast(gt.constant(y), x.dtype)
        return gt.not_equal(x, y)


class _Any(_KerasOp):
    _keras_registration = ("keras.src.ops.numpy", "Any")

    def __init__(
        self, axis: Any = None, keepdims: bool = False, name: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(name=name)
        self.axis, self.keepdims = axis, keepdims

    def call(self, x: Any) -> Any:
        return gt.reduce_any(gt.cast(x, gt.bool), axis=self.axis, keepdims=self.keepdims)

    def get_config(self) -> dict:
        return {"name": self.name, "axis": self.axis, "keepdims": self.keepdims}


class _LogicalOr(_KerasOp):
    # Keras 3.15's merge layers (Add, ...) OR their inputs' masks: a residual Add after a masked
    # MultiHeadAttention records this node.
    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name)

    def call(self, x: Any, y: Any) -> Any:
        return gt.logical_or(gt.cast(x, gt.bool), gt.cast(y, gt.bool))


class _LogicalAnd(_KerasOp):
    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name)

    def call(self, x: Any, y: Any) -> Any:
        return gt.logical_and(gt.cast(x, gt.bool), gt.cast(y, gt.bool))


# Keras class names of the ops above, for gt.keras.layers.deserialize.
KERAS_OPS = {"NotEqual": _NotEqual, "Any": _Any, "LogicalOr": _LogicalOr, "LogicalAnd": _LogicalAnd}
