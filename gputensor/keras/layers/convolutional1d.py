"""1-D convolution, pooling and upsampling layers: Conv1D, MaxPooling1D, AveragePooling1D,
GlobalMaxPooling1D, GlobalAveragePooling1D, UpSampling1D (Keras 3 defaults: channels_last,
glorot_uniform kernels, zeros biases).

They run on the 2-D ops with a unit "height" axis inserted: ``(N, L, C)`` becomes
``(N, 1, L, C)`` (``(N, C, L)`` becomes ``(N, C, 1, L)`` for channels_first), so they share the
2-D kernels and their gradients.
"""

from __future__ import annotations

from typing import Any

import gputensor as gt
from gputensor.keras import activations as _activations
from gputensor.keras import initializers as _initializers
from gputensor.keras.layers.base import InputSpec, Layer, _shape_of
from gputensor.keras.layers.convolutional import _data_format, _grouped, _padding

__all__ = [
    "Conv1D",
    "MaxPooling1D",
    "AveragePooling1D",
    "GlobalMaxPooling1D",
    "GlobalAveragePooling1D",
    "UpSampling1D",
]


def _single(value: Any, what: str, layer: str) -> int:
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError(f"{layer}: {what} must be an int or a tuple of 1 int, got {tuple(value)}")
        value = value[0]
    value = int(value)
    if value <= 0:
        raise ValueError(f"{layer}: {what} must be positive, got {value}")
    return value


def _to_2d(x: Any, data_format: str) -> Any:
    # channels_last (N, L, C) -> NHWC (N, 1, L, C); channels_first (N, C, L) -> NCHW (N, C, 1, L).
    return gt.expand_dims(x, 1 if data_format == "channels_last" else 2)


def _from_2d(y: Any, data_format: str) -> Any:
    return gt.squeeze(y, [1 if data_format == "channels_last" else 2])


def _fmt(data_format: str) -> str:
    return "NHWC" if data_format == "channels_last" else "NCHW"


def _check_rank3(layer: Layer, input_shape: Any) -> None:
    if len(input_shape) != 3:
        raise ValueError(
            f"{type(layer).__name__} layer {layer.name!r} expects a rank-3 input (batch, steps, channels), "
            f"got input shape {tuple(input_shape)}"
        )


def _steps_out(steps: int | None, window: int, stride: int, dilation: int, padding: str) -> int | None:
    # Keras's conv_output_length; "causal" pads dilation * (window - 1) on the left, so it
    # keeps the length as "same" does.
    if steps is None:
        return None
    if padding == "valid":
        return (steps - dilation * (window - 1) - 1) // stride + 1
    return -(-steps // stride)


def _as_shape(input_shape: Any) -> tuple:
    if hasattr(input_shape, "as_list"):
        input_shape = input_shape.as_list()
    return tuple(None if d is None else int(d) for d in input_shape)


def _with_steps(layer: Layer, input_shape: Any, steps_fn: Any, channels: int | None = None) -> tuple:
    shape = _as_shape(input_shape)
    _check_rank3(layer, shape)
    if layer.data_format == "channels_last":
        return (shape[0], steps_fn(shape[1]), shape[2] if channels is None else channels)
    return (shape[0], shape[1] if channels is None else channels, steps_fn(shape[2]))


class Conv1D(Layer):
    """1-D convolution over steps, as ``keras.layers.Conv1D`` (kernel ``(k, in/groups, filters)``).

    Args:
      filters: the number of output channels.
      kernel_size: an int (or a 1-tuple).
      strides: an int (default 1).
      padding: "valid" (default), "same" or "causal" (zeros on the left only, so output
        step ``t`` sees inputs up to ``t``: ``dilation_rate * (kernel_size - 1)`` of them).
      data_format: "channels_last" (default, ``(batch, steps, channels)``) or "channels_first".
      dilation_rate: an int (default 1); Keras refuses strides > 1 together with it.
      groups: split the channels into this many independent convolutions.
      activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
      bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as Keras.

    Raises:
      ValueError: for bad arguments; at call, a non-rank-3 input or a channel count
        other than the built one (naming the layer and shapes).

    >>> conv = Conv1D(8, 3, padding="causal")
    >>> conv(gt.zeros([2, 10, 4])).shape
    TensorShape([2, 10, 8])
    >>> conv.kernel.shape
    TensorShape([3, 4, 8])
    """

    _promotes_integers = True  # Layer: int and bool inputs are cast to the layer dtype

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        groups: int = 1,
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
        self.filters = int(filters)
        if self.filters <= 0:
            raise ValueError(f"Conv1D: filters must be positive, got {filters}")
        if groups <= 0 or self.filters % groups:
            raise ValueError(f"Conv1D: filters ({filters}) must be a positive multiple of groups ({groups})")
        self.groups = int(groups)
        self.kernel_size = (_single(kernel_size, "kernel_size", "Conv1D"),)
        self.strides = (_single(strides, "strides", "Conv1D"),)
        self.dilation_rate = (_single(dilation_rate, "dilation_rate", "Conv1D"),)
        if self.strides[0] > 1 and self.dilation_rate[0] > 1:
            raise ValueError(
                f"Conv1D: strides > 1 is not supported together with dilation_rate > 1 (as Keras), "
                f"got strides={self.strides[0]} and dilation_rate={self.dilation_rate[0]}"
            )
        self.padding = _padding(padding, "Conv1D", ("valid", "same", "causal"))
        self.data_format = _data_format(data_format, "Conv1D")
        self.activation = _activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = _initializers.get(kernel_initializer)
        self.bias_initializer = _initializers.get(bias_initializer)
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint
        self.input_spec = InputSpec(ndim=3)

    @property
    def _channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    def build(self, input_shape: Any) -> None:
        _check_rank3(self, input_shape)
        c = input_shape[self._channel_axis]
        if c is None:
            raise ValueError(
                f"Conv1D layer {self.name!r}: the channel dimension of the input must be known, "
                f"got input shape {tuple(input_shape)}"
            )
        c = int(c)
        if c % self.groups:
            raise ValueError(
                f"Conv1D layer {self.name!r}: the input channels ({c}) must be a multiple of groups ({self.groups}); "
                f"input shape {tuple(input_shape)}"
            )
        self.kernel = self.add_weight(
            "kernel", (self.kernel_size[0], c // self.groups, self.filters), initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )  # fmt: skip
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                "bias", (self.filters,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )  # fmt: skip
        self.input_spec = InputSpec(ndim=3, axes={self._channel_axis: c})
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """``(batch, new_steps, filters)`` (channels_first: ``(batch, filters, new_steps)``)."""
        return _with_steps(
            self, input_shape,
            lambda n: _steps_out(n, self.kernel_size[0], self.strides[0], self.dilation_rate[0], self.padding),
            self.filters,
        )  # fmt: skip

    def call(self, inputs: Any) -> Any:
        x = inputs
        padding = self.padding
        if padding == "causal":
            # Left zeros only, then a valid convolution: output step t sees inputs <= t.
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            steps = (
                [[0, 0], [left, 0], [0, 0]]
                if self.data_format == "channels_last"
                else [[0, 0], [0, 0], [left, 0]]
            )
            x = gt.pad(x, steps)
            padding = "valid"
        fmt = _fmt(self.data_format)
        x = _to_2d(x, self.data_format)
        kernel = gt.expand_dims(self.kernel, 0)  # (1, k, in/groups, filters)

        def conv(a: Any, k: Any) -> Any:
            return gt.nn.conv2d(
                a,
                k,
                (1, self.strides[0]),
                padding.upper(),
                data_format=fmt,
                dilations=(1, self.dilation_rate[0]),
            )

        y = _grouped(conv, x, kernel, self.groups, 3 if fmt == "NHWC" else 1)
        if self.bias is not None:
            y = gt.nn.bias_add(y, self.bias, data_format=fmt)
        return self.activation(_from_2d(y, self.data_format))


class _Pool1D(Layer):
    _fn = "max_pool2d"

    def __init__(
        self, pool_size: Any = 2, strides: Any = None, padding: str = "valid", data_format: str | None = None,
        **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.pool_size = (_single(pool_size, "pool_size", cls),)
        self.strides = self.pool_size if strides is None else (_single(strides, "strides", cls),)
        self.padding = _padding(padding, cls, ("valid", "same"))
        self.data_format = _data_format(data_format, cls)
        self.input_spec = InputSpec(ndim=3)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """The input shape with the steps axis pooled."""
        return _with_steps(
            self, input_shape, lambda n: _steps_out(n, self.pool_size[0], self.strides[0], 1, self.padding)
        )

    def call(self, inputs: Any) -> Any:
        y = getattr(gt.nn, self._fn)(
            _to_2d(inputs, self.data_format), (1, self.pool_size[0]), (1, self.strides[0]),
            self.padding.upper(), data_format=_fmt(self.data_format),
        )  # fmt: skip
        return _from_2d(y, self.data_format)


class MaxPooling1D(_Pool1D):
    """The maximum over windows of ``pool_size`` steps, as ``keras.layers.MaxPooling1D``.

    Args:
      pool_size: an int (default 2).
      strides: an int; default ``pool_size``.
      padding: "valid" (default) or "same".
      data_format: "channels_last" (default) or "channels_first".

    >>> MaxPooling1D()(gt.reshape(gt.range(6.0), [1, 6, 1]))[0, :, 0].numpy()
    array([1., 3., 5.], dtype=float32)
    """

    _fn = "max_pool2d"


class AveragePooling1D(_Pool1D):
    """The mean over windows of ``pool_size`` steps; with "same" padding only in-bounds steps count.

    Args: as `MaxPooling1D`, but ``pool_size`` is required (as Keras 3).

    >>> AveragePooling1D(3, strides=1, padding="same")(gt.reshape(gt.range(4.0), [1, 4, 1]))[0, :, 0].numpy()
    array([0.5, 1. , 2. , 2.5], dtype=float32)
    """

    _fn = "avg_pool2d"

    def __init__(
        self, pool_size: Any, strides: Any = None, padding: str = "valid", data_format: str | None = None,
        **kwargs: Any,
    ) -> None:  # fmt: skip
        # Keras 3's AveragePooling1D has no default pool_size (MaxPooling1D's is 2).
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class _GlobalPool1D(Layer):
    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format, type(self).__name__)
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=3)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """``(batch, channels)``, or with ``keepdims`` the input shape with 1 steps."""
        shape = _as_shape(input_shape)
        _check_rank3(self, shape)
        axis = 1 if self.data_format == "channels_last" else 2
        if self.keepdims:
            return tuple(1 if i == axis else d for i, d in enumerate(shape))
        return tuple(d for i, d in enumerate(shape) if i != axis)

    def call(self, inputs: Any) -> Any:
        axis = 1 if self.data_format == "channels_last" else 2
        return self._reduce(inputs, axis=axis, keepdims=self.keepdims)


class GlobalAveragePooling1D(_GlobalPool1D):
    """The mean over steps: ``(N, L, C) -> (N, C)`` (``(N, 1, C)`` with ``keepdims=True``).

    Args:
      data_format: "channels_last" (default) or "channels_first" (``(N, C, L)`` input).
      keepdims: keep the steps axis with length 1.
    """

    _reduce = staticmethod(gt.reduce_mean)
    supports_masking = True

    def call(self, inputs: Any, mask: Any = None) -> Any:
        """The mean over steps; with a ``(batch, steps)`` mask, over the unmasked steps only
        (Keras 3: ``sum(x * mask) / sum(mask)``)."""
        if mask is None:
            return _GlobalPool1D.call(self, inputs)
        channels_last = self.data_format == "channels_last"
        axis = 1 if channels_last else 2
        mask = gt.expand_dims(gt.cast(mask, inputs.dtype), 2 if channels_last else 1)
        total = gt.reduce_sum(inputs * mask, axis=axis, keepdims=self.keepdims)
        return total / gt.reduce_sum(mask, axis=axis, keepdims=self.keepdims)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """None: the steps axis is pooled away."""
        return None


class GlobalMaxPooling1D(_GlobalPool1D):
    """The maximum over steps: ``(N, L, C) -> (N, C)`` (``(N, 1, C)`` with ``keepdims=True``).

    Args: as `GlobalAveragePooling1D`.
    """

    _reduce = staticmethod(gt.reduce_max)


class UpSampling1D(Layer):
    """Repeats each step ``size`` times: ``(N, L, C) -> (N, L * size, C)``, as ``keras.layers.UpSampling1D``.

    >>> UpSampling1D(2)(gt.reshape(gt.range(3.0), [1, 3, 1]))[0, :, 0].numpy()
    array([0., 0., 1., 1., 2., 2.], dtype=float32)
    """

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.size = _single(size, "size", "UpSampling1D")
        self.input_spec = InputSpec(ndim=3)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """``(batch, steps * size, channels)``."""
        shape = _as_shape(input_shape)
        _check_rank3(self, shape)
        return (shape[0], None if shape[1] is None else shape[1] * self.size, shape[2])

    def call(self, inputs: Any) -> Any:
        # Tile on a new axis and merge it into the steps, rather than gt.repeat: repeat's
        # gather indices depend on the steps, which may be a None dim here.
        tiled = gt.tile(gt.expand_dims(inputs, 2), [1, 1, self.size, 1])
        _, steps, channels = _shape_of(inputs)
        if steps is not None and channels is not None:  # static dims keep the static shape
            return gt.reshape(tiled, [-1, steps * self.size, channels])
        shape = gt.shape(tiled)
        return gt.reshape(tiled, gt.stack([shape[0], shape[1] * self.size, shape[3]]))
