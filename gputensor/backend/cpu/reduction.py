"""CPU kernels of the reductions. ``axis`` arrives normalised: a tuple of ints, or None."""

from __future__ import annotations

from typing import Any

import numpy as np


# The ufunc reductions directly: np.sum/np.prod add a microsecond of Python dispatch.
def _sum(x: Any, axis: Any, keepdims: bool) -> Any:
    if _leading_axes(x, axis):
        # Summing away the leading axes of a float array (a bias or batch-norm gradient) as
        # ones @ x: NumPy runs that reduction as row-by-row adds with an inner loop as short
        # as the kept axes (sequential sums, no more exact than BLAS's), BLAS ~8x faster.
        rows = int(np.prod(x.shape[: len(axis)]))
        out = np.ones(rows, x.dtype) @ x.reshape(rows, -1)
        return out.reshape(_reduced_shape(x.shape, axis, keepdims))
    return np.add.reduce(x, axis=axis, keepdims=keepdims, dtype=x.dtype)


def _leading_axes(x: Any, axis: Any) -> bool:
    """Whether ``axis`` is 0..k-1 of a C-contiguous float32/float64 array, keeping at least one
    axis and reducing enough rows for BLAS to pay."""
    return (
        axis is not None
        and 0 < len(axis) < x.ndim
        and x.dtype in _BLAS_FLOATS
        and x.flags.c_contiguous
        and tuple(axis) == tuple(range(len(axis)))
        and x.size >= 4096
    )


_BLAS_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _prod(x: Any, axis: Any, keepdims: bool) -> Any:
    return np.multiply.reduce(x, axis=axis, keepdims=keepdims, dtype=x.dtype)


def _mean(x: Any, axis: Any, keepdims: bool) -> Any:
    if x.dtype.kind in "iu":
        # TF keeps the integer dtype and truncates toward zero: sum / count in C semantics.
        s = np.sum(x, axis=axis, keepdims=keepdims, dtype=np.int64)
        n = max(1, x.size // max(1, np.size(s))) if x.size else 1
        q = np.abs(s) // n
        return (np.sign(s) * q).astype(x.dtype)
    if x.dtype.kind == "b":
        raise TypeError("reduce_mean does not take bool tensors; cast to a number type first")
    if x.size == 0:
        return np.full(_reduced_shape(x.shape, axis, keepdims), np.nan, dtype=x.dtype)
    if _leading_axes(x, axis):  # batch-norm statistics of NHWC activations: see _sum
        return _sum(x, axis, keepdims) / x.dtype.type(np.prod(x.shape[: len(axis)]))
    acc = np.float32 if x.dtype.itemsize < 4 and x.dtype.kind == "f" else None  # float16: f32 sum
    if x.dtype.kind == "f" and x.size < 1 << 24:  # counts below 2**24 are exact in float32
        # np.mean's own steps (its sum, then a division correctly rounded to the sum's dtype)
        # without its Python wrapper, which costs more than the sum for a small loss vector.
        total = np.add.reduce(x, axis=axis, keepdims=keepdims, dtype=acc)
        count = x.size // max(1, np.size(total))
        return np.true_divide(total, total.dtype.type(count)).astype(x.dtype, copy=False)
    return np.mean(x, axis=axis, keepdims=keepdims, dtype=acc).astype(x.dtype, copy=False)


def _reduced_shape(shape: tuple, axis: Any, keepdims: bool) -> tuple:
    axes = range(len(shape)) if axis is None else axis
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _identity_fill(x: Any, axis: Any, keepdims: bool, value: Any) -> Any:
    return np.full(_reduced_shape(x.shape, axis, keepdims), value, dtype=x.dtype)


def _lowest(dtype: np.dtype) -> Any:
    if dtype.kind == "f":
        return -np.inf
    if dtype.kind == "b":
        return False
    return np.iinfo(dtype).min


def _highest(dtype: np.dtype) -> Any:
    if dtype.kind == "f":
        return np.inf
    if dtype.kind == "b":
        return True
    return np.iinfo(dtype).max


def _max(x: Any, axis: Any, keepdims: bool) -> Any:
    # TF returns the lowest value for an empty reduction where NumPy raises.
    if x.size == 0:
        return _identity_fill(x, axis, keepdims, _lowest(x.dtype))
    return np.max(x, axis=axis, keepdims=keepdims)


def _min(x: Any, axis: Any, keepdims: bool) -> Any:
    if x.size == 0:
        return _identity_fill(x, axis, keepdims, _highest(x.dtype))
    return np.min(x, axis=axis, keepdims=keepdims)


def _any(x: Any, axis: Any, keepdims: bool) -> Any:
    return np.any(x, axis=axis, keepdims=keepdims)


def _all(x: Any, axis: Any, keepdims: bool) -> Any:
    return np.all(x, axis=axis, keepdims=keepdims)


def _logsumexp(x: Any, axis: Any, keepdims: bool) -> Any:
    if x.size == 0:
        return _identity_fill(x, axis, keepdims, -np.inf)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, x.dtype.type(0))
    s = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return s if keepdims else np.squeeze(s, axis=axis)


def _arg(fn: Any) -> Any:
    def kernel(x: Any, axis: int, output_type: Any) -> Any:
        if x.shape[axis] == 0:
            raise ValueError(f"Reduction axis {axis} is empty in shape {x.shape}")
        return fn(x, axis=axis).astype(output_type)

    return kernel


def _cumsum(x: Any, axis: int, exclusive: bool, reverse: bool) -> Any:
    if reverse:
        x = np.flip(x, axis)
    out = np.cumsum(x, axis=axis, dtype=x.dtype)
    if exclusive:
        out = (
            np.concatenate(
                [np.zeros_like(np.take(out, [0], axis=axis)), np.delete(out, -1, axis=axis)], axis=axis
            )
            if x.shape[axis]
            else out
        )
    return np.flip(out, axis) if reverse else out


def _cumprod(x: Any, axis: int, exclusive: bool, reverse: bool) -> Any:
    if reverse:
        x = np.flip(x, axis)
    out = np.cumprod(x, axis=axis, dtype=x.dtype)
    if exclusive and x.shape[axis]:
        out = np.concatenate(
            [np.ones_like(np.take(out, [0], axis=axis)), np.delete(out, -1, axis=axis)], axis=axis
        )
    return np.flip(out, axis) if reverse else out


KERNELS = {
    "reduce_sum": _sum,
    "reduce_prod": _prod,
    "reduce_mean": _mean,
    "reduce_max": _max,
    "reduce_min": _min,
    "reduce_any": _any,
    "reduce_all": _all,
    "reduce_logsumexp": _logsumexp,
    "argmax": _arg(np.argmax),
    "argmin": _arg(np.argmin),
    "cumsum": _cumsum,
    "cumprod": _cumprod,
}
