"""``gt.keras.ops``: the NumPy-style op names of Keras 3 (``keras.ops``) on gt tensors.

Keras 3's guides write layers with ``keras.ops`` (``ops.matmul``, ``ops.sum``, ``ops.shape``,
...); these are thin wrappers over ``gt`` ops with Keras's argument names and defaults
(``axis=None`` reduces everything, ``concatenate`` joins along axis 0, ``shape`` is a tuple with
ints where the size is known). They work eagerly and inside ``gt.function``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import gputensor as gt

__all__ = [
    "abs", "add", "arange", "argmax", "argmin", "cast", "clip", "concatenate", "convert_to_numpy",
    "convert_to_tensor", "cos", "divide", "equal", "exp", "expand_dims", "greater", "greater_equal",
    "less", "less_equal", "log", "matmul", "max", "maximum", "mean", "min", "minimum", "multiply",
    "negative", "not_equal", "one_hot", "ones", "ones_like", "power", "prod", "relu", "reshape",
    "shape", "sigmoid", "sin", "softmax", "sqrt", "square", "squeeze", "stack", "subtract", "sum",
    "tanh", "transpose", "where", "zeros", "zeros_like",
]  # fmt: skip

_builtin_abs, _builtin_max, _builtin_min, _builtin_sum = abs, max, min, sum


def _t(x: Any) -> gt.Tensor:
    return x if gt.is_tensor(x) else gt.convert_to_tensor(x)


def convert_to_tensor(x: Any, dtype: Any = None) -> gt.Tensor:
    """``x`` as a gt tensor (of ``dtype`` when given)."""
    return gt.convert_to_tensor(x, dtype=gt.as_dtype(dtype) if dtype is not None else None)


def convert_to_numpy(x: Any) -> np.ndarray:
    """``x`` as a NumPy array."""
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def shape(x: Any) -> tuple:
    """The shape as a tuple: ints where the size is known, scalar tensors where it is not
    (as Keras 3's TensorFlow backend)."""
    x = _t(x)
    static = x.shape.as_list() if hasattr(x.shape, "as_list") else list(x.shape)
    if all(d is not None for d in static):
        return tuple(int(d) for d in static)
    dynamic = gt.shape(x)
    return tuple(int(d) if d is not None else dynamic[i] for i, d in enumerate(static))


def cast(x: Any, dtype: Any) -> gt.Tensor:
    return gt.cast(_t(x), gt.as_dtype(dtype))


def ones(shape: Any, dtype: Any = None) -> gt.Tensor:
    return gt.ones(shape, dtype=gt.as_dtype(dtype or "float32"))


def zeros(shape: Any, dtype: Any = None) -> gt.Tensor:
    return gt.zeros(shape, dtype=gt.as_dtype(dtype or "float32"))


def ones_like(x: Any, dtype: Any = None) -> gt.Tensor:
    return gt.ones_like(_t(x), dtype=gt.as_dtype(dtype) if dtype is not None else None)


def zeros_like(x: Any, dtype: Any = None) -> gt.Tensor:
    return gt.zeros_like(_t(x), dtype=gt.as_dtype(dtype) if dtype is not None else None)


def arange(start: Any, stop: Any = None, step: int = 1, dtype: Any = None) -> gt.Tensor:
    if stop is None:
        start, stop = 0, start
    return gt.range(start, stop, step, dtype=gt.as_dtype(dtype) if dtype is not None else None)


def _reduce(fn: Any, x: Any, axis: Any, keepdims: bool) -> gt.Tensor:
    axis = list(axis) if isinstance(axis, tuple) else axis
    return fn(_t(x), axis=axis, keepdims=keepdims)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> gt.Tensor:  # noqa: A001 - Keras's name
    return _reduce(gt.reduce_sum, x, axis, keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> gt.Tensor:
    x = _t(x)
    if not x.dtype.is_floating:
        x = gt.cast(x, gt.float32)  # Keras averages integers as floats
    return _reduce(gt.reduce_mean, x, axis, keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> gt.Tensor:  # noqa: A001
    return _reduce(gt.reduce_max, x, axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> gt.Tensor:  # noqa: A001
    return _reduce(gt.reduce_min, x, axis, keepdims)


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> gt.Tensor:
    return _reduce(gt.reduce_prod, x, axis, keepdims)


def argmax(x: Any, axis: Any = None, keepdims: bool = False) -> gt.Tensor:
    x = _t(x)
    out = gt.argmax(gt.reshape(x, [-1]) if axis is None else x, axis=0 if axis is None else axis)
    return gt.expand_dims(out, axis) if keepdims and axis is not None else out


def argmin(x: Any, axis: Any = None, keepdims: bool = False) -> gt.Tensor:
    x = _t(x)
    out = gt.argmin(gt.reshape(x, [-1]) if axis is None else x, axis=0 if axis is None else axis)
    return gt.expand_dims(out, axis) if keepdims and axis is not None else out


def concatenate(xs: Any, axis: int = 0) -> gt.Tensor:
    return gt.concat([_t(x) for x in xs], axis=axis)


def stack(xs: Any, axis: int = 0) -> gt.Tensor:
    return gt.stack([_t(x) for x in xs], axis=axis)


def reshape(x: Any, newshape: Any) -> gt.Tensor:
    return gt.reshape(_t(x), newshape)


def transpose(x: Any, axes: Any = None) -> gt.Tensor:
    return gt.transpose(_t(x), perm=axes)


def expand_dims(x: Any, axis: int) -> gt.Tensor:
    return gt.expand_dims(_t(x), axis)


def squeeze(x: Any, axis: Any = None) -> gt.Tensor:
    return gt.squeeze(_t(x), axis=axis)


def matmul(x1: Any, x2: Any) -> gt.Tensor:
    return gt.matmul(_t(x1), _t(x2))


def one_hot(x: Any, num_classes: int, axis: int = -1, dtype: Any = None) -> gt.Tensor:
    return gt.one_hot(gt.cast(_t(x), gt.int32), num_classes, axis=axis, dtype=gt.as_dtype(dtype or "float32"))


def where(condition: Any, x1: Any = None, x2: Any = None) -> gt.Tensor:
    return gt.where(_t(condition), x1, x2)


def clip(x: Any, x_min: Any, x_max: Any) -> gt.Tensor:
    return gt.clip_by_value(_t(x), x_min, x_max)


def softmax(x: Any, axis: int = -1) -> gt.Tensor:
    return gt.nn.softmax(_t(x), axis=axis)


def _binary(fn: Any) -> Any:
    def op(x1: Any, x2: Any) -> gt.Tensor:
        return fn(x1, x2)

    op.__name__ = fn.__name__
    op.__doc__ = f"``gt.{fn.__name__}`` under Keras 3's ``keras.ops`` name."
    return op


def _unary(fn: Any, name: str) -> Any:
    def op(x: Any) -> gt.Tensor:
        return fn(_t(x))

    op.__name__ = name
    op.__doc__ = f"``{name}`` as ``keras.ops.{name}``."
    return op


add = _binary(gt.add)
subtract = _binary(gt.subtract)
multiply = _binary(gt.multiply)
divide = _binary(gt.divide)
power = _binary(gt.pow)
maximum = _binary(gt.maximum)
minimum = _binary(gt.minimum)
equal = _binary(gt.equal)
not_equal = _binary(gt.not_equal)
greater = _binary(gt.greater)
greater_equal = _binary(gt.greater_equal)
less = _binary(gt.less)
less_equal = _binary(gt.less_equal)

abs = _unary(gt.abs, "abs")  # noqa: A001 - Keras's name
square = _unary(gt.square, "square")
sqrt = _unary(gt.sqrt, "sqrt")
exp = _unary(gt.exp, "exp")
log = _unary(gt.math.log, "log")
sin = _unary(gt.sin, "sin")
cos = _unary(gt.cos, "cos")
tanh = _unary(gt.tanh, "tanh")
negative = _unary(gt.negative, "negative")
relu = _unary(gt.nn.relu, "relu")
sigmoid = _unary(gt.sigmoid, "sigmoid")
