"""The op table: every op is declared once here-by-name and run through `execute`.

An ``OpDef`` names an op, the dtypes it accepts, how many outputs it has, its
gradient (registered by gputensor.autodiff, written with public ops), and for
elementwise ops the CUDA expression the GPU backend compiles. Backends map op
names to kernels; eager execution, tape recording and graph tracing all go
through `execute`, so no other module keeps a list of ops.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from gputensor import errors
from gputensor.framework import context, dtypes, shape_inference
from gputensor.framework.context import state
from gputensor.framework.tensor import (
    Tensor,
    _conversion_functions,
    convert_to_tensor,
    current_device,
    wrap,
)

_EMPTY: dict = {}


class OpDef:
    """Declaration of one op.

    Attributes:
      name: the op's name, the key backends register kernels under.
      kind: "unary", "binary" (elementwise with broadcasting), "reduce" or "other".
      dtypes: input dtypes the op accepts (None: any).
      dtype_ids: ``id()`` of each of ``dtypes`` (None: any), for the hot paths:
        ``id(dt) in op.dtype_ids`` hashes an int in C where ``dt in op.dtypes`` calls
        DType.__hash__ in Python.
      cuda: for elementwise ops, the CUDA expression over inputs ``a``/``b``
        (and ``alpha`` etc. for attributes), e.g. ``"a + b"``; the GPU backend
        turns it into a kernel.
      out_dtype: fixed output dtype of an elementwise op (bool for comparisons),
        or None when it is the input dtype.
      num_outputs: number of output tensors.
      grad: gradient function ``grad(op_inputs, attrs, outputs, *output_grads)``
        returning one gradient (or None) per input; set by gputensor.autodiff.
      differentiable: False for ops whose gradient is zero or undefined
        (comparisons, argmax, integer ops); the tape then stops there.
      infer: ``infer(op, specs, attrs)`` -> the output `shape_inference.Spec` (a tuple
        of them for several outputs) from the inputs' Specs, without running the op;
        the elementwise, reduction and scan kinds get their family's rule.
      replayable: True when ``grad`` depends only on shapes, dtypes, devices and
        attrs, never on tensor values read to the host, so a backward pass through
        it may be replayed from a cached plan (gputensor.autodiff.replay).
      compose: for ops every backend runs with its other kernels (the shape ops that
        read a shape at run time), ``compose(device)`` -> the kernel; None otherwise.
    """

    __slots__ = (
        "name",
        "kind",
        "dtypes",
        "dtype_ids",
        "cuda",
        "out_dtype",
        "num_outputs",
        "grad",
        "differentiable",
        "replayable",
        "infer",
        "attrs",
        "compose",
    )

    def __init__(
        self,
        name: str,
        kind: str,
        dtypes: Iterable | None,
        cuda: str | None,
        out_dtype: Any,
        num_outputs: int,
        differentiable: bool,
        attrs: tuple,
        infer: Callable | None = None,
        compose: Callable | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.dtypes = None if dtypes is None else frozenset(dtypes)
        self.dtype_ids = None if dtypes is None else frozenset(map(id, self.dtypes))
        self.cuda = cuda
        self.out_dtype = out_dtype
        self.num_outputs = num_outputs
        self.grad: Callable | None = None
        self.differentiable = differentiable
        self.replayable = False
        self.infer = infer if infer is not None else shape_inference.FAMILIES.get(kind)
        self.attrs = attrs
        self.compose = compose

    def __repr__(self) -> str:
        return f"OpDef({self.name!r}, kind={self.kind!r})"


OPS: dict[str, OpDef] = {}


def define(
    name: str,
    *,
    kind: str = "other",
    dtypes: Iterable | None = None,
    cuda: str | None = None,
    out_dtype: Any = None,
    num_outputs: int = 1,
    differentiable: bool = True,
    attrs: tuple = (),
    infer: Callable | None = None,
    compose: Callable | None = None,
) -> OpDef:
    """Declares an op in the table and returns its OpDef. Each name once.

    ``infer`` is the op's shape and dtype rule (see framework/shape_inference.py);
    ops of kind "other" must give one. ``compose(device)`` builds the op's kernel
    from the device's other kernels, for every backend alike.
    """
    if name in OPS:
        raise errors.AlreadyExistsError(f"op {name!r} is declared twice", name)
    if infer is None and kind not in shape_inference.FAMILIES:
        raise ValueError(f"define({name!r}): an op of kind {kind!r} needs infer=, its shape and dtype rule")
    op = OpDef(name, kind, dtypes, cuda, out_dtype, num_outputs, differentiable, attrs, infer, compose)
    OPS[name] = op
    return op


# ------------------------------------------------------------------ errors
def _shapes(inputs: Iterable[Any]) -> str:
    parts = []
    for t in inputs:
        if isinstance(t, Tensor):
            shape = "disposed" if t._data is None else str(tuple(t._data.shape))
            parts.append(f"{shape} {t._dtype.name}")
        else:
            parts.append(repr(t))
    return ", ".join(parts)


def op_error(op: OpDef, inputs: tuple, attrs: dict | None, exc: BaseException) -> BaseException:
    """Turns a backend failure into TF's exception class naming op, inputs and fix."""
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t._data is None:
            return errors.FailedPreconditionError(
                f"{op.name}: input {i} is a disposed tensor; it was freed by dispose() or gt.tidy()",
                op.name,
            )
    if isinstance(exc, errors.OpError):
        return exc
    if isinstance(exc, MemoryError):
        return errors.ResourceExhaustedError(
            f"{op.name}: out of host memory with inputs ({_shapes(inputs)})", op.name
        )
    msg = str(exc)
    if "broadcast" in msg:
        return errors.InvalidArgumentError(
            f"{op.name}: Incompatible shapes: {_shapes(inputs)}; the shapes must be equal or "
            "broadcastable (each dimension equal, or 1, aligned from the right)",
            op.name,
        )
    detail = f" with attributes {attrs}" if attrs else ""
    cls = (
        errors.InvalidArgumentError
        if isinstance(exc, (ValueError, IndexError, TypeError))
        else errors.InternalError
    )
    return cls(f"{op.name}: {msg} (inputs: {_shapes(inputs)}{detail})", op.name)


def dtype_error(op: OpDef, dtype: dtypes.DType, what: str = "x") -> errors.InvalidArgumentError:
    allowed = ", ".join(sorted(d.name for d in op.dtypes)) if op.dtypes else "any"
    if dtype.is_string:
        return errors.InvalidArgumentError(
            f"{op.name}: {what} has dtype string, which this op does not take; allowed: {allowed}. "
            "String tensors take +, ==, != and the gt.strings ops; parse numbers with "
            "gt.strings.to_number first",
            op.name,
        )
    return errors.InvalidArgumentError(
        f"{op.name}: {what} has dtype {dtype.name}, which this op does not take; "
        f"allowed: {allowed}. Cast first, e.g. gt.cast({what}, gt.float32)",
        op.name,
    )


def mixed_dtype_error(op: OpDef, x: Tensor, y: Tensor) -> errors.InvalidArgumentError:
    return errors.InvalidArgumentError(
        f"{op.name}: x has dtype {x._dtype.name} and y has dtype {y._dtype.name} "
        f"(shapes {tuple(x._data.shape)} and {tuple(y._data.shape)}); both operands must have "
        f"the same dtype, as in TensorFlow. Cast one, e.g. gt.cast(y, gt.{x._dtype.name})",
        op.name,
    )


def attrs_key(attrs: dict) -> tuple:
    """``attrs`` as a hashable key (raises TypeError for unhashable values).

    Float attrs equal to zero carry their sign: 0.0 == -0.0, but a result scaled by
    the attr keeps its sign of zero, so caches of plans and graphs tell them apart.
    """
    key = tuple(attrs.items())
    for _, v in key:
        if type(v) is float and v == 0.0:
            return tuple(
                (k, (v, math.copysign(1.0, v)) if type(v) is float and v == 0.0 else v) for k, v in key
            )
    return key


# ----------------------------------------------------------------- execute
def _transfer(t: Tensor, device: Any) -> Any:
    """The array of ``t`` on ``device``, copied there if it lives elsewhere."""
    data = t._data
    if data is None:
        raise errors.FailedPreconditionError("a disposed tensor was used as an op input")
    return device.backend.transfer(data, t._device.backend)


def execute(op: OpDef, inputs: tuple, attrs: dict = _EMPTY) -> Any:
    """Runs ``op`` eagerly on Tensors ``inputs`` and returns its output tensor(s).

    The device is the innermost ``gt.device`` scope, else that of the first
    input, else the default; inputs elsewhere are copied to it.
    """
    # The private fields, not the properties: this runs for every op under a tape.
    device = state._device
    if device is None:
        device = inputs[0]._device if inputs else current_device()
    try:
        arrays = [t._data if t._device is device else _transfer(t, device) for t in inputs]
        fn = device.kernels.get(op.name) or device.kernel(op)
        out = fn(*arrays, **attrs)
    except Exception as exc:
        if device.device_type != "CPU" and state.graph is None and touches_strings(op, inputs, attrs):
            return execute_on_host(op, inputs, attrs)
        raise op_error(op, inputs, attrs, exc) from exc
    if op.num_outputs == 1:
        result = wrap(out, device)
    else:
        result = tuple(wrap(o, device) for o in out)
    if state._tapes and context.recorder is not None:
        context.recorder(op, inputs, attrs, result)
    return result


# Ops with CPU kernels only (the string ops register here): a call on another device runs on
# the host instead (`execute_on_host`).
HOST_OPS: set[str] = set()


def touches_strings(op: OpDef, inputs: tuple, attrs: dict) -> bool:
    """Whether an op call reads or makes string tensors (which only the CPU holds)."""
    if op.name in HOST_OPS:
        return True
    for t in inputs:
        if isinstance(t, Tensor) and t._dtype is dtypes.string:
            return True
    return any(v is _OBJECT or type(v) is bytes for v in attrs.values())


_OBJECT = np.dtype(object)


def execute_on_host(op: OpDef, inputs: tuple, attrs: dict = _EMPTY) -> Any:
    """Runs ``op`` on the CPU whatever the device scope, as TF places string ops (they have no
    GPU kernels; soft placement moves them): numeric inputs are copied to the host and every
    output lives on the CPU. Inside a graph being traced the op is added as usual (the graph
    runs string ops on the host, graph/graph.py)."""
    if state.graph is not None:
        return execute(op, inputs, attrs)
    from gputensor.framework.tensor import host_device

    device = host_device()
    try:
        arrays = [t._data if t._device is device else _transfer(t, device) for t in inputs]
        out = device.kernels[op.name](*arrays, **attrs)
    except Exception as exc:
        raise op_error(op, inputs, attrs, exc) from exc
    if op.num_outputs == 1:
        result = wrap(out, device)
    else:
        result = tuple(wrap(o, device) for o in out)
    if state._tapes and context.recorder is not None:
        context.recorder(op, inputs, attrs, result)
    return result


def _operand(value: Any, like: Tensor | None) -> Tensor:
    """Converts the non-tensor operand of an elementwise op; Python values take like's dtype."""
    if like is None:
        return convert_to_tensor(value)
    conv = _conversion_functions.get(type(value))
    if conv is not None:  # a Variable: its value (the caller checks the dtypes match)
        return conv(value, None)
    if isinstance(value, (int, float, bool)) and not isinstance(value, np.generic):
        if like._dtype is dtypes.string:  # TF's AddV2 kernel check: InvalidArgumentError
            raise errors.InvalidArgumentError(
                f"cannot compute with a string tensor and the number {value!r}: both operands "
                "must be strings; format numbers as strings with gt.strings.as_string"
            )
        device = like._device if state.device is None else state.device
        try:
            data = device.backend.scalar(value, like._data.dtype)
        except (OverflowError, ValueError, TypeError) as exc:
            raise TypeError(
                f"Cannot convert {value!r} to EagerTensor of dtype {like._dtype.name}: {exc}"
            ) from None
        if like._dtype.kind in "iub" and isinstance(value, float) and not float(value).is_integer():
            raise TypeError(
                f"Cannot convert {value!r} to EagerTensor of dtype {like._dtype.name}; "
                f"cast the tensor first, e.g. gt.cast(x, gt.float32)"
            )
        return wrap(data, device)
    if isinstance(value, Tensor):
        return value
    try:
        return convert_to_tensor(value, dtype=like._dtype)
    except ValueError:
        return convert_to_tensor(value)  # a tensor of another dtype: the dtype check reports it


def unary(op: OpDef, x: Any) -> Tensor:
    """Fast path for a one-input elementwise op."""
    if type(x) is not Tensor:
        x = convert_to_tensor(x)
    if op.dtype_ids is not None and id(x._dtype) not in op.dtype_ids:
        raise dtype_error(op, x._dtype)
    return execute(op, (x,))


def binary(op: OpDef, x: Any, y: Any) -> Tensor:
    """Fast path for a two-input elementwise op with broadcasting (the eager hot path)."""
    if type(x) is not Tensor:
        x = _operand(x, y if type(y) is Tensor else None)
    if type(y) is not Tensor:
        y = _operand(y, x)
    dt = x._dtype
    if y._dtype is not dt:
        raise mixed_dtype_error(op, x, y)
    if op.dtype_ids is not None and id(dt) not in op.dtype_ids:
        raise dtype_error(op, dt)
    device = state._device
    if device is None:
        device = x._device
    try:
        a = x._data if x._device is device else _transfer(x, device)
        b = y._data if y._device is device else _transfer(y, device)
        fn = device.kernels.get(op.name) or device.kernel(op)
        out = fn(a, b)
    except Exception as exc:
        if device.device_type != "CPU" and state.graph is None and dt is dtypes.string:
            return execute_on_host(op, (x, y))
        raise op_error(op, (x, y), None, exc) from exc
    t = wrap(out, device)
    if state._tapes and context.recorder is not None:
        context.recorder(op, (x, y), _EMPTY, t)
    return t


def binary_function(op: OpDef) -> Callable[..., Tensor]:
    """Returns ``fn(x, y)`` running elementwise ``op``: the eager hot path, in one frame.

    Two tensors of one dtype on one device with no tape, tidy scope or device
    scope active take the inlined path (kernel lookup, call, wrap); everything
    else falls back to `binary`, which converts, checks, copies and records.
    """
    name = op.name
    allowed_ids = op.dtype_ids
    tensor_cls = Tensor
    _state = state
    _wrap = wrap
    _new = object.__new__
    _from_np = dtypes._FROM_NUMPY

    def fn(x: Any, y: Any, name_: str | None = None) -> Tensor:
        if type(x) is tensor_cls and (_state.fast or _state.fast_device is x._device):
            device = x._device
            dt = x._dtype
            ty = type(y)
            if ty is tensor_cls:
                ok = y._dtype is dt and y._device is device
                b = y._data
            elif (ty is float and dt.kind in "fc") or (ty is int and dt.kind in "fiu"):
                # A Python scalar takes the tensor's dtype (as TF) and goes to the kernel as a
                # NumPy scalar; NumPy raises OverflowError if it does not fit: slow path.
                try:
                    b = x._data.dtype.type(y)
                    ok = True
                except (OverflowError, ValueError):
                    ok = False
            else:
                ok = False
            if ok and (allowed_ids is None or id(dt) in allowed_ids):
                kernel = device.kernels.get(name)
                if kernel is not None:
                    try:
                        out = kernel(x._data, b)
                    except Exception as exc:
                        raise op_error(op, (x, y), None, exc) from exc
                    # framework.tensor.wrap, inlined (no tidy scope is active on this path).
                    t = _new(tensor_cls)
                    try:
                        t._dtype = _from_np[out.dtype]
                    except AttributeError:  # a 0-d string result: see framework.tensor.box
                        return _wrap(out, device)
                    t._data = out
                    t._device = device
                    device.current_bytes += out.nbytes
                    if device.current_bytes > device.peak_bytes:
                        device.peak_bytes = device.current_bytes
                    device.num_tensors += 1
                    return t
        return binary(op, x, y)

    def reflected(y: Any, x: Any) -> Tensor:
        # `x <op> y` where only y (self) is a tensor: Python calls y.__radd__(x).
        if type(y) is tensor_cls and (_state.fast or _state.fast_device is y._device):
            tx = type(x)
            dt = y._dtype
            if ((tx is float and dt.kind in "fc") or (tx is int and dt.kind in "fiu")) and (
                allowed_ids is None or id(dt) in allowed_ids
            ):
                kernel = y._device.kernels.get(name)
                if kernel is not None:
                    try:
                        a = y._data.dtype.type(x)
                        out = kernel(a, y._data)
                    except (OverflowError, ValueError):
                        return binary(op, x, y)
                    except Exception as exc:
                        raise op_error(op, (x, y), None, exc) from exc
                    return _wrap(out, y._device)
        return binary(op, x, y)

    fn.__name__ = fn.__qualname__ = name
    fn.reflected = reflected
    return fn


def unary_function(op: OpDef) -> Callable[..., Tensor]:
    """Returns ``fn(x)`` running elementwise ``op``, with the same fast path as `binary_function`."""
    name = op.name
    allowed_ids = op.dtype_ids
    tensor_cls = Tensor
    _state = state
    _wrap = wrap

    def fn(x: Any, name_: str | None = None) -> Tensor:
        if (
            type(x) is tensor_cls
            and (_state.fast or _state.fast_device is x._device)
            and (allowed_ids is None or id(x._dtype) in allowed_ids)
        ):
            device = x._device
            kernel = device.kernels.get(name)
            if kernel is not None:
                try:
                    out = kernel(x._data)
                except Exception as exc:
                    raise op_error(op, (x,), None, exc) from exc
                return _wrap(out, device)
        return unary(op, x)

    fn.__name__ = fn.__qualname__ = name
    return fn
