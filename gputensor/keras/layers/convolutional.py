"""Convolution and pooling layers: Conv2D, DepthwiseConv2D, SeparableConv2D,
Conv2DTranspose, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D,
GlobalMaxPooling2D (Keras 3 defaults: channels_last, glorot_uniform kernels,
zeros biases)."""

from __future__ import annotations

from typing import Any

import gputensor as gt
from gputensor.keras import activations as _activations
from gputensor.keras import initializers as _initializers
from gputensor.keras.layers.base import InputSpec, Layer, _shape_of

__all__ = [
    "Conv2D",
    "DepthwiseConv2D",
    "SeparableConv2D",
    "Conv2DTranspose",
    "MaxPooling2D",
    "AveragePooling2D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling2D",
]


def _pair(value: Any, what: str, layer: str) -> tuple[int, int]:
    if isinstance(value, int):
        return (value, value)
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f"{layer}: {what} must be an int or a tuple of 2 ints, got {value}")
    return value


def _padding(value: str, layer: str, allowed: tuple[str, ...] = ("valid", "same")) -> str:
    value = str(value).lower()
    if value not in allowed:
        choices = " or ".join(repr(a) for a in allowed)
        raise ValueError(f"{layer}: padding must be {choices}, got {value!r}")
    return value


def _grouped(conv: Any, x: Any, kernel: Any, groups: int, channel_axis: int) -> Any:
    """``conv(x, kernel)``; with ``groups`` > 1, one convolution per channel group (the kernel
    split on its output axis), concatenated: Keras's grouped convolution."""
    if groups == 1:
        return conv(x, kernel)
    xs = gt.split(x, groups, axis=channel_axis)
    ks = gt.split(kernel, groups, axis=3)
    return gt.concat([conv(a, k) for a, k in zip(xs, ks)], axis=channel_axis)


def _data_format(value: str | None, layer: str) -> str:
    value = value or "channels_last"
    if value not in ("channels_last", "channels_first"):
        raise ValueError(f"{layer}: data_format must be 'channels_last' or 'channels_first', got {value!r}")
    return value


class _Conv(Layer):
    _promotes_integers = True  # Layer: int and bool inputs are cast to the layer dtype

    def __init__(
        self,
        kernel_size: Any,
        strides: Any = (1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = (1, 1),
        activation: Any = None,
        use_bias: bool = True,
        bias_initializer: Any = "zeros",
        bias_regularizer: Any = None,
        bias_constraint: Any = None,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        cls = type(self).__name__
        self.kernel_size = _pair(kernel_size, "kernel_size", cls)
        self.strides = _pair(strides, "strides", cls)
        self.padding = _padding(padding, cls)
        self.data_format = _data_format(data_format, cls)
        self.dilation_rate = _pair(dilation_rate, "dilation_rate", cls)
        self.activation = _activations.get(activation)
        self.use_bias = use_bias
        self.bias_initializer = _initializers.get(bias_initializer)
        self.bias_regularizer, self.bias_constraint = bias_regularizer, bias_constraint
        self.input_spec = InputSpec(ndim=4)

    @property
    def _channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    @property
    def _nhwc(self) -> str:
        return "NHWC" if self.data_format == "channels_last" else "NCHW"

    def _in_channels(self, input_shape: Any) -> int:
        if len(input_shape) != 4:
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} expects a rank-4 input (batch, height, width, channels), "
                f"got input shape {tuple(input_shape)}"
            )
        c = input_shape[self._channel_axis]
        if c is None:
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r}: the channel dimension of the input must be known, "
                f"got input shape {tuple(input_shape)}"
            )
        return int(c)

    def _add_bias(self, n: int) -> None:
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                "bias", (n,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )  # fmt: skip

    def _finish(self, y: Any) -> Any:
        if self.bias is not None:
            y = gt.nn.bias_add(y, self.bias, data_format=self._nhwc)
        return self.activation(y)


class Conv2D(_Conv):
    """2-D convolution, as ``keras.layers.Conv2D`` (kernel ``(kh, kw, in/groups, filters)``).

    Args:
      filters: the number of output channels.
      kernel_size: an int or pair.
      strides, dilation_rate: ints or pairs (default 1).
      padding: "valid" (default) or "same".
      data_format: "channels_last" (default) or "channels_first".
      groups: split the channels into this many independent convolutions.
      activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
      bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as Keras.

    Raises:
      ValueError: for bad arguments; at call, a non-rank-4 input or a channel count
        other than the built one (naming the layer and shapes).

    >>> conv = Conv2D(8, 3, strides=2, padding="same")
    >>> conv(gt.zeros([1, 28, 28, 3])).shape
    TensorShape([1, 14, 14, 8])
    >>> conv.kernel.shape
    TensorShape([3, 3, 3, 8])
    """

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = (1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = (1, 1),
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
        super().__init__(
            kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
            bias_initializer, bias_regularizer, bias_constraint, activity_regularizer, **kwargs,
        )  # fmt: skip
        if filters <= 0:
            raise ValueError(f"Conv2D: filters must be positive, got {filters}")
        if groups <= 0 or filters % groups:
            raise ValueError(f"Conv2D: filters ({filters}) must be a positive multiple of groups ({groups})")
        self.filters, self.groups = int(filters), int(groups)
        self.kernel_initializer = _initializers.get(kernel_initializer)
        self.kernel_regularizer, self.kernel_constraint = kernel_regularizer, kernel_constraint

    def build(self, input_shape: Any) -> None:
        c = self._in_channels(input_shape)
        if c % self.groups:
            raise ValueError(
                f"Conv2D layer {self.name!r}: the input channels ({c}) must be a multiple of groups ({self.groups}); "
                f"input shape {tuple(input_shape)}"
            )
        self.kernel = self.add_weight(
            "kernel", (*self.kernel_size, c // self.groups, self.filters), initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )  # fmt: skip
        self._add_bias(self.filters)
        self.input_spec = InputSpec(ndim=4, axes={self._channel_axis: c})
        self.built = True

    def call(self, inputs: Any) -> Any:
        conv = lambda x, k: gt.nn.conv2d(  # noqa: E731
            x, k, self.strides, self.padding.upper(), data_format=self._nhwc, dilations=self.dilation_rate
        )
        axis = 3 if self.data_format == "channels_last" else 1
        return self._finish(_grouped(conv, inputs, self.kernel, self.groups, axis))


class DepthwiseConv2D(_Conv):
    """Per-channel 2-D convolution; kernel ``(kh, kw, in_channels, depth_multiplier)``.

    Args:
      kernel_size, strides, padding, data_format, dilation_rate: as Conv2D.
      depth_multiplier: output channels per input channel.
      depthwise_initializer: default glorot_uniform.
      (Keras 3 names the weight ``kernel``.)
    """

    def __init__(
        self,
        kernel_size: Any,
        strides: Any = (1, 1),
        padding: str = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate: Any = (1, 1),
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
            bias_initializer, bias_regularizer, bias_constraint, activity_regularizer, **kwargs,
        )  # fmt: skip
        self.depth_multiplier = int(depth_multiplier)
        self.depthwise_initializer = _initializers.get(depthwise_initializer)
        self.depthwise_regularizer, self.depthwise_constraint = depthwise_regularizer, depthwise_constraint

    def build(self, input_shape: Any) -> None:
        c = self._in_channels(input_shape)
        self.kernel = self.add_weight(
            "kernel", (*self.kernel_size, c, self.depth_multiplier), initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer, constraint=self.depthwise_constraint,
        )  # fmt: skip
        self._add_bias(c * self.depth_multiplier)
        self.input_spec = InputSpec(ndim=4, axes={self._channel_axis: c})
        self.built = True

    def call(self, inputs: Any) -> Any:
        y = gt.nn.depthwise_conv2d(
            inputs, self.kernel, (1, *self.strides, 1) if self._nhwc == "NHWC" else (1, 1, *self.strides),
            self.padding.upper(), data_format=self._nhwc, dilations=self.dilation_rate,
        )  # fmt: skip
        return self._finish(y)


class SeparableConv2D(_Conv):
    """A depthwise convolution followed by a 1x1 pointwise one.

    Weights (Keras order): ``depthwise_kernel (kh, kw, in, depth_multiplier)``,
    ``pointwise_kernel (1, 1, in*depth_multiplier, filters)``, ``bias (filters,)``.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = (1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = (1, 1),
        depth_multiplier: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        pointwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        pointwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        pointwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
            bias_initializer, bias_regularizer, bias_constraint, activity_regularizer, **kwargs,
        )  # fmt: skip
        self.filters, self.depth_multiplier = int(filters), int(depth_multiplier)
        self.depthwise_initializer = _initializers.get(depthwise_initializer)
        self.pointwise_initializer = _initializers.get(pointwise_initializer)
        self.depthwise_regularizer, self.pointwise_regularizer = depthwise_regularizer, pointwise_regularizer
        self.depthwise_constraint, self.pointwise_constraint = depthwise_constraint, pointwise_constraint

    def build(self, input_shape: Any) -> None:
        c = self._in_channels(input_shape)
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", (*self.kernel_size, c, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
        )  # fmt: skip
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", (1, 1, c * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
        )  # fmt: skip
        self._add_bias(self.filters)
        self.input_spec = InputSpec(ndim=4, axes={self._channel_axis: c})
        self.built = True

    def call(self, inputs: Any) -> Any:
        strides = (1, *self.strides, 1) if self._nhwc == "NHWC" else (1, 1, *self.strides)
        y = gt.nn.separable_conv2d(
            inputs, self.depthwise_kernel, self.pointwise_kernel, strides, self.padding.upper(),
            data_format=self._nhwc, dilations=self.dilation_rate,
        )  # fmt: skip
        return self._finish(y)


def _deconv_length(size: int, k: int, s: int, d: int, padding: str, output_padding: int | None) -> int:
    # Keras's deconv_output_length.
    k = k + (k - 1) * (d - 1)
    if output_padding is None:
        return size * s if padding == "same" else size * s + max(k - s, 0)
    pad = k // 2 if padding == "same" else 0
    return (size - 1) * s + k - 2 * pad + output_padding


class Conv2DTranspose(_Conv):
    """Transposed 2-D convolution; kernel ``(kh, kw, filters, in_channels)``.

    Args:
      filters, kernel_size, strides, padding, data_format, dilation_rate: as Conv2D.
      output_padding: optional int or pair: extra rows/cols on the bottom/right.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = (1, 1),
        padding: str = "valid",
        output_padding: Any = None,
        data_format: str | None = None,
        dilation_rate: Any = (1, 1),
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
        super().__init__(
            kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
            bias_initializer, bias_regularizer, bias_constraint, activity_regularizer, **kwargs,
        )  # fmt: skip
        self.filters = int(filters)
        self.output_padding = (
            None if output_padding is None else _pair(output_padding, "output_padding", "Conv2DTranspose")
        )
        self.kernel_initializer = _initializers.get(kernel_initializer)
        self.kernel_regularizer, self.kernel_constraint = kernel_regularizer, kernel_constraint

    def build(self, input_shape: Any) -> None:
        c = self._in_channels(input_shape)
        self.kernel = self.add_weight(
            "kernel", (*self.kernel_size, self.filters, c), initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )  # fmt: skip
        self._add_bias(self.filters)
        self.input_spec = InputSpec(ndim=4, axes={self._channel_axis: c})
        self.built = True

    def call(self, inputs: Any) -> Any:
        shape = _shape_of(inputs)
        h, w = (shape[1], shape[2]) if self._nhwc == "NHWC" else (shape[2], shape[3])
        op = self.output_padding or (None, None)
        oh = _deconv_length(
            h, self.kernel_size[0], self.strides[0], self.dilation_rate[0], self.padding, op[0]
        )
        ow = _deconv_length(
            w, self.kernel_size[1], self.strides[1], self.dilation_rate[1], self.padding, op[1]
        )
        batch = shape[0] if shape[0] is not None else gt.shape(inputs, out_type=gt.int32)[0]
        dims = [batch, oh, ow, self.filters] if self._nhwc == "NHWC" else [batch, self.filters, oh, ow]
        # An unknown batch stays a scalar tensor in the list: conv2d_transpose then takes
        # the batch size of its input at run time.
        out_shape = dims
        y = gt.nn.conv2d_transpose(
            inputs, self.kernel, out_shape, self.strides, self.padding.upper(),
            data_format=self._nhwc, dilations=self.dilation_rate,
        )  # fmt: skip
        return self._finish(y)


class _Pool2D(Layer):
    _fn = "max_pool2d"

    def __init__(
        self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid", data_format: str | None = None,
        **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.pool_size = _pair(pool_size, "pool_size", cls)
        self.strides = self.pool_size if strides is None else _pair(strides, "strides", cls)
        self.padding = _padding(padding, cls)
        self.data_format = _data_format(data_format, cls)
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs: Any) -> Any:
        fmt = "NHWC" if self.data_format == "channels_last" else "NCHW"
        return getattr(gt.nn, self._fn)(
            inputs, self.pool_size, self.strides, self.padding.upper(), data_format=fmt
        )


class MaxPooling2D(_Pool2D):
    """The maximum over ``pool_size`` windows (strides default to ``pool_size``)."""

    _fn = "max_pool2d"


class AveragePooling2D(_Pool2D):
    """The mean over ``pool_size`` windows; with "same" padding only in-bounds values count."""

    _fn = "avg_pool2d"


class _GlobalPool2D(Layer):
    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format, type(self).__name__)
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs: Any) -> Any:
        axes = [1, 2] if self.data_format == "channels_last" else [2, 3]
        return self._reduce(inputs, axis=axes, keepdims=self.keepdims)


class GlobalAveragePooling2D(_GlobalPool2D):
    """The mean over height and width: ``(N, H, W, C) -> (N, C)`` (or keepdims)."""

    _reduce = staticmethod(gt.reduce_mean)


class GlobalMaxPooling2D(_GlobalPool2D):
    """The maximum over height and width: ``(N, H, W, C) -> (N, C)`` (or keepdims)."""

    _reduce = staticmethod(gt.reduce_max)
