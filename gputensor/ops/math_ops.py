"""Elementwise math, comparisons, casts and reductions (``gt.math`` and the top level).

Each op is declared once with `define`: its name, the dtypes it takes and, for
elementwise ops, the CUDA expression the GPU backend compiles (inputs ``a``,
``b``; the expression's result type is the output type). The public functions
below are thin wrappers that apply the op, in TensorFlow's signatures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gputensor.errors import InvalidArgumentError, UnimplementedError
from gputensor.framework import dtypes as _dt
from gputensor.framework import shape_inference as si
from gputensor.framework.op_table import (
    OPS,
    binary,
    binary_function,
    define,
    dtype_error,
    execute,
    unary_function,
)
from gputensor.framework.tensor import Tensor, convert_to_tensor
from gputensor.framework.variable import Variable

F = _dt.FLOATS
FC = _dt.FLOATS | _dt.COMPLEX
NUM = _dt.NUMERIC
REAL = _dt.REAL
SIGNED = _dt.FLOATS | _dt.COMPLEX | {_dt.int8, _dt.int16, _dt.int32, _dt.int64}
INT = _dt.INTEGERS
BOOL = {_dt.bool_}
INT_BOOL = _dt.INTEGERS | BOOL
ANY = None

# ------------------------------------------------------------------------ unary
# name: (dtypes, CUDA expression over `a`, output dtype (None: same as input), differentiable)
_UNARY = {
    "negative": (SIGNED, "-a", None, True),
    "abs": (SIGNED, "gt_abs(a)", None, True),
    "sign": (SIGNED, "gt_sign(a)", None, False),
    "exp": (FC, "exp(a)", None, True),
    "expm1": (F, "expm1(a)", None, True),
    "log": (FC, "log(a)", None, True),
    "log1p": (F, "log1p(a)", None, True),
    "sqrt": (FC, "sqrt(a)", None, True),
    "rsqrt": (F, "rsqrt(a)", None, True),
    "square": (NUM, "a * a", None, True),
    "reciprocal": (FC, "T(1) / a", None, True),
    "sin": (FC, "sin(a)", None, True),
    "cos": (FC, "cos(a)", None, True),
    "tan": (F, "tan(a)", None, True),
    "tanh": (FC, "tanh(a)", None, True),
    "erf": (F, "erf(a)", None, True),
    "sigmoid": (FC, "gt_sigmoid(a)", None, True),
    "floor": (F, "floor(a)", None, False),
    "ceil": (F, "ceil(a)", None, False),
    "round": (F, "rint(a)", None, False),
    "is_nan": (F, "isnan(a)", _dt.bool_, False),
    "is_finite": (F, "isfinite(a)", _dt.bool_, False),
    "is_inf": (F, "isinf(a)", _dt.bool_, False),
    "logical_not": (BOOL, "!a", None, False),
    "invert": (INT, "~a", None, False),
    "relu": (REAL, "a > T(0) ? a : T(0)", None, True),
    "relu6": (REAL, "a > T(0) ? (a < T(6) ? a : T(6)) : T(0)", None, True),
    "elu": (F, "a > T(0) ? a : T(expm1(a))", None, True),
    "selu": (F, "gt_selu(a)", None, True),
    "softplus": (F, "gt_softplus(a)", None, True),
    "silu": (F, "a * gt_sigmoid(a)", None, True),
}
for _name, (_types, _cuda, _out, _diff) in _UNARY.items():
    # |z| of a complex z is real: abs takes the real-part rule of real/imag.
    _infer = si.to_real if _name == "abs" else None
    define(_name, kind="unary", dtypes=_types, cuda=_cuda, out_dtype=_out, differentiable=_diff, infer=_infer)
define("gelu", kind="unary", dtypes=F, cuda="gt_gelu(a, approximate)", attrs=("approximate",))
define("leaky_relu", kind="unary", dtypes=F, cuda="a > T(0) ? a : T(a * alpha)", attrs=("alpha",))
define("cast", kind="unary", cuda="a", attrs=("dtype",))  # from_c<Out> converts
define("real", kind="unary", dtypes=_dt.COMPLEX, cuda="a.real()", infer=si.to_real)
define("imag", kind="unary", dtypes=_dt.COMPLEX, cuda="a.imag()", infer=si.to_real)
define("conj", kind="unary", dtypes=_dt.COMPLEX, cuda="conj(a)")

# ----------------------------------------------------------------------- binary
_BINARY = {
    # On strings, TF's AddV2 concatenates (np.add of object arrays of bytes does the same).
    "add": (NUM | _dt.STRING, "a + b", None, True),
    "subtract": (NUM, "a - b", None, True),
    "multiply": (NUM, "a * b", None, True),
    "div": (FC, "a / b", None, True),
    "floordiv": (REAL, "gt_floordiv(a, b)", None, False),
    "floormod": (REAL, "gt_floormod(a, b)", None, True),
    "pow": (NUM, "gt_pow(a, b)", None, True),
    "maximum": (REAL, "gt_max(a, b)", None, True),
    "minimum": (REAL, "gt_min(a, b)", None, True),
    "squared_difference": (NUM, "(a - b) * (a - b)", None, True),
    "atan2": (F, "atan2(a, b)", None, True),
    "equal": (ANY, "a == b", _dt.bool_, False),
    "not_equal": (ANY, "a != b", _dt.bool_, False),
    "less": (REAL, "a < b", _dt.bool_, False),
    "less_equal": (REAL, "a <= b", _dt.bool_, False),
    "greater": (REAL, "a > b", _dt.bool_, False),
    "greater_equal": (REAL, "a >= b", _dt.bool_, False),
    "logical_and": (BOOL, "a && b", None, False),
    "logical_or": (BOOL, "a || b", None, False),
    "logical_xor": (BOOL, "a != b", None, False),
    "bitwise_and": (INT_BOOL, "a & b", None, False),
    "bitwise_or": (INT_BOOL, "a | b", None, False),
    "bitwise_xor": (INT_BOOL, "a ^ b", None, False),
    # relu's backward pass in one kernel, as TF's ReluGrad: dy * (y > 0) (so a NaN dy stays NaN).
    "relu_grad": (REAL, "a * T(b > T(0))", None, True),
}
for _name, (_types, _cuda, _out, _diff) in _BINARY.items():
    define(_name, kind="binary", dtypes=_types, cuda=_cuda, out_dtype=_out, differentiable=_diff)
define("select", kind="ternary", cuda="c ? a : b")

# ------------------------------------------------------------------- reductions
for _name, _types in (
    ("reduce_sum", NUM),
    ("reduce_prod", NUM),
    ("reduce_mean", NUM),
    ("reduce_max", REAL),
    ("reduce_min", REAL),
    ("reduce_any", BOOL),
    ("reduce_all", BOOL),
    ("reduce_logsumexp", F),
):
    define(_name, kind="reduce", dtypes=_types, attrs=("axis", "keepdims"),
           differentiable=_name not in ("reduce_any", "reduce_all"))  # fmt: skip
define("argmax", kind="reduce", dtypes=REAL, attrs=("axis", "output_type"), differentiable=False)
define("argmin", kind="reduce", dtypes=REAL, attrs=("axis", "output_type"), differentiable=False)
define("cumsum", kind="scan", dtypes=NUM, attrs=("axis", "exclusive", "reverse"))
define("cumprod", kind="scan", dtypes=NUM, attrs=("axis", "exclusive", "reverse"))

_op = OPS.__getitem__

__all__ = [
    "negative",
    "abs",
    "sign",
    "exp",
    "expm1",
    "log",
    "log1p",
    "sqrt",
    "rsqrt",
    "square",
    "reciprocal",
    "sin",
    "cos",
    "tan",
    "tanh",
    "erf",
    "sigmoid",
    "floor",
    "ceil",
    "round",
    "is_nan",
    "is_finite",
    "is_inf",
    "logical_not",
    "invert",
    "imag",
    "conj",
    "add",
    "subtract",
    "multiply",
    "floordiv",
    "floormod",
    "pow",
    "maximum",
    "minimum",
    "squared_difference",
    "atan2",
    "not_equal",
    "less",
    "less_equal",
    "greater",
    "greater_equal",
    "logical_and",
    "logical_or",
    "logical_xor",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "_equal",
    "reduce_sum",
    "reduce_prod",
    "reduce_mean",
    "reduce_max",
    "reduce_min",
    "reduce_any",
    "reduce_all",
    "reduce_logsumexp",
    "argmax",
    "argmin",
    "cumsum",
    "cumprod",
    "equal",
    "real",
    "truediv",
    "divide",
    "scalar_mul",
    "divide_no_nan",
    "select",
    "cast",
    "saturate_cast",
    "gelu",
    "leaky_relu",
    "add_n",
    "reduce_variance",
    "reduce_std",
    "reduce_euclidean_norm",
    "mod",
]


# =========================================================== public functions
def _u(name: str):
    return unary_function(_op(name))


def _b(name: str):
    return binary_function(_op(name))


negative = _u("negative")
abs = _u("abs")  # noqa: A001 - TF's public name
sign = _u("sign")
exp = _u("exp")
expm1 = _u("expm1")
log = _u("log")
log1p = _u("log1p")
sqrt = _u("sqrt")
rsqrt = _u("rsqrt")
square = _u("square")
reciprocal = _u("reciprocal")
sin = _u("sin")
cos = _u("cos")
tan = _u("tan")
tanh = _u("tanh")
erf = _u("erf")
sigmoid = _u("sigmoid")
floor = _u("floor")
ceil = _u("ceil")
round = _u("round")  # noqa: A001
is_nan = _u("is_nan")
is_finite = _u("is_finite")
is_inf = _u("is_inf")
logical_not = _u("logical_not")
invert = _u("invert")
real_part = _u("real")
imag = _u("imag")
conj = _u("conj")
# Activations declared here as elementwise ops; gt.nn re-exports them.
relu = _u("relu")
relu6 = _u("relu6")
elu = _u("elu")
selu = _u("selu")
softplus = _u("softplus")
silu = _u("silu")

add = _b("add")
subtract = _b("subtract")
multiply = _b("multiply")
floordiv = _b("floordiv")
floormod = _b("floormod")
mod = floormod
pow = _b("pow")  # noqa: A001
maximum = _b("maximum")
minimum = _b("minimum")
squared_difference = _b("squared_difference")
atan2 = _b("atan2")
not_equal = _b("not_equal")
less = _b("less")
less_equal = _b("less_equal")
greater = _b("greater")
greater_equal = _b("greater_equal")
logical_and = _b("logical_and")
logical_or = _b("logical_or")
logical_xor = _b("logical_xor")
bitwise_and = _b("bitwise_and")
bitwise_or = _b("bitwise_or")
bitwise_xor = _b("bitwise_xor")
_equal = _b("equal")


def equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    """Elementwise ``x == y`` with broadcasting; returns a bool tensor."""
    return _equal(x, y)


def real(input: Any, name: str | None = None) -> Tensor:
    """The real part of a complex tensor; a real tensor is returned unchanged."""
    x = convert_to_tensor(input)
    return x if not x._dtype.is_complex else real_part(x)


_DIV = _op("div")
_F64_FOR = {_dt.int32: _dt.float64, _dt.int64: _dt.float64, _dt.int8: _dt.float32,
            _dt.int16: _dt.float32, _dt.uint8: _dt.float32, _dt.uint16: _dt.float32}  # fmt: skip


_div = binary_function(_DIV)


def truediv(x: Any, y: Any, name: str | None = None) -> Tensor:
    """Divides ``x / y`` elementwise; integers become float first, as TF's truediv.

    int8/int16/uint8/uint16 divide as float32 and int32/int64 as float64.
    """
    if type(x) is Tensor and x._dtype in FC:
        return _div(x, y)
    if type(x) is not Tensor and type(y) is Tensor:
        x = convert_to_tensor(x, dtype=y._dtype) if not isinstance(x, Variable) else x.value()
    x = convert_to_tensor(x)
    target = _F64_FOR.get(x._dtype)
    if target is not None:
        if type(y) is not Tensor:
            y = convert_to_tensor(y, dtype=x._dtype) if not isinstance(y, Variable) else y.value()
        if y._dtype is not x._dtype:
            raise InvalidArgumentError(
                f"truediv: x has dtype {x._dtype.name} and y has dtype {y._dtype.name}; "
                "both operands must have the same dtype. Cast one with gt.cast"
            )
        return binary(_DIV, cast(x, target), cast(y, target))
    return binary(_DIV, x, y)


def divide(x: Any, y: Any, name: str | None = None) -> Tensor:
    """Same as `truediv` (``x / y``)."""
    return truediv(x, y)


def scalar_mul(scalar: Any, x: Any, name: str | None = None) -> Tensor:
    return multiply(x, scalar)


def divide_no_nan(x: Any, y: Any, name: str | None = None) -> Tensor:
    """``x / y``, with 0 where ``y`` is 0."""
    y = convert_to_tensor(y, dtype=convert_to_tensor(x)._dtype)
    zero = equal(y, 0)
    # Python scalars in select become 0-d tensors of the other operand's dtype and broadcast.
    safe = select(zero, 1, y)
    return select(zero, 0, truediv(x, safe))


_SELECT = _op("select")


def select(condition: Any, x: Any, y: Any) -> Tensor:
    """Picks ``x`` where ``condition`` is true, else ``y`` (broadcasting), one elementwise op."""
    c = convert_to_tensor(condition, dtype=_dt.bool_)
    if type(x) is not Tensor:
        x = convert_to_tensor(x, dtype=y._dtype) if type(y) is Tensor else convert_to_tensor(x)
    if type(y) is not Tensor:
        y = convert_to_tensor(y, dtype=x._dtype)
    if x._dtype is not y._dtype:
        raise InvalidArgumentError(
            f"where: x has dtype {x._dtype.name} and y has dtype {y._dtype.name}; they must match"
        )
    return execute(_SELECT, (c, x, y))


def sigmoid_(x: Any) -> Tensor:
    return sigmoid(x)


_CAST = _op("cast")


def cast(x: Any, dtype: Any, name: str | None = None) -> Tensor:
    """Casts a tensor to ``dtype``, as ``tf.cast`` (floats truncate toward zero to ints)."""
    dtype = _dt.as_dtype(dtype)
    if isinstance(x, Variable):
        x = x.value()
    if type(x) is not Tensor:
        if hasattr(x, "_gt_tensor_like") and hasattr(x, "with_values"):  # sparse/ragged
            return x.with_values(cast(x.values, dtype))
        x = convert_to_tensor(x)
    if x._dtype is dtype:
        return x
    if x._dtype.is_string or dtype.is_string:  # TF has no string<->number Cast kernel either
        hint = "gt.strings.to_number" if x._dtype.is_string else "gt.strings.as_string"
        raise UnimplementedError(
            f"Cast {x._dtype.name} to {dtype.name} is not supported; use {hint} instead", "cast"
        )
    return execute(_CAST, (x,), {"dtype": dtype.np_dtype})


def saturate_cast(value: Any, dtype: Any, name: str | None = None) -> Tensor:
    """Casts, clipping to the target dtype's range first."""
    dtype = _dt.as_dtype(dtype)
    x = convert_to_tensor(value)
    if dtype.is_integer or dtype.is_floating:
        lo, hi = dtype.min, dtype.max
        if x._dtype.is_floating or (x._dtype.is_integer and (x._dtype.min < lo or x._dtype.max > hi)):
            x = minimum(maximum(x, max(lo, x._dtype.min)), min(hi, x._dtype.max))
    return cast(x, dtype)


def gelu(features: Any, approximate: bool = False, name: str | None = None) -> Tensor:
    """Gaussian error linear unit; ``approximate=True`` uses the tanh formula."""
    x = convert_to_tensor(features)
    if x._dtype not in F:
        raise dtype_error(_op("gelu"), x._dtype, "features")
    return execute(_op("gelu"), (x,), {"approximate": bool(approximate)})


def leaky_relu(features: Any, alpha: float = 0.2, name: str | None = None) -> Tensor:
    """``x`` where positive, ``alpha * x`` elsewhere."""
    x = convert_to_tensor(features)
    if x._dtype not in F:
        raise dtype_error(_op("leaky_relu"), x._dtype, "features")
    return execute(_op("leaky_relu"), (x,), {"alpha": float(alpha)})


def add_n(inputs: Sequence[Any], name: str | None = None) -> Tensor:
    """Adds a list of tensors of the same shape and dtype elementwise.

    Raises:
      ValueError: for an empty list, or tensors of different shapes.
    """
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise ValueError("add_n: inputs must be a non-empty list of tensors")
    ts = [convert_to_tensor(t) for t in inputs]
    shape = ts[0].shape
    for i, t in enumerate(ts[1:], 1):
        if t.shape != shape:
            raise InvalidArgumentError(
                f"add_n: all inputs must have the same shape; input 0 is {shape} and input {i} is {t.shape}"
            )
    total = ts[0]
    for t in ts[1:]:
        total = add(total, t)
    return total


# ------------------------------------------------------------------ reductions
def normalize_axes(axis: Any, ndim: int, op: str) -> tuple | None:
    """Normalises ``axis`` (None, int, list, tensor) to a sorted tuple of non-negative ints."""
    if axis is None:
        return None
    if isinstance(axis, (Tensor, Variable)):
        axis = np.asarray(axis).tolist()
    if isinstance(axis, (np.ndarray, np.generic)):
        axis = axis.tolist()
    axes = [axis] if isinstance(axis, int) else list(axis)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{op}: axis must be ints, got {a!r}")
        if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise InvalidArgumentError(
                f"{op}: Invalid reduction dimension {a} for input with {ndim} dimensions; "
                f"axis must be in [-{ndim}, {ndim})"
            )
        a = int(a) % ndim if ndim else 0
        if a not in out:
            out.append(a)
    return tuple(sorted(out)) if ndim else ()


def _reduce(name: str):
    op = _op(name)

    def fn(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
        x = input_tensor if type(input_tensor) is Tensor else convert_to_tensor(input_tensor)
        if op.dtype_ids is not None and id(x._dtype) not in op.dtype_ids:
            raise dtype_error(op, x._dtype, "input_tensor")
        axes = normalize_axes(axis, x._data.ndim, name)
        return execute(op, (x,), {"axis": axes, "keepdims": bool(keepdims)})

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"""Computes ``{name}`` of elements across dimensions ``axis``, as ``tf.{name}``.

    Args:
      input_tensor: the tensor to reduce.
      axis: None (all dimensions), an int, or a list of ints in [-rank, rank).
      keepdims: keep reduced dimensions with length 1.

    Returns:
      The reduced tensor, of the input's dtype.
    """
    return fn


reduce_sum = _reduce("reduce_sum")
reduce_prod = _reduce("reduce_prod")
reduce_mean = _reduce("reduce_mean")
reduce_max = _reduce("reduce_max")
reduce_min = _reduce("reduce_min")
reduce_any = _reduce("reduce_any")
reduce_all = _reduce("reduce_all")
reduce_logsumexp = _reduce("reduce_logsumexp")


def reduce_variance(
    input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None
) -> Tensor:
    """Population variance of elements across ``axis`` (floating types only)."""
    x = convert_to_tensor(input_tensor)
    if not (x._dtype.is_floating or x._dtype.is_complex):
        raise TypeError(f"reduce_variance: input must be floating point, got {x._dtype.name}")
    mean = reduce_mean(x, axis, keepdims=True)
    return reduce_mean(squared_difference(x, mean), axis, keepdims=keepdims)


def reduce_std(
    input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None
) -> Tensor:
    """Population standard deviation of elements across ``axis`` (floating types only)."""
    return sqrt(reduce_variance(input_tensor, axis, keepdims))


def reduce_euclidean_norm(
    input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None
) -> Tensor:
    return sqrt(reduce_sum(square(input_tensor), axis, keepdims))


def _arg(name: str):
    op = _op(name)

    def fn(input: Any, axis: Any = None, output_type: Any = _dt.int64, name: str | None = None) -> Tensor:
        x = convert_to_tensor(input)
        if op.dtypes is not None and x._dtype not in op.dtypes:
            raise dtype_error(op, x._dtype, "input")
        ndim = x._data.ndim
        if ndim == 0:
            raise InvalidArgumentError(f"{op.name}: input must have rank >= 1, got a scalar")
        a = 0 if axis is None else normalize_axes(int(axis), ndim, op.name)[0]
        if x._data.shape[a] == 0:
            raise InvalidArgumentError(
                f"{op.name}: Reduction axis {a} is empty in shape {tuple(x._data.shape)}"
            )
        out = _dt.as_dtype(output_type)
        if out not in (_dt.int32, _dt.int64, _dt.int16, _dt.uint8):
            raise TypeError(f"{op.name}: output_type must be int32 or int64, got {out.name}")
        return execute(op, (x,), {"axis": a, "output_type": out.np_dtype})

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"Returns the index of the {name[3:]}imum value along ``axis`` (default 0), as ``tf.math.{name}``."
    )
    return fn


argmax = _arg("argmax")
argmin = _arg("argmin")


def _scan(name: str):
    op = _op(name)

    def fn(
        x: Any, axis: int = 0, exclusive: bool = False, reverse: bool = False, name: str | None = None
    ) -> Tensor:
        t = convert_to_tensor(x)
        if op.dtypes is not None and t._dtype not in op.dtypes:
            raise dtype_error(op, t._dtype)
        ndim = t._data.ndim
        if ndim == 0:
            raise InvalidArgumentError(f"{op.name}: input must have rank >= 1, got a scalar")
        a = normalize_axes(int(axis), ndim, op.name)[0]
        return execute(op, (t,), {"axis": a, "exclusive": bool(exclusive), "reverse": bool(reverse)})

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Cumulative {name[3:]} along ``axis``; ``exclusive`` and ``reverse`` as in TF."
    return fn


cumsum = _scan("cumsum")
cumprod = _scan("cumprod")


# ------------------------------------------------------------ operator overloads
def _eq(self: Any, other: Any) -> Any:
    if other is None:
        return False
    try:
        return _equal(self, other)
    except (InvalidArgumentError, TypeError, ValueError):
        return False  # TF: tensors that cannot be compared elementwise are unequal


def _ne(self: Any, other: Any) -> Any:
    if other is None:
        return True
    try:
        return not_equal(self, other)
    except (InvalidArgumentError, TypeError, ValueError):
        return True


def _and(x: Any, y: Any) -> Tensor:
    return bitwise_and(x, y) if _first_dtype(x, y) is not _dt.bool_ else logical_and(x, y)


def _or(x: Any, y: Any) -> Tensor:
    return bitwise_or(x, y) if _first_dtype(x, y) is not _dt.bool_ else logical_or(x, y)


def _xor(x: Any, y: Any) -> Tensor:
    return bitwise_xor(x, y) if _first_dtype(x, y) is not _dt.bool_ else logical_xor(x, y)


def _first_dtype(x: Any, y: Any) -> Any:
    for v in (x, y):
        if isinstance(v, (Tensor, Variable)):
            return v.dtype
    return None


def _invert(x: Any) -> Tensor:
    t = convert_to_tensor(x)
    return logical_not(t) if t._dtype is _dt.bool_ else invert(t)


def _swap(fn):
    reflected = getattr(fn, "reflected", None)
    return reflected if reflected is not None else (lambda self, other: fn(other, self))


_OPERATORS = {
    "__add__": add,
    "__radd__": _swap(add),
    "__sub__": subtract,
    "__rsub__": _swap(subtract),
    "__mul__": multiply,
    "__rmul__": _swap(multiply),
    "__truediv__": truediv,
    "__rtruediv__": _swap(truediv),
    "__floordiv__": floordiv,
    "__rfloordiv__": _swap(floordiv),
    "__mod__": floormod,
    "__rmod__": _swap(floormod),
    "__pow__": pow,
    "__rpow__": _swap(pow),
    "__lt__": less,
    "__le__": less_equal,
    "__gt__": greater,
    "__ge__": greater_equal,
    "__eq__": _eq,
    "__ne__": _ne,
    "__and__": _and,
    "__rand__": _swap(_and),
    "__or__": _or,
    "__ror__": _swap(_or),
    "__xor__": _xor,
    "__rxor__": _swap(_xor),
    "__neg__": negative,
    "__abs__": abs,
    "__invert__": _invert,
    "__pos__": lambda self: self,
}


def install_operators(operators: dict) -> None:
    """Installs Python operators on Tensor, and on Variable through its current value."""
    for dunder, fn in operators.items():
        setattr(Tensor, dunder, fn)
        setattr(Variable, dunder, _on_value(fn))


def _on_value(fn):
    def method(self: Variable, *args: Any) -> Any:
        return fn(self.value(), *args)

    return method


install_operators(_OPERATORS)
