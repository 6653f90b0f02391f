"""Gradients of the math ops: elementwise, activations in math_ops, reductions and scans.

Each function receives ``(inputs, attrs, output, *output_grads)`` and returns one
gradient per input, written with public ops so that they differentiate again.
"""

from __future__ import annotations

import math

from gputensor.autodiff.grads._util import conj, expand_reduced, known, shape, unbroadcast
from gputensor.autodiff.registry import register_gradient, skip_input
from gputensor.framework.op_table import OPS, execute
from gputensor.ops import array_ops, math_ops

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# ------------------------------------------------------------------ unary math
def _unary(name: str):
    """Registers ``fn(x, y, dy) -> dx`` as the gradient of a one-input op."""

    def decorator(fn):
        @register_gradient(name, replayable=True)
        def grad(inputs, attrs, output, dy):
            return (fn(inputs[0], output, dy),)

        grad.__name__ = f"{name}_grad"
        return fn

    return decorator


@_unary("negative")
def _negative(x, y, dy):
    return -dy


@_unary("abs")
def _abs(x, y, dy):
    if x._dtype.kind == "c":  # |x| is real: d|x| pulls back along x / |x|
        return math_ops.cast(dy / y, x._dtype) * x
    return dy * math_ops.sign(x)


@_unary("exp")
def _exp(x, y, dy):
    return dy * conj(y)


@_unary("expm1")
def _expm1(x, y, dy):
    return dy * math_ops.exp(x)


@_unary("log")
def _log(x, y, dy):
    return dy / conj(x)


@_unary("log1p")
def _log1p(x, y, dy):
    return dy / (x + 1.0)


@_unary("sqrt")
def _sqrt(x, y, dy):
    return dy * 0.5 / conj(y)


@_unary("rsqrt")
def _rsqrt(x, y, dy):
    return dy * (y * y * y) * -0.5


@_unary("square")
def _square(x, y, dy):
    return dy * (conj(x) * 2)


@_unary("reciprocal")
def _reciprocal(x, y, dy):
    return -dy * conj(y * y)


@_unary("sin")
def _sin(x, y, dy):
    return dy * conj(math_ops.cos(x))


@_unary("cos")
def _cos(x, y, dy):
    return -dy * conj(math_ops.sin(x))


@_unary("tan")
def _tan(x, y, dy):
    return dy * (y * y + 1.0)


@_unary("tanh")
def _tanh(x, y, dy):
    return dy * conj(1.0 - y * y)


@_unary("erf")
def _erf(x, y, dy):
    return dy * (math_ops.exp(-math_ops.square(x)) * _TWO_OVER_SQRT_PI)


@_unary("sigmoid")
def _sigmoid(x, y, dy):
    return dy * conj(y * (1.0 - y))


@register_gradient("relu", replayable=True)
def _relu(inputs, attrs, y, dy):
    return (execute(OPS["relu_grad"], (dy, y)),)


@register_gradient("relu_grad", replayable=True)
def _relu_grad(inputs, attrs, out, g):
    # Linear in dy with the same mask; piecewise constant in y (relu's second derivative is 0).
    dy, y = inputs
    return execute(OPS["relu_grad"], (g, y)), None


@_unary("relu6")
def _relu6(x, y, dy):
    return math_ops.select(math_ops.logical_and(math_ops.greater(x, 0), math_ops.less(x, 6)), dy, 0)


@_unary("elu")
def _elu(x, y, dy):
    return math_ops.select(math_ops.greater(x, 0), dy, dy * (y + 1.0))


@_unary("selu")
def _selu(x, y, dy):
    return math_ops.select(math_ops.greater(x, 0), dy * _SELU_SCALE, dy * (y + _SELU_SCALE * _SELU_ALPHA))


@_unary("softplus")
def _softplus(x, y, dy):
    return dy * math_ops.sigmoid(x)


@_unary("silu")
def _silu(x, y, dy):
    s = math_ops.sigmoid(x)
    return dy * (s * (x * (1.0 - s) + 1.0))


@register_gradient("gelu", replayable=True)
def _gelu(inputs, attrs, y, dy):
    (x,) = inputs
    if attrs["approximate"]:
        c = math.sqrt(2.0 / math.pi)
        x2 = math_ops.square(x)
        t = math_ops.tanh((x + x * x2 * 0.044715) * c)
        d = (t + 1.0) * 0.5 + x * (1.0 - t * t) * ((x2 * (3 * 0.044715) + 1.0) * (0.5 * c))
        return (dy * d,)
    cdf = (math_ops.erf(x * (1.0 / math.sqrt(2.0))) + 1.0) * 0.5
    pdf = math_ops.exp(math_ops.square(x) * -0.5) * (1.0 / math.sqrt(2.0 * math.pi))
    return (dy * (cdf + x * pdf),)


@register_gradient("leaky_relu", replayable=True)
def _leaky_relu(inputs, attrs, y, dy):
    return (math_ops.select(math_ops.greater(inputs[0], 0), dy, dy * attrs["alpha"]),)


@register_gradient("cast", replayable=True)
def _cast(inputs, attrs, y, dy):
    x = inputs[0]
    if x._dtype.kind not in "fc" or y._dtype.kind not in "fc":
        return (None,)
    if x._dtype.kind == "f" and dy._dtype.kind == "c":
        dy = math_ops.real(dy)
    return (math_ops.cast(dy, x._dtype),)


@_unary("real")
def _real(x, y, dy):
    return math_ops.cast(dy, x._dtype)


@_unary("imag")
def _imag(x, y, dy):
    return math_ops.cast(dy, x._dtype) * math_ops.cast(1j, x._dtype)


@_unary("conj")
def _conj(x, y, dy):
    return math_ops.conj(dy)


# ----------------------------------------------------------------- binary math
def _binary(name: str):
    """Registers ``fn(x, y, z, dz) -> (dx, dy)``; the results are un-broadcast to the inputs."""

    def decorator(fn):
        @register_gradient(name, replayable=True)
        def grad(inputs, attrs, output, dz):
            x, y = inputs
            gx, gy = fn(x, y, output, dz)
            return unbroadcast(gx, x), unbroadcast(gy, y)

        grad.__name__ = f"{name}_grad"
        return fn

    return decorator


@register_gradient("add", replayable=True)
def _add(inputs, attrs, z, dz):
    return unbroadcast(dz, inputs[0]), unbroadcast(dz, inputs[1])


@_binary("subtract")
def _subtract(x, y, z, dz):
    return dz, (None if skip_input(1) else -dz)


@_binary("multiply")
def _multiply(x, y, z, dz):
    return (
        None if skip_input(0) else dz * conj(y),
        None if skip_input(1) else conj(x) * dz,
    )


@_binary("div")
def _div(x, y, z, dz):
    return (
        None if skip_input(0) else dz / conj(y),
        None if skip_input(1) else -dz * conj(x / (y * y)),
    )


@_binary("floormod")
def _floormod(x, y, z, dz):
    return dz, (None if skip_input(1) else -dz * math_ops.floordiv(x, y))


@_binary("pow")
def _pow(x, y, z, dz):
    gx = None if skip_input(0) else dz * conj(y * math_ops.pow(x, y - 1))
    gy = None
    if not skip_input(1):
        if x._dtype.kind == "c":
            safe = math_ops.not_equal(x, 0)
            log_x = math_ops.select(safe, math_ops.log(math_ops.select(safe, x, 1)), 0)
        else:
            positive = math_ops.greater(x, 0)
            log_x = math_ops.select(positive, math_ops.log(math_ops.select(positive, x, 1)), 0)
        gy = dz * conj(z * log_x)
    return gx, gy


def _pick(mask, dz):
    """dz routed to x where ``mask`` holds and to y elsewhere."""
    out = shape(dz)
    if shape(mask) != out or not known(out):
        mask = array_ops.broadcast_to(mask, out if known(out) else array_ops.shape(dz))
    return math_ops.select(mask, dz, 0), math_ops.select(mask, 0, dz)


@_binary("maximum")
def _maximum(x, y, z, dz):
    return _pick(math_ops.greater_equal(x, y), dz)


@_binary("minimum")
def _minimum(x, y, z, dz):
    return _pick(math_ops.less_equal(x, y), dz)


@_binary("squared_difference")
def _squared_difference(x, y, z, dz):
    d = dz * conj(x - y) * 2.0
    return d, (None if skip_input(1) else -d)


@_binary("atan2")
def _atan2(x, y, z, dz):
    scale = dz / (x * x + y * y)
    return scale * y, -scale * x


@register_gradient("select", replayable=True)
def _select(inputs, attrs, output, dz):
    c, x, y = inputs
    gx, gy = _pick(c, dz)
    return None, unbroadcast(gx, x), unbroadcast(gy, y)


# ----------------------------------------------------------------- reductions
@register_gradient("reduce_sum", replayable=True)
def _reduce_sum(inputs, attrs, y, dy):
    x = inputs[0]
    return (expand_reduced(dy, shape(x), attrs["axis"], attrs["keepdims"], x),)


def _count(x, axis) -> int:
    s = shape(x)
    n = 1
    for i in range(len(s)) if axis is None else axis:
        n *= s[i]
    return n


@register_gradient("reduce_mean", replayable=True)
def _reduce_mean(inputs, attrs, y, dy):
    x = inputs[0]
    if not known(shape(x)):  # None dims while tracing: the count of each call's value
        n = math_ops.maximum(
            math_ops.cast(array_ops.size(x), dy.dtype) / math_ops.cast(array_ops.size(y), dy.dtype), 1.0
        )
        return (expand_reduced(dy / n, shape(x), attrs["axis"], attrs["keepdims"], x),)
    n = max(_count(x, attrs["axis"]), 1)
    return (expand_reduced(dy / float(n), shape(x), attrs["axis"], attrs["keepdims"]),)


def _extremum(inputs, attrs, y, dy):
    # As TF: the gradient is split evenly between tied extreme elements.
    x = inputs[0]
    axis, keepdims = attrs["axis"], attrs["keepdims"]
    y_full = expand_reduced(y, shape(x), axis, keepdims, x)
    indicators = math_ops.cast(math_ops.equal(y_full, x), x._dtype)
    count = math_ops.reduce_sum(indicators, axis=axis, keepdims=True)
    return (indicators / count * expand_reduced(dy, shape(x), axis, keepdims, x),)


register_gradient("reduce_max", replayable=True)(_extremum)
register_gradient("reduce_min", replayable=True)(_extremum)


@register_gradient("reduce_logsumexp", replayable=True)
def _reduce_logsumexp(inputs, attrs, y, dy):
    x = inputs[0]
    axis, keepdims = attrs["axis"], attrs["keepdims"]
    return (
        expand_reduced(dy, shape(x), axis, keepdims, x)
        * math_ops.exp(x - expand_reduced(y, shape(x), axis, keepdims, x)),
    )


@register_gradient("reduce_prod", replayable=True)
def _reduce_prod(inputs, attrs, y, dy):
    # Products of the other elements via exclusive cumulative products from both sides, so
    # zeros in the input are handled exactly (as TF's ProdGrad).
    x = inputs[0]
    s = shape(x)
    axis = tuple(range(len(s))) if attrs["axis"] is None else attrs["axis"]
    if not s:
        return (dy,)
    rest = tuple(i for i in range(len(s)) if i not in axis)
    perm = axis + rest
    xt = array_ops.transpose(x, perm)
    n_red = _count(x, axis)
    flat = array_ops.reshape(xt, (n_red, -1))
    left = math_ops.cumprod(flat, axis=0, exclusive=True)
    right = math_ops.cumprod(flat, axis=0, exclusive=True, reverse=True)
    others = array_ops.reshape(left * right, [s[i] for i in perm])
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    others = array_ops.transpose(others, inverse)
    return (others * conj(expand_reduced(dy, s, attrs["axis"], attrs["keepdims"])),)


@register_gradient("cumsum", replayable=True)
def _cumsum(inputs, attrs, y, dy):
    return (
        math_ops.cumsum(dy, axis=attrs["axis"], exclusive=attrs["exclusive"], reverse=not attrs["reverse"]),
    )


@register_gradient("cumprod", replayable=True)
def _cumprod(inputs, attrs, y, dy):
    # As TF: exact where x has no zeros.
    x = inputs[0]
    a, ex, rev = attrs["axis"], attrs["exclusive"], attrs["reverse"]
    out = math_ops.cumsum(y * dy, axis=a, exclusive=ex, reverse=not rev)
    return (out / x,)
