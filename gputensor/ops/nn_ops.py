"""Neural-network ops (``gt.nn``): activations, softmax, losses, convolution, pooling, normalisation.

Most of ``gt.nn`` composes existing ops (``bias_add`` is an add, ``moments`` two
means, ``sigmoid_cross_entropy_with_logits`` a stable formula), so gradients and
backends come for free. The primitives below have kernels of their own on every
backend and are declared here, once. Images are NHWC and filters HWIO, as in TF;
an NCHW ``data_format`` is transposed to NHWC around the primitive.

Attributes are resolved by the public functions, so kernels never apply TF's
rules themselves: ``strides``, ``dilations`` and ``ksize`` are ``(height,
width)`` pairs of ints, and ``padding`` is ``((top, bottom), (left, right))``
computed with TF's SAME rule (or taken from an explicit padding list). Along a height or
width unknown (None) while tracing, SAME padding with a stride over 1 depends on the size,
so that axis's pair is the marker ``"SAME"``, resolved by the kernel from its input
(backend/geometry.py); the output size there is None while tracing (``ceil(size / stride)``
at run time). The input gradients of such a convolution or average pool take the forward
input as a last input, for its size (as TF's ``input_sizes`` tensor): several sizes give
the same output size at a stride over 1.

| op | inputs | attrs | outputs |
|---|---|---|---|
| softmax | logits | axis (int >= 0) | softmax, logits' shape |
| log_softmax | logits | axis (int >= 0) | log-softmax, logits' shape |
| softmax_xent | labels [..., K], logits [..., K] (same shape and dtype) | | loss [...], backprop [..., K] = softmax - labels |
| sparse_softmax_xent | labels [...] int32/int64, logits [..., K] | | loss [...], backprop [..., K] = softmax - one_hot |
| conv2d | input [N, H, W, C], filter [kh, kw, C, O] | strides, padding, dilations | [N, Ho, Wo, O] |
| conv2d_backprop_input | filter [kh, kw, C, O], out_backprop [N, Ho, Wo, O][, input (its size only)] | input_sizes (N, H, W, C), strides, padding, dilations | [N, H, W, C] |
| conv2d_backprop_filter | input [N, H, W, C], out_backprop [N, Ho, Wo, O] | filter_sizes (kh, kw, C, O), strides, padding, dilations | [kh, kw, C, O] |
| depthwise_conv2d | input [N, H, W, C], filter [kh, kw, C, M] | strides, padding, dilations | [N, Ho, Wo, C*M] (channel c*M + m) |
| depthwise_conv2d_backprop_input | filter [kh, kw, C, M], out_backprop [N, Ho, Wo, C*M][, input] | input_sizes, strides, padding, dilations | [N, H, W, C] |
| depthwise_conv2d_backprop_filter | input [N, H, W, C], out_backprop [N, Ho, Wo, C*M] | filter_sizes, strides, padding, dilations | [kh, kw, C, M] |
| max_pool2d | input [N, H, W, C] | ksize, strides, padding | [N, Ho, Wo, C] |
| max_pool2d_grad | orig_input, orig_output, grad [N, Ho, Wo, C] | ksize, strides, padding | [N, H, W, C]: each grad to its window's first maximum (row-major) |
| avg_pool2d | input [N, H, W, C] | ksize, strides, padding | [N, Ho, Wo, C]: mean over the window's non-padding inputs |
| avg_pool2d_grad | grad [N, Ho, Wo, C][, orig_input] | orig_input_shape (N, H, W, C), ksize, strides, padding | [N, H, W, C] |

``Ho = (H + top + bottom - ((kh - 1) * dilation_h + 1)) // stride_h + 1`` (same for
``Wo``). conv2d_transpose is conv2d_backprop_input. float16 and bfloat16 kernels
accumulate in float32.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from gputensor.backend.geometry import SAME, same_padding
from gputensor.errors import InvalidArgumentError
from gputensor.framework import dtypes as _dt
from gputensor.framework import shape_inference as si
from gputensor.framework.op_table import OPS, define, dtype_error, execute, unary, unary_function
from gputensor.framework.shape_inference import Spec
from gputensor.framework.tensor import Tensor, convert_to_tensor
from gputensor.ops import math_ops
from gputensor.ops.math_ops import gelu, leaky_relu, sigmoid, tanh

F = _dt.FLOATS
_CONV_ATTRS = ("strides", "padding", "dilations")
_POOL_ATTRS = ("ksize", "strides", "padding")


# ------------------------------------------------------- shape and dtype rules
def _infer_xent(op, specs, attrs):
    """(loss, backprop): the loss drops the class axis of the logits."""
    logits = specs[1]
    loss = None if logits.shape is None else logits.shape[:-1]
    return Spec(loss, logits.dtype), logits


def _windowed(x: Spec, window: tuple, channels: int | None, attrs: dict) -> Spec:
    """NHWC output of a window of ``window`` (kh, kw) over NHWC ``x``."""
    if x.shape is None:
        return Spec(None, x.dtype)
    n, h, w, _ = x.shape
    dh, dw = attrs.get("dilations", (1, 1))
    (sh, sw), (ph, pw) = attrs["strides"], attrs["padding"]
    ho = _windowed_size(h, window[0], sh, dh, ph)
    wo = _windowed_size(w, window[1], sw, dw, pw)
    return Spec((n, ho, wo, channels), x.dtype)


def _windowed_size(size: int | None, k: int | None, s: int, d: int, pad: Any) -> int | None:
    if pad == SAME:  # resolved by the kernel: ceil(size / stride) outputs, as TF's SAME
        return None if size is None else -(-size // s)
    return si.conv_output(size, k, s, d, pad)


def _infer_conv(op, specs, attrs):
    x, f = specs
    kh, kw, c, o = (None,) * 4 if f.shape is None else f.shape
    if x.shape is not None:
        si.merge_dim(x.shape[3], c, "conv2d (input channels and filter in_channels)")
    return _windowed(x, (kh, kw), o, attrs)


def _infer_depthwise(op, specs, attrs):
    x, f = specs
    kh, kw, c, m = (None,) * 4 if f.shape is None else f.shape
    return _windowed(x, (kh, kw), None if c is None or m is None else c * m, attrs)


def _infer_backprop_input(op, specs, attrs):  # (filters, dy) -> the input's shape
    return Spec(tuple(attrs["input_sizes"]), specs[1].dtype)


def _infer_backprop_filter(op, specs, attrs):  # (x, dy) -> the filters' shape
    return Spec(tuple(attrs["filter_sizes"]), specs[0].dtype)


def _infer_pool(op, specs, attrs):
    x = specs[0]
    return _windowed(x, attrs["ksize"], None if x.shape is None else x.shape[3], attrs)


def _infer_avg_pool_grad(op, specs, attrs):  # dy -> the pooled input's shape
    return Spec(tuple(attrs["orig_input_shape"]), specs[0].dtype)


SOFTMAX = define("softmax", dtypes=F, attrs=("axis",), infer=si.same)
LOG_SOFTMAX = define("log_softmax", dtypes=F, attrs=("axis",), infer=si.same)
SOFTMAX_XENT = define("softmax_xent", dtypes=F, num_outputs=2, infer=_infer_xent)
SPARSE_SOFTMAX_XENT = define("sparse_softmax_xent", dtypes=F, num_outputs=2, infer=_infer_xent)
CONV2D = define("conv2d", dtypes=F, attrs=_CONV_ATTRS, infer=_infer_conv)
CONV2D_BACKPROP_INPUT = define(
    "conv2d_backprop_input", dtypes=F, attrs=("input_sizes", *_CONV_ATTRS), infer=_infer_backprop_input
)
CONV2D_BACKPROP_FILTER = define(
    "conv2d_backprop_filter", dtypes=F, attrs=("filter_sizes", *_CONV_ATTRS), infer=_infer_backprop_filter
)
DEPTHWISE_CONV2D = define("depthwise_conv2d", dtypes=F, attrs=_CONV_ATTRS, infer=_infer_depthwise)
DEPTHWISE_CONV2D_BACKPROP_INPUT = define(
    "depthwise_conv2d_backprop_input",
    dtypes=F,
    attrs=("input_sizes", *_CONV_ATTRS),
    infer=_infer_backprop_input,
)
DEPTHWISE_CONV2D_BACKPROP_FILTER = define(
    "depthwise_conv2d_backprop_filter",
    dtypes=F,
    attrs=("filter_sizes", *_CONV_ATTRS),
    infer=_infer_backprop_filter,
)
MAX_POOL2D = define("max_pool2d", dtypes=_dt.REAL, attrs=_POOL_ATTRS, infer=_infer_pool)
MAX_POOL2D_GRAD = define("max_pool2d_grad", dtypes=_dt.REAL, attrs=_POOL_ATTRS, infer=si.same)
AVG_POOL2D = define("avg_pool2d", dtypes=F, attrs=_POOL_ATTRS, infer=_infer_pool)
AVG_POOL2D_GRAD = define(
    "avg_pool2d_grad", dtypes=F, attrs=("orig_input_shape", *_POOL_ATTRS), infer=_infer_avg_pool_grad
)

__all__ = [
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "silu",
    "swish",
    "sigmoid",
    "tanh",
    "softplus",
    "softsign",
    "softmax",
    "log_softmax",
    "dropout",
    "conv2d",
    "depthwise_conv2d",
    "separable_conv2d",
    "conv2d_transpose",
    "max_pool2d",
    "avg_pool2d",
    "max_pool",
    "avg_pool",
    "bias_add",
    "moments",
    "batch_normalization",
    "l2_normalize",
    "embedding_lookup",
    "softmax_cross_entropy_with_logits",
    "sparse_softmax_cross_entropy_with_logits",
    "sigmoid_cross_entropy_with_logits",
]

Pair = tuple[int, int]
Padding = tuple[Pair, Pair]


# ----------------------------------------------------------------- activations
def _activation(op_name: str, formula: str):
    op = OPS[op_name]

    run = unary_function(op)  # the eager fast path when no tape or scope is active

    def fn(features: Any, name: str | None = None) -> Tensor:
        x = features if type(features) is Tensor else convert_to_tensor(features)
        if op.dtype_ids is not None and id(x._dtype) not in op.dtype_ids:
            raise dtype_error(op, x._dtype, "features")
        return run(x)

    fn.__name__ = fn.__qualname__ = op_name
    fn.__doc__ = f"""Computes ``{formula}`` elementwise, as ``tf.nn.{op_name}``.

    Args:
      features: a tensor of a floating type{" or an integer type" if op_name.startswith("relu") else ""}.
      name: ignored (eager).

    Returns:
      A tensor of the same shape and dtype.

    Raises:
      InvalidArgumentError: for a dtype the op does not take.
    """
    return fn


relu = _activation("relu", "max(features, 0)")
relu6 = _activation("relu6", "min(max(features, 0), 6)")
elu = _activation("elu", "features if features > 0 else exp(features) - 1")
selu = _activation("selu", "scale * (features if features > 0 else alpha * (exp(features) - 1))")
softplus = _activation("softplus", "log(exp(features) + 1)")
_SILU = OPS["silu"]


def silu(features: Any, beta: Any = 1.0, name: str | None = None) -> Tensor:
    """Computes the SiLU or Swish activation ``features * sigmoid(beta * features)``.

    Args:
      features: a floating-point tensor.
      beta: a scalar (number or tensor); 1.0 runs the fused ``silu`` kernel.
      name: ignored (eager).

    Returns:
      A tensor of the same shape and dtype as ``features``.

    Raises:
      InvalidArgumentError: if ``features`` is not floating point.

    >>> gt.nn.silu(gt.constant([0.0, 2.0])).numpy().round(4)
    array([0.    , 1.7616], dtype=float32)
    """
    x = convert_to_tensor(features)
    if x._dtype not in F:
        raise dtype_error(_SILU, x._dtype, "features")
    if isinstance(beta, numbers.Real) and float(beta) == 1.0:
        return unary(_SILU, x)
    return math_ops.multiply(x, sigmoid(math_ops.multiply(beta, x)))


swish = silu


def softsign(features: Any, name: str | None = None) -> Tensor:
    """Computes ``features / (abs(features) + 1)``, as ``tf.nn.softsign``.

    Args:
      features: a floating-point tensor.
      name: ignored (eager).

    Returns:
      A tensor of the same shape and dtype.

    Raises:
      InvalidArgumentError: if ``features`` is not floating point.
    """
    x = _float_input("softsign", features, "features")
    return math_ops.truediv(x, math_ops.add(math_ops.abs(x), 1))


# --------------------------------------------------------------------- softmax
def _float_input(op_name: str, value: Any, what: str) -> Tensor:
    x = convert_to_tensor(value)
    if x._dtype not in F:
        raise InvalidArgumentError(
            f"{op_name}: {what} has dtype {x._dtype.name}, but it must be half, bfloat16, float32 or "
            f"float64. Cast first, e.g. gt.cast({what}, gt.float32)",
            op_name,
        )
    return x


def _class_axis(op_name: str, axis: Any, ndim: int) -> int:
    if ndim == 0:
        raise InvalidArgumentError(f"{op_name}: logits must have at least 1 dimension, got a scalar", op_name)
    axis = -1 if axis is None else axis
    if isinstance(axis, Tensor):
        axis = int(axis)
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{op_name}: axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise InvalidArgumentError(
            f"{op_name}: axis {axis} is out of range for logits of rank {ndim}; use an axis in [-{ndim}, {ndim})",
            op_name,
        )
    return int(axis) % ndim


def _softmax_like(op, public_name: str):
    def fn(logits: Any, axis: int | None = None, name: str | None = None) -> Tensor:
        x = _float_input(public_name, logits, "logits")
        return execute(op, (x,), {"axis": _class_axis(public_name, axis, x._data.ndim)})

    fn.__name__ = fn.__qualname__ = public_name
    return fn


softmax = _softmax_like(SOFTMAX, "softmax")
softmax.__doc__ = """Computes ``exp(logits) / reduce_sum(exp(logits), axis)``, stable for any logits.

    Args:
      logits: a non-scalar floating-point tensor.
      axis: the class dimension; default -1 (the last).
      name: ignored (eager).

    Returns:
      A tensor of the shape and dtype of ``logits`` whose slices along ``axis`` sum to 1.

    Raises:
      InvalidArgumentError: for a scalar, a non-float dtype or an axis out of range.

    >>> gt.nn.softmax(gt.constant([1000.0, 1000.0])).numpy()
    array([0.5, 0.5], dtype=float32)
    """
log_softmax = _softmax_like(LOG_SOFTMAX, "log_softmax")
log_softmax.__doc__ = """Computes ``logits - log(reduce_sum(exp(logits), axis))``, stable for any logits.

    Args:
      logits: a non-scalar floating-point tensor.
      axis: the class dimension; default -1 (the last).
      name: ignored (eager).

    Returns:
      A tensor of the shape and dtype of ``logits``.

    Raises:
      InvalidArgumentError: for a scalar, a non-float dtype or an axis out of range.
    """


# ---------------------------------------------------------------------- losses
def _same_shape(op_name: str, labels: Tensor, logits: Tensor) -> None:
    # TF checks compatibility (assert_is_compatible_with): inside a trace a dimension not
    # known yet (None, e.g. tf.zeros((tf.shape(x)[0], 1))) matches any size.
    a, b = labels._data.shape, logits._data.shape
    if a is None or b is None:
        return
    a, b = tuple(a), tuple(b)
    if len(a) != len(b) or any(x is not None and y is not None and x != y for x, y in zip(a, b)):
        raise InvalidArgumentError(
            f"{op_name}: labels and logits must have the same shape, got labels "
            f"{tuple(labels._data.shape)} and logits {tuple(logits._data.shape)}",
            op_name,
        )


def softmax_cross_entropy_with_logits(
    labels: Any, logits: Any, axis: int = -1, name: str | None = None
) -> Tensor:
    """Computes ``-reduce_sum(labels * log_softmax(logits, axis), axis)``.

    Each slice of ``labels`` along ``axis`` is a probability distribution; the
    loss is stable for large logits and its gradient flows into labels too (TF 2).

    Args:
      labels: a tensor of the shape of ``logits``; cast to its dtype, as TF does.
      logits: unscaled log-probabilities, a non-scalar floating-point tensor.
      axis: the class dimension; default -1.
      name: ignored (eager).

    Returns:
      The loss, of the shape of ``logits`` without ``axis`` and of its dtype.

    Raises:
      InvalidArgumentError: for shapes that differ, a scalar or non-float ``logits``.
    """
    op_name = "softmax_cross_entropy_with_logits"
    x = _float_input(op_name, logits, "logits")
    y = convert_to_tensor(labels, dtype_hint=x._dtype)
    y = math_ops.cast(y, x._dtype)
    _same_shape(op_name, y, x)
    ndim = x._data.ndim
    axis = _class_axis(op_name, axis, ndim)
    if axis != ndim - 1:
        return math_ops.negative(math_ops.reduce_sum(math_ops.multiply(y, log_softmax(x, axis)), axis))
    loss, _ = execute(SOFTMAX_XENT, (y, x))
    return loss


def sparse_softmax_cross_entropy_with_logits(labels: Any, logits: Any, name: str | None = None) -> Tensor:
    """Computes ``-log_softmax(logits)[..., labels]``: cross-entropy with class indices for labels.

    Args:
      labels: int32 or int64 class indices in ``[0, num_classes)``, of shape ``logits.shape[:-1]``.
      logits: unscaled log-probabilities ``[..., num_classes]``, floating point.
      name: ignored (eager).

    Returns:
      The loss, of the shape of ``labels`` and the dtype of ``logits``.

    Raises:
      InvalidArgumentError: for a label outside ``[0, num_classes)``, mismatched
        shapes or ranks, non-integer labels or non-float logits.
    """
    op_name = "sparse_softmax_cross_entropy_with_logits"
    x = _float_input(op_name, logits, "logits")
    y = convert_to_tensor(labels)
    if y._dtype not in (_dt.int32, _dt.int64):
        raise InvalidArgumentError(
            f"{op_name}: labels must be int32 or int64 class indices, got {y._dtype.name}; "
            "for one-hot or probability labels use softmax_cross_entropy_with_logits",
            op_name,
        )
    ls, xs = tuple(y._data.shape), tuple(x._data.shape)
    if len(xs) == 0 or len(ls) != len(xs) - 1:
        raise InvalidArgumentError(
            f"{op_name}: Rank mismatch: rank of labels ({len(ls)}, shape {ls}) should equal rank of "
            f"logits minus 1 (logits shape {xs})",
            op_name,
        )
    # A dim unknown while tracing (None: a batch of a serving signature) matches any size, as
    # TF's shape merge; the kernel checks the sizes at run time.
    if any(a is not None and b is not None and a != b for a, b in zip(ls, xs[:-1])):
        raise InvalidArgumentError(
            f"{op_name}: Shape mismatch: the shape of labels {ls} should equal the shape of logits "
            f"{xs} without its last (class) dimension",
            op_name,
        )
    loss, _ = execute(SPARSE_SOFTMAX_XENT, (y, x))
    return loss


def sigmoid_cross_entropy_with_logits(
    labels: Any = None, logits: Any = None, name: str | None = None
) -> Tensor:
    """Computes elementwise ``labels * -log(sigmoid(logits)) + (1 - labels) * -log(1 - sigmoid(logits))``.

    Evaluated as ``max(logits, 0) - logits * labels + log(1 + exp(-abs(logits)))``,
    which neither overflows nor loses precision for large ``|logits|``.

    Args:
      labels: a tensor of the shape and dtype of ``logits`` (Python values take its dtype).
      logits: a floating-point tensor.
      name: ignored (eager).

    Returns:
      The elementwise loss, of the shape and dtype of ``logits``.

    Raises:
      InvalidArgumentError: if shapes or dtypes differ, or logits are not floating point.
    """
    op_name = "sigmoid_cross_entropy_with_logits"
    x = _float_input(op_name, logits, "logits")
    z = convert_to_tensor(labels, dtype_hint=x._dtype)
    if z._dtype is not x._dtype:
        raise InvalidArgumentError(
            f"{op_name}: labels has dtype {z._dtype.name} but logits has dtype {x._dtype.name}; "
            f"cast labels, e.g. gt.cast(labels, gt.{x._dtype.name})",
            op_name,
        )
    _same_shape(op_name, z, x)
    softplus_neg_abs = math_ops.log1p(math_ops.exp(math_ops.negative(math_ops.abs(x))))
    return math_ops.add(math_ops.subtract(relu(x), math_ops.multiply(x, z)), softplus_neg_abs)


# --------------------------------------------------------- convolution helpers
def _data_format(op_name: str, data_format: str | None) -> bool:
    """True for channels-last (NHWC); raises for an unknown format."""
    if data_format is None or data_format == "NHWC":
        return True
    if data_format == "NCHW":
        return False
    raise InvalidArgumentError(
        f"{op_name}: data_format must be 'NHWC' or 'NCHW', got {data_format!r}", op_name
    )


def _to_nhwc(x: Tensor, channels_last: bool) -> Tensor:
    if channels_last:
        return x
    from gputensor.ops.array_ops import transpose

    return transpose(x, (0, 2, 3, 1))


def _from_nhwc(x: Tensor, channels_last: bool) -> Tensor:
    if channels_last:
        return x
    from gputensor.ops.array_ops import transpose

    return transpose(x, (0, 3, 1, 2))


def _output_dims(value: Any) -> list:
    """conv2d_transpose's output_shape as ints; in a trace its batch entry may be a symbolic
    scalar (``tf.shape(x)[0]`` of an unknown batch), kept as None: the kernel takes the batch
    size of its input at run time."""
    if isinstance(value, (list, tuple)) and len(value) == 4:
        from gputensor.ops.array_ops import _is_symbolic

        first = value[0]
        batch = None if isinstance(first, Tensor) and _is_symbolic(first) else _ints(first)[0]
        return [batch, *_ints(list(value[1:]))]
    return _ints(value)


def _ints(value: Any) -> list:
    if isinstance(value, Tensor):
        value = value.numpy().tolist()
    if isinstance(value, (int, np.integer)):
        return [int(value)]
    return [int(v) for v in value]


def _spatial(op_name: str, what: str, value: Any, channels_last: bool) -> Pair:
    """TF's forms of strides, dilations and ksize (an int, [k], [kh, kw] or a 4-list) as (h, w)."""
    try:
        vals = _ints(value)
    except (TypeError, ValueError):
        raise TypeError(f"{op_name}: {what} must be an int or a list of ints, got {value!r}") from None
    if len(vals) == 4:
        hw = (1, 2) if channels_last else (2, 3)
        if any(vals[i] != 1 for i in range(4) if i not in hw):
            raise InvalidArgumentError(
                f"{op_name}: {what} {vals} must be 1 in the batch and channel dimensions; "
                f"give [1, h, w, 1] ({'NHWC' if channels_last else 'NCHW: [1, 1, h, w]'}) or [h, w]",
                op_name,
            )
        vals = [vals[hw[0]], vals[hw[1]]]
    elif len(vals) == 1:
        vals = vals * 2
    if len(vals) != 2 or any(v < 1 for v in vals):
        raise InvalidArgumentError(
            f"{op_name}: {what} must be positive ints given as k, [k], [kh, kw] or a 4-list, got {value!r}",
            op_name,
        )
    return vals[0], vals[1]


def _padding(
    op_name: str,
    padding: Any,
    in_hw: Sequence[int],
    k_hw: Sequence[int],
    strides: Pair,
    dilations: Pair,
    channels_last: bool,
    explicit_ok: bool = True,
) -> Padding:
    """Resolves "SAME", "VALID" or TF's explicit 4-pair list to ((top, bottom), (left, right))."""
    if isinstance(padding, str) and padding.upper() in ("SAME", "VALID"):
        if padding.upper() == "VALID":
            pads = ((0, 0), (0, 0))
        else:
            pairs: list = []
            for size, k, s, d in zip(in_hw, k_hw, strides, dilations):
                if size is None and s != 1:
                    # A stride's padding depends on the size modulo the stride: the kernel
                    # resolves it at run time.
                    pairs.append(SAME)
                    continue
                # Stride 1 pads (k - 1) * d whatever the size (0 stands in for a None one).
                pairs.append(same_padding(0 if size is None else size, k, s, d))
            pads = (pairs[0], pairs[1])
    elif not isinstance(padding, str) and explicit_ok:
        pads = _explicit_padding(op_name, padding, channels_last)
    else:
        allowed = "'SAME', 'VALID' or an explicit list" if explicit_ok else "'SAME' or 'VALID'"
        raise InvalidArgumentError(f"{op_name}: padding must be {allowed}, got {padding!r}", op_name)
    for axis, size, k, d, pad in zip(("height", "width"), in_hw, k_hw, dilations, pads):
        if pad == SAME:  # a None size: SAME always fits a window
            continue
        span, (lo, hi) = (k - 1) * d + 1, pad
        if size is not None and size + lo + hi < span:  # None: checked by the kernel at run time
            raise InvalidArgumentError(
                f"{op_name}: the window spans {span} in {axis} (size {k}, dilation {d}) but the padded "
                f"input {axis} is only {size + lo + hi} (input {size}, padding {lo}+{hi}); "
                "use padding='SAME' or a smaller window",
                op_name,
            )
    return pads


def _explicit_padding(op_name: str, padding: Any, channels_last: bool) -> Padding:
    try:
        pairs = [tuple(_ints(p)) for p in padding]
    except (TypeError, ValueError):
        pairs = []
    hw = (1, 2) if channels_last else (2, 3)
    layout = (
        "[[0, 0], [top, bottom], [left, right], [0, 0]]"
        if channels_last
        else "[[0, 0], [0, 0], [top, bottom], [left, right]]"
    )
    if (
        len(pairs) != 4
        or any(len(p) != 2 or min(p) < 0 for p in pairs)
        or any(pairs[i] != (0, 0) for i in range(4) if i not in hw)
    ):
        raise InvalidArgumentError(
            f"{op_name}: explicit padding must be non-negative and in the form {layout}, got {padding!r}",
            op_name,
        )
    return pairs[hw[0]], pairs[hw[1]]


def _out_size(size: int, k: int, s: int, d: int, pad: Pair) -> int:
    return (size + pad[0] + pad[1] - (k - 1) * d - 1) // s + 1


def _image_and_filter(op_name: str, input: Any, filters: Any, filter_layout: str) -> tuple[Tensor, Tensor]:
    x = _float_input(op_name, input, "input")
    w = convert_to_tensor(filters, dtype_hint=x._dtype)
    if w._dtype is not x._dtype:
        raise InvalidArgumentError(
            f"{op_name}: input has dtype {x._dtype.name} but the filter has dtype {w._dtype.name}; "
            f"cast one, e.g. gt.cast(filters, gt.{x._dtype.name})",
            op_name,
        )
    _check_rank(op_name, x, "input", "NHWC (batch, height, width, channels)")
    _check_rank(op_name, w, "filter", filter_layout)
    return x, w


def _check_rank(op_name: str, t: Tensor, what: str, layout: str) -> None:
    if t._data.ndim != 4:
        raise InvalidArgumentError(
            f"{op_name}: {what} must be 4-D {layout}, got shape {tuple(t._data.shape)}"
            + (
                "; add a batch dimension with gt.expand_dims(input, 0)"
                if what == "input" and t._data.ndim == 3
                else ""
            ),
            op_name,
        )


def _conv_attrs(op_name, x, w, strides, padding, dilations, channels_last, layout="HWIO") -> dict:
    """Checks channels and resolves strides/padding/dilations for NHWC ``x`` and HWI* ``w``."""
    shape, fshape = tuple(x._data.shape), tuple(w._data.shape)
    if shape[3] != fshape[2]:
        raise InvalidArgumentError(
            f"{op_name}: input has {shape[3]} channels but filter expects {fshape[2]} "
            f"(filter shape {fshape}, {layout})",
            op_name,
        )
    s = _spatial(op_name, "strides", strides, channels_last)
    d = _spatial(op_name, "dilations", 1 if dilations is None else dilations, channels_last)
    pad = _padding(op_name, padding, shape[1:3], fshape[:2], s, d, channels_last)
    return {"strides": s, "padding": pad, "dilations": d}


# ------------------------------------------------------------------ convolution
def conv2d(
    input: Any,
    filters: Any,
    strides: Any,
    padding: Any,
    data_format: str = "NHWC",
    dilations: Any = None,
    name: str | None = None,
) -> Tensor:
    """Computes a 2-D convolution (cross-correlation, as TF) of ``input`` with ``filters``.

    ``output[n, i, j, o] = sum over di, dj, c of padded_input[n, i*sh + di*dh, j*sw + dj*dw, c]
    * filters[di, dj, c, o]``.

    Args:
      input: a 4-D floating tensor, NHWC (or NCHW with ``data_format="NCHW"``).
      filters: a 4-D tensor ``[height, width, in_channels, out_channels]`` of the same dtype.
      strides: an int, ``[sh, sw]`` or ``[1, sh, sw, 1]``.
      padding: ``"SAME"``, ``"VALID"`` or explicit ``[[0, 0], [top, bottom], [left, right], [0, 0]]``.
        ``"SAME"`` along a height or width that is None while tracing pads by the size each call
        gets, as TF (the output size is then None while tracing).
      data_format: ``"NHWC"`` (default) or ``"NCHW"``.
      dilations: an int or list as ``strides``; default 1.
      name: ignored (eager).

    Returns:
      The convolution, ``[batch, out_height, out_width, out_channels]`` in ``data_format``.

    Raises:
      InvalidArgumentError: for ranks other than 4, a channel mismatch, dtypes that
        differ or are not floating, bad strides/dilations, a bad padding, or a
        window larger than the padded input.

    >>> x = gt.ones([1, 4, 4, 1])
    >>> gt.nn.conv2d(x, gt.ones([3, 3, 1, 1]), strides=1, padding="VALID").shape
    TensorShape([1, 2, 2, 1])
    """
    channels_last = _data_format("conv2d", data_format)
    x, w = _image_and_filter("conv2d", input, filters, "HWIO (height, width, in_channels, out_channels)")
    x = _to_nhwc(x, channels_last)
    attrs = _conv_attrs("conv2d", x, w, strides, padding, dilations, channels_last)
    return _from_nhwc(execute(CONV2D, (x, w), attrs), channels_last)


def depthwise_conv2d(
    input: Any,
    filter: Any,
    strides: Any,
    padding: Any,
    data_format: str | None = None,
    dilations: Any = None,
    name: str | None = None,
) -> Tensor:
    """Depthwise 2-D convolution: each input channel is convolved with its own filters.

    ``output[n, i, j, c * M + m] = sum over di, dj of padded_input[n, i*sh + di*dh, j*sw + dj*dw, c]
    * filter[di, dj, c, m]``.

    Args:
      input: a 4-D floating tensor, NHWC (or NCHW).
      filter: ``[height, width, in_channels, channel_multiplier]``, same dtype.
      strides: an int, ``[sh, sw]`` or ``[1, sh, sw, 1]``.
      padding: ``"SAME"``, ``"VALID"`` or an explicit list as in `conv2d`.
      data_format: ``"NHWC"`` (default) or ``"NCHW"``.
      dilations: an int or ``[dh, dw]``; default 1.
      name: ignored (eager).

    Returns:
      ``[batch, out_height, out_width, in_channels * channel_multiplier]`` in ``data_format``.

    Raises:
      InvalidArgumentError: as `conv2d`.
    """
    channels_last = _data_format("depthwise_conv2d", data_format)
    x, w = _image_and_filter(
        "depthwise_conv2d", input, filter, "HWCM (height, width, in_channels, channel_multiplier)"
    )
    x = _to_nhwc(x, channels_last)
    attrs = _conv_attrs("depthwise_conv2d", x, w, strides, padding, dilations, channels_last, "HWCM")
    return _from_nhwc(execute(DEPTHWISE_CONV2D, (x, w), attrs), channels_last)


def separable_conv2d(
    input: Any,
    depthwise_filter: Any,
    pointwise_filter: Any,
    strides: Any,
    padding: Any,
    data_format: str | None = None,
    dilations: Any = None,
    name: str | None = None,
) -> Tensor:
    """A depthwise convolution followed by a 1x1 convolution that mixes channels.

    Args:
      input: a 4-D floating tensor, NHWC (or NCHW).
      depthwise_filter: ``[height, width, in_channels, channel_multiplier]``.
      pointwise_filter: ``[1, 1, in_channels * channel_multiplier, out_channels]``.
      strides: strides of the depthwise convolution, as in `depthwise_conv2d`.
      padding: padding of the depthwise convolution.
      data_format: ``"NHWC"`` (default) or ``"NCHW"``.
      dilations: dilations of the depthwise convolution.
      name: ignored (eager).

    Returns:
      ``[batch, out_height, out_width, out_channels]`` in ``data_format``.

    Raises:
      InvalidArgumentError: as `conv2d`, or if the pointwise filter is not 1x1 or
        does not take ``in_channels * channel_multiplier`` channels.
    """
    channels_last = _data_format("separable_conv2d", data_format)
    x, dw = _image_and_filter("separable_conv2d", input, depthwise_filter, "HWCM")
    pw = convert_to_tensor(pointwise_filter, dtype_hint=x._dtype)
    _check_rank("separable_conv2d", pw, "pointwise_filter", "[1, 1, in_channels * multiplier, out_channels]")
    pshape, dshape = tuple(pw._data.shape), tuple(dw._data.shape)
    if pshape[:2] != (1, 1) or pshape[2] != dshape[2] * dshape[3]:
        raise InvalidArgumentError(
            f"separable_conv2d: pointwise_filter must have shape [1, 1, {dshape[2] * dshape[3]}, "
            f"out_channels] for depthwise_filter {dshape}, got {pshape}",
            "separable_conv2d",
        )
    x = _to_nhwc(x, channels_last)
    attrs = _conv_attrs("separable_conv2d", x, dw, strides, padding, dilations, channels_last, "HWCM")
    depthwise = execute(DEPTHWISE_CONV2D, (x, dw), attrs)
    return _from_nhwc(conv2d(depthwise, pw, 1, "VALID"), channels_last)


def conv2d_transpose(
    input: Any,
    filters: Any,
    output_shape: Any,
    strides: Any,
    padding: Any = "SAME",
    data_format: str = "NHWC",
    dilations: Any = None,
    name: str | None = None,
) -> Tensor:
    """The transpose (gradient) of `conv2d`, sometimes called deconvolution.

    ``conv2d(conv2d_transpose(y, filters, output_shape, ...), filters, ...)`` has the
    shape of ``y``: the result is the gradient of `conv2d` with respect to its input.

    Args:
      input: a 4-D floating tensor ``[batch, height, width, in_channels]`` (NHWC or NCHW).
      filters: ``[height, width, out_channels, in_channels]``; note the order, as TF.
      output_shape: the 4 ints of the result's shape, in ``data_format`` order.
      strides: an int, ``[sh, sw]`` or ``[1, sh, sw, 1]``.
      padding: ``"SAME"`` (default), ``"VALID"`` or an explicit list as in `conv2d`.
      data_format: ``"NHWC"`` (default) or ``"NCHW"``.
      dilations: an int or ``[dh, dw]``; default 1.
      name: ignored (eager).

    Returns:
      A tensor of shape ``output_shape``.

    Raises:
      InvalidArgumentError: if ``output_shape`` does not convolve back to the shape
        of ``input`` with these strides and padding, or as `conv2d`.
    """
    op_name = "conv2d_transpose"
    channels_last = _data_format(op_name, data_format)
    dy, w = _image_and_filter(op_name, input, filters, "[height, width, out_channels, in_channels]")
    dy = _to_nhwc(dy, channels_last)
    try:
        out = _output_dims(output_shape)
    except (TypeError, ValueError):
        out = []
    if len(out) != 4:
        raise InvalidArgumentError(f"{op_name}: output_shape must be 4 ints, got {output_shape!r}", op_name)
    if not channels_last:
        out = [out[0], out[2], out[3], out[1]]
    dshape, fshape = tuple(dy._data.shape), tuple(w._data.shape)
    if (
        None in out[1:]
        or dshape[3] != fshape[3]
        or out[3] != fshape[2]
        or (out[0] is not None and out[0] != dshape[0])
    ):
        raise InvalidArgumentError(
            f"{op_name}: input {dshape} (NHWC), filters {fshape} ([h, w, out_channels, in_channels]) "
            f"and output_shape {tuple(out)} (NHWC) disagree; the input needs filters.shape[3] "
            "channels, output_shape needs filters.shape[2] channels and the input's batch size",
            op_name,
        )
    s = _spatial(op_name, "strides", strides, channels_last)
    d = _spatial(op_name, "dilations", 1 if dilations is None else dilations, channels_last)
    pad = _padding(op_name, padding, out[1:3], fshape[:2], s, d, channels_last)
    expected = tuple(_out_size(out[i + 1], fshape[i], s[i], d[i], pad[i]) for i in range(2))
    if expected != dshape[1:3]:
        raise InvalidArgumentError(
            f"{op_name}: output_shape {tuple(out)} convolves (strides {s}, padding {padding!r}, "
            f"dilations {d}) to spatial size {expected}, but input has spatial size {dshape[1:3]}; "
            "pick an output_shape whose forward convolution has the input's size",
            op_name,
        )
    attrs = {"input_sizes": tuple(out), "strides": s, "padding": pad, "dilations": d}
    return _from_nhwc(execute(CONV2D_BACKPROP_INPUT, (w, dy), attrs), channels_last)


# --------------------------------------------------------------------- pooling
def _pool(op, op_name: str, input, ksize, strides, padding, data_format, explicit_ok: bool) -> Tensor:
    channels_last = _data_format(op_name, data_format)
    x = convert_to_tensor(input)
    if x._dtype not in op.dtypes:
        raise dtype_error(op, x._dtype, "input")
    _check_rank(op_name, x, "input", "NHWC (batch, height, width, channels)")
    x = _to_nhwc(x, channels_last)
    k = _spatial(op_name, "ksize", ksize, channels_last)
    s = _spatial(op_name, "strides", strides, channels_last)
    pad = _padding(op_name, padding, x._data.shape[1:3], k, s, (1, 1), channels_last, explicit_ok)
    return _from_nhwc(execute(op, (x,), {"ksize": k, "strides": s, "padding": pad}), channels_last)


_POOL_DOC = """{summary}

    Args:
      input: a 4-D tensor, NHWC (or NCHW with ``data_format="NCHW"``){dtypes}.
      ksize: window size: an int, ``[kh, kw]`` or ``[1, kh, kw, 1]``.
      strides: an int, ``[sh, sw]`` or ``[1, sh, sw, 1]``.
      padding: {padding} ``"SAME"`` along a height or width that is None while
        tracing pads by the size each call gets, as TF.
      data_format: ``"NHWC"`` (default) or ``"NCHW"``.
      name: ignored (eager).

    Returns:
      ``[batch, out_height, out_width, channels]`` in ``data_format``, of the input's dtype.

    Raises:
      InvalidArgumentError: for a rank other than 4, a bad dtype, ksize, strides or
        padding, or a window larger than the padded input.
    """


def max_pool2d(
    input: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NHWC", name: str | None = None
) -> Tensor:
    return _pool(MAX_POOL2D, "max_pool2d", input, ksize, strides, padding, data_format, True)


def avg_pool2d(
    input: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NHWC", name: str | None = None
) -> Tensor:
    return _pool(AVG_POOL2D, "avg_pool2d", input, ksize, strides, padding, data_format, False)


max_pool2d.__doc__ = _POOL_DOC.format(
    summary="Takes the maximum of each ``ksize`` window (padding never wins), as ``tf.nn.max_pool2d``.",
    dtypes=" of a real type",
    padding='``"SAME"``, ``"VALID"`` or explicit ``[[0, 0], [top, bottom], [left, right], [0, 0]]``.',
)
avg_pool2d.__doc__ = _POOL_DOC.format(
    summary="Averages each ``ksize`` window over its non-padding inputs, as ``tf.nn.avg_pool2d``.",
    dtypes=", floating point",
    padding='``"SAME"`` or ``"VALID"``.',
)


def _pool_nd(pool2d, op_name: str):
    def fn(
        input: Any,
        ksize: Any,
        strides: Any,
        padding: Any,
        data_format: str | None = None,
        name: str | None = None,
    ) -> Tensor:
        x = convert_to_tensor(input)
        if x._data.ndim != 4:
            raise InvalidArgumentError(
                f"{op_name}: input of shape {tuple(x._data.shape)} has rank {x._data.ndim}; this "
                f"implementation pools 2-D images only (rank 4, NHWC or NCHW), as {pool2d.__name__}",
                op_name,
            )
        return pool2d(x, ksize, strides, padding, "NHWC" if data_format is None else data_format)

    fn.__name__ = fn.__qualname__ = op_name
    fn.__doc__ = pool2d.__doc__.replace(pool2d.__name__, op_name, 1)
    return fn


max_pool = _pool_nd(max_pool2d, "max_pool")
avg_pool = _pool_nd(avg_pool2d, "avg_pool")


# ---------------------------------------------------------------- normalisation
def bias_add(value: Any, bias: Any, data_format: str | None = None, name: str | None = None) -> Tensor:
    """Adds a 1-D ``bias`` along the channel dimension of ``value``.

    Args:
      value: a tensor of rank >= 2.
      bias: a 1-D tensor of the same dtype, one entry per channel.
      data_format: ``None``/``"N...C"`` (``"NHWC"``, ...): channels last;
        ``"NC..."`` (``"NCHW"``, ...): channels at dimension 1.
      name: ignored (eager).

    Returns:
      ``value + bias`` broadcast along the channel dimension.

    Raises:
      InvalidArgumentError: if ``bias`` is not 1-D, its length is not the number of
        channels, ``value`` has rank < 2, or the dtypes differ.
    """
    x = convert_to_tensor(value)
    b = convert_to_tensor(bias, dtype_hint=x._dtype)
    channels_first = data_format is not None and data_format.startswith("NC") and len(data_format) > 2
    shape, bshape = tuple(x._data.shape), tuple(b._data.shape)
    if len(shape) < 2 or len(bshape) != 1:
        raise InvalidArgumentError(
            f"bias_add: value must have rank >= 2 and bias rank 1, got shapes {shape} and {bshape}",
            "bias_add",
        )
    axis = 1 if channels_first else len(shape) - 1
    if shape[axis] != bshape[0]:
        raise InvalidArgumentError(
            f"bias_add: bias has {bshape[0]} entries but value {shape} has {shape[axis]} channels in "
            f"dimension {axis} (data_format {data_format or 'N...C'}); they must be equal",
            "bias_add",
        )
    if b._dtype is not x._dtype:
        raise InvalidArgumentError(
            f"bias_add: value has dtype {x._dtype.name} but bias has dtype {b._dtype.name}; "
            f"cast bias, e.g. gt.cast(bias, gt.{x._dtype.name})",
            "bias_add",
        )
    if channels_first and len(shape) > 2:
        from gputensor.ops.array_ops import reshape

        b = reshape(b, (bshape[0],) + (1,) * (len(shape) - 2))
    return math_ops.add(x, b)


def moments(
    x: Any, axes: Any, shift: Any = None, keepdims: bool = False, name: str | None = None
) -> tuple[Tensor, Tensor]:
    """Computes the mean and (population) variance of ``x`` over ``axes``.

    float16 and bfloat16 inputs are averaged in float32, as TF does.

    Args:
      x: a floating-point tensor.
      axes: the dimensions to reduce (an int or a list of ints).
      shift: not used, as in TF 2.
      keepdims: keep the reduced dimensions with length 1.
      name: ignored (eager).

    Returns:
      ``(mean, variance)``, of the dtype of ``x``.

    Raises:
      InvalidArgumentError: for a non-float ``x`` or an axis out of range.

    >>> mean, var = gt.nn.moments(gt.constant([1.0, 2.0, 3.0, 4.0]), axes=[0])
    >>> float(mean), float(var)
    (2.5, 1.25)
    """
    t = _float_input("moments", x, "x")
    y = math_ops.cast(t, _dt.float32) if t._dtype.size == 2 else t
    mean = math_ops.reduce_mean(y, axes, keepdims=True)
    variance = math_ops.reduce_mean(math_ops.squared_difference(y, mean), axes, keepdims=keepdims)
    if not keepdims:
        mean = math_ops.reduce_mean(mean, axes)  # drops the size-1 axes: a squeeze, no second pass over x
    return math_ops.cast(mean, t._dtype), math_ops.cast(variance, t._dtype)


def batch_normalization(
    x: Any,
    mean: Any,
    variance: Any,
    offset: Any,
    scale: Any,
    variance_epsilon: float,
    name: str | None = None,
) -> Tensor:
    """Normalises ``x``: ``scale * (x - mean) / sqrt(variance + variance_epsilon) + offset``.

    Args:
      x: a floating-point tensor.
      mean: a tensor broadcastable to ``x`` (for example from `moments`).
      variance: a tensor broadcastable to ``x``.
      offset: ``beta``, broadcastable to ``x``, or None.
      scale: ``gamma``, broadcastable to ``x``, or None.
      variance_epsilon: a small float that keeps the division finite.
      name: ignored (eager).

    Returns:
      The normalised tensor, of the shape and dtype of ``x``.

    Raises:
      InvalidArgumentError: for shapes that do not broadcast or dtypes that differ.
    """
    t = _float_input("batch_normalization", x, "x")
    inv = math_ops.rsqrt(math_ops.add(_like(variance, t), variance_epsilon))
    if scale is not None:
        inv = math_ops.multiply(inv, _like(scale, t))
    shift = math_ops.negative(math_ops.multiply(_like(mean, t), inv))
    if offset is not None:
        shift = math_ops.add(shift, _like(offset, t))
    return math_ops.add(math_ops.multiply(t, inv), shift)


def _like(value: Any, t: Tensor) -> Tensor:
    return convert_to_tensor(value, dtype_hint=t._dtype)


def l2_normalize(
    x: Any, axis: Any = None, epsilon: float = 1e-12, name: str | None = None, dim: Any = None
) -> Tensor:
    """Divides ``x`` by its L2 norm along ``axis``: ``x / sqrt(max(sum(x**2, axis), epsilon))``.

    Args:
      x: a floating-point tensor.
      axis: the dimension(s) to normalise along; None: all of them.
      epsilon: lower bound on the squared norm, so zeros stay finite.
      name: ignored (eager).
      dim: deprecated alias of ``axis``.

    Returns:
      A tensor of the shape and dtype of ``x``.

    Raises:
      InvalidArgumentError: for a non-float ``x`` or an axis out of range.
    """
    t = _float_input("l2_normalize", x, "x")
    axis = dim if axis is None else axis
    square_sum = math_ops.reduce_sum(math_ops.square(t), axis, keepdims=True)
    return math_ops.multiply(t, math_ops.rsqrt(math_ops.maximum(square_sum, epsilon)))


def embedding_lookup(params: Any, ids: Any, max_norm: float | None = None, name: str | None = None) -> Tensor:
    """Looks up rows ``params[ids]``, as ``tf.nn.embedding_lookup``.

    Args:
      params: a tensor (or Variable) ``[vocabulary, ...]``, or a list of such
        shards split by TF 2's "div" strategy (contiguous blocks of rows).
      ids: an int32/int64 tensor of any shape with values in ``[0, vocabulary)``.
      max_norm: if not None, each looked-up row with a larger L2 norm is scaled down to it.
      name: ignored (eager).

    Returns:
      A tensor of shape ``ids.shape + params.shape[1:]`` and the dtype of ``params``.

    Raises:
      InvalidArgumentError: for ids out of range or non-integer ids.
    """
    from gputensor.ops import array_ops

    if isinstance(params, (list, tuple)):
        if not params:
            raise ValueError("embedding_lookup: params must be a tensor or a non-empty list of shards")
        table = params[0] if len(params) == 1 else array_ops.concat(list(params), 0)
    else:
        table = params
    rows = array_ops.gather(table, ids)
    if max_norm is None:
        return rows
    rank_ids = convert_to_tensor(ids)._data.ndim
    axes = list(range(rank_ids, rows._data.ndim))
    if not axes:
        return rows
    squared = math_ops.reduce_sum(math_ops.square(rows), axes, keepdims=True)
    norm = math_ops.sqrt(squared)
    return math_ops.truediv(math_ops.multiply(rows, max_norm), math_ops.maximum(norm, max_norm))


# ---------------------------------------------------------------------- dropout
def dropout(
    x: Any, rate: Any, noise_shape: Any = None, seed: int | None = None, name: str | None = None
) -> Tensor:
    """Zeroes each element with probability ``rate`` and scales the rest by ``1 / (1 - rate)``.

    The expected value of every element is unchanged. With ``noise_shape``,
    whole slices are kept or dropped together (dimensions of size 1 broadcast).

    Args:
      x: a floating-point tensor.
      rate: the drop probability, a number in ``[0, 1)``; 0 returns ``x``.
      noise_shape: the shape of the random keep/drop mask, broadcastable to
        ``x``; None entries take the size of ``x``. Default: the shape of ``x``.
      seed: an int seed for the mask, as in ``gt.random.uniform``.
      name: ignored (eager).

    Returns:
      A tensor of the shape and dtype of ``x``.

    Raises:
      ValueError: if ``rate`` is not in ``[0, 1)``, ``x`` is not floating point,
        or ``noise_shape`` does not broadcast to the shape of ``x``.
    """
    t = convert_to_tensor(x)
    if isinstance(rate, Tensor):
        rate = float(rate)
    if not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
        raise ValueError(
            f"dropout: rate must be a scalar tensor or a float in the range [0, 1), got {rate!r}"
        )
    if t._dtype not in F:
        raise ValueError(
            f"dropout: x must be a floating point tensor since it is going to be scaled, got {t._dtype.name}"
        )
    if rate == 0:
        return t
    shape = tuple(t._data.shape)
    mask_shape = _noise_shape(noise_shape, shape)
    from gputensor.ops.random_ops import uniform

    keep = math_ops.greater_equal(uniform(mask_shape, dtype=t._dtype, seed=seed), rate)
    scaled = math_ops.multiply(t, 1.0 / (1.0 - float(rate)))
    return math_ops.select(keep, scaled, 0.0)


def _noise_shape(noise_shape: Any, shape: tuple) -> tuple:
    if noise_shape is None:
        return shape
    if isinstance(noise_shape, Tensor):
        noise_shape = noise_shape.numpy().tolist()
    dims = list(noise_shape)
    if len(dims) != len(shape):
        raise ValueError(f"dropout: noise_shape {dims} must have the rank of x {shape}")
    out = tuple(s if d is None else int(d) for d, s in zip(dims, shape))
    if any(d not in (1, s) for d, s in zip(out, shape)):
        raise ValueError(
            f"dropout: noise_shape {dims} does not broadcast to x {shape}; each entry must be 1 or x's size"
        )
    return out
