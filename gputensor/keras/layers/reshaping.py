"""Reshaping layers of Keras 3 that gt.keras lacked: RepeatVector, Permute, Cropping1D,
Cropping2D and ZeroPadding1D, with Keras's arguments, defaults, shapes and errors."""

from __future__ import annotations

from typing import Any

import gputensor as gt
from gputensor.keras.layers.base import InputSpec, Layer, _shape_of

__all__ = ["RepeatVector", "Permute", "Cropping1D", "Cropping2D", "ZeroPadding1D"]


def _pair(value: Any, what: str, layer: str) -> tuple[int, int]:
    """An int ``n`` as ``(n, n)``, or a pair of non-negative ints (Keras's ``standardize_tuple``)."""
    if isinstance(value, int):
        pair = (value, value)
    elif hasattr(value, "__len__") and len(value) == 2 and all(isinstance(v, int) for v in value):
        pair = (int(value[0]), int(value[1]))
    else:
        raise ValueError(f"{layer}: the {what} must be an int or a tuple of 2 ints, got {value!r}")
    if min(pair) < 0:
        raise ValueError(f"{layer}: the {what} cannot be negative, got {value!r}")
    return pair


class RepeatVector(Layer):
    """Repeats a ``(batch, features)`` input ``n`` times: ``(batch, n, features)``.

    Args:
      n: the number of repetitions (a positive int).

    Raises:
      TypeError: for a non-int ``n``. ValueError: at call, an input that is not rank 2.

    >>> RepeatVector(3)(gt.ones([2, 4])).shape
    TensorShape([2, 3, 4])
    """

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"RepeatVector: expected an integer value for `n`, got {type(n).__name__} {n!r}")
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs: Any) -> Any:
        return gt.tile(gt.expand_dims(inputs, 1), [1, self.n, 1])

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """``(batch, n, features)``."""
        return (input_shape[0], self.n, input_shape[1])


class Permute(Layer):
    """Permutes the non-batch axes: ``dims`` is a permutation of ``1..rank-1`` (1-indexed,
    as Keras), e.g. ``Permute((2, 1))`` swaps the two axes of a ``(batch, a, b)`` input.

    Raises:
      ValueError: if ``dims`` is not a permutation of ``1..len(dims)``; at call, an input
        whose rank is not ``len(dims) + 1``.
    """

    def __init__(self, dims: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` must be "
                f"consecutive and start from 1. Received dims={dims}"
            )
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs: Any) -> Any:
        return gt.transpose(inputs, [0, *self.dims])

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """The input shape with the non-batch axes reordered."""
        return (input_shape[0], *(input_shape[d] for d in self.dims))


class Cropping1D(Layer):
    """Removes ``cropping = (start, end)`` steps from axis 1 of a ``(batch, steps, features)`` input.

    Raises:
      ValueError: for a negative or malformed ``cropping``; at call, an input that is not rank
        3 or has no more steps than the cropping removes.
    """

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cropping = _pair(cropping, "cropping", "Cropping1D")
        self.input_spec = InputSpec(ndim=3)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """``(batch, steps - start - end, features)``.

        Raises:
          ValueError: when the cropping removes every step.
        """
        steps = input_shape[1]
        if steps is not None:
            length = steps - sum(self.cropping)
            if length <= 0:
                raise ValueError(
                    f"Cropping1D layer {self.name!r}: `cropping` parameter {self.cropping} is too high for the "
                    f"input shape {tuple(input_shape)}: it removes all {steps} steps; use a smaller cropping"
                )
        else:
            length = None
        return (input_shape[0], length, input_shape[2])

    def call(self, inputs: Any) -> Any:
        self.compute_output_shape(_shape_of(inputs))
        start, end = self.cropping
        return inputs[:, start : (-end if end else None), :]


class Cropping2D(Layer):
    """Crops rows and columns of an image batch.

    Args:
      cropping: an int (all four sides), ``(rows, cols)`` (symmetric) or
        ``((top, bottom), (left, right))``.
      data_format: "channels_last" (default) or "channels_first".

    Raises:
      ValueError: for a malformed or negative ``cropping``; at call, an input that is not
        rank 4 or is smaller than the cropping.
    """

    def __init__(
        self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format, "Cropping2D")
        if isinstance(cropping, int):
            if cropping < 0:
                raise ValueError(f"Cropping2D: `cropping` cannot be negative. Received: cropping={cropping}.")
            self.cropping = ((cropping, cropping), (cropping, cropping))
        elif hasattr(cropping, "__len__"):
            if len(cropping) != 2:
                raise ValueError(
                    f"Cropping2D: `cropping` should have two elements. Received: cropping={cropping}."
                )
            self.cropping = (
                _pair(cropping[0], "1st entry of cropping", "Cropping2D"),
                _pair(cropping[1], "2nd entry of cropping", "Cropping2D"),
            )
        else:
            raise ValueError(
                "Cropping2D: `cropping` should be either an int, a tuple of 2 ints (symmetric_height_crop, "
                "symmetric_width_crop), or a tuple of 2 tuples of 2 ints ((top_crop, bottom_crop), "
                f"(left_crop, right_crop)). Received: cropping={cropping}."
            )
        self.input_spec = InputSpec(ndim=4)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """The input shape with the cropped rows and columns removed.

        Raises:
          ValueError: when a cropping is not smaller than its spatial dim.
        """
        rows, cols = (1, 2) if self.data_format == "channels_last" else (2, 3)
        out = list(input_shape)
        for axis, crop in ((rows, self.cropping[0]), (cols, self.cropping[1])):
            if input_shape[axis] is not None:
                if sum(crop) >= input_shape[axis]:
                    raise ValueError(
                        "Values in `cropping` argument should be smaller than the corresponding spatial dimension "
                        f"of the input. Received: input_shape={tuple(input_shape)}, cropping={self.cropping}"
                    )
                out[axis] = input_shape[axis] - sum(crop)
        return tuple(out)

    def call(self, inputs: Any) -> Any:
        self.compute_output_shape(_shape_of(inputs))
        (t, b), (left, r) = self.cropping
        rs, cs = slice(t, -b if b else None), slice(left, -r if r else None)
        if self.data_format == "channels_first":
            return inputs[:, :, rs, cs]
        return inputs[:, rs, cs, :]


class ZeroPadding1D(Layer):
    """Pads axis 1 of a ``(batch, steps, features)`` input with zeros.

    Args:
      padding: an int (both sides) or ``(left, right)``.
      data_format: "channels_last" (default) or "channels_first" (``(batch, features, steps)``).

    Raises:
      ValueError: for a malformed or negative ``padding``; at call, an input that is not rank 3.
    """

    def __init__(self, padding: Any = 1, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.padding = _pair(padding, "padding", "ZeroPadding1D")
        self.data_format = _data_format(data_format, "ZeroPadding1D")
        self.input_spec = InputSpec(ndim=3)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """The steps axis grows by ``left + right``."""
        axis = 1 if self.data_format == "channels_last" else 2
        out = list(input_shape)
        if out[axis] is not None:
            out[axis] += sum(self.padding)
        return tuple(out)

    def call(self, inputs: Any) -> Any:
        if self.data_format == "channels_first":
            return gt.pad(inputs, [[0, 0], [0, 0], list(self.padding)])
        return gt.pad(inputs, [[0, 0], list(self.padding), [0, 0]])


def _data_format(value: str | None, layer: str) -> str:
    value = (value or "channels_last").lower()
    if value not in ("channels_last", "channels_first"):
        raise ValueError(f"{layer}: data_format must be 'channels_last' or 'channels_first', got {value!r}")
    return value
