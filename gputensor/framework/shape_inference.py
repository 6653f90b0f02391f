"""Output shapes and dtypes of ops from their inputs' shapes and dtypes, without running them.

Every op declares how it infers its outputs (``define(..., infer=fn)``; the
elementwise, reduction and scan families get theirs from their kind). Graph
tracing, export and tests read them: ``fn(op, specs, attrs)`` takes one `Spec`
per input and the op's attrs and returns a `Spec`, or a tuple of them for ops
with several outputs. A dimension is None when it is not known (a None dim of an
input, or one that depends on values, as the length of ``unique``'s output), and
a shape is None when even the rank is not known, as in TF's shape functions.
Known dimensions that contradict each other raise ValueError.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from gputensor.framework import dtypes


class Spec(NamedTuple):
    """The static type of one tensor: its shape (dims are ints or None; None: unknown rank) and dtype."""

    shape: tuple | None
    dtype: dtypes.DType


Infer = Callable[[Any, list, dict], Any]


def of(t: Any) -> Spec:
    """The Spec of a concrete tensor."""
    return Spec(tuple(t._data.shape), t._dtype)


def dtype_of(value: Any) -> dtypes.DType:
    """A DType from an attr (a DType, a NumPy dtype or its name)."""
    return value if isinstance(value, dtypes.DType) else dtypes.as_dtype(value)


# ------------------------------------------------------------------- dimensions
def merge_dim(a: int | None, b: int | None, what: str) -> int | None:
    """The dimension two known-equal dimensions share."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    raise ValueError(f"{what}: dimensions {a} and {b} must be equal")


def broadcast(*shapes: tuple | None) -> tuple | None:
    """NumPy/TF broadcasting of static shapes."""
    if any(s is None for s in shapes):
        return None
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(rank):
        dim: int | None = 1
        unknown = False
        for s in shapes:
            j = i - (rank - len(s))
            if j < 0:
                continue
            d = s[j]
            if d is None:
                unknown = True
            elif d != 1:
                if dim not in (1, None) and dim != d:
                    raise ValueError(f"shapes {', '.join(map(str, shapes))} do not broadcast")
                dim = d
        out.append(None if unknown and dim == 1 else dim)
    return tuple(out)


def product(dims: Iterable[int | None]) -> int | None:
    n = 1
    for d in dims:
        if d is None:
            return None
        n *= d
    return n


def normalize_axis(axis: int, rank: int) -> int:
    return axis + rank if axis < 0 else axis


# ---------------------------------------------------------------- family rules
def unary(op: Any, specs: list, attrs: dict) -> Spec:
    (x,) = specs
    if "dtype" in attrs:  # cast
        return Spec(x.shape, dtype_of(attrs["dtype"]))
    return Spec(x.shape, op.out_dtype or x.dtype)


def to_real(op: Any, specs: list, attrs: dict) -> Spec:
    """abs, real, imag: a complex input gives its real dtype."""
    (x,) = specs
    return Spec(x.shape, x.dtype.real_dtype if x.dtype.is_complex else x.dtype)


def binary(op: Any, specs: list, attrs: dict) -> Spec:
    x, y = specs
    return Spec(broadcast(x.shape, y.shape), op.out_dtype or x.dtype)


def ternary(op: Any, specs: list, attrs: dict) -> Spec:
    c, x, y = specs
    return Spec(broadcast(c.shape, x.shape, y.shape), x.dtype)


def reduce(op: Any, specs: list, attrs: dict) -> Spec:
    (x,) = specs
    axis = attrs.get("axis")
    if "output_type" in attrs:  # argmax / argmin: one axis, no keepdims
        dtype = dtype_of(attrs["output_type"])
        if x.shape is None:
            return Spec(None, dtype)
        a = normalize_axis(axis, len(x.shape))
        return Spec(x.shape[:a] + x.shape[a + 1 :], dtype)
    if x.shape is None:
        return Spec(None, x.dtype)
    axes = range(len(x.shape)) if axis is None else [normalize_axis(a, len(x.shape)) for a in axis]
    if attrs.get("keepdims"):
        shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    else:
        shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    return Spec(shape, x.dtype)


def same(op: Any, specs: list, attrs: dict) -> Spec:
    """One output like the first input (scans, softmax, identity, band parts)."""
    return specs[0]


FAMILIES: dict[str, Infer] = {
    "unary": unary,
    "binary": binary,
    "ternary": ternary,
    "reduce": reduce,
    "scan": same,
}


# --------------------------------------------------------------- shared helpers
def matrix(shape: tuple | None) -> tuple:
    """(batch dims, rows, cols) of a shape of rank >= 2, with unknowns for an unknown rank."""
    if shape is None:
        return None, None, None
    return shape[:-2], shape[-2], shape[-1]


def conv_output(size: int | None, window: int | None, stride: int, dilation: int, pads: tuple) -> int | None:
    """Output length of a window sliding over ``size`` padded by ``pads`` (explicit padding)."""
    if size is None or window is None:
        return None
    effective = (window - 1) * dilation + 1
    return (size + pads[0] + pads[1] - effective) // stride + 1
