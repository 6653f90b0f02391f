"""CPU kernels of the elementwise ops: one NumPy call each, keyed by op name."""

from __future__ import annotations

from typing import Any

import numpy as np

from gputensor.errors import InvalidArgumentError

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _erf(x: np.ndarray) -> np.ndarray:
    try:
        from scipy.special import erf
    except ImportError:  # scipy is optional: exact but slower element-by-element fallback
        import math

        return np.vectorize(math.erf, otypes=[x.dtype])(x)
    return erf(x).astype(x.dtype, copy=False)


def _sigmoid(x: Any) -> Any:
    # exp(-logaddexp(0, -x)) never overflows, unlike 1 / (1 + exp(-x)) for large negative x.
    return np.exp(-np.logaddexp(x.dtype.type(0), -x))


def _softplus(x: Any) -> Any:
    return np.logaddexp(x.dtype.type(0), x)


def _gelu(x: Any, approximate: bool) -> Any:
    t = x.dtype.type
    if approximate:
        inner = t(0.7978845608028654) * (x + t(0.044715) * x * x * x)
        return t(0.5) * x * (t(1) + np.tanh(inner))
    return t(0.5) * x * (t(1) + _erf(x * t(0.7071067811865476)))


def _elu(x: Any) -> Any:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


def _selu(x: Any) -> Any:
    t = x.dtype.type
    return t(_SELU_SCALE) * np.where(x > 0, x, t(_SELU_ALPHA) * np.expm1(np.minimum(x, 0)))


def _check_int_divisor(op: str, y: Any) -> None:
    if np.any(np.asarray(y) == 0):
        raise InvalidArgumentError(f"{op}: Integer division by zero", op)


def _floordiv(x: Any, y: Any) -> Any:
    if x.dtype.kind in "iu":
        _check_int_divisor("floordiv", y)
    return np.floor_divide(x, y)


def _mod(x: Any, y: Any) -> Any:
    if x.dtype.kind in "iu":
        _check_int_divisor("floormod", y)
    return np.mod(x, y)


def _pow(x: Any, y: Any) -> Any:
    if x.dtype.kind in "iu" and np.any(np.asarray(y) < 0):
        raise InvalidArgumentError("pow: Integers to negative integer powers are not allowed", "pow")
    return np.power(x, y)


def _rsqrt(x: Any) -> Any:
    return x.dtype.type(1) / np.sqrt(x)


def _relu6(x: Any) -> Any:
    # np.clip promotes bfloat16 (an ml_dtypes extension type) to float32.
    return np.clip(x, x.dtype.type(0), x.dtype.type(6)).astype(x.dtype, copy=False)


def _silu(x: Any) -> Any:
    return x * _sigmoid(x)


def _leaky_relu(x: Any, alpha: float) -> Any:
    return np.where(x > 0, x, x * x.dtype.type(alpha))


def _relu_grad(dy: Any, y: Any) -> Any:
    return np.multiply(dy, y > 0, dtype=dy.dtype)


def _relu(x: Any) -> Any:
    return np.maximum(x, x.dtype.type(0))


def _div(x: Any, y: Any) -> Any:
    return np.true_divide(x, y)


def _squared_difference(x: Any, y: Any) -> Any:
    d = np.subtract(x, y)
    return d * np.conj(d) if d.dtype.kind == "c" else d * d


def _reciprocal(x: Any) -> Any:
    return x.dtype.type(1) / x


def _sign(x: Any) -> Any:
    return np.sign(x)


def _select(cond: Any, x: Any, y: Any) -> Any:
    return np.where(cond, x, y)


KERNELS = {
    # unary math
    "negative": np.negative,
    "abs": np.abs,
    "sign": _sign,
    "exp": np.exp,
    "expm1": np.expm1,
    "log": np.log,
    "log1p": np.log1p,
    "sqrt": np.sqrt,
    "rsqrt": _rsqrt,
    "square": np.square,
    "reciprocal": _reciprocal,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "tanh": np.tanh,
    "erf": _erf,
    "sigmoid": _sigmoid,
    "floor": np.floor,
    "ceil": np.ceil,
    "round": np.rint,  # half to even, as tf.round
    "is_nan": np.isnan,
    "is_finite": np.isfinite,
    "is_inf": np.isinf,
    "logical_not": np.logical_not,
    "invert": np.invert,
    "real": np.real,
    "imag": np.imag,
    "conj": np.conj,
    # activations
    "relu": _relu,
    "relu_grad": _relu_grad,
    "relu6": _relu6,
    "elu": _elu,
    "selu": _selu,
    "gelu": _gelu,
    "softplus": _softplus,
    "silu": _silu,
    "leaky_relu": _leaky_relu,
    # binary math
    "add": np.add,
    "subtract": np.subtract,
    "multiply": np.multiply,
    "div": _div,
    "floordiv": _floordiv,
    "floormod": _mod,
    "pow": _pow,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "squared_difference": _squared_difference,
    "atan2": np.arctan2,
    "equal": np.equal,
    "not_equal": np.not_equal,
    "less": np.less,
    "less_equal": np.less_equal,
    "greater": np.greater,
    "greater_equal": np.greater_equal,
    "logical_and": np.logical_and,
    "logical_or": np.logical_or,
    "logical_xor": np.logical_xor,
    "bitwise_and": np.bitwise_and,
    "bitwise_or": np.bitwise_or,
    "bitwise_xor": np.bitwise_xor,
    # ternary
    "select": _select,
}


def _cast(x: Any, dtype: np.dtype) -> Any:
    if x.dtype.kind == "c" and dtype.kind != "c":
        x = np.real(x)  # as tf.cast: complex to real keeps the real part
    if dtype.kind == "b":
        return x != 0
    return x.astype(dtype)


KERNELS["cast"] = _cast
