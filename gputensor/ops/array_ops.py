"""Array ops: creation, shapes, joining and splitting, slicing and indexing, gather/scatter, sorting.

Few primitives, many compositions (as tinygrad and Chainer): every public function
below is either one primitive or a composition of primitives and math ops, so a
backend implements only this table. Kernels are called ``kernel(*inputs, **attrs)``;
attrs arrive validated and normalised (non-negative axes, tuples of ints, NumPy dtypes).

| op | inputs | attrs | output |
|---|---|---|---|
| ``fill`` | none | ``shape`` tuple, ``value`` Python scalar, ``dtype`` | ``shape`` filled with ``value`` |
| ``range`` | none | ``start``, ``delta`` Python numbers, ``size`` int, ``dtype`` | ``start + i * delta``, i in [0, size), computed in int64/float64 then cast |
| ``identity`` | x | none | x's value (may share x's buffer) |
| ``reshape`` | x | ``shape`` tuple (same size as x) | x in row-major order with ``shape`` |
| ``transpose`` | x | ``perm`` tuple | ``out.shape[i] == x.shape[perm[i]]`` |
| ``broadcast_to`` | x | ``shape`` tuple (x broadcasts to it) | x broadcast, NumPy rules |
| ``concat`` | x0, x1, ... (same dtype and rank >= 1) | ``axis`` | concatenation along ``axis`` |
| ``strided_slice`` | x | ``begin``, ``size``, ``strides`` (one per dim of x), ``shape`` | elements ``begin[d] + i * strides[d]``, i in [0, size[d]) (all in range; strides != 0), reshaped to ``shape`` (shrunk dims dropped, new axes 1) |
| ``pad`` | x | ``paddings`` ((before, after), ...), ``mode`` "constant"/"reflect"/"symmetric", ``constant_values`` | padded x (reflect/symmetric as NumPy's modes) |
| ``gather`` | params, indices (int32/int64) | ``axis``, ``batch_dims`` (<= axis) | ``out[b, p, i, r] = params[b, p, indices[b, i], r]``; CPU raises for an index outside [0, params.shape[axis]) |
| ``gather_nd`` | params, indices (int32/int64, last dim k) | ``batch_dims`` | ``out[b, i, r] = params[b, indices[b, i, 0:k], r]``; CPU raises out of range |
| ``tensor_scatter_nd`` | tensor, indices, updates | ``reduction`` "update"/"add"/"max"/"min" | copy of tensor with ``updates`` written into / combined at the indexed slices |
| ``where`` | condition (bool) | none | int64 (n, rank): coordinates of the true elements in row-major order |
| ``sort`` | x (real) | ``descending`` bool | (values, int32 indices) along the last axis, stable (ties keep index order) |
| ``unique`` | x (1-D) | ``out_idx`` dtype | (y, idx): distinct values in order of first occurrence and ``x == y[idx]`` |

``Tensor.__getitem__`` (NumPy/TF indexing) is installed here too: basic indexing is one
``strided_slice``; integer lists/tensors use ``gather``/``gather_nd`` and bool masks ``where``.
"""

from __future__ import annotations

import builtins
import collections
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from gputensor.errors import InvalidArgumentError
from gputensor.framework import dtypes as _dt
from gputensor.framework import shape_inference as si
from gputensor.framework.context import state
from gputensor.framework.op_table import define, dtype_error, execute
from gputensor.framework.shape_inference import Spec
from gputensor.framework.tensor import Tensor, convert_to_tensor, traced_value, wrap
from gputensor.framework.tensor_shape import TensorShape
from gputensor.framework.variable import Variable
from gputensor.ops import math_ops as _m

_range = builtins.range  # `range` and `slice` are TF names defined below
_slice = builtins.slice

_INDEX_DTYPES = frozenset((_dt.int32, _dt.int64))


# ------------------------------------------------------- shape and dtype rules
def _infer_created(op, specs, attrs):  # fill: the shape and dtype are attrs
    return Spec(tuple(attrs["shape"]), si.dtype_of(attrs["dtype"]))


def _infer_range(op, specs, attrs):
    return Spec((attrs["size"],), si.dtype_of(attrs["dtype"]))


def _infer_reshape(op, specs, attrs):
    (x,) = specs
    shape = list(attrs["shape"])
    if -1 in shape:  # the public function resolves -1 when the input's size is known
        rest = si.product(d for d in shape if d != -1)
        size = None if x.shape is None else si.product(x.shape)
        shape[shape.index(-1)] = None if size is None or not rest else size // rest
    return Spec(tuple(shape), x.dtype)


def _infer_transpose(op, specs, attrs):
    (x,) = specs
    return Spec(None if x.shape is None else tuple(x.shape[p] for p in attrs["perm"]), x.dtype)


def _infer_broadcast_to(op, specs, attrs):
    (x,) = specs
    target = tuple(attrs["shape"])
    si.broadcast(x.shape, target)  # raises when they do not broadcast
    return Spec(target, x.dtype)


def _infer_concat(op, specs, attrs):
    known = [s.shape for s in specs if s.shape is not None]
    if not known:
        return Spec(None, specs[0].dtype)
    rank = len(known[0])
    axis = si.normalize_axis(attrs["axis"], rank)
    out = list(known[0])
    total: int | None = 0  # the concatenated axis: the sum of the inputs' lengths
    for shape in (s.shape for s in specs):
        if shape is None:
            total = None
            continue
        for i, d in enumerate(shape):
            if i == axis:
                total = None if total is None or d is None else total + d
            else:
                out[i] = si.merge_dim(out[i], d, "concat")
    out[axis] = total
    return Spec(tuple(out), specs[0].dtype)


def _infer_strided_slice(op, specs, attrs):  # the public function resolved the output shape
    return Spec(tuple(attrs["shape"]), specs[0].dtype)


def _infer_pad(op, specs, attrs):
    (x,) = specs
    if x.shape is None:
        return Spec(None, x.dtype)
    return Spec(
        tuple(None if d is None else d + a + b for d, (a, b) in zip(x.shape, attrs["paddings"])), x.dtype
    )


def _infer_gather(op, specs, attrs):
    params, indices = specs
    if params.shape is None or indices.shape is None:
        return Spec(None, params.dtype)
    axis, b = si.normalize_axis(attrs["axis"], len(params.shape)), attrs["batch_dims"]
    return Spec(params.shape[:axis] + indices.shape[b:] + params.shape[axis + 1 :], params.dtype)


def _infer_gather_nd(op, specs, attrs):
    params, indices = specs
    if params.shape is None or indices.shape is None or indices.shape[-1] is None:
        return Spec(None, params.dtype)
    b, k = attrs["batch_dims"], indices.shape[-1]
    return Spec(params.shape[:b] + indices.shape[b:-1] + params.shape[b + k :], params.dtype)


def _infer_where(op, specs, attrs):  # one row per true element: a count known only at run time
    (c,) = specs
    return Spec((None, None if c.shape is None else len(c.shape)), _dt.int64)


def _infer_sort(op, specs, attrs):
    (x,) = specs
    return x, Spec(x.shape, _dt.int32)


def _infer_unique(op, specs, attrs):
    (x,) = specs
    return Spec((None,), x.dtype), Spec(
        None if x.shape is None else (si.product(x.shape),), si.dtype_of(attrs["out_idx"])
    )


_FILL = define("fill", attrs=("shape", "value", "dtype"), differentiable=False, infer=_infer_created)
_RANGE = define("range", attrs=("start", "delta", "size", "dtype"), differentiable=False, infer=_infer_range)
_IDENTITY = define("identity", infer=si.same)
_RESHAPE = define("reshape", attrs=("shape",), infer=_infer_reshape)
_TRANSPOSE = define("transpose", attrs=("perm",), infer=_infer_transpose)
_BROADCAST_TO = define("broadcast_to", attrs=("shape",), infer=_infer_broadcast_to)
_CONCAT = define("concat", attrs=("axis",), infer=_infer_concat)
_STRIDED_SLICE = define(
    "strided_slice", attrs=("begin", "size", "strides", "shape"), infer=_infer_strided_slice
)
_PAD = define("pad", attrs=("paddings", "mode", "constant_values"), infer=_infer_pad)
_GATHER = define("gather", attrs=("axis", "batch_dims"), infer=_infer_gather)
_GATHER_ND = define("gather_nd", attrs=("batch_dims",), infer=_infer_gather_nd)
_SCATTER = define("tensor_scatter_nd", attrs=("reduction",), infer=si.same)
_WHERE = define("where", dtypes={_dt.bool_}, differentiable=False, infer=_infer_where)
_SORT = define("sort", dtypes=_dt.REAL, attrs=("descending",), num_outputs=2, infer=_infer_sort)
_UNIQUE = define("unique", attrs=("out_idx",), num_outputs=2, differentiable=False, infer=_infer_unique)


# ------------------------------------------------- shapes known only at run time
# A function traced with None dims (an input_signature, reduce_retracing) cannot put those
# dims in attrs. These ops take the shape as an int tensor instead (gt.shape(x), as TF's
# Shape, Reshape, BroadcastTo and Fill do), and every backend runs them with its own
# kernels of the static ops (``compose``): the shape is read to the host, as TF keeps it
# in host memory. Their ``static_shape`` attr is what tracing knows of the result (None
# dims); kernels ignore it.
def _host_dims(backend: Any, shape_array: Any, op: str) -> tuple:
    dims = tuple(int(d) for d in np.asarray(backend.to_host(shape_array)).reshape(-1))
    if any(d < -1 for d in dims):
        raise InvalidArgumentError(f"{op}: shape {dims} has a negative dimension", op)
    return dims


def _compose_shape(device: Any) -> Any:
    backend = device.backend

    def kernel(x: Any, *, out_type: Any) -> Any:
        return backend.from_host(np.asarray(x.shape, dtype=np.dtype(out_type)))

    return kernel


def _compose_dynamic_reshape(device: Any) -> Any:
    backend, reshape_kernel = device.backend, device.kernel(_RESHAPE)

    def kernel(x: Any, shape: Any, *, static_shape: tuple, split: tuple | None = None) -> Any:
        if split is not None:  # split into equal parts along a None dim: (axis, parts)
            ax, k = split
            if x.shape[ax] % k:
                raise InvalidArgumentError(
                    f"split: Number of ways to split should evenly divide the split dimension, but got "
                    f"split_dim {ax} (size = {x.shape[ax]}) and num_split {k} (input shape {tuple(x.shape)})",
                    "split",
                )
        dims = list(_host_dims(backend, shape, "reshape"))
        if split is not None:  # the part's size, the -1 (resolved here: other dims may be 0)
            dims[split[0] + 1] = x.shape[split[0]] // split[1]
        n = _num(x.shape)
        known = _num(d for d in dims if d != -1)
        if dims.count(-1) == 1 and known and n % known == 0:
            dims[dims.index(-1)] = n // known
        if dims.count(-1) or _num(dims) != n:
            raise InvalidArgumentError(
                f"reshape: Input to reshape is a tensor with {n} values (shape {tuple(x.shape)}), but "
                f"the requested shape {tuple(_host_dims(backend, shape, 'reshape'))} does not fit it",
                "reshape",
            )
        return reshape_kernel(x, shape=tuple(dims))

    return kernel


def _compose_dynamic_broadcast_to(device: Any) -> Any:
    backend, broadcast_kernel = device.backend, device.kernel(_BROADCAST_TO)

    def kernel(x: Any, shape: Any, *, static_shape: tuple) -> Any:
        dims = _host_dims(backend, shape, "broadcast_to")
        xs = tuple(x.shape)
        if len(dims) < len(xs) or not all(d in (1, t) for d, t in zip(xs[::-1], dims[::-1])):
            raise InvalidArgumentError(
                f"broadcast_to: Unable to broadcast tensor of shape {xs} to tensor of shape {dims}",
                "broadcast_to",
            )
        return x if xs == dims else broadcast_kernel(x, shape=dims)

    return kernel


def _compose_dynamic_fill(device: Any) -> Any:
    backend, fill_kernel = device.backend, device.kernel(_FILL)

    def kernel(shape: Any, *, static_shape: tuple, value: Any, dtype: Any) -> Any:
        dims = _host_dims(backend, shape, "fill")
        if -1 in dims:
            raise InvalidArgumentError(f"fill: dims {dims} must be non-negative", "fill")
        return fill_kernel(shape=dims, value=value, dtype=dtype)

    return kernel


def _compose_sum_to(device: Any) -> Any:
    """The gradient of broadcasting: ``g`` summed down to a shape it was broadcast from."""
    backend, sum_kernel, reshape_kernel = (
        device.backend,
        device.kernel(_m._op("reduce_sum")),
        device.kernel(_RESHAPE),
    )

    def kernel(g: Any, shape: Any, *, static_shape: tuple) -> Any:
        target = _host_dims(backend, shape, "sum_to")
        gs = tuple(g.shape)
        lead = len(gs) - len(target)
        if lead < 0 or any(d not in (1, e) for d, e in zip(target, gs[lead:])):
            raise InvalidArgumentError(f"sum_to: shape {gs} was not broadcast from {target}", "sum_to")
        axes = tuple(_range(lead)) + tuple(
            lead + i for i, d in enumerate(target) if d == 1 and gs[lead + i] != 1
        )
        if axes:
            g = sum_kernel(g, axis=axes, keepdims=True)
        return g if tuple(g.shape) == target else reshape_kernel(g, shape=target)

    return kernel


def _infer_shape(op, specs, attrs):
    (x,) = specs
    return Spec((None if x.shape is None else len(x.shape),), si.dtype_of(attrs["out_type"]))


def _infer_static(op, specs, attrs):  # the result's shape is what tracing knew: the attr
    shape = attrs["static_shape"]
    dtype = si.dtype_of(attrs["dtype"]) if "dtype" in attrs else specs[0].dtype
    return Spec(None if shape is None else tuple(shape), dtype)


_SHAPE = define(
    "shape", attrs=("out_type",), differentiable=False, infer=_infer_shape, compose=_compose_shape
)
_DYNAMIC_RESHAPE = define(
    "dynamic_reshape", attrs=("static_shape",), infer=_infer_static, compose=_compose_dynamic_reshape
)
_DYNAMIC_BROADCAST_TO = define(
    "dynamic_broadcast_to",
    attrs=("static_shape",),
    infer=_infer_static,
    compose=_compose_dynamic_broadcast_to,
)
_DYNAMIC_FILL = define(
    "dynamic_fill",
    attrs=("static_shape", "value", "dtype"),
    differentiable=False,
    infer=_infer_static,
    compose=_compose_dynamic_fill,
)
_SUM_TO = define("sum_to", attrs=("static_shape",), infer=_infer_static, compose=_compose_sum_to)


def _compose_dynamic_strided_slice(device: Any) -> Any:
    slice_kernel = device.kernel(_STRIDED_SLICE)

    def kernel(x: Any, *, dense: tuple, final: tuple, op: str, check: tuple, static_shape: tuple) -> Any:
        _check_dims(tuple(x.shape), check, op)
        return slice_kernel(x, **_resolve_slice(tuple(x.shape), dense, final, op))

    return kernel


def _compose_dynamic_strided_slice_grad(device: Any) -> Any:
    """The gradient of a dynamic_strided_slice: ``dy`` put back where the slice took it from, in
    zeros of ``x``'s shape (padded for unit strides, else added at the taken positions)."""
    backend = device.backend
    reshape_kernel, pad_kernel = device.kernel(_RESHAPE), device.kernel(_PAD)
    fill_kernel, scatter_kernel = device.kernel(_FILL), device.kernel(_SCATTER)

    def kernel(
        x: Any, dy: Any, *, dense: tuple, final: tuple, op: str, check: tuple, static_shape: tuple
    ) -> Any:
        dims = tuple(x.shape)
        spec = _resolve_slice(dims, dense, final, op)
        begin, size, strides = spec["begin"], spec["size"], spec["strides"]
        g = reshape_kernel(dy, shape=size)
        if all(s == 1 for s in strides):
            paddings = tuple((b, d - b - n) for b, n, d in zip(begin, size, dims))
            return pad_kernel(g, paddings=paddings, mode="constant", constant_values=0)
        taken = np.arange(_num(dims), dtype=np.int64).reshape(dims)[
            np.ix_(*(b + s * np.arange(n) for b, n, s in zip(begin, size, strides)))
        ]
        zeros = fill_kernel(shape=(_num(dims),), value=0, dtype=np.dtype(dy.dtype))
        flat = reshape_kernel(g, shape=(taken.size,))
        summed = scatter_kernel(zeros, backend.from_host(taken.reshape(-1, 1)), flat, reduction="add")
        return reshape_kernel(summed, shape=dims)

    return kernel


def _check_dims(dims: tuple, check: tuple, op: str) -> None:
    """Raises unless ``dims[d]`` is ``size`` (at least ``size`` with ``at_least``) per check:
    what tf.slice, split and unstack check that a clamping strided slice would not."""
    for d, size, at_least in check:
        if dims[d] < size if at_least else dims[d] != size:
            raise InvalidArgumentError(
                f"{op}: dimension {d} of the input (shape {dims}) must be {'at least ' if at_least else ''}"
                f"{size} for the sizes this {op} was traced with",
                op,
            )


# Slicing and indexing along None dims (a trace for any size): the slice spec is kept dense
# (per input dim) and resolved against each call's shape, as the static op's at trace time;
# ``check`` holds the sizes tf.slice, split and unstack require of the input.
_DYNAMIC_STRIDED_SLICE = define(
    "dynamic_strided_slice",
    attrs=("dense", "final", "op", "check", "static_shape"),
    infer=_infer_static,
    compose=_compose_dynamic_strided_slice,
)
_DYNAMIC_STRIDED_SLICE_GRAD = define(
    "dynamic_strided_slice_grad",
    attrs=("dense", "final", "op", "check", "static_shape"),
    infer=_infer_static,  # static_shape: the input's
    compose=_compose_dynamic_strided_slice_grad,
)

__all__ = [
    "zeros", "ones", "fill", "zeros_like", "ones_like", "eye", "range", "linspace", "one_hot",
    "rank", "size", "shape", "shape_n", "identity", "reshape", "transpose", "concat", "stack",
    "unstack", "split", "squeeze", "expand_dims", "tile", "broadcast_to", "gather", "gather_nd",
    "scatter_nd", "tensor_scatter_nd_update", "tensor_scatter_nd_add", "tensor_scatter_nd_sub",
    "tensor_scatter_nd_max", "tensor_scatter_nd_min", "where", "boolean_mask", "pad", "slice",
    "strided_slice", "reverse", "sort", "argsort", "unique", "top_k", "clip_by_value",
    "clip_by_norm", "clip_by_global_norm", "meshgrid", "repeat", "roll", "sequence_mask",
]  # fmt: skip

Unique = collections.namedtuple("Unique", ["y", "idx"])
TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])


# ====================================================================== helpers
def _dims(t: Tensor) -> tuple:
    return tuple(t._live().shape)


def _num(dims: Sequence[int]) -> int:
    return math.prod(dims)


def _static_dims(t: Tensor) -> tuple | None:
    """What is known of ``t``'s shape: None dims (and a None shape: unknown rank) only while tracing."""
    shape = t._live().shape
    return None if shape is None else tuple(shape)


def _known(dims: tuple | None) -> bool:
    return dims is not None and None not in dims


def _is_symbolic(t: Any) -> bool:
    """Whether ``t`` is a tensor of a graph being traced (its values exist only at run time)."""
    return isinstance(t, Tensor) and state.graph is not None and hasattr(t._data, "node")


def _static_value(t: Tensor) -> tuple:
    """What tracing knows of the values of a 1-D int tensor: ints, None where unknown."""
    if not _is_symbolic(t):
        return tuple(int(v) for v in np.asarray(t).reshape(-1))
    sym = t._data
    n = sym.shape[0] if sym.shape else None
    if sym.node.type == "Const":
        return tuple(int(v) for v in np.asarray(t._device.backend.to_host(sym.node.value)).reshape(-1))
    if sym.node.type == "shape" and sym.node.inputs[0].shape is not None:
        return tuple(sym.node.inputs[0].shape)
    if n is None:
        raise InvalidArgumentError(
            f"a shape tensor of unknown length ({sym.name}) was given; its rank must be known while tracing",
            None,
        )
    return (None,) * n


def _dynamic_shape(value: Any, op: str, arg: str = "shape") -> tuple[tuple, Tensor] | None:
    """For a shape argument known only at run time (a symbolic int tensor such as ``gt.shape(x)``,
    or a list holding symbolic scalars): what tracing knows of it (None dims) and the int32 tensor
    the op reads at run time. None for a concrete shape."""
    if isinstance(value, Variable):
        value = value.value() if state.graph is not None else value
    if _is_symbolic(value):
        if not value.dtype.is_integer or value.ndim not in (0, 1):
            raise TypeError(f"{op}: {arg} must be a 1-D integer tensor, got {value.dtype.name}{value.shape}")
        t = value if value.ndim == 1 else reshape(value, [1])
        return _static_value(t), _m.cast(t, _dt.int32) if t.dtype != _dt.int32 else t
    if isinstance(value, (list, tuple)) and any(_is_symbolic(v) for v in value):
        parts, static = [], []
        for v in value:
            if _is_symbolic(v):
                if v.ndim != 0 or not v.dtype.is_integer:
                    raise TypeError(
                        f"{op}: each entry of {arg} must be an int or an integer scalar tensor, got {v!r}"
                    )
                static.append(None)
                parts.append(reshape(_m.cast(v, _dt.int32) if v.dtype != _dt.int32 else v, [1]))
            else:
                d = _ints(v, op, arg)
                static.extend(d)
                parts.append(convert_to_tensor(np.asarray(d, dtype=np.int32)))
        return tuple(static), concat(parts, 0)
    return None


def _reshape_dims(t: Tensor, dims: Sequence[Any]) -> Tensor:
    """``t`` reshaped to ``dims``: ints, or ``("axis", i)`` for dimension i of ``t`` (known only at
    run time while tracing with None dims). Layout ops (expand_dims, squeeze, stack) use it."""
    shape = _static_dims(t)
    static = tuple(shape[d[1]] if isinstance(d, tuple) else d for d in dims)
    if None not in static:
        return execute(_RESHAPE, (t,), {"shape": static})
    # The shape at run time: dimension i of t, or a literal appended after t's dims.
    literals = [d for d in dims if not isinstance(d, tuple)]
    index, k = [], len(shape)
    for d in dims:
        if isinstance(d, tuple):
            index.append(d[1])
        else:
            index.append(k)
            k += 1
    source = shape_tensor = shape_fn(t)
    if literals:
        source = concat([shape_tensor, convert_to_tensor(np.asarray(literals, dtype=np.int32))], 0)
    runtime = gather(source, convert_to_tensor(np.asarray(index, dtype=np.int32)))
    return execute(_DYNAMIC_RESHAPE, (t, runtime), {"static_shape": static})


def _ints(value: Any, op: str, arg: str) -> list[int]:
    """A scalar or 1-D integer value (list, tuple, TensorShape, array, tensor) as Python ints."""
    if isinstance(value, TensorShape):
        if not value.is_fully_defined():
            raise ValueError(f"{op}: {arg} {value} is not fully defined")
        return value.as_list()
    if isinstance(value, (Tensor, Variable)) and not value.dtype.is_integer:
        raise TypeError(f"{op}: {arg} must be an integer tensor, got dtype {value.dtype.name}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {arg} must be an int or a list of ints, got {value!r}") from None
    if arr.size == 0:
        return []
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{op}: {arg} must be an int or a list of ints, got {value!r}")
    if arr.ndim > 1:
        raise InvalidArgumentError(f"{op}: {arg} must be a scalar or a vector, got shape {arr.shape}", op)
    return [int(v) for v in arr.reshape(-1)]


def _shape_arg(shape: Any, op: str, arg: str = "shape") -> tuple:
    dims = tuple(_ints(shape, op, arg))
    for i, d in enumerate(dims):
        if d < 0:
            raise InvalidArgumentError(f"{op}: {arg}[{i}] is {d}; dimensions must be >= 0 ({arg} {dims})", op)
    return dims


def _axis(axis: Any, ndim: int, op: str, arg: str = "axis") -> int:
    """Normalises one axis into [0, ndim); raises InvalidArgumentError outside [-ndim, ndim)."""
    if isinstance(axis, (Tensor, Variable, np.ndarray)):
        a = np.asarray(axis)
        if a.ndim != 0 or a.dtype.kind not in "iu":
            raise TypeError(f"{op}: {arg} must be a scalar integer, got {axis!r}")
        axis = int(a)
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: {arg} must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise InvalidArgumentError(
            f"{op}: {arg} {axis} is out of range for a tensor of rank {ndim}; it must be in [{-ndim}, {ndim})",
            op,
        )
    return int(axis) % ndim


def _python_scalar(value: Any, dtype: _dt.DType) -> Any:
    """``value`` converted to ``dtype`` and back to a hashable Python scalar (an op attribute)."""
    v = np.asarray(value).astype(dtype.np_dtype).reshape(())
    kind = dtype.kind
    if kind == "s":
        item = v[()]
        if isinstance(item, str):
            return item.encode("utf-8")
        if isinstance(item, bytes):
            return bytes(item)
        if type(item) in (int, float, bool) and item == 0:  # zeros/zeros_like: TF's empty strings
            return b""
        raise TypeError(f"Expected a string (str or bytes) for a string tensor, got {item!r}")
    if kind == "b":
        return bool(v)
    if kind in "iu":
        return int(v)
    if kind == "c":
        return complex(v)
    return float(v)


def _on_device_of(t: Tensor, op: Any, attrs: dict) -> Tensor:
    """Runs a creation op on ``t``'s device unless a ``gt.device`` scope chose one, as TF places *_like."""
    if state.device is not None:
        return execute(op, (), attrs)
    state.device = t._device
    try:
        return execute(op, (), attrs)
    finally:
        state.device = None


def _const_like(arr: np.ndarray, t: Tensor) -> Tensor:
    """A host array placed where ``t`` lives (or in the current device scope)."""
    device = state.device or t._device
    # np.asarray, not np.ascontiguousarray: that makes a scalar 1-D (gt.size would have shape (1,)).
    return wrap(device.backend.from_host(np.asarray(arr, order="C")), device)


def _same_dtype(values: Any, op: str) -> list[Tensor]:
    """Converts a list of tensor-likes to tensors of one dtype (that of the first tensor in it)."""
    if isinstance(values, (Tensor, Variable)):
        return unstack(values)
    if not isinstance(values, (list, tuple)) or not values:
        raise ValueError(f"{op}: values must be a non-empty list of tensors, got {values!r}")
    dtype = next((v.dtype for v in values if isinstance(v, (Tensor, Variable))), None)
    out = []
    for i, v in enumerate(values):
        try:
            out.append(convert_to_tensor(v, dtype=dtype))
        except ValueError:
            if not isinstance(v, (Tensor, Variable)):
                raise
            raise InvalidArgumentError(
                f"{op}: values[{i}] has dtype {v.dtype.name} but values[0] has {dtype.name}; all values "
                f"must have the same dtype. Cast with gt.cast(values[{i}], gt.{dtype.name})",
                op,
            ) from None
    if dtype is None:
        first = out[0]._dtype
        for i, t in enumerate(out):
            if t._dtype is not first:
                raise InvalidArgumentError(
                    f"{op}: values[{i}] has dtype {t._dtype.name} but values[0] has {first.name}; "
                    "all values must have the same dtype",
                    op,
                )
    return out


def _index_tensor(indices: Any, op: str) -> Tensor:
    i = convert_to_tensor(indices)
    if i._dtype not in _INDEX_DTYPES:
        if i._dtype.is_integer:
            return _m.cast(i, _dt.int64)
        raise TypeError(
            f"{op}: indices have dtype {i._dtype.name}; indices must be int32 or int64 "
            f"(cast with gt.cast(indices, gt.int32))"
        )
    return i


def _slice_axis(t: Tensor, axis: int, start: int, stop: int, shrink: bool = False) -> Tensor:
    """``t[..., start:stop, ...]`` on ``axis`` (or ``t[..., start, ...]`` with ``shrink``), in range."""
    dims = _dims(t)
    if None in dims:
        return _axis_slice(t, axis, start, stop, "strided_slice", shrink)
    begin = [0] * len(dims)
    size = list(dims)
    begin[axis] = start
    size[axis] = stop - start
    shape = size[:axis] + size[axis + 1 :] if shrink else size
    attrs = {"begin": tuple(begin), "size": tuple(size), "strides": (1,) * len(dims), "shape": tuple(shape)}
    return execute(_STRIDED_SLICE, (t,), attrs)


# ===================================================================== creation
def fill(dims: Any, value: Any, name: str | None = None) -> Tensor:
    """Creates a tensor of shape ``dims`` filled with the scalar ``value``, as ``tf.fill``.

    Args:
      dims: the shape: a list of non-negative ints, a TensorShape or a 1-D int tensor.
      value: a scalar; its dtype (Python floats give float32, ints int32) is the result's.
      name: ignored (eager).

    Returns:
      A Tensor of shape ``dims``.

    Raises:
      InvalidArgumentError: if ``value`` is not a scalar or ``dims`` has a negative entry.

    >>> gt.fill([2], 9).numpy()
    array([9, 9], dtype=int32)
    """
    v = convert_to_tensor(value)
    if v.ndim != 0:
        raise InvalidArgumentError(f"fill: value must be a scalar, got shape {v.shape}", "fill")
    dynamic = _dynamic_shape(dims, "fill", "dims")
    if dynamic is not None:
        if _is_symbolic(v):  # fill(dims, a symbolic scalar): broadcast it instead
            return broadcast_to(v, dims)
        return _filled_at_run_time(dynamic, np.asarray(v), v._dtype)
    return execute(_FILL, (), _fill_attrs(_shape_arg(dims, "fill", "dims"), np.asarray(v), v._dtype))


def _filled_at_run_time(dynamic: tuple, value: Any, dtype: _dt.DType) -> Tensor:
    static, runtime = dynamic
    attrs = _fill_attrs((), value, dtype)
    attrs["static_shape"] = static
    del attrs["shape"]
    return execute(_DYNAMIC_FILL, (runtime,), attrs)


def _fill_attrs(dims: tuple, value: Any, dtype: _dt.DType) -> dict:
    return {"shape": dims, "value": _python_scalar(value, dtype), "dtype": dtype.np_dtype}


def _filled(shape_: Any, value: Any, dtype: Any, op: str) -> Tensor:
    dynamic = _dynamic_shape(shape_, op)
    if dynamic is not None:
        return _filled_at_run_time(dynamic, value, _dt.as_dtype(dtype))
    return execute(_FILL, (), _fill_attrs(_shape_arg(shape_, op), value, _dt.as_dtype(dtype)))


def zeros(shape: Any, dtype: Any = _dt.float32, name: str | None = None) -> Tensor:
    """Creates a tensor of zeros (False for bool), as ``tf.zeros``.

    Args:
      shape: a list of non-negative ints, a TensorShape or a 1-D int tensor.
      dtype: the element type (default float32).
      name: ignored (eager).

    Returns:
      A Tensor of ``shape`` and ``dtype``.

    >>> gt.zeros([2, 1]).numpy()
    array([[0.],
           [0.]], dtype=float32)
    """
    return _filled(shape, 0, dtype, "zeros")


def ones(shape: Any, dtype: Any = _dt.float32, name: str | None = None) -> Tensor:
    """Creates a tensor of ones (True for bool), as ``tf.ones``.

    Args:
      shape: a list of non-negative ints, a TensorShape or a 1-D int tensor.
      dtype: the element type (default float32).
      name: ignored (eager).

    Returns:
      A Tensor of ``shape`` and ``dtype``.
    """
    return _filled(shape, 1, dtype, "ones")


def _like(input: Any, dtype: Any, value: int) -> Tensor:
    t = convert_to_tensor(input)
    dt = t._dtype if dtype is None else _dt.as_dtype(dtype)
    if not _known(_static_dims(t)):  # None dims while tracing: the shape of each call's value
        return _filled_at_run_time((_static_dims(t), shape(t)), value, dt)
    return _on_device_of(t, _FILL, _fill_attrs(_dims(t), value, dt))


def zeros_like(input: Any, dtype: Any = None, name: str | None = None) -> Tensor:
    """Creates a tensor of zeros with the shape (and by default the dtype) of ``input``.

    Args:
      input: a tensor-like value.
      dtype: the result's dtype; None keeps ``input``'s.
      name: ignored (eager).

    Returns:
      A Tensor on ``input``'s device (or the ``gt.device`` scope's).
    """
    return _like(input, dtype, 0)


def ones_like(input: Any, dtype: Any = None, name: str | None = None) -> Tensor:
    """Creates a tensor of ones with the shape (and by default the dtype) of ``input``.

    Args:
      input: a tensor-like value.
      dtype: the result's dtype; None keeps ``input``'s.
      name: ignored (eager).

    Returns:
      A Tensor on ``input``'s device (or the ``gt.device`` scope's).
    """
    return _like(input, dtype, 1)


_RANGE_ORDER = (_dt.int32, _dt.int64, _dt.float16, _dt.bfloat16, _dt.float32, _dt.float64)


def range(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None, name: str = "range") -> Tensor:  # noqa: A001
    """Creates the sequence ``start, start + delta, ...`` up to but excluding ``limit``, as ``tf.range``.

    Called as ``range(limit)`` or ``range(start, limit, delta)``. Without ``dtype`` the
    result has the widest dtype of the arguments (Python ints int32, floats float32).

    Args:
      start: first value (or the limit when ``limit`` is None).
      limit: the exclusive end.
      delta: the step, non-zero.
      dtype: the result's dtype.
      name: ignored (eager).

    Returns:
      A 1-D Tensor.

    Raises:
      InvalidArgumentError: if ``delta`` is 0 or points away from ``limit``.

    >>> gt.range(3, 18, 5).numpy()
    array([ 3,  8, 13], dtype=int32)
    """
    if limit is None:
        start, limit = 0, start
    args = [_range_bound(v) for v in (start, limit, delta)]
    for what, a in zip(("start", "limit", "delta"), args):
        if a.ndim != 0:
            raise InvalidArgumentError(f"range: {what} must be a scalar, got shape {a.shape}", "range")
    if dtype is None:
        for a in args:
            if a._dtype not in _RANGE_ORDER:
                raise TypeError(f"range: arguments must be int or float, got {a._dtype.name}")
        dt = max((a._dtype for a in args), key=_RANGE_ORDER.index)
    else:
        dt = _dt.as_dtype(dtype)
    s, lim, d = (_python_scalar(np.asarray(a), dt) for a in args)
    if d == 0:
        raise InvalidArgumentError(f"range: Requires delta != 0: {d}", "range")
    if d > 0 and s > lim:
        raise InvalidArgumentError(f"range: Requires start <= limit when delta > 0: {s}/{lim}", "range")
    if d < 0 and s < lim:
        raise InvalidArgumentError(f"range: Requires start >= limit when delta < 0: {s}/{lim}", "range")
    if dt.is_integer:
        n = (builtins.abs(lim - s) + builtins.abs(d) - 1) // builtins.abs(d)
    else:
        n = math.ceil(builtins.abs((lim - s) / d))
    return execute(_RANGE, (), {"start": s, "delta": d, "size": int(n), "dtype": dt.np_dtype})


def _range_bound(value: Any) -> Tensor:
    """A bound of ``range``: Python and NumPy numbers stay readable while a gt.function traces.

    The bounds become attributes of the op, so they are read back to Python; a Python number
    converted inside a trace would be a symbolic constant that cannot be read.
    """
    if isinstance(value, (Tensor, Variable)) or state.graph is None:
        return convert_to_tensor(value)
    from gputensor.framework.scopes import init_scope

    with init_scope():
        return convert_to_tensor(value)


def linspace(start: Any, stop: Any, num: Any, name: str | None = None, axis: int = 0) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive, as ``tf.linspace``.

    ``start`` and ``stop`` may be tensors of one shape; the values run along ``axis``.
    Integer endpoints give float64 (as TF's true division of integers).

    Args:
      start: first value(s).
      stop: last value(s), same shape as ``start``.
      num: number of values, >= 0.
      name: ignored (eager).
      axis: where the new axis goes in the result.

    Returns:
      A Tensor of shape ``start.shape`` with ``num`` inserted at ``axis``.

    >>> gt.linspace(0.0, 1.0, 3).numpy()
    array([0. , 0.5, 1. ], dtype=float32)
    """
    start_t = convert_to_tensor(start)
    stop_t = convert_to_tensor(stop, dtype=start_t._dtype)
    n = _ints(num, "linspace", "num")
    if len(n) != 1 or np.ndim(np.asarray(num)) != 0:
        raise InvalidArgumentError(f"linspace: num must be a scalar, got {num!r}", "linspace")
    n = n[0]
    if n < 0:
        raise InvalidArgumentError(f"linspace: Requires num >= 0, got {n}", "linspace")
    if _dims(start_t) != _dims(stop_t):
        raise InvalidArgumentError(
            f"linspace: start and stop must have the same shape, got {start_t.shape} and {stop_t.shape}",
            "linspace",
        )
    ax = _axis(axis, start_t.ndim + 1, "linspace")
    lo, hi = expand_dims(start_t, ax), expand_dims(stop_t, ax)
    steps = builtins.max(n - 1, 1)
    delta = _m.truediv(_m.subtract(hi, lo), steps)
    lo, hi = _m.cast(lo, delta._dtype), _m.cast(hi, delta._dtype)
    # As TF: start + delta * i for the inner points, and the exact endpoints around them.
    inner_shape = [1] * (start_t.ndim + 1)
    inner_shape[ax] = builtins.max(n - 2, 0)
    i = reshape(_m.cast(range(1, steps, dtype=_dt.int64), delta._dtype), inner_shape)
    whole = concat([lo, _m.add(lo, _m.multiply(delta, i)), hi], ax)
    return _slice_axis(whole, ax, 0, n)


def eye(
    num_rows: int,
    num_columns: int | None = None,
    batch_shape: Any = None,
    dtype: Any = _dt.float32,
    name: str | None = None,
) -> Tensor:
    """An identity matrix (or a batch of them), as ``tf.eye``.

    Args:
      num_rows: rows of each matrix.
      num_columns: columns (default ``num_rows``).
      batch_shape: leading batch dimensions (default none).
      dtype: the element type.
      name: ignored (eager).

    Returns:
      A Tensor of shape ``batch_shape + [num_rows, num_columns]``.
    """
    rows = _shape_arg([num_rows], "eye", "num_rows")[0]
    cols = rows if num_columns is None else _shape_arg([num_columns], "eye", "num_columns")[0]
    batch = () if batch_shape is None else _shape_arg(batch_shape, "eye", "batch_shape")
    r = reshape(range(rows), (rows, 1))
    c = reshape(range(cols), (1, cols))
    m = _m.cast(_m.equal(r, c), dtype)
    return broadcast_to(m, batch + (rows, cols)) if batch else m


def one_hot(
    indices: Any,
    depth: int,
    on_value: Any = None,
    off_value: Any = None,
    axis: int | None = None,
    dtype: Any = None,
    name: str | None = None,
) -> Tensor:
    """One-hot encoding: ``on_value`` where ``indices == j``, ``off_value`` elsewhere, as ``tf.one_hot``.

    Indices outside [0, depth) give a row of ``off_value``.

    Args:
      indices: an integer tensor.
      depth: the size of the one-hot dimension.
      on_value: value at the index (default 1).
      off_value: value elsewhere (default 0).
      axis: where the new dimension goes (default -1, last).
      dtype: result dtype (default: that of on/off_value if given, else float32).
      name: ignored (eager).

    Returns:
      A Tensor of shape ``indices.shape`` with ``depth`` inserted at ``axis``.
    """
    idx = convert_to_tensor(indices)
    if not idx._dtype.is_integer:
        raise TypeError(f"one_hot: indices must be an integer tensor, got {idx._dtype.name}")
    d = _shape_arg([depth], "one_hot", "depth")[0]
    if dtype is None:
        given = [v for v in (on_value, off_value) if v is not None]
        dt = convert_to_tensor(given[0]).dtype if given else _dt.float32
    else:
        dt = _dt.as_dtype(dtype)
    on = convert_to_tensor(1 if on_value is None else on_value, dtype=dt)
    off = convert_to_tensor(0 if off_value is None else off_value, dtype=dt)
    ax = idx.ndim if axis is None or axis == -1 else _axis(axis, idx.ndim + 1, "one_hot")
    positions = [1] * (idx.ndim + 1)
    positions[ax] = d
    hit = _m.equal(expand_dims(idx, ax), reshape(range(d, dtype=idx._dtype), positions))
    return _m.select(hit, on, off)


# ====================================================================== metadata
def _out_type(out_type: Any, op: str) -> _dt.DType:
    dt = _dt.as_dtype(out_type)
    if dt not in _INDEX_DTYPES:
        raise TypeError(f"{op}: out_type must be int32 or int64, got {dt.name}")
    return dt


def rank(input: Any, name: str | None = None) -> Tensor:
    """The number of dimensions of ``input`` as an int32 scalar tensor, as ``tf.rank``."""
    t = convert_to_tensor(input)
    if _static_dims(t) is None:  # an unknown rank while tracing: the length of the shape at run time
        return size(shape(t))
    return _const_like(np.array(t.ndim, dtype=np.int32), t)


def size(input: Any, out_type: Any = _dt.int32, name: str | None = None) -> Tensor:
    """The number of elements of ``input`` as a scalar tensor (int32 by default), as ``tf.size``."""
    t = convert_to_tensor(input)
    dt = _out_type(out_type, "size")
    if not _known(_static_dims(t)):  # None dims while tracing: computed at run time
        return _m.reduce_prod(shape(t, dt))
    return _const_like(np.array(_num(_dims(t)), dtype=dt.np_dtype), t)


def shape(input: Any, out_type: Any = _dt.int32, name: str | None = None) -> Tensor:
    """The shape of ``input`` as a 1-D tensor (int32 by default), as ``tf.shape``.

    Inside a gt.function traced with None dims, it is a graph node giving the shape of
    each call's value (``x.shape`` gives what tracing knows: None for those dims).

    >>> gt.shape(gt.zeros([2, 3])).numpy()
    array([2, 3], dtype=int32)
    """
    t = convert_to_tensor(input)
    dt = _out_type(out_type, "shape")
    if not _known(_static_dims(t)):
        return execute(_SHAPE, (t,), {"out_type": dt.np_dtype})
    return _const_like(np.array(_dims(t), dtype=dt.np_dtype), t)


shape_fn = shape  # for the functions below whose argument is called ``shape``


def shape_n(input: Sequence[Any], out_type: Any = _dt.int32, name: str | None = None) -> list[Tensor]:
    """The shapes of a list of tensors, as ``tf.shape_n``."""
    return [shape(t, out_type) for t in input]


def identity(input: Any, name: str | None = None) -> Tensor:
    """Returns a tensor with the value of ``input`` (a Variable's current value), as ``tf.identity``.

    Inside a ``gt.device`` scope the result is placed on that device.
    """
    return execute(_IDENTITY, (convert_to_tensor(input),))


# ======================================================================== layout
def reshape(tensor: Any, shape: Any, name: str | None = None) -> Tensor:
    """Gives ``tensor``'s elements (row-major) a new shape, as ``tf.reshape``.

    Args:
      tensor: the input.
      shape: the new shape; one entry may be -1 to infer it.
      name: ignored (eager).

    Returns:
      A Tensor of the new shape.

    Raises:
      InvalidArgumentError: if the sizes do not match or -1 appears twice.

    >>> gt.reshape(gt.range(6), [2, -1]).shape
    TensorShape([2, 3])
    """
    t = convert_to_tensor(tensor)
    dynamic = _dynamic_shape(shape, "reshape")
    if dynamic is not None:
        static, runtime = dynamic
        return execute(_DYNAMIC_RESHAPE, (t, runtime), {"static_shape": _resolved(static, _static_dims(t))})
    dims = _dims(t)
    target = _ints(shape, "reshape", "shape")
    if not _known(_static_dims(t)):
        return _reshape_unknown(t, target)
    n = _num(dims)
    unknown = [i for i, d in enumerate(target) if d == -1]
    for i, d in enumerate(target):
        if d < -1:
            raise InvalidArgumentError(f"reshape: size {i} must be non-negative, not {d}", "reshape")
    if len(unknown) > 1:
        raise InvalidArgumentError(
            f"reshape: only one input size may be -1, not both {unknown[0]} and {unknown[1]}", "reshape"
        )
    known = _num(d for d in target if d != -1)
    if unknown:
        if known == 0:
            if n == 0:
                raise InvalidArgumentError(
                    f"reshape: cannot infer the -1 in {tuple(target)} for an empty tensor of shape {dims} "
                    "unless all other sizes are non-zero",
                    "reshape",
                )
        elif n % known == 0:
            target[unknown[0]] = n // known
            known = n
    if known != n or (unknown and target[unknown[0]] == -1):
        raise InvalidArgumentError(
            f"reshape: Input to reshape is a tensor with {n} values (shape {dims}), but the requested "
            f"shape {tuple(target)} has {known}; the sizes must multiply to {n} (use -1 for one of them)",
            "reshape",
        )
    return execute(_RESHAPE, (t,), {"shape": tuple(target)})


def _resolved(target: tuple, dims: tuple | None) -> tuple:
    """A reshape's static result: ``target`` with its -1 worked out where the sizes are known."""
    target = tuple(target)
    if -1 not in target:
        return target
    rest = [d for d in target if d != -1]
    if _known(dims) and None not in rest and _num(rest):
        return tuple(_num(dims) // _num(rest) if d == -1 else d for d in target)
    return tuple(None if d == -1 else d for d in target)


def _reshape_unknown(t: Tensor, target: list) -> Tensor:
    """reshape of a tensor with None dims (while tracing) to int ``target``: checked at run time."""
    for i, d in enumerate(target):
        if d < -1:
            raise InvalidArgumentError(f"reshape: size {i} must be non-negative, not {d}", "reshape")
    if target.count(-1) > 1:
        raise InvalidArgumentError(f"reshape: only one input size may be -1, got {tuple(target)}", "reshape")
    runtime = convert_to_tensor(np.asarray(target, dtype=np.int32))
    return execute(
        _DYNAMIC_RESHAPE, (t, runtime), {"static_shape": _resolved(tuple(target), _static_dims(t))}
    )


def transpose(a: Any, perm: Any = None, conjugate: bool = False, name: str = "transpose") -> Tensor:
    """Permutes the dimensions of ``a``: ``out.shape[i] == a.shape[perm[i]]``, as ``tf.transpose``.

    Args:
      a: the input.
      perm: a permutation of ``range(rank)`` (default reversed; negative entries wrap).
      conjugate: also conjugate complex values.
      name: ignored (eager).

    Returns:
      The transposed Tensor.

    Raises:
      InvalidArgumentError: if ``perm`` is not a permutation of the dimensions.
    """
    t = convert_to_tensor(a)
    r = t.ndim
    if perm is None:
        p = tuple(_range(r - 1, -1, -1))
    else:
        raw = _ints(perm, "transpose", "perm")
        if len(raw) != r:
            raise InvalidArgumentError(
                f"transpose: perm has {len(raw)} entries {tuple(raw)} but the input has rank {r} "
                f"(shape {_dims(t)}); give one entry per dimension",
                "transpose",
            )
        p = tuple(_axis(i, r, "transpose", "perm entry") for i in raw)
        if sorted(p) != list(_range(r)):
            raise InvalidArgumentError(
                f"transpose: perm {tuple(raw)} is not a permutation of {tuple(_range(r))}", "transpose"
            )
    out = execute(_TRANSPOSE, (t,), {"perm": p})
    return _m.conj(out) if conjugate and t._dtype.is_complex else out


def concat(values: Any, axis: Any, name: str = "concat") -> Tensor:
    """Joins tensors along an existing dimension ``axis``, as ``tf.concat``.

    Args:
      values: a list of tensors of one dtype and rank, equal except along ``axis``.
      axis: the dimension to join along (negative counts from the end).
      name: ignored (eager).

    Returns:
      The joined Tensor.

    Raises:
      InvalidArgumentError: for scalars, or ranks/shapes/dtypes that differ.

    >>> gt.concat([[1, 2], [3]], 0).numpy()
    array([1, 2, 3], dtype=int32)
    """
    ts = _same_dtype(values, "concat")
    r = ts[0].ndim
    if r == 0:
        raise InvalidArgumentError("concat: can't concatenate scalars (use gt.stack instead)", "concat")
    ax = _axis(axis, r, "concat")
    first = _dims(ts[0])
    for i, t in enumerate(ts[1:], 1):
        d = _dims(t)
        if len(d) != r:
            raise InvalidArgumentError(
                f"concat: Ranks of all input tensors should match: shape[0] = {first} vs. shape[{i}] = {d}",
                "concat",
            )
        for j in _range(r):
            if j != ax and d[j] != first[j] and d[j] is not None and first[j] is not None:
                raise InvalidArgumentError(
                    f"concat: Dimension {j} in both shapes must be equal: shape[0] = {first} vs. "
                    f"shape[{i}] = {d}; only dimension {ax} (axis) may differ",
                    "concat",
                )
    if len(ts) == 1:
        return identity(ts[0])
    return execute(_CONCAT, tuple(ts), {"axis": ax})


def stack(values: Any, axis: int = 0, name: str = "stack") -> Tensor:
    """Stacks tensors of one shape along a new dimension ``axis``, as ``tf.stack``.

    Raises:
      InvalidArgumentError: if the shapes or dtypes differ, or ``axis`` is out of range.

    >>> gt.stack([[1, 2], [3, 4]], axis=1).numpy()
    array([[1, 3],
           [2, 4]], dtype=int32)
    """
    ts = _same_dtype(values, "stack")
    first = _dims(ts[0])
    for i, t in enumerate(ts[1:], 1):
        if not _compatible(_dims(t), first):
            raise InvalidArgumentError(
                f"stack: Shapes of all inputs must match: values[0].shape = {first} != "
                f"values[{i}].shape = {_dims(t)}",
                "stack",
            )
    ax = _axis(axis, len(first) + 1, "stack")
    axes = [("axis", i) for i in _range(len(first))]
    new = axes[:ax] + [1] + axes[ax:]
    parts = tuple(_reshape_dims(t, new) for t in ts)
    return parts[0] if len(parts) == 1 else execute(_CONCAT, parts, {"axis": ax})


def _slice_unknown(t: Tensor, begin: list, size: list) -> Tensor:
    """`slice` of a tensor with None dims: a dynamic_strided_slice whose checks raise at each
    call where the slice does not fit, as tf.slice does (a strided slice would clamp)."""
    dims = _dims(t)
    dense, check = [], []
    for i, (b, n, d) in enumerate(zip(begin, size, dims)):
        if b < 0 or n < -1 or (d is not None and (b > d or (n != -1 and b + n > d))):
            raise InvalidArgumentError(
                f"slice: begin[{i}] = {b} and size[{i}] = {n} do not fit dimension {i} of shape {dims}",
                "slice",
            )
        dense.append((b, 0 if n == -1 else b + n, 1, False, n == -1, False))
        if d is None:
            check.append((i, b if n == -1 else b + n, True))
    final = tuple(_range(len(dims)))
    sizes = {i: n for i, n in enumerate(size) if n != -1}  # the checks guarantee them
    spec = {"dense": tuple(dense), "final": final, "op": "slice", "check": tuple(check)}
    return _sliced(t, spec, sizes)


def _compatible(a: tuple, b: tuple) -> bool:
    """Equal shapes, None dims (tracing) matching anything."""
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def unstack(value: Any, num: int | None = None, axis: int = 0, name: str = "unstack") -> list[Tensor]:
    """Splits ``value`` into a list of tensors along ``axis``, removing it, as ``tf.unstack``.

    Raises:
      InvalidArgumentError: if ``value`` is a scalar or ``num`` differs from the dimension.
    """
    t = convert_to_tensor(value)
    if t.ndim == 0:
        raise InvalidArgumentError("unstack: cannot unstack a scalar (rank 0) tensor", "unstack")
    ax = _axis(axis, t.ndim, "unstack")
    n = _dims(t)[ax]
    if n is None:  # a None dim while tracing: num gives the count, checked at run time
        if num is None:
            raise InvalidArgumentError(
                f"unstack: cannot infer num from shape {_dims(t)}: dimension {ax} is unknown while "
                "tracing; pass num= (the count, checked at each call)",
                "unstack",
            )
        check = ((ax, int(num), False),)
        return [_axis_slice(t, ax, i, i + 1, "unstack", shrink=True, check=check) for i in _range(num)]
    if num is not None and num != n:
        raise InvalidArgumentError(f"unstack: num is {num} but dimension {ax} has size {n}", "unstack")
    return [_slice_axis(t, ax, i, i + 1, shrink=True) for i in _range(n)]


def split(
    value: Any, num_or_size_splits: Any, axis: Any = 0, num: int | None = None, name: str = "split"
) -> list[Tensor]:
    """Splits ``value`` along ``axis`` into equal parts or parts of given sizes, as ``tf.split``.

    Args:
      value: the tensor to split.
      num_or_size_splits: an int (number of equal parts) or a list of sizes (one may be -1).
      axis: the dimension to split.
      num: unused (the number of outputs follows from ``num_or_size_splits``).
      name: ignored (eager).

    Returns:
      A list of Tensors.

    Raises:
      InvalidArgumentError: if the parts do not divide or add up to the dimension.
    """
    t = convert_to_tensor(value)
    if t.ndim == 0:
        raise InvalidArgumentError("split: cannot split a scalar (rank 0) tensor", "split")
    ax = _axis(axis, t.ndim, "split")
    n = _dims(t)[ax]
    if n is None:
        return _split_unknown(t, num_or_size_splits, ax)
    if np.ndim(np.asarray(num_or_size_splits)) == 0:
        k = _ints(num_or_size_splits, "split", "num_or_size_splits")[0]
        if k <= 0 or n % k:
            raise InvalidArgumentError(
                f"split: Number of ways to split should evenly divide the split dimension, but got "
                f"split_dim {ax} (size = {n}) and num_split {k}",
                "split",
            )
        sizes = [n // k] * k
    else:
        sizes = _ints(num_or_size_splits, "split", "num_or_size_splits")
        unknown = [i for i, s in enumerate(sizes) if s == -1]
        known = sum(s for s in sizes if s != -1)
        if len(unknown) > 1 or any(s < -1 for s in sizes) or known > n or (not unknown and known != n):
            raise InvalidArgumentError(
                f"split: sizes {tuple(sizes)} must be non-negative and add up to dimension {ax} of size "
                f"{n} (one of them may be -1 to take the rest)",
                "split",
            )
        if unknown:
            sizes[unknown[0]] = n - known
    out, start = [], 0
    for s in sizes:
        out.append(_slice_axis(t, ax, start, start + s))
        start += s
    return out


def _split_unknown(t: Tensor, num_or_size_splits: Any, ax: int) -> list[Tensor]:
    """`split` along a None dim: sizes before a -1 count from the start, those after it from the
    end, so each part is a slice with fixed bounds; the dim's size is checked at each call.

    Into k equal parts: ``t`` reshaped at run time to ``dims[:ax] + (k, -1) + dims[ax+1:]`` (the
    reshape, told it splits, checks that k divides n with split's message and resolves the -1
    itself, as other dims may be 0; ONNX's Reshape resolves it), then unstacked along the new
    axis of known size k."""
    if np.ndim(np.asarray(num_or_size_splits)) == 0:
        k = _ints(num_or_size_splits, "split", "num_or_size_splits")[0]
        if k <= 0:
            raise InvalidArgumentError(
                f"split: Number of ways to split should be positive, but got num_split {k} "
                f"(dimension {ax} of shape {_dims(t)})",
                "split",
            )
        dims = _dims(t)
        # The run-time shape: t's dims with dimension ax replaced by (k, -1).
        source = concat([shape_fn(t), convert_to_tensor(np.asarray([k, -1], np.int32))], 0)
        rank = len(dims)
        index = [*_range(ax), rank, rank + 1, *_range(ax + 1, rank)]
        runtime = gather(source, convert_to_tensor(np.asarray(index, dtype=np.int32)))
        static = (*dims[:ax], k, None, *dims[ax + 1 :])
        r = execute(_DYNAMIC_RESHAPE, (t, runtime), {"static_shape": static, "split": (ax, k)})
        return [_axis_slice(r, ax, i, i + 1, "split", shrink=True) for i in _range(k)]
    sizes = _ints(num_or_size_splits, "split", "num_or_size_splits")
    unknown = [i for i, s in enumerate(sizes) if s == -1]
    if len(unknown) > 1 or any(s < -1 for s in sizes):
        raise InvalidArgumentError(
            f"split: sizes {tuple(sizes)} must be non-negative (one of them may be -1 to take the rest)",
            "split",
        )
    known = sum(s for s in sizes if s != -1)
    check = ((ax, known, bool(unknown)),)
    cut = unknown[0] if unknown else len(sizes)
    out, start = [], 0
    for s in sizes[:cut]:
        out.append(_axis_slice(t, ax, start, start + s, "split", check=check, size=s))
        start += s
    if unknown:
        after = sum(sizes[cut + 1 :])
        out.append(_axis_slice(t, ax, start, -after if after else None, "split", check=check))
        for s in sizes[cut + 1 :]:
            end = -after + s if after != s else None
            out.append(_axis_slice(t, ax, -after, end, "split", check=check, size=s))
            after -= s
    return out


def squeeze(input: Any, axis: Any = None, name: str | None = None) -> Tensor:
    """Removes dimensions of size 1 (all of them, or those in ``axis``), as ``tf.squeeze``.

    Raises:
      InvalidArgumentError: if a dimension named in ``axis`` is not 1.
    """
    t = convert_to_tensor(input)
    dims = _dims(t)
    if axis is None:
        if None in dims:
            raise InvalidArgumentError(
                f"squeeze: the input's shape {dims} has dimensions unknown while tracing, so which are 1 "
                "is not known; give axis",
                "squeeze",
            )
        drop = {i for i, d in enumerate(dims) if d == 1}
    else:
        drop = {_axis(a, len(dims), "squeeze") for a in _ints(axis, "squeeze", "axis")}
        for a in sorted(drop):
            if dims[a] not in (1, None):  # None: checked by the reshape at run time
                raise InvalidArgumentError(
                    f"squeeze: Can not squeeze dim[{a}], expected a dimension of 1, got {dims[a]} "
                    f"(shape {dims})",
                    "squeeze",
                )
    if None in dims:
        return _reshape_dims(t, [("axis", i) for i in _range(len(dims)) if i not in drop])
    return execute(_RESHAPE, (t,), {"shape": tuple(d for i, d in enumerate(dims) if i not in drop)})


def expand_dims(input: Any, axis: Any, name: str | None = None) -> Tensor:
    """Inserts a dimension of size 1 at ``axis`` (in [-rank-1, rank]), as ``tf.expand_dims``."""
    t = convert_to_tensor(input)
    dims = _dims(t)
    ax = _axis(axis, len(dims) + 1, "expand_dims")
    if None in dims:
        axes = [("axis", i) for i in _range(len(dims))]
        return _reshape_dims(t, axes[:ax] + [1] + axes[ax:])
    return execute(_RESHAPE, (t,), {"shape": dims[:ax] + (1,) + dims[ax:]})


def broadcast_to(input: Any, shape: Any, name: str | None = None) -> Tensor:
    """Broadcasts ``input`` to ``shape`` (NumPy rules), as ``tf.broadcast_to``.

    Raises:
      InvalidArgumentError: if ``input``'s shape is not broadcastable to ``shape``.
    """
    t = convert_to_tensor(input)
    dims = _dims(t)
    dynamic = _dynamic_shape(shape, "broadcast_to")
    if dynamic is not None:
        static, runtime = dynamic
        return execute(_DYNAMIC_BROADCAST_TO, (t, runtime), {"static_shape": static})
    target = _shape_arg(shape, "broadcast_to")
    ok = len(target) >= len(dims) and all(d in (1, s, None) for d, s in zip(dims[::-1], target[::-1]))
    if not ok:
        raise InvalidArgumentError(
            f"broadcast_to: Unable to broadcast tensor of shape {dims} to tensor of shape {target}; "
            "each dimension must equal the target's or be 1 (aligned from the right)",
            "broadcast_to",
        )
    return execute(_BROADCAST_TO, (t,), {"shape": target})


def tile(input: Any, multiples: Any, name: str | None = None) -> Tensor:
    """Repeats ``input`` ``multiples[i]`` times along dimension i, as ``tf.tile``.

    Raises:
      InvalidArgumentError: if ``multiples`` has the wrong length or a negative entry.
    """
    t = convert_to_tensor(input)
    dims = _dims(t)
    mult = _ints(multiples, "tile", "multiples")
    if len(mult) != len(dims):
        raise InvalidArgumentError(
            f"tile: Expected multiples argument to be a vector of length {len(dims)} but got length "
            f"{len(mult)} (input shape {dims})",
            "tile",
        )
    for i, m in enumerate(mult):
        if m < 0:
            raise InvalidArgumentError(f"tile: Expected multiples[{i}] >= 0, but got {m}", "tile")
    # (a, b) -> (1, a, 1, b) -> (m0, a, m1, b) -> (m0 * a, m1 * b): a broadcast, no own kernel.
    big = tuple(x for d, m in zip(dims, mult) for x in (m, d))
    out = tuple(None if d is None and m else (d or 0) * m for d, m in zip(dims, mult))
    if None in dims:  # None dims while tracing: the same three steps on run-time shapes
        spread = _reshape_dims(t, [x for i in _range(len(dims)) for x in (1, ("axis", i))])
        sizes, m = shape_fn(t), np.asarray(mult, np.int32)
        source = concat([sizes, convert_to_tensor(m)], 0)
        index = [x for i in _range(len(dims)) for x in (len(dims) + i, i)]
        runtime = gather(source, convert_to_tensor(np.asarray(index, dtype=np.int32)))
        b = execute(_DYNAMIC_BROADCAST_TO, (spread, runtime), {"static_shape": big})
        return execute(_DYNAMIC_RESHAPE, (b, _m.multiply(sizes, m)), {"static_shape": out})
    spread = tuple(x for d in dims for x in (1, d))
    b = execute(_BROADCAST_TO, (execute(_RESHAPE, (t,), {"shape": spread}),), {"shape": big})
    return execute(_RESHAPE, (b,), {"shape": out})


# ================================================================ gather/scatter
def gather(
    params: Any,
    indices: Any,
    validate_indices: Any = None,
    axis: Any = None,
    batch_dims: int = 0,
    name: str | None = None,
) -> Tensor:
    """Gathers slices of ``params`` along ``axis`` at ``indices``, as ``tf.gather``.

    Args:
      params: the tensor to gather from, rank >= 1.
      indices: int32/int64 indices into ``params.shape[axis]``.
      validate_indices: ignored (indices are always checked on the CPU).
      axis: the dimension to gather along (default ``batch_dims``).
      batch_dims: leading dimensions shared by ``params`` and ``indices``.
      name: ignored (eager).

    Returns:
      A Tensor of shape ``params.shape[:axis] + indices.shape[batch_dims:] + params.shape[axis + 1:]``.

    Raises:
      InvalidArgumentError: for an index outside [0, params.shape[axis]) (on the CPU; GPUs give 0).
      TypeError: for non-integer indices.

    >>> gt.gather([10, 20, 30], [2, 0]).numpy()
    array([30, 10], dtype=int32)
    """
    p = convert_to_tensor(params)
    i = _index_tensor(indices, "gather")
    r, ir = p.ndim, i.ndim
    if r == 0:
        raise InvalidArgumentError("gather: params must be at least 1-dimensional, got a scalar", "gather")
    bd = int(batch_dims)
    if bd < 0:
        bd += ir
    if not 0 <= bd <= ir or bd >= r:
        raise InvalidArgumentError(
            f"gather: batch_dims {batch_dims} must be in [-{ir}, {ir}] and less than the params rank {r}",
            "gather",
        )
    ax = bd if axis is None else _axis(axis, r, "gather")
    if ax < bd:
        raise InvalidArgumentError(
            f"gather: batch_dims ({bd}) must be less than or equal to axis ({ax})", "gather"
        )
    if _dims(p)[:bd] != _dims(i)[:bd]:
        raise InvalidArgumentError(
            f"gather: params.shape[:{bd}] = {_dims(p)[:bd]} must equal indices.shape[:{bd}] = "
            f"{_dims(i)[:bd]} (batch_dims={bd})",
            "gather",
        )
    return execute(_GATHER, (p, i), {"axis": ax, "batch_dims": bd})


def gather_nd(params: Any, indices: Any, batch_dims: int = 0, name: str | None = None) -> Tensor:
    """Gathers slices of ``params`` at the index vectors in ``indices``' last dimension, as ``tf.gather_nd``.

    Returns:
      A Tensor of shape ``indices.shape[:-1] + params.shape[batch_dims + indices.shape[-1]:]``.

    Raises:
      InvalidArgumentError: for index vectors outside ``params`` (on the CPU) or bad shapes.

    >>> gt.gather_nd([[1, 2], [3, 4]], [[1, 0]]).numpy()
    array([3], dtype=int32)
    """
    p = convert_to_tensor(params)
    i = _index_tensor(indices, "gather_nd")
    bd = int(batch_dims)
    pd, idims = _dims(p), _dims(i)
    if len(idims) == 0 or bd < 0 or bd >= len(idims):
        raise InvalidArgumentError(
            f"gather_nd: indices must have rank >= 1 and batch_dims ({bd}) in [0, rank(indices)); "
            f"got indices shape {idims}",
            "gather_nd",
        )
    k = idims[-1]
    if bd + k > len(pd) or pd[:bd] != idims[:bd]:
        raise InvalidArgumentError(
            f"gather_nd: index vectors of length {k} (indices shape {idims}) do not fit params shape "
            f"{pd} with batch_dims={bd}; need indices.shape[-1] <= rank(params) - batch_dims and equal "
            "batch dimensions",
            "gather_nd",
        )
    return execute(_GATHER_ND, (p, i), {"batch_dims": bd})


def _scatter(op_name: str, tensor: Any, indices: Any, updates: Any, reduction: str) -> Tensor:
    t = convert_to_tensor(tensor)
    i = _index_tensor(indices, op_name)
    try:
        u = convert_to_tensor(updates, dtype=t._dtype)
    except ValueError:
        raise InvalidArgumentError(
            f"{op_name}: updates have dtype {updates.dtype.name} but tensor has {t._dtype.name}; "
            "they must match (use gt.cast)",
            op_name,
        ) from None
    if reduction != "update" and t._dtype.kind not in "fiuc":
        raise InvalidArgumentError(
            f"{op_name}: tensor has dtype {t._dtype.name}; combining updates needs a number type. "
            f"Cast first, e.g. gt.cast(tensor, gt.int32), or use tensor_scatter_nd_update",
            op_name,
        )
    td, idims, ud = _dims(t), _dims(i), _dims(u)
    if not idims:
        raise InvalidArgumentError(f"{op_name}: indices must have rank >= 1, got a scalar", op_name)
    k = idims[-1]
    expected = idims[:-1] + td[k:]
    if k > len(td) or ud != expected:
        raise InvalidArgumentError(
            f"{op_name}: updates shape {ud} must be indices.shape[:-1] + tensor.shape[{k}:] = "
            f"{expected} (tensor shape {td}, indices shape {idims})",
            op_name,
        )
    return execute(_SCATTER, (t, i, u), {"reduction": reduction})


def _scatter_fn(reduction: str, doc: str):
    op_name = f"tensor_scatter_nd_{reduction}"

    def fn(tensor: Any, indices: Any, updates: Any, name: str | None = None) -> Tensor:
        return _scatter(op_name, tensor, indices, updates, reduction)

    fn.__name__ = fn.__qualname__ = op_name
    fn.__doc__ = f"""Returns a copy of ``tensor`` with ``updates`` {doc} at ``indices``, as ``tf.{op_name}``.

    Args:
      tensor: the tensor to start from.
      indices: int32/int64, shape ``[..., k]``: index vectors into ``tensor``'s first k dimensions.
      updates: shape ``indices.shape[:-1] + tensor.shape[k:]``, ``tensor``'s dtype.
      name: ignored (eager).

    Returns:
      A new Tensor of ``tensor``'s shape and dtype.

    Raises:
      InvalidArgumentError: for mismatched shapes, or (on the CPU) indices outside ``tensor``.
    """
    return fn


tensor_scatter_nd_update = _scatter_fn("update", "written (the last of duplicate indices wins)")
tensor_scatter_nd_add = _scatter_fn("add", "added (duplicates add up)")
tensor_scatter_nd_max = _scatter_fn("max", "combined by maximum")
tensor_scatter_nd_min = _scatter_fn("min", "combined by minimum")


def tensor_scatter_nd_sub(tensor: Any, indices: Any, updates: Any, name: str | None = None) -> Tensor:
    """Returns a copy of ``tensor`` with ``updates`` subtracted at ``indices``, as ``tf.tensor_scatter_nd_sub``.

    Shapes and errors as `tensor_scatter_nd_add`.
    """
    t = convert_to_tensor(tensor)
    return tensor_scatter_nd_add(t, indices, _m.negative(convert_to_tensor(updates, dtype=t._dtype)))


def scatter_nd(indices: Any, updates: Any, shape: Any, name: str | None = None) -> Tensor:
    """Scatters ``updates`` into a zero tensor of ``shape``, adding duplicates, as ``tf.scatter_nd``.

    Returns:
      A Tensor of ``shape`` and ``updates``' dtype.

    >>> gt.scatter_nd([[1], [1]], [2.0, 3.0], [3]).numpy()
    array([0., 5., 0.], dtype=float32)
    """
    u = convert_to_tensor(updates)
    base = _on_device_of(u, _FILL, _fill_attrs(_shape_arg(shape, "scatter_nd"), 0, u._dtype))
    return _scatter("scatter_nd", base, indices, u, "add")


# ================================================================ masks, where
def where(condition: Any, x: Any = None, y: Any = None, name: str | None = None) -> Tensor:
    """With x and y, picks ``x`` where ``condition`` else ``y`` (broadcasting); alone, the true coordinates.

    Args:
      condition: a bool tensor.
      x: values where true (with ``y``), or None.
      y: values where false, or None.
      name: ignored (eager).

    Returns:
      ``where(c, x, y)``: a Tensor of the broadcast shape; ``where(c)``: int64 of shape
      ``[number of true elements, rank(c)]``.

    Raises:
      ValueError: if only one of ``x`` and ``y`` is given.

    >>> gt.where([True, False, True]).numpy()
    array([[0],
           [2]])
    """
    if x is None and y is None:
        c = convert_to_tensor(condition)
        if c._dtype is not _dt.bool_:
            c = _m.not_equal(c, 0)
        return execute(_WHERE, (c,))
    if x is None or y is None:
        raise ValueError("where: x and y must both be non-None or both be None")
    return _m.select(condition, x, y)


def boolean_mask(tensor: Any, mask: Any, axis: Any = None, name: str = "boolean_mask") -> Tensor:
    """Keeps the entries of ``tensor`` where ``mask`` is true, as ``tf.boolean_mask``.

    ``mask`` (rank k) covers dimensions ``axis .. axis + k - 1`` of ``tensor``; they become
    one dimension holding the kept entries in row-major order.

    Raises:
      ValueError: for a scalar mask.
      InvalidArgumentError: if ``mask``'s shape differs from the dimensions it covers.

    >>> gt.boolean_mask([1, 2, 3], [True, False, True]).numpy()
    array([1, 3], dtype=int32)
    """
    t = convert_to_tensor(tensor)
    m = convert_to_tensor(mask)
    if m._dtype is not _dt.bool_:
        raise TypeError(f"boolean_mask: mask must be bool, got {m._dtype.name}")
    md = _dims(m)
    if not md:
        raise ValueError("boolean_mask: mask cannot be scalar.")
    td = _dims(t)
    ax = 0 if axis is None else _axis(axis, builtins.max(len(td), 1), "boolean_mask")
    if td[ax : ax + len(md)] != md:
        raise InvalidArgumentError(
            f"boolean_mask: mask shape {md} must match tensor.shape[{ax}:{ax + len(md)}] = "
            f"{td[ax : ax + len(md)]} (tensor shape {td}, axis {ax})",
            "boolean_mask",
        )
    flat = execute(_RESHAPE, (t,), {"shape": td[:ax] + (_num(md),) + td[ax + len(md) :]})
    keep = execute(_WHERE, (execute(_RESHAPE, (m,), {"shape": (_num(md),)}),))
    keep = execute(_RESHAPE, (keep,), {"shape": (_dims(keep)[0],)})
    return execute(_GATHER, (flat, keep), {"axis": ax, "batch_dims": 0})


def sequence_mask(
    lengths: Any, maxlen: Any = None, dtype: Any = _dt.bool_, name: str | None = None
) -> Tensor:
    """``mask[..., j] = j < lengths[...]`` with ``maxlen`` columns, as ``tf.sequence_mask``.

    Args:
      lengths: an integer tensor.
      maxlen: number of columns (default ``max(lengths)``).
      dtype: result dtype (default bool).
      name: ignored (eager).

    Returns:
      A Tensor of shape ``lengths.shape + [maxlen]``.
    """
    n = convert_to_tensor(lengths)
    if not n._dtype.is_integer:
        raise TypeError(f"sequence_mask: lengths must be integers, got {n._dtype.name}")
    if maxlen is None:
        maxlen = int(np.max(np.asarray(n), initial=0))
    cols = range(0, maxlen, dtype=n._dtype)
    mask = _m.less(cols, expand_dims(n, -1))
    return _m.cast(mask, dtype)


# ================================================================= pad, slicing
_PAD_MODES = {"CONSTANT": "constant", "REFLECT": "reflect", "SYMMETRIC": "symmetric"}


def pad(
    tensor: Any, paddings: Any, mode: str = "CONSTANT", constant_values: Any = 0, name: str | None = None
) -> Tensor:
    """Pads ``tensor`` with ``paddings[i] = [before, after]`` entries on dimension i, as ``tf.pad``.

    Args:
      tensor: the input.
      paddings: int array of shape ``[rank, 2]``, non-negative.
      mode: "CONSTANT", "REFLECT" (mirror without the edge, paddings < dim) or
        "SYMMETRIC" (mirror with the edge, paddings <= dim); case-insensitive.
      constant_values: the fill value for CONSTANT.
      name: ignored (eager).

    Returns:
      The padded Tensor.

    Raises:
      InvalidArgumentError: for a bad paddings shape or paddings too large for the mode.
      ValueError: for an unknown mode.
    """
    t = convert_to_tensor(tensor)
    dims = _dims(t)
    key = str(mode).upper()
    if key not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of CONSTANT, REFLECT, SYMMETRIC; got {mode!r}")
    p = np.asarray(paddings)
    if p.size == 0:
        p = p.reshape((0, 2))
    if p.dtype.kind not in "iu" and p.size:
        raise TypeError(f"pad: paddings must be integers, got {paddings!r}")
    if p.shape != (len(dims), 2):
        raise InvalidArgumentError(
            f"pad: paddings must be a matrix of shape [{len(dims)}, 2] for input shape {dims}, got shape "
            f"{p.shape}",
            "pad",
        )
    pairs = tuple((int(a), int(b)) for a, b in p)
    for i, ((a, b), d) in enumerate(zip(pairs, dims)):
        if a < 0 or b < 0:
            raise InvalidArgumentError(f"pad: paddings must be non-negative: {a}, {b} (dimension {i})", "pad")
        if key == "REFLECT" and (a >= d or b >= d) and (a or b):
            raise InvalidArgumentError(
                f"pad: paddings must be less than the dimension size in REFLECT mode: {a}, {b} not less "
                f"than {d} (dimension {i})",
                "pad",
            )
        if key == "SYMMETRIC" and (a > d or b > d):
            raise InvalidArgumentError(
                f"pad: paddings must be no greater than the dimension size in SYMMETRIC mode: {a}, {b} "
                f"greater than {d} (dimension {i})",
                "pad",
            )
    value = _python_scalar(np.asarray(constant_values), t._dtype)
    return execute(_PAD, (t,), {"paddings": pairs, "mode": _PAD_MODES[key], "constant_values": value})


def slice(input_: Any, begin: Any, size: Any, name: str | None = None) -> Tensor:  # noqa: A001
    """Extracts ``size[i]`` elements from ``begin[i]`` on each dimension (-1: the rest), as ``tf.slice``.

    Raises:
      InvalidArgumentError: if the slice does not fit in ``input_``.

    >>> gt.slice([[1, 2, 3], [4, 5, 6]], [1, 0], [1, 2]).numpy()
    array([[4, 5]], dtype=int32)
    """
    t = convert_to_tensor(input_)
    dims = _dims(t)
    b = _ints(begin, "slice", "begin")
    s = _ints(size, "slice", "size")
    if len(b) != len(dims) or len(s) != len(dims):
        raise InvalidArgumentError(
            f"slice: begin {tuple(b)} and size {tuple(s)} must have one entry per dimension of the input "
            f"shape {dims}",
            "slice",
        )
    if None in dims:
        return _slice_unknown(t, b, s)
    for i, d in enumerate(dims):
        if not 0 <= b[i] <= d:
            raise InvalidArgumentError(f"slice: Expected begin[{i}] in [0, {d}], but got {b[i]}", "slice")
        if s[i] == -1:
            s[i] = d - b[i]
        if not 0 <= s[i] <= d - b[i]:
            raise InvalidArgumentError(
                f"slice: Expected size[{i}] in [0, {d - b[i]}], but got {s[i]} (begin {b[i]}, dimension {d})",
                "slice",
            )
    attrs = {"begin": tuple(b), "size": tuple(s), "strides": (1,) * len(dims), "shape": tuple(s)}
    return execute(_STRIDED_SLICE, (t,), attrs)


_NEW, _SHRINK = -1, -2


def _strided_spec(
    dims: tuple, begin: list, end: list, strides: list, masks: tuple, op: str = "strided_slice"
) -> dict:
    """Resolves TF's sparse slice spec with masks into the strided_slice kernel's attributes."""
    begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_mask = masks
    n = len(begin)
    if len(end) != n or len(strides) != n:
        raise InvalidArgumentError(
            f"{op}: begin, end and strides must have the same length, got {len(begin)}, {len(end)} and "
            f"{len(strides)}",
            op,
        )
    if ellipsis_mask & (ellipsis_mask - 1):
        raise InvalidArgumentError(f"{op}: Multiple ellipses in slice spec not allowed", op)
    rank = len(dims)
    seen, new_after = False, 0
    for i in _range(n):
        if seen and new_axis_mask >> i & 1:
            new_after += 1
        if ellipsis_mask >> i & 1:
            seen = True
    if not seen:
        ellipsis_mask |= 1 << n  # an implicit trailing ellipsis keeps the remaining dimensions
    sparse_n = n if seen else n + 1
    dense: list = [None] * rank
    final: list[int] = []
    full = 0
    for i in _range(sparse_n):
        if ellipsis_mask >> i & 1:
            stop = builtins.min(rank - (sparse_n - i) + 1 + new_after, rank)
            while full < stop:
                dense[full] = (0, 0, 1, True, True, False)
                final.append(full)
                full += 1
        elif new_axis_mask >> i & 1:
            final.append(_NEW)
        else:
            if full == rank:
                raise InvalidArgumentError(
                    f"{op}: too many indices: index {i} is for input dimension {full} but the input has only "
                    f"{rank} dimensions (shape {dims})",
                    op,
                )
            shrink = bool(shrink_mask >> i & 1)
            dense[full] = (
                begin[i],
                end[i],
                strides[i],
                bool(begin_mask >> i & 1),
                bool(end_mask >> i & 1),
                shrink,
            )
            final.append(_SHRINK if shrink else full)
            full += 1
    if None in dims:  # sizes known at run time only: a dynamic_strided_slice resolves them then
        return {"dense": tuple(dense), "final": tuple(final), "op": op}
    return _resolve_slice(dims, dense, final, op)


def _resolve_slice(dims: tuple, dense: Sequence, final: Sequence, op: str, unknown: bool = False) -> dict:
    """The strided_slice kernel's attributes for an input of shape ``dims``, from the dense spec
    (per input dimension ``(begin, end, stride, begin masked, end masked, shrink)``) and the
    output's dimensions (``final``: an input dimension, ``_NEW`` or ``_SHRINK``). With
    ``unknown``, None dims give None sizes (what tracing knows of the result's shape)."""
    kb, ks, kst = [], [], []
    for d, (b, e, s, bm, em, shrink) in enumerate(dense):
        dim = dims[d]
        if s == 0:
            raise InvalidArgumentError(f"{op}: strides[{d}] must be non-zero", op)
        if dim is None and unknown:
            kb.append(b)
            ks.append(1 if shrink else None)
            kst.append(s)
            continue
        if shrink:
            x = b + dim if b < 0 else b
            if not 0 <= x < dim:
                raise InvalidArgumentError(
                    f"{op}: slice index {b} of dimension {d} out of bounds (size {dim}); valid indices are "
                    f"[{-dim}, {dim})",
                    op,
                )
            kb.append(x)
            ks.append(1)
            kst.append(1)
            continue
        first, last = _canonical(b, bm, False, dim, s), _canonical(e, em, True, dim, s)
        length = last - first
        if length == 0 or (length < 0) != (s < 0):
            count = 0
        else:
            count = (builtins.abs(length) + builtins.abs(s) - 1) // builtins.abs(s)
        kb.append(first if count else 0)
        ks.append(count)
        kst.append(s)
    out_shape = tuple(1 if f == _NEW else ks[f] for f in final if f != _SHRINK)
    return {"begin": tuple(kb), "size": tuple(ks), "strides": tuple(kst), "shape": out_shape}


def _sliced(x: Tensor, spec: dict, sizes: dict | None = None) -> Tensor:
    """``x`` sliced by `_strided_spec`'s result: a strided_slice, or where dims are unknown while
    tracing a dynamic_strided_slice that resolves the slice on each call's shape. ``sizes``:
    output dims (by input dim) whose size the op's checks guarantee although a dim is None."""
    if "dense" not in spec:
        return execute(_STRIDED_SLICE, (x,), spec)
    known = _resolve_slice(_dims(x), spec["dense"], spec["final"], spec["op"], unknown=True)["size"]
    if sizes:
        known = tuple(sizes.get(d, k) for d, k in enumerate(known))
    static = tuple(1 if f == _NEW else known[f] for f in spec["final"] if f != _SHRINK)
    return execute(_DYNAMIC_STRIDED_SLICE, (x,), {"check": (), **spec, "static_shape": static})


def _axis_slice(
    t: Tensor,
    axis: int,
    begin: int,
    end: int | None,
    op: str,
    shrink: bool = False,
    check: tuple = (),
    size: int | None = None,
) -> Tensor:
    """``t[..., begin:end, ...]`` on ``axis`` (``end`` None: to the end; with ``shrink``
    ``t[..., begin, ...]``) for a ``t`` with None dims: a dynamic_strided_slice. Negative
    bounds count from the end, as in Python; ``size``: the part's size, where ``check``
    guarantees it."""
    full = (0, 0, 1, True, True, False)
    rank = len(_dims(t))
    dense = tuple(
        (begin, 0 if end is None else end, 1, False, end is None, shrink) if d == axis else full
        for d in _range(rank)
    )
    final = tuple(_SHRINK if shrink and d == axis else d for d in _range(rank))
    sizes = {axis: size} if size is not None else None
    return _sliced(t, {"dense": dense, "final": final, "op": op, "check": check}, sizes)


def _canonical(v: int, masked: bool, is_end: bool, dim: int, stride: int) -> int:
    """A slice bound clamped as Python slices do: into [0, dim] going up, [-1, dim - 1] going down."""
    lo, hi = (0, dim) if stride > 0 else (-1, dim - 1)
    if masked:
        return hi if is_end == (stride > 0) else lo
    v = v + dim if v < 0 else v
    return builtins.min(builtins.max(v, lo), hi)


def strided_slice(
    input_: Any,
    begin: Any,
    end: Any,
    strides: Any = None,
    begin_mask: int = 0,
    end_mask: int = 0,
    ellipsis_mask: int = 0,
    new_axis_mask: int = 0,
    shrink_axis_mask: int = 0,
    var: Any = None,
    name: str | None = None,
) -> Tensor:
    """Extracts a strided slice, as ``tf.strided_slice`` (``x[begin:end:strides]`` per dimension).

    Bit i of a mask applies to the i-th entry of ``begin``/``end``/``strides``:
    ``begin_mask``/``end_mask`` ignore that bound (take the widest), ``ellipsis_mask``
    makes the entry ``...``, ``new_axis_mask`` inserts a dimension of size 1, and
    ``shrink_axis_mask`` takes the single index ``begin[i]`` and drops the dimension.

    Args:
      input_: the tensor to slice.
      begin, end, strides: equal-length int lists (strides default all 1, non-zero).
      begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask: bit masks.
      var: ignored (sliced assignment goes through Variable).
      name: ignored (eager).

    Returns:
      The sliced Tensor.

    Raises:
      InvalidArgumentError: for a zero stride, a shrunk index out of bounds, more than
        one ellipsis, or too many indices.

    >>> gt.strided_slice(gt.range(10), [1], [8], [3]).numpy()
    array([1, 4, 7], dtype=int32)
    """
    t = convert_to_tensor(input_)
    b = _ints(begin, "strided_slice", "begin")
    e = _ints(end, "strided_slice", "end")
    s = [1] * len(b) if strides is None else _ints(strides, "strided_slice", "strides")
    masks = tuple(int(m) for m in (begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask))
    return _sliced(t, _strided_spec(_dims(t), b, e, s, masks))


def reverse(tensor: Any, axis: Any, name: str | None = None) -> Tensor:
    """Reverses ``tensor`` along the dimensions in ``axis``, as ``tf.reverse``.

    Raises:
      InvalidArgumentError: for an axis out of range or given twice.
    """
    t = convert_to_tensor(tensor)
    dims = _dims(t)
    axes = [_axis(a, len(dims), "reverse") for a in _ints(axis, "reverse", "axis")]
    if len(set(axes)) != len(axes):
        raise InvalidArgumentError(f"reverse: an axis is specified more than once in {axis!r}", "reverse")
    begin = tuple(d - 1 if i in axes and d else 0 for i, d in enumerate(dims))
    strides = tuple(-1 if i in axes else 1 for i in _range(len(dims)))
    attrs = {"begin": begin, "size": dims, "strides": strides, "shape": dims}
    return execute(_STRIDED_SLICE, (t,), attrs)


# ======================================================================= sorting
_DIRECTIONS = ("ASCENDING", "DESCENDING")


def _sort_along(values: Any, axis: Any, direction: str, op: str) -> tuple[Tensor, Tensor]:
    if direction not in _DIRECTIONS:
        raise ValueError(f"{op}: direction should be one of ASCENDING, DESCENDING, got {direction!r}")
    t = convert_to_tensor(values)
    if t._dtype not in _dt.REAL:
        raise dtype_error(_SORT, t._dtype, "values")
    r = t.ndim
    if r == 0:
        raise InvalidArgumentError(f"{op}: values must have rank >= 1, got a scalar", op)
    ax = _axis(axis, r, op)
    # The kernel sorts the last axis; other axes move there and back.
    perm = tuple(i for i in _range(r) if i != ax) + (ax,)
    moved = t if ax == r - 1 else execute(_TRANSPOSE, (t,), {"perm": perm})
    vals, idx = execute(_SORT, (moved,), {"descending": direction == "DESCENDING"})
    if ax != r - 1:
        back = tuple(int(i) for i in np.argsort(perm))
        vals = execute(_TRANSPOSE, (vals,), {"perm": back})
        idx = execute(_TRANSPOSE, (idx,), {"perm": back})
    return vals, idx


def sort(values: Any, axis: Any = -1, direction: str = "ASCENDING", name: str | None = None) -> Tensor:
    """Sorts ``values`` along ``axis``, as ``tf.sort``.

    Raises:
      ValueError: for a direction other than "ASCENDING" or "DESCENDING".

    >>> gt.sort([3, 1, 2], direction="DESCENDING").numpy()
    array([3, 2, 1], dtype=int32)
    """
    return _sort_along(values, axis, direction, "sort")[0]


def argsort(
    values: Any, axis: Any = -1, direction: str = "ASCENDING", stable: bool = False, name: str | None = None
) -> Tensor:
    """The int32 indices that sort ``values`` along ``axis``, as ``tf.argsort``.

    The order is always stable (equal values keep their index order), which also
    satisfies ``stable=False``.
    """
    return _sort_along(values, axis, direction, "argsort")[1]


def top_k(input: Any, k: int = 1, sorted: bool = True, index_type: Any = _dt.int32, name: str | None = None):
    """The ``k`` largest entries of the last dimension and their indices, as ``tf.math.top_k``.

    Equal values are ordered by index.

    Returns:
      ``TopKV2(values, indices)``, each of shape ``input.shape[:-1] + [k]``.

    Raises:
      InvalidArgumentError: if ``k`` is negative or exceeds the last dimension.
    """
    t = convert_to_tensor(input)
    if t.ndim == 0:
        raise InvalidArgumentError("top_k: input must be >= 1-D, got a scalar", "top_k")
    n = _dims(t)[-1]
    k = _ints(k, "top_k", "k")[0]
    if k < 0:
        raise InvalidArgumentError(f"top_k: Need k >= 0, got {k}", "top_k")
    if k > n:
        raise InvalidArgumentError(f"top_k: input must have at least k columns. Had {n}, needed {k}", "top_k")
    vals, idx = _sort_along(t, -1, "DESCENDING", "top_k")
    ax = t.ndim - 1
    vals, idx = _slice_axis(vals, ax, 0, k), _slice_axis(idx, ax, 0, k)
    out_type = _out_type(index_type, "top_k")
    return TopKV2(vals, idx if out_type is _dt.int32 else _m.cast(idx, out_type))


def unique(x: Any, out_idx: Any = _dt.int32, name: str | None = None) -> Unique:
    """The distinct values of 1-D ``x`` in order of first occurrence, and where each entry went.

    Returns:
      ``Unique(y, idx)`` with ``x == gather(y, idx)``.

    Raises:
      InvalidArgumentError: if ``x`` is not 1-D.

    >>> gt.unique([4, 1, 4, 2]).y.numpy()
    array([4, 1, 2], dtype=int32)
    """
    t = convert_to_tensor(x)
    if t.ndim != 1:
        raise InvalidArgumentError(f"unique: unique expects a 1D vector, got shape {t.shape}", "unique")
    y, idx = execute(_UNIQUE, (t,), {"out_idx": _out_type(out_idx, "unique").np_dtype})
    return Unique(y, idx)


# ====================================================================== clipping
def clip_by_value(t: Any, clip_value_min: Any, clip_value_max: Any, name: str | None = None) -> Tensor:
    """Clips values to [clip_value_min, clip_value_max] (broadcast against ``t``), as ``tf.clip_by_value``.

    Raises:
      InvalidArgumentError: if the bounds would broadcast ``t`` to a larger shape.
    """
    x = convert_to_tensor(t)
    lo = convert_to_tensor(clip_value_min, dtype=x._dtype)
    hi = convert_to_tensor(clip_value_max, dtype=x._dtype)
    out = _m.minimum(_m.maximum(x, lo), hi)
    if _dims(out) != _dims(x):
        raise InvalidArgumentError(
            f"clip_by_value: the bounds (shapes {_dims(lo)} and {_dims(hi)}) must broadcast to t's shape "
            f"{_dims(x)}, not enlarge it",
            "clip_by_value",
        )
    return out


def clip_by_norm(t: Any, clip_norm: Any, axes: Any = None, name: str | None = None) -> Tensor:
    """Rescales ``t`` so its L2 norm over ``axes`` is at most ``clip_norm``, as ``tf.clip_by_norm``."""
    x = convert_to_tensor(t)
    c = convert_to_tensor(clip_norm, dtype=x._dtype)
    l2sum = _m.reduce_sum(_m.multiply(x, x), axes, keepdims=True)
    positive = _m.greater(l2sum, 0)
    # sqrt only where the sum is positive, so the gradient at a zero tensor stays finite (as TF).
    norm = _m.select(positive, _m.sqrt(_m.select(positive, l2sum, ones_like(l2sum))), l2sum)
    return _m.truediv(_m.multiply(x, c), _m.maximum(norm, c))


def _is_indexed_slices(v: Any) -> bool:
    return hasattr(v, "indices") and hasattr(v, "dense_shape") and hasattr(v, "values")


def clip_by_global_norm(t_list: Sequence[Any], clip_norm: Any, use_norm: Any = None, name: str | None = None):
    """Scales a list of tensors so their joint L2 norm is at most ``clip_norm``, as ``tf.clip_by_global_norm``.

    Args:
      t_list: tensors (or IndexedSlices, or None entries, passed through).
      clip_norm: the maximum global norm, > 0.
      use_norm: a precomputed global norm (default: computed from ``t_list``).
      name: ignored (eager).

    Returns:
      ``(list_clipped, global_norm)``; every value is NaN if the norm is not finite.

    Raises:
      TypeError: if ``t_list`` is not a list or tuple.
    """
    if not isinstance(t_list, (list, tuple)):
        raise TypeError(f"clip_by_global_norm: t_list should be a sequence, got {type(t_list).__name__}")
    values = [
        None if v is None else (v.values if _is_indexed_slices(v) else convert_to_tensor(v)) for v in t_list
    ]
    present = [v for v in values if v is not None]
    if use_norm is None:
        sums = [_m.reduce_sum(_m.square(v)) for v in present]
        norm = _m.sqrt(_m.add_n(sums)) if sums else convert_to_tensor(0.0)
    else:
        norm = convert_to_tensor(use_norm)
    c = convert_to_tensor(clip_norm, dtype=norm._dtype)
    # TF's formula: NaN scale when the norm is inf or NaN, so nothing silently passes unclipped.
    scale = _m.multiply(c, _m.minimum(_m.truediv(1.0, norm), _m.truediv(1.0, c)))
    scale = _m.add(scale, _m.subtract(norm, norm))
    out = []
    for orig, v in zip(t_list, values):
        if v is None:
            out.append(None)
            continue
        scaled = _m.multiply(v, _m.cast(scale, v._dtype))
        out.append(type(orig)(scaled, orig.indices, orig.dense_shape) if _is_indexed_slices(orig) else scaled)
    return out, norm


# ============================================================ grids and repeats
def meshgrid(*args: Any, **kwargs: Any) -> list[Tensor]:
    """Coordinate grids from 1-D tensors, as ``tf.meshgrid``.

    Args:
      *args: 1-D tensors of lengths N1, N2, ...
      **kwargs: ``indexing="xy"`` (default; the first two output dims swap) or ``"ij"``.

    Returns:
      A list of N-D Tensors, one per input.

    Raises:
      TypeError: for an unknown keyword argument.
      ValueError: for an unknown ``indexing``.
    """
    indexing = kwargs.pop("indexing", "xy")
    kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"meshgrid: unexpected keyword arguments {sorted(kwargs)}")
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    ts = [reshape(a, [-1]) for a in args]
    n = len(ts)
    sizes = [_dims(t)[0] for t in ts]
    full = list(sizes)
    if indexing == "xy" and n > 1:
        full[0], full[1] = full[1], full[0]
    out = []
    for i, t in enumerate(ts):
        pos = 1 - i if indexing == "xy" and n > 1 and i < 2 else i
        view = [1] * n
        view[pos] = sizes[i]
        out.append(broadcast_to(reshape(t, view), full))
    return out


def repeat(input: Any, repeats: Any, axis: Any = None, name: str | None = None) -> Tensor:
    """Repeats each element (or slice along ``axis``) ``repeats`` times, as ``tf.repeat``.

    Args:
      input: the tensor; flattened first when ``axis`` is None.
      repeats: an int, or one int per element along ``axis``.
      axis: the dimension to repeat along.
      name: ignored (eager).

    Returns:
      The repeated Tensor.

    Raises:
      InvalidArgumentError: for negative repeats or a repeats list of the wrong length.
    """
    t = convert_to_tensor(input)
    if axis is None:
        t = reshape(t, [-1])
        axis = 0
    if t.ndim == 0:
        t = reshape(t, [1])
    ax = _axis(axis, t.ndim, "repeat")
    n = _dims(t)[ax]
    reps = np.asarray(_ints(repeats, "repeat", "repeats"), dtype=np.int64)
    if reps.size == 1:
        reps = np.full(n, reps[0] if reps.ndim else int(reps), dtype=np.int64)
    if reps.shape != (n,) or (reps < 0).any():
        raise InvalidArgumentError(
            f"repeat: repeats must be non-negative and a scalar or one per element along axis {ax} "
            f"(size {n}), got {repeats!r}",
            "repeat",
        )
    idx = _const_like(np.repeat(np.arange(n, dtype=np.int64), reps), t)
    return execute(_GATHER, (t, idx), {"axis": ax, "batch_dims": 0})


def roll(input: Any, shift: Any, axis: Any, name: str | None = None) -> Tensor:
    """Rolls elements along ``axis`` by ``shift`` (wrapping around), as ``tf.roll``.

    Raises:
      InvalidArgumentError: if ``shift`` and ``axis`` differ in length.
    """
    t = convert_to_tensor(input)
    shifts = _ints(shift, "roll", "shift")
    axes = _ints(axis, "roll", "axis")
    if len(shifts) != len(axes):
        raise InvalidArgumentError(
            f"roll: shift and axis must have the same size, got {len(shifts)} and {len(axes)}", "roll"
        )
    dims = _dims(t)
    total = [0] * len(dims)
    for s, a in zip(shifts, axes):
        total[_axis(a, len(dims), "roll")] += s
    out = t
    for ax, s in enumerate(total):
        d = dims[ax]
        if d == 0 or s % d == 0:
            continue
        cut = d - s % d
        out = execute(_CONCAT, (_slice_axis(out, ax, cut, d), _slice_axis(out, ax, 0, cut)), {"axis": ax})
    return out


# ==================================================================== indexing
_INDEX_HELP = (
    "only integers, slices (`:`), ellipsis (`...`), gt.newaxis (`None`), and integer or "
    "boolean tensors/lists are valid indices"
)


def _index_int(v: Any) -> int:
    if isinstance(v, (Tensor, Variable)):
        return v.__index__() if isinstance(v, Tensor) else v.value().__index__()
    return int(np.asarray(v).item()) if isinstance(v, np.ndarray) else v.__index__()


def _parse(item: Any) -> tuple:
    """Classifies one entry of an index: ("int"|"slice"|"ellipsis"|"newaxis"|"array"|"mask", value)."""
    if item is None:
        return ("newaxis", None)
    if item is Ellipsis:
        return ("ellipsis", None)
    if isinstance(item, _slice):
        parts = [None if v is None else _index_int(v) for v in (item.start, item.stop, item.step)]
        return ("slice", _slice(*parts))
    if isinstance(item, (bool, np.bool_)):
        raise TypeError(f"Tensor indexing: a Python bool ({item}) is not a valid index; {_INDEX_HELP}")
    if isinstance(item, (int, np.integer)):
        return ("int", int(item))
    if isinstance(item, (Tensor, Variable)):
        t = convert_to_tensor(item)
        if t._dtype is _dt.bool_ and t.ndim:
            return ("mask", t)
        if t._dtype.is_integer:
            if t.ndim == 0 and _is_symbolic(t):
                # A traced scalar (a loop counter, x[i] in a graph loop) is a 0-d gather index:
                # it drops the dimension as an int does, at run time.
                folded = traced_value(t)
                return ("array", t) if folded is None else ("int", int(folded))
            return ("int", int(t)) if t.ndim == 0 else ("array", t)
        raise TypeError(
            f"Tensor indexing: a tensor of dtype {t._dtype.name} is not a valid index; {_INDEX_HELP}"
        )
    if isinstance(item, (list, tuple, np.ndarray)):
        arr = np.asarray(item)
        if arr.size == 0 and arr.dtype.kind == "f":
            arr = arr.astype(np.int64)
        if arr.dtype.kind == "b" and arr.ndim:
            return ("mask", arr)
        if arr.dtype.kind in "iu":
            return ("int", int(arr)) if arr.ndim == 0 else ("array", arr)
    if hasattr(item, "__index__"):
        return ("int", item.__index__())
    raise TypeError(f"Tensor indexing: {item!r} is not a valid index; {_INDEX_HELP}")


def _basic_index(x: Tensor, parsed: list) -> Tensor:
    """Basic indexing (ints, slices, ..., None) as one strided_slice, built the way TF's ``__getitem__`` is."""
    begin, end, strides = [], [], []
    bm = em = ell = new = shrink = 0
    for i, (kind, v) in enumerate(parsed):
        if kind == "slice":
            begin.append(0 if v.start is None else v.start)
            end.append(0 if v.stop is None else v.stop)
            strides.append(1 if v.step is None else v.step)
            bm |= (v.start is None) << i
            em |= (v.stop is None) << i
        else:
            begin.append(v if kind == "int" else 0)
            end.append(v + 1 if kind == "int" else 0)
            strides.append(1)
            ell |= (kind == "ellipsis") << i
            new |= (kind == "newaxis") << i
            shrink |= (kind == "int") << i
    spec = _strided_spec(_dims(x), begin, end, strides, (bm, em, ell, new, shrink), "Tensor indexing")
    return _sliced(x, spec)


def _normalised(idx: Any, dim: int, like: Tensor) -> Tensor:
    """Integer indices with negatives counted from the end, as a tensor (out of range: gather raises)."""
    if isinstance(idx, np.ndarray):
        idx = idx.astype(np.int64)
        bad = (idx < -dim) | (idx >= dim)
        if bad.any():
            v = int(idx.reshape(-1)[np.argmax(bad.reshape(-1))])
            raise InvalidArgumentError(
                f"Tensor indexing: index {v} is out of bounds for a dimension of size {dim}", "gather"
            )
        return _const_like(np.where(idx < 0, idx + dim, idx), like)
    if idx._dtype.is_unsigned:
        return _m.cast(idx, _dt.int64)
    if idx._dtype not in _INDEX_DTYPES:
        idx = _m.cast(idx, _dt.int64)
    return _m.select(_m.less(idx, 0), _m.add(idx, dim), idx)


def _getitem(tensor: Any, key: Any) -> Tensor:
    """``tensor[key]`` with NumPy semantics: basic indexing plus integer-array and bool-mask indexing."""
    x = convert_to_tensor(tensor)
    items = key if isinstance(key, tuple) else (key,)
    parsed = [_parse(k) for k in items]
    if not any(kind in ("array", "mask") for kind, _ in parsed):
        return _basic_index(x, parsed)
    dims = _dims(x)
    if sum(kind == "ellipsis" for kind, _ in parsed) > 1:
        raise InvalidArgumentError(
            "Tensor indexing: an index can only have a single ellipsis ('...')", "getitem"
        )
    used = sum(
        v.ndim if kind == "mask" else 1 for kind, v in parsed if kind in ("int", "slice", "array", "mask")
    )
    if used > len(dims):
        raise InvalidArgumentError(
            f"Tensor indexing: too many indices for a tensor of rank {len(dims)} (shape {dims})", "getitem"
        )
    # Advanced entries (arrays, masks and, alongside them, ints) become full slices in a basic
    # pass; then they pick elements from the dimensions they cover, as NumPy does.
    basic, adv = [], []  # adv: (first output dimension, kind, value, input dimension)
    out_dim = in_dim = 0
    for kind, v in parsed:
        if kind == "ellipsis":
            basic.append((kind, v))
            out_dim += len(dims) - used
            in_dim += len(dims) - used
        elif kind == "newaxis":
            basic.append((kind, v))
            out_dim += 1
        elif kind == "slice":
            basic.append((kind, v))
            out_dim += 1
            in_dim += 1
        else:
            k = v.ndim if kind == "mask" else 1
            basic.extend([("slice", _slice(None))] * k)
            adv.append((out_dim, kind, v, in_dim))
            out_dim += k
            in_dim += k
    trivial = all(kind == "slice" and v == _slice(None) for kind, v in basic)
    y = x if trivial else _basic_index(x, basic)
    ydims = _dims(y)
    if len(adv) == 1 and adv[0][1] != "int":
        pos, kind, v, _ = adv[0]
        if kind == "mask":
            return boolean_mask(y, v, axis=pos)
        dim = ydims[pos]
        if dim is None:  # a traced unknown dim: its size at run time counts negatives from the end
            dim = _m.cast(shape(y)[pos], v._dtype if isinstance(v, Tensor) else _dt.int64)
        return execute(_GATHER, (y, _normalised(v, dim, y)), {"axis": pos, "batch_dims": 0})
    comps, adv_dims = [], []
    for pos, kind, v, _ in adv:
        if kind == "mask":
            m = convert_to_tensor(v)
            if _dims(m) != ydims[pos : pos + m.ndim]:
                raise InvalidArgumentError(
                    f"Tensor indexing: boolean index of shape {_dims(m)} does not match the indexed "
                    f"dimensions {ydims[pos : pos + m.ndim]}",
                    "getitem",
                )
            coords = execute(_WHERE, (m,))
            comps.extend(_slice_axis(coords, 1, j, j + 1, shrink=True) for j in _range(m.ndim))
            adv_dims.extend(_range(pos, pos + m.ndim))
        else:
            value = np.asarray(v, dtype=np.int64) if kind == "int" else v
            comps.append(_normalised(value, ydims[pos], y))
            adv_dims.append(pos)
    try:
        common = np.broadcast_shapes(*(_dims(c) for c in comps))
    except ValueError:
        raise InvalidArgumentError(
            "Tensor indexing: index arrays could not be broadcast together with shapes "
            + " ".join(str(_dims(c)) for c in comps),
            "getitem",
        ) from None
    rest = [d for d in _range(len(ydims)) if d not in adv_dims]
    perm = tuple(adv_dims + rest)
    yt = y if perm == tuple(_range(len(ydims))) else execute(_TRANSPOSE, (y,), {"perm": perm})
    comps = [broadcast_to(_m.cast(c, _dt.int64), common) for c in comps]
    out = execute(_GATHER_ND, (yt, stack(comps, axis=-1)), {"batch_dims": 0})
    adjacent = adv_dims == list(_range(adv_dims[0], adv_dims[0] + len(adv_dims)))
    if adjacent and adv_dims[0] > 0:
        # NumPy puts the indexed dimensions where the (adjacent) index entries were.
        p0, nc = adv_dims[0], len(common)
        order = (
            tuple(nc + i for i in _range(p0))
            + tuple(_range(nc))
            + tuple(nc + i for i in _range(p0, len(rest)))
        )
        out = execute(_TRANSPOSE, (out,), {"perm": order})
    return out


_m.install_operators({"__getitem__": _getitem})
