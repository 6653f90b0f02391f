"""``EinsumDense``: a dense layer whose product is an einsum equation, as Keras 3's.

``MultiHeadAttention`` builds its query/key/value/output projections from it. The kernel and
bias shapes come from the equation, the input shape and the partial ``output_shape`` by
Keras's own rules (`analyze_einsum_string`), so weight files move between the two.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import gputensor as gt
from gputensor.keras import activations as _activations
from gputensor.keras import initializers as _initializers
from gputensor.keras.layers.base import InputSpec, Layer, _serialize_value

__all__ = ["EinsumDense", "analyze_einsum_string"]


class EinsumDense(Layer):
    """``activation(einsum(equation, inputs, kernel) + bias)``, as ``keras.layers.EinsumDense``.

    Args:
      equation: ``"ab,bc->ac"``, ``"...ab,bc->...ac"`` or ``"ab...,bc->ac..."``: the input's,
        the kernel's and the output's axes.
      output_shape: the output shape without the batch dim and the ``...`` dims (an int for
        one dim); None where the input gives the size.
      activation: a name or callable (default linear).
      bias_axes: the output axes (letters of the output spec) that carry a bias, or None.
      kernel_initializer: default ``"glorot_uniform"``, its fans taken from the kernel's input
        and output axes (Keras 3.15).
      bias_initializer: default ``"zeros"``.
      kernel_regularizer, bias_regularizer, activity_regularizer: optional penalties.
      kernel_constraint, bias_constraint: optional callables for optimizers.
      lora_rank, lora_alpha, gptq_unpacked_column_size, quantization_config: Keras 3.15 config
        entries, accepted when unset (LoRA and quantized layers are not built).

    Raises:
      ValueError: for an equation not of those forms, a bias axis not in the output, or
        (at build) an input whose shape disagrees with ``output_shape``.

    >>> layer = EinsumDense("abc,cd->abd", output_shape=(None, 4), bias_axes="d")
    >>> layer(gt.ones([2, 3, 5])).shape
    TensorShape([2, 3, 4])
    >>> [tuple(w.shape) for w in layer.weights]
    [(5, 4), (4,)]
    """

    supports_masking = False
    _promotes_integers = True

    def __init__(
        self,
        equation: str,
        output_shape: Any,
        activation: Any = None,
        bias_axes: str | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        gptq_unpacked_column_size: int | None = None,
        quantization_config: Any = None,
        **kwargs: Any,
    ) -> None:
        if gptq_unpacked_column_size:
            raise ValueError(
                "EinsumDense: gptq_unpacked_column_size is not supported (quantized layers are not "
                "built); load the model without it"
            )
        super().__init__(
            lora_rank=lora_rank, lora_alpha=lora_alpha, quantization_config=quantization_config, **kwargs
        )
        if not isinstance(equation, str):
            raise TypeError(f"EinsumDense: equation must be a string such as 'ab,bc->ac', got {equation!r}")
        _split(equation)  # a bad equation fails here, as Keras fails at build
        self.equation = equation
        if isinstance(output_shape, int):
            self.partial_output_shape = (output_shape,)
        else:
            self.partial_output_shape = tuple(None if d is None else int(d) for d in output_shape)
        self.bias_axes = bias_axes
        self.activation = _activations.get(activation)
        self.kernel_initializer = _initializers.get(kernel_initializer)
        self.bias_initializer = _initializers.get(bias_initializer)
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint
        self.bias = None

    def build(self, input_shape: Any) -> None:
        input_shape = tuple(input_shape)
        kernel_shape, bias_shape, _, input_axes, output_axes = analyze_einsum_string(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape
        )
        if any(d is None for d in kernel_shape):
            raise ValueError(
                f"EinsumDense layer {self.name!r}: the kernel's shape {tuple(kernel_shape)} has unknown dims; "
                f"the input shape {input_shape} and output_shape {self.partial_output_shape} must give "
                f"every kernel axis of {self.equation!r}"
            )
        init = self.kernel_initializer
        if isinstance(init, _initializers.VarianceScaling) and (
            init.input_axes is None or init.output_axes is None
        ):
            # Keras 3.15: the fans multiply the kernel's input and output axes, not its layout.
            init = copy.copy(init)
            init.input_axes, init.output_axes = list(input_axes), list(output_axes)
        self._kernel = self.add_weight(
            "kernel", tuple(kernel_shape), initializer=init,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )  # fmt: skip
        self.bias = None
        if bias_shape is not None:
            self.bias = self.add_weight(
                "bias", tuple(bias_shape), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )  # fmt: skip
        self.input_spec = InputSpec(ndim=len(input_shape))
        self.built = True

    @property
    def kernel(self) -> gt.Variable:
        """The kernel (created by ``build``)."""
        if "_kernel" not in vars(self):
            raise AttributeError(
                f"EinsumDense layer {self.name!r} has no kernel until it is built (called once)."
            )
        return self._kernel

    def call(self, inputs: Any) -> Any:
        y = gt.einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """The full output shape for ``input_shape`` (Keras's rule)."""
        return tuple(
            analyze_einsum_string(
                self.equation, self.bias_axes, tuple(input_shape), self.partial_output_shape
            )[2]
        )

    def get_config(self) -> dict:
        """Keras 3.15's EinsumDense config."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self._dtype_config()}
        config.update(
            {
                "output_shape": self.partial_output_shape,
                "equation": self.equation,
                "activation": _serialize_value(self.activation),
                "bias_axes": self.bias_axes,
                "kernel_initializer": _serialize_value(self.kernel_initializer),
                "bias_initializer": _serialize_value(self.bias_initializer),
                "kernel_regularizer": _serialize_value(self.kernel_regularizer),
                "bias_regularizer": _serialize_value(self.bias_regularizer),
                "activity_regularizer": _serialize_value(self.activity_regularizer),
                "kernel_constraint": _serialize_value(self.kernel_constraint),
                "bias_constraint": _serialize_value(self.bias_constraint),
                "quantization_config": None,
            }
        )
        return config


def _split(equation: str) -> tuple:
    """``(match, left_elided)`` for the three equation forms Keras accepts."""
    text = re.sub(r"\.\.\.", "0", equation)
    for pattern, left in (
        ("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", False),
        ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", True),
        ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", False),
    ):
        match = re.fullmatch(pattern, text)
        if match:
            return match, left
    raise ValueError(
        f"Invalid einsum equation '{equation}'. Equations must be in the form "
        "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
    )


def analyze_einsum_string(
    equation: str, bias_axes: str | None, input_shape: tuple, output_shape: Any
) -> tuple:
    """``(kernel_shape, bias_shape, full_output_shape, input_axes, output_axes)`` for an
    EinsumDense equation, by Keras 3's rules (``_analyze_split_string``).

    Raises:
      ValueError: a bad equation, an input dim that disagrees with ``output_shape``, an output
        or kernel axis with no source, or a bias axis not in the output.
    """
    match, left_elided = _split(equation)
    input_spec, weight_spec, output_spec = match.group(1), match.group(2), match.group(3)
    elided = len(input_shape) - len(input_spec)
    output_shape = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    output_shape.insert(0, input_shape[0])
    if elided > 0 and left_elided:
        for i in range(1, elided):
            output_shape.insert(1, input_shape[i])
    elif elided > 0:
        for i in range(len(input_shape) - elided, len(input_shape)):
            output_shape.append(input_shape[i])
    if left_elided:
        input_dim_map = {dim: (i + elided) - len(input_shape) for i, dim in enumerate(input_spec)}
        output_dim_map = {dim: i + elided for i, dim in enumerate(output_spec)}
    else:
        input_dim_map = {dim: i for i, dim in enumerate(input_spec)}
        output_dim_map = {dim: i for i, dim in enumerate(output_spec)}
    if len(output_shape) != len(output_spec) + max(elided, 0):
        raise ValueError(
            f"EinsumDense: output_shape {tuple(output_shape[1:])} (with the batch dim) does not have the "
            f"rank of the equation's output '{output_spec}' in {equation!r} for input shape {tuple(input_shape)}"
        )
    for dim in input_spec:
        in_size = input_shape[input_dim_map[dim]]
        if dim in output_dim_map:
            out_size = output_shape[output_dim_map[dim]]
            if out_size is not None and in_size is not None and out_size != in_size:
                raise ValueError(
                    f"Input shape and output shape do not match at shared dimension '{dim}'. Input shape "
                    f"is {in_size}, and output shape is {out_size}."
                )
            if out_size is None:
                output_shape[output_dim_map[dim]] = in_size
    for dim in output_spec:
        if dim not in input_spec and dim not in weight_spec:
            raise ValueError(
                f"Dimension '{dim}' was specified in the output '{output_spec}' but has no corresponding dim "
                f"in the input spec '{input_spec}' or weight spec '{weight_spec}'"
            )
    weight_shape, input_axes, output_axes = [], [], []
    for i, dim in enumerate(weight_spec):
        if dim in output_dim_map:
            weight_shape.append(output_shape[output_dim_map[dim]])
            output_axes.append(i)
        elif dim in input_dim_map:
            weight_shape.append(input_shape[input_dim_map[dim]])
            input_axes.append(i)
        else:
            raise ValueError(
                f"Weight dimension '{dim}' did not have a match in either the input spec '{input_spec}' or the "
                f"output spec '{output_spec}'. For this layer, the weight must be fully specified."
            )
    bias_shape = None
    if bias_axes is not None:
        num_left_elided = elided if left_elided else 0
        idx_map = {char: output_shape[i + num_left_elided] for i, char in enumerate(output_spec)}
        for char in bias_axes:
            if char not in output_spec:
                raise ValueError(
                    f"Bias dimension '{char}' was requested, but is not part of the output spec '{output_spec}'"
                )
        first = min(output_spec.find(char) for char in bias_axes)
        bias_shape = [idx_map[char] if char in bias_axes else 1 for char in output_spec[first:]]
        if not left_elided:
            bias_shape.extend([1] * max(elided, 0))
    return weight_shape, bias_shape, output_shape, input_axes, output_axes
