"""Core layers: InputLayer, Dense, Embedding, Activation, ReLU, Dropout, Rescaling,
Flatten, Reshape, Add, Concatenate, ZeroPadding2D."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import gputensor as gt
from gputensor.keras import activations as _activations
from gputensor.keras import initializers as _initializers
from gputensor.keras.layers.base import InputSpec, Layer, _shape_of

__all__ = [
    "InputLayer",
    "Dense",
    "Embedding",
    "Activation",
    "ReLU",
    "Dropout",
    "Rescaling",
    "Flatten",
    "Reshape",
    "Add",
    "Concatenate",
    "ZeroPadding2D",
]


class InputLayer(Layer):
    """The layer behind ``keras.Input``: it has no weights and passes its input through.

    Args:
      shape: the input shape without the batch dim.
      batch_size: an optional fixed batch size.
      dtype: the input dtype (default float32).
      name: the layer's name (default ``input_layer``, made unique).
    """

    def __init__(
        self,
        shape: Any = None,
        batch_size: int | None = None,
        dtype: Any = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        batch_shape = kwargs.pop("batch_shape", None) or kwargs.pop("batch_input_shape", None)
        if "input_shape" in kwargs:
            shape = kwargs.pop("input_shape")
        for flag in ("sparse", "ragged", "optional"):  # Keras 3 config entries; dense inputs only
            if kwargs.pop(flag, False):
                raise ValueError(f"InputLayer: {flag}=True inputs are not supported; feed dense tensors")
        # Keras 3: an input is float32 (floatx) unless told, whatever the global dtype policy.
        super().__init__(name=name, dtype="float32" if dtype is None else dtype, **kwargs)
        if batch_shape is None:
            if shape is None:
                raise ValueError("InputLayer: pass `shape` (the input shape without the batch dim)")
            batch_shape = (batch_size, *tuple(shape))
        self.batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self._batch_input_shape = self.batch_shape
        self.built = True

    def get_config(self) -> dict:
        """Keras 3's InputLayer config (Keras refuses ``shape`` next to ``batch_shape``)."""
        return {
            "batch_shape": list(self.batch_shape),
            "dtype": self.dtype.name,
            "sparse": False,
            "ragged": False,
            "name": self.name,
            "optional": False,
        }


class Dense(Layer):
    """``activation(inputs @ kernel + bias)`` on the last axis, as ``keras.layers.Dense``.

    Args:
      units: the output size.
      activation: a name or callable (default linear).
      use_bias: whether to add a bias.
      kernel_initializer: default ``"glorot_uniform"``.
      bias_initializer: default ``"zeros"``.
      kernel_regularizer, bias_regularizer, activity_regularizer: optional penalties.
      kernel_constraint, bias_constraint: optional callables for optimizers.

    Raises:
      ValueError: for non-positive ``units``; at call, an input whose last dim is
        unknown or differs from the built one.

    >>> layer = Dense(3, activation="relu")
    >>> layer(gt.ones([2, 4])).shape
    TensorShape([2, 3])
    >>> [(w.name, w.path) for w in layer.weights]
    [('kernel', 'dense/kernel'), ('bias', 'dense/bias')]
    """

    supports_masking = True  # Keras 3: passes the input's mask on

    _promotes_integers = True

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"Dense: units must be a positive integer, got {units!r}")
        self.units = int(units)
        self.activation = _activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = _initializers.get(kernel_initializer)
        self.bias_initializer = _initializers.get(bias_initializer)
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape: Any) -> None:
        in_dim = input_shape[-1] if len(input_shape) else None
        if in_dim is None:
            raise ValueError(
                f"Dense layer {self.name!r}: the last dimension of the input must be known to build, "
                f"got input shape {tuple(input_shape)}"
            )
        # `_kernel`, read through the `kernel` property, as Keras 3's Dense: a checkpoint names
        # it net/l1/_kernel, as TF's does.
        self._kernel = self.add_weight(
            "kernel", (in_dim, self.units), initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )  # fmt: skip
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                "bias", (self.units,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )  # fmt: skip
        self.input_spec = InputSpec(min_ndim=2, axes={-1: in_dim})
        self.built = True

    @property
    def kernel(self) -> gt.Variable:
        """The ``(input_dim, units)`` weight (created by ``build``)."""
        if "_kernel" not in vars(self):
            raise AttributeError(f"Dense layer {self.name!r} has no kernel until it is built (called once).")
        return self._kernel

    def call(self, inputs: Any) -> Any:
        rank = len(_shape_of(inputs))
        if rank == 2:
            y = gt.matmul(inputs, self.kernel)
        else:
            y = gt.tensordot(inputs, self.kernel, [[rank - 1], [0]])
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)


class Embedding(Layer):
    """Rows of an ``(input_dim, output_dim)`` table looked up by integer ids.

    Args:
      input_dim: the vocabulary size (ids lie in ``[0, input_dim)``).
      output_dim: the embedding size.
      embeddings_initializer: default ``"uniform"`` (±0.05, as Keras).
      embeddings_regularizer: an optional penalty.
      mask_zero: id 0 is padding: the output carries the mask ``inputs != 0`` (Keras's
        ``compute_mask``), which recurrent layers and masked pooling honour; ``input_dim``
        must then count the padding id.

    Raises:
      ValueError: for non-positive sizes. Out-of-range ids raise from ``gt.gather``.
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("input_length", None)
        super().__init__(**kwargs)
        if input_dim <= 0 or output_dim <= 0:
            raise ValueError(
                f"Embedding: input_dim and output_dim must be positive, got {input_dim}, {output_dim}"
            )
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = _initializers.get(embeddings_initializer)
        self.embeddings_regularizer = embeddings_regularizer
        self.embeddings_constraint = embeddings_constraint
        self.mask_zero = mask_zero

    def build(self, input_shape: Any = None) -> None:
        self.embeddings = self.add_weight(
            "embeddings", (self.input_dim, self.output_dim), initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer, constraint=self.embeddings_constraint,
        )  # fmt: skip
        self.built = True

    def _convert_input(self, x: Any) -> Any:
        if gt.is_tensor(x) and not x.dtype.is_integer and not x.dtype.is_floating:
            return x
        if not gt.is_tensor(x) and not hasattr(x, "_keras_history"):
            x = gt.constant(np.asarray(x))
        if gt.is_tensor(x) and x.dtype.is_floating:
            x = gt.cast(x, gt.int32)  # Keras casts float ids to int
        return x

    def call(self, inputs: Any) -> Any:
        if inputs.dtype not in (gt.int32, gt.int64):
            inputs = gt.cast(inputs, gt.int32)
        return gt.gather(self.embeddings, inputs)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """``inputs != 0`` with ``mask_zero=True`` (padding ids are masked), else None."""
        if not self.mask_zero:
            return None
        return gt.not_equal(inputs, gt.zeros_like(inputs))


class Activation(Layer):
    """Applies an activation function given by name or callable."""

    supports_masking = True  # Keras 3: passes the input's mask on

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = _activations.get(activation)

    def call(self, inputs: Any) -> Any:
        return self.activation(inputs)


class ReLU(Layer):
    """``max(x, 0)`` with Keras's ``max_value``, ``negative_slope`` and ``threshold``.

    Raises:
      ValueError: for a negative ``max_value`` or ``negative_slope``.
    """

    supports_masking = True  # Keras 3: passes the input's mask on

    def __init__(
        self,
        max_value: float | None = None,
        negative_slope: float = 0.0,
        threshold: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError(f"ReLU: max_value must be >= 0, got {max_value}")
        if negative_slope < 0:
            raise ValueError(f"ReLU: negative_slope must be >= 0, got {negative_slope}")
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def call(self, inputs: Any) -> Any:
        return _activations.relu(inputs, self.negative_slope, self.max_value, self.threshold)


_M32 = 1 << 32


def _mulmod32(h: gt.Tensor, c: int) -> gt.Tensor:
    # (h * c) mod 2**32 in int64 without overflow: split h into 16-bit halves.
    hi, lo = gt.floordiv(h, 65536), gt.floormod(h, 65536)
    return gt.floormod(lo * c + gt.floormod(hi * c, 65536) * 65536, _M32)


def _fmix32(h: gt.Tensor) -> gt.Tensor:
    # MurmurHash3's finaliser: a bijection on 32-bit ints with full avalanche.
    h = gt.bitwise_xor(h, gt.floordiv(h, 1 << 16))
    h = _mulmod32(h, 0x85EBCA6B)
    h = gt.bitwise_xor(h, gt.floordiv(h, 1 << 13))
    h = _mulmod32(h, 0xC2B2AE35)
    return gt.bitwise_xor(h, gt.floordiv(h, 1 << 16))


def hashed_uniform(like: gt.Tensor, seed: int, counter: Any) -> gt.Tensor:
    """Uniform [0, 1) floats shaped like ``like``, a hash of (seed, counter, position).

    Built from integer ops only, so it runs inside ``gt.function``, also inside control
    flow (where gt's stateful random ops are refused), with a counter variable giving a
    new draw per call, as Keras 3's SeedGenerator does.
    """
    shape = _shape_of(like)
    if all(d is not None for d in shape):
        idx = gt.constant(np.arange(math.prod(shape), dtype=np.int64).reshape(shape))
    else:
        ones = gt.ones_like(like, dtype=gt.int64)
        idx = gt.reshape(gt.cumsum(gt.reshape(ones, [-1])) - 1, gt.shape(like))
    base = _fmix32(gt.floormod(gt.cast(counter, gt.int64) * 40503 + (int(seed) % _M32), _M32))
    h = _fmix32(gt.floormod(gt.floormod(idx, _M32) * 2654435761 + base, _M32))
    if like.dtype in (gt.float16, gt.bfloat16):  # a 32-bit hash overflows float16: scale in float32
        return gt.cast(gt.cast(h, gt.float32) * (1.0 / _M32), like.dtype)
    return gt.cast(h, like.dtype) * (1.0 / _M32)


def fresh_seed() -> int:
    """A seed for a layer made without one: drawn from ``gt.random`` (so ``set_seed`` repeats it)."""
    return int(np.asarray(gt.random.uniform((), 0, 2**31 - 1, dtype=gt.int64)))


def next_draw(layer: Layer) -> gt.Tensor:
    """The layer's draw counter for this call, then advanced: a non-trainable int64 variable
    (``layer._seed_state``, made on first use, not one of ``weights``), so each call of a
    traced graph hashes a new mask, as Keras 3's SeedGenerator state."""
    if layer._seed_state is None:
        with layer.name_scope:
            layer._seed_state = gt.Variable(
                lambda: gt.constant(0, dtype=gt.int64), trainable=False, name="seed_state"
            )
    counter = gt.identity(layer._seed_state)
    layer._seed_state.assign_add(gt.constant(1, dtype=gt.int64))
    return counter


class Dropout(Layer):
    """Zeroes inputs with probability ``rate`` in training and scales the rest by 1/(1-rate).

    In inference (``training`` False or None) it returns its input. The mask is a
    hash of the layer's seed and a per-layer call counter (a non-trainable state
    variable, not one of ``weights``), so it works inside ``gt.function``.

    Args:
      rate: the drop probability in [0, 1).
      noise_shape: an optional mask shape broadcast to the input (None entries
        take the input's size).
      seed: an int for repeatable masks (default: drawn from ``gt.random``).

    Raises:
      ValueError: for ``rate`` outside [0, 1).
    """

    supports_masking = True  # Keras 3: passes the input's mask on

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout: rate must be a float in the range [0, 1), got {rate}")
        self.rate = float(rate)
        self.noise_shape = noise_shape
        self.seed = int(fresh_seed() if seed is None else seed)
        self._seed_state = None

    def call(self, inputs: Any, training: Any = None) -> Any:
        if not training or self.rate == 0:
            return inputs
        counter = next_draw(self)
        mask_like = inputs
        if self.noise_shape is not None:
            shape = _shape_of(inputs)
            ns = tuple(s if d is None else int(d) for d, s in zip(self.noise_shape, shape))
            mask_like = gt.zeros(ns, dtype=inputs.dtype)
        keep = hashed_uniform(mask_like, self.seed, counter) >= self.rate
        return gt.where(keep, inputs * (1.0 / (1.0 - self.rate)), gt.zeros_like(inputs))


class Rescaling(Layer):
    """``inputs * scale + offset`` (e.g. ``Rescaling(1/255)``)."""

    supports_masking = True  # Keras 3: passes the input's mask on

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    def call(self, inputs: Any) -> Any:
        return inputs * gt.cast(self.scale, inputs.dtype) + gt.cast(self.offset, inputs.dtype)


class Flatten(Layer):
    """Flattens all but the batch dim: ``(N, d1, d2, ...) -> (N, d1*d2*...)``."""

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs: Any) -> Any:
        shape = _shape_of(inputs)
        if self.data_format == "channels_first" and len(shape) > 2:
            inputs = gt.transpose(inputs, [0, *range(2, len(shape)), 1])  # Keras flattens channels last
            shape = _shape_of(inputs)
        rest = shape[1:]
        if all(d is not None for d in rest):
            return gt.reshape(inputs, [-1 if shape[0] is None else shape[0], math.prod(rest)])
        return gt.reshape(inputs, gt.stack([gt.shape(inputs, out_type=gt.int32)[0], -1]))


class Reshape(Layer):
    """Reshapes each example to ``target_shape`` (one entry may be -1).

    Raises:
      ValueError: if the sizes do not match, naming both shapes.
    """

    def __init__(self, target_shape: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1:
            raise ValueError(f"Reshape: at most one -1 in target_shape, got {self.target_shape}")

    def _resolved(self, shape: tuple) -> tuple:
        rest = shape[1:]
        target = self.target_shape
        if any(d is None for d in rest):
            return target
        total, known = math.prod(rest), math.prod(d for d in target if d != -1)
        if -1 in target:
            if known == 0 or total % known:
                raise ValueError(
                    f"Reshape layer {self.name!r}: cannot reshape input shape {shape} to (batch, *{target})"
                )
            return tuple(total // known if d == -1 else d for d in target)
        if known != total:
            raise ValueError(
                f"Reshape layer {self.name!r}: total size of the input {shape} ({total} per example) does not match "
                f"target_shape {target} ({known} per example)"
            )
        return target

    def call(self, inputs: Any) -> Any:
        shape = _shape_of(inputs)
        target = self._resolved(shape)
        if shape[0] is not None:
            return gt.reshape(inputs, [shape[0], *target])
        if -1 not in target:
            return gt.reshape(inputs, [-1, *target])
        return gt.reshape(inputs, gt.stack([gt.shape(inputs, out_type=gt.int32)[0], *target]))


class _Merge(Layer):
    supports_masking = True  # Keras 3's merge layers combine their inputs' masks

    def _maybe_build(self, inputs: Any) -> None:
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"A merge layer ({type(self).__name__} {self.name!r}) should be called on a list of inputs, "
                f"got a single input of shape {_shape_of(inputs)}"
            )
        if not self.built:
            self._build_input_shape = [_shape_of(x) for x in inputs]
            self.build(self._build_input_shape)
            self.built = True

    def _check_input_spec(self, inputs: Any) -> None:
        self._check_shapes([_shape_of(x) for x in inputs])

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """The elementwise OR of the inputs' masks, None when any input has none (Keras 3.15's
        base_merge rule: a step is kept where any input keeps it)."""
        if previous_mask is None or any(m is None for m in previous_mask):
            return None
        out = previous_mask[0]
        for m in previous_mask[1:]:
            out = gt.logical_or(out, m)
        return out


class Add(_Merge):
    """The elementwise sum of a list of same-shaped inputs.

    Raises:
      ValueError: for a single input or inputs of different shapes (naming them).
    """

    def _check_shapes(self, shapes: list) -> None:
        first = shapes[0]
        for s in shapes[1:]:
            ok = len(s) == len(first) and all(
                a is None or b is None or a == b or 1 in (a, b) for a, b in zip(s, first)
            )
            if not ok:
                raise ValueError(
                    f"Add layer {self.name!r}: inputs must have the same shape, got shapes {shapes}"
                )

    def call(self, inputs: Any) -> Any:
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Concatenate(_Merge):
    """Joins a list of inputs along ``axis`` (default -1, the channels).

    Raises:
      ValueError: if the inputs differ in rank or in any dim but ``axis`` (naming the shapes).
    """

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def _check_shapes(self, shapes: list) -> None:
        rank = len(shapes[0])
        axis = self.axis % rank if rank else 0
        for s in shapes[1:]:
            if len(s) != rank or any(
                i != axis and a is not None and b is not None and a != b
                for i, (a, b) in enumerate(zip(s, shapes[0]))
            ):
                raise ValueError(
                    f"Concatenate layer {self.name!r} requires inputs with matching shapes except for the concatenation "
                    f"axis {self.axis}. Received: input_shape={shapes}"
                )

    def call(self, inputs: Any) -> Any:
        return gt.concat(list(inputs), axis=self.axis)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """Keras 3's rule: each input's mask widened to the input's shape (all True for an
        unmasked input), joined along ``axis``, then ANY over the last axis."""
        if previous_mask is None or all(m is None for m in previous_mask):
            return None
        masks = []
        for x, m in zip(inputs, previous_mask):
            if m is None:
                masks.append(gt.ones_like(x, dtype=gt.bool))
            elif len(_shape_of(m)) < len(_shape_of(x)):
                masks.append(gt.logical_or(gt.expand_dims(m, -1), gt.zeros_like(x, dtype=gt.bool)))
            else:
                masks.append(m)
        return gt.reduce_any(gt.concat(masks, axis=self.axis), axis=-1)


class ZeroPadding2D(Layer):
    """Pads rows and columns of an image batch with zeros.

    Args:
      padding: an int (all four sides), ``(rows, cols)`` (symmetric) or
        ``((top, bottom), (left, right))``.
      data_format: "channels_last" (default) or "channels_first".

    Raises:
      ValueError: for a malformed ``padding``; at call, an input that is not rank 4.
    """

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(padding, int):
            pads = ((padding, padding), (padding, padding))
        elif len(padding) == 2 and all(isinstance(p, int) for p in padding):
            pads = ((padding[0], padding[0]), (padding[1], padding[1]))
        elif len(padding) == 2 and all(len(p) == 2 for p in padding):
            pads = (tuple(padding[0]), tuple(padding[1]))
        else:
            raise ValueError(
                f"ZeroPadding2D: padding should be an int, a tuple of 2 ints or a tuple of 2 tuples of 2 ints, "
                f"got {padding!r}"
            )
        self.padding = pads
        self.data_format = data_format or "channels_last"
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs: Any) -> Any:
        (t, b), (left, r) = self.padding
        if self.data_format == "channels_first":
            return gt.pad(inputs, [[0, 0], [0, 0], [t, b], [left, r]])
        return gt.pad(inputs, [[0, 0], [t, b], [left, r], [0, 0]])


class Average(Add):
    """The elementwise mean of a list of same-shaped inputs (Keras's ``Average``).

    Raises:
      ValueError: for a single input or inputs of different shapes (naming them).
    """

    def call(self, inputs: Any) -> Any:
        return Add.call(self, inputs) / float(len(inputs))


class Multiply(Add):
    """The elementwise product of a list of same-shaped inputs (Keras's ``Multiply``).

    Raises:
      ValueError: for a single input or inputs of different shapes (naming them).
    """

    def call(self, inputs: Any) -> Any:
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


def add(inputs: list, **kwargs: Any) -> Any:
    """``keras.layers.add``: ``Add(**kwargs)(inputs)``."""
    return Add(**kwargs)(inputs)


def average(inputs: list, **kwargs: Any) -> Any:
    """``keras.layers.average``: ``Average(**kwargs)(inputs)``."""
    return Average(**kwargs)(inputs)


def multiply(inputs: list, **kwargs: Any) -> Any:
    """``keras.layers.multiply``: ``Multiply(**kwargs)(inputs)``."""
    return Multiply(**kwargs)(inputs)


def concatenate(inputs: list, axis: int = -1, **kwargs: Any) -> Any:
    """``keras.layers.concatenate``: ``Concatenate(axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


class LeakyReLU(Layer):
    """``x if x >= 0 else negative_slope * x`` (Keras 3's ``LeakyReLU``, default slope 0.3).

    Raises:
      ValueError: for a negative or missing ``negative_slope``.
    """

    supports_masking = True  # Keras 3: passes the input's mask on

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        if "alpha" in kwargs:  # Keras 2's name, still accepted by Keras 3
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"LeakyReLU: negative_slope must be a number >= 0, got {negative_slope!r}")
        self.negative_slope = float(negative_slope)

    def call(self, inputs: Any) -> Any:
        return gt.nn.leaky_relu(inputs, alpha=self.negative_slope)


class UpSampling2D(Layer):
    """Repeats rows and columns of an image batch ``size`` times (nearest neighbour).

    Args:
      size: an int or ``(rows, cols)`` factors.
      data_format: "channels_last" (default) or "channels_first".
      interpolation: "nearest" (the only one built).

    Raises:
      ValueError: for another interpolation; at call, an input that is not rank 4.
    """

    def __init__(
        self,
        size: Any = (2, 2),
        data_format: str | None = None,
        interpolation: str = "nearest",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if interpolation != "nearest":
            raise ValueError(
                f"UpSampling2D: interpolation {interpolation!r} is not built in gputensor; use 'nearest'"
            )
        self.size = (size, size) if isinstance(size, int) else tuple(int(s) for s in size)
        self.data_format = data_format or "channels_last"
        self.interpolation = interpolation
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs: Any) -> Any:
        rows, cols = (1, 2) if self.data_format == "channels_last" else (2, 3)
        out = gt.repeat(inputs, self.size[0], axis=rows)
        return gt.repeat(out, self.size[1], axis=cols)
