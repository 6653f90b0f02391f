"""Matrix products, norms and decompositions (``gt.linalg``; ``matmul``, ``tensordot``,
``einsum`` and ``norm`` also at the top level, as in TensorFlow).

Matrices are the last two axes of a tensor; leading axes are batch axes. The
primitives below are declared once; everything else (``trace``, ``matvec``,
``norm``, ``tensordot``, ``pinv``, ``lstsq``, ...) composes them with
math ops so gradients and the GPU backend are written once per primitive.

Primitives (inputs; attrs):
- ``matmul`` (a, b; transpose_a, transpose_b): batched, batch axes broadcast.
- ``einsum`` (operands...; equation).
- ``matrix_inverse`` (x; adjoint), ``matrix_determinant`` (x),
  ``log_matrix_determinant`` (x -> sign, log|det|), ``cholesky`` (x),
  ``qr`` (x; full_matrices -> q, r), ``matrix_solve`` (matrix, rhs; adjoint),
  ``svd`` (x; full_matrices -> s, u, v), ``self_adjoint_eig`` (x -> e, v).
- ``matrix_diag`` (diagonal; k, num_rows, num_cols, padding_value),
  ``matrix_diag_part`` (x; k), ``matrix_band_part`` (x; num_lower, num_upper).
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from gputensor.errors import InvalidArgumentError
from gputensor.framework import dtypes as _dt
from gputensor.framework import shape_inference as si
from gputensor.framework.op_table import define, dtype_error, execute
from gputensor.framework.shape_inference import Spec
from gputensor.framework.tensor import Tensor, convert_to_tensor
from gputensor.framework.variable import Variable
from gputensor.ops import array_ops, math_ops
from gputensor.ops.array_ops import eye  # tf.linalg.eye is tf.eye

_PRODUCT_TYPES = _dt.FLOATS | _dt.COMPLEX | {_dt.int32, _dt.int64}
_DECOMP_TYPES = {_dt.float16, _dt.float32, _dt.float64, _dt.complex64, _dt.complex128}


# ------------------------------------------------------- shape and dtype rules
def _infer_matmul(op, specs, attrs):
    a, b = specs
    (ba, m, ka), (bb, kb, n) = si.matrix(a.shape), si.matrix(b.shape)
    if attrs["transpose_a"]:
        m, ka = ka, m
    if attrs["transpose_b"]:
        kb, n = n, kb
    si.merge_dim(ka, kb, "matmul (inner dimensions)")
    batch = None if ba is None or bb is None else si.broadcast(ba, bb)
    return Spec(None if batch is None else batch + (m, n), a.dtype)


def _infer_einsum(op, specs, attrs):
    terms, out = _explicit_equation(attrs["equation"], [s.shape for s in specs])
    if terms is None:
        return Spec(None, specs[0].dtype)
    sizes: dict[str, int | None] = {}
    for term, spec in zip(terms, specs):
        for ch, d in zip(term, spec.shape):
            if ch not in sizes or sizes[ch] == 1:
                sizes[ch] = d
            elif d != 1:  # a 1 broadcasts (ellipsis dims)
                sizes[ch] = si.merge_dim(sizes[ch], d, "einsum")
    return Spec(tuple(sizes[ch] for ch in out), specs[0].dtype)


def _explicit_equation(equation: str, shapes: list) -> tuple[list | None, str]:
    """Input terms and output of ``equation``, ``...`` spelled out (None for unknown ranks)."""
    if any(s is None for s in shapes):
        return None, ""
    lhs, arrow, out = equation.replace(" ", "").partition("->")
    terms = lhs.split(",")
    spare = [ch for ch in string.ascii_uppercase if ch not in equation]
    n_ell = max((len(s) - len(t.replace("...", "")) for t, s in zip(terms, shapes) if "..." in t), default=0)
    ell = "".join(spare[:n_ell])
    full = [
        t.replace("...", ell[n_ell - (len(s) - len(t.replace("...", ""))) :]) for t, s in zip(terms, shapes)
    ]
    if not arrow:
        counts: dict[str, int] = {}
        for ch in "".join(full):
            counts[ch] = counts.get(ch, 0) + 1
        out = ell + "".join(sorted(ch for ch, c in counts.items() if c == 1 and ch not in ell))
    return full, out.replace("...", ell)


def _infer_square(op, specs, attrs):  # inverse, cholesky: the input's shape
    return specs[0]


def _infer_determinant(op, specs, attrs):
    (x,) = specs
    batch, _, _ = si.matrix(x.shape)
    return Spec(batch, x.dtype)


def _infer_log_determinant(op, specs, attrs):
    d = _infer_determinant(op, specs, attrs)
    return d, d


def _infer_qr(op, specs, attrs):
    (x,) = specs
    batch, m, n = si.matrix(x.shape)
    if batch is None:
        return Spec(None, x.dtype), Spec(None, x.dtype)
    k = m if attrs["full_matrices"] else (None if m is None or n is None else min(m, n))
    return Spec(batch + (m, k), x.dtype), Spec(batch + (k, n), x.dtype)


def _infer_solve(op, specs, attrs):
    _, rhs = specs
    return rhs


def _infer_svd(op, specs, attrs):
    (x,) = specs
    batch, m, n = si.matrix(x.shape)
    real = x.dtype.real_dtype
    if batch is None:
        return Spec(None, real), Spec(None, x.dtype), Spec(None, x.dtype)
    k = None if m is None or n is None else min(m, n)
    full = attrs["full_matrices"]
    return (
        Spec(batch + (k,), real),
        Spec(batch + (m, m if full else k), x.dtype),
        Spec(batch + (n, n if full else k), x.dtype),
    )


def _infer_eig(op, specs, attrs):
    (x,) = specs
    batch, n, _ = si.matrix(x.shape)
    return Spec(None if batch is None else batch + (n,), x.dtype.real_dtype), x


def _infer_diag(op, specs, attrs):
    (d,) = specs
    rows_cols = (attrs["num_rows"], attrs["num_cols"])
    return Spec(None if d.shape is None else d.shape[:-1] + rows_cols, d.dtype)


def _infer_diag_part(op, specs, attrs):
    (x,) = specs
    batch, m, n = si.matrix(x.shape)
    if batch is None:
        return Spec(None, x.dtype)
    k = attrs["k"]
    length = None if m is None or n is None else max(0, min(m + min(k, 0), n - max(k, 0)))
    return Spec(batch + (length,), x.dtype)


MATMUL = define("matmul", dtypes=_PRODUCT_TYPES, attrs=("transpose_a", "transpose_b"), infer=_infer_matmul)
_NO_TRANSPOSE = MappingProxyType({"transpose_a": False, "transpose_b": False})  # shared: read-only
EINSUM = define("einsum", attrs=("equation",), infer=_infer_einsum)
MATRIX_INVERSE = define("matrix_inverse", dtypes=_DECOMP_TYPES, attrs=("adjoint",), infer=_infer_square)
MATRIX_DETERMINANT = define("matrix_determinant", dtypes=_DECOMP_TYPES, infer=_infer_determinant)
LOG_MATRIX_DETERMINANT = define(
    "log_matrix_determinant", dtypes=_DECOMP_TYPES, num_outputs=2, infer=_infer_log_determinant
)
CHOLESKY = define("cholesky", dtypes=_DECOMP_TYPES, infer=_infer_square)
QR = define("qr", dtypes=_DECOMP_TYPES, num_outputs=2, attrs=("full_matrices",), infer=_infer_qr)
MATRIX_SOLVE = define("matrix_solve", dtypes=_DECOMP_TYPES, attrs=("adjoint",), infer=_infer_solve)
SVD = define("svd", dtypes=_DECOMP_TYPES, num_outputs=3, attrs=("full_matrices",), infer=_infer_svd)
SELF_ADJOINT_EIG = define("self_adjoint_eig", dtypes=_DECOMP_TYPES, num_outputs=2, infer=_infer_eig)
MATRIX_DIAG = define("matrix_diag", attrs=("k", "num_rows", "num_cols", "padding_value"), infer=_infer_diag)
MATRIX_DIAG_PART = define("matrix_diag_part", attrs=("k",), infer=_infer_diag_part)
MATRIX_BAND_PART = define("matrix_band_part", attrs=("num_lower", "num_upper"), infer=si.same)

# What TensorFlow also has at the top level; gputensor/linalg.py exports the rest.
__all__ = ["matmul", "tensordot", "einsum", "norm"]


# ----------------------------------------------------------------- helpers
def _tensor(x: Any, dtype_hint: Any = None) -> Tensor:
    if isinstance(x, Variable):
        return x.value()
    if type(x) is Tensor:
        return x
    return convert_to_tensor(x, dtype_hint=dtype_hint)


def _pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Converts two operands; a Python operand takes the dtype of a tensor one, as TF."""
    if isinstance(b, (Tensor, Variable)) and not isinstance(a, (Tensor, Variable)):
        b = _tensor(b)
        return _tensor(a, b.dtype), b
    a = _tensor(a)
    return a, _tensor(b, a.dtype)


def _shape(t: Tensor) -> tuple:
    return tuple(t._data.shape)


def _same_dtype(fn: str, a: Tensor, b: Tensor, names: tuple = ("a", "b")) -> None:
    if a.dtype is not b.dtype:
        raise InvalidArgumentError(
            f"{fn}: {names[0]} has dtype {a.dtype.name} and {names[1]} has dtype {b.dtype.name} "
            f"(shapes {_shape(a)} and {_shape(b)}); they must match. Cast one, e.g. "
            f"gt.cast({names[1]}, gt.{a.dtype.name})"
        )


def _check_dtype(op: Any, t: Tensor, what: str) -> None:
    if op.dtypes is not None and t.dtype not in op.dtypes:
        raise dtype_error(op, t.dtype, what)


def _matrix(op: Any, x: Any, what: str = "input", square: bool = False) -> Tensor:
    """Converts ``x`` and checks dtype, rank >= 2 and (optionally) squareness."""
    t = _tensor(x)
    _check_dtype(op, t, what)
    shape = _shape(t)
    if len(shape) < 2:
        raise InvalidArgumentError(
            f"{op.name}: {what} must have rank >= 2 (a matrix or a batch of matrices), got shape {shape}"
        )
    if square and shape[-1] != shape[-2]:
        raise InvalidArgumentError(
            f"{op.name}: {what} must be a square matrix (or a batch of them), got shape {shape}"
        )
    return t


def _int(value: Any, fn: str, what: str) -> int:
    try:
        v = np.asarray(value)
        if v.ndim != 0 or v.dtype.kind not in "iu":
            raise TypeError
        return int(v)
    except TypeError:
        raise TypeError(f"{fn}: {what} must be an integer, got {value!r}") from None


def _conj(t: Tensor) -> Tensor:
    return math_ops.conj(t) if t.dtype.is_complex else t


_LETTERS = string.ascii_letters


# ----------------------------------------------------------------- products
def _inner(shape: tuple, transposed: bool, is_a: bool) -> int:
    """The contracted dimension: a's columns (rows if transposed), b's rows (columns if transposed)."""
    return shape[-2] if transposed == is_a else shape[-1]


def _matmul_hint(sa: tuple, sb: tuple, ta: bool, tb: bool) -> str:
    for fa, fb in ((not ta, tb), (ta, not tb), (not ta, not tb)):
        if _inner(sa, fa, True) == _inner(sb, fb, False):
            flips = [f"transpose_a={fa}"] * (fa != ta) + [f"transpose_b={fb}"] * (fb != tb)
            return f"; did you mean {' and '.join(flips)}?"
    return "; the last dimension of a must equal the second-to-last of b"


def matmul(
    a: Any,
    b: Any,
    transpose_a: bool = False,
    transpose_b: bool = False,
    adjoint_a: bool = False,
    adjoint_b: bool = False,
    a_is_sparse: bool = False,
    b_is_sparse: bool = False,
    output_type: Any = None,
    grad_a: bool = False,
    grad_b: bool = False,
    name: str | None = None,
) -> Tensor:
    """Multiplies matrix ``a`` by matrix ``b``, as ``tf.linalg.matmul`` (also ``a @ b``).

    Inputs of rank > 2 are batches of matrices; their batch dimensions broadcast.

    Args:
      a: a tensor of rank >= 2 (float16, bfloat16, float32, float64, int32, int64,
        complex64 or complex128).
      b: a tensor of the same dtype and rank >= 2.
      transpose_a: use the transpose of ``a``'s last two axes.
      transpose_b: use the transpose of ``b``'s last two axes.
      adjoint_a: use the conjugate transpose of ``a``.
      adjoint_b: use the conjugate transpose of ``b``.
      a_is_sparse: a hint, ignored.
      b_is_sparse: a hint, ignored.
      output_type: None, or the inputs' dtype.
      grad_a: a hint, ignored.
      grad_b: a hint, ignored.
      name: ignored (eager).

    Returns:
      A tensor of shape ``batch + [M, N]`` and the inputs' dtype.

    Raises:
      ValueError: if both ``transpose_x`` and ``adjoint_x`` are set.
      InvalidArgumentError: for ranks below 2, different dtypes, inner dimensions
        that differ or batch dimensions that do not broadcast.

    >>> gt.matmul([[1.0, 2.0]], [[3.0], [4.0]]).numpy()
    array([[11.]], dtype=float32)
    """
    # The layer's case, decided in a few comparisons: two matrices (or a variable's value)
    # of one allowed dtype whose inner dimensions agree, no flags.
    if not (transpose_a or transpose_b or adjoint_a or adjoint_b or output_type is not None):
        if isinstance(b, Variable):  # Keras weights are a Variable subclass
            b = b.value()
        if isinstance(a, Variable):
            a = a.value()
        if (
            type(a) is Tensor
            and type(b) is Tensor
            and a._dtype is b._dtype
            and id(a._dtype) in MATMUL.dtype_ids
        ):
            sa, sb = a._data.shape, b._data.shape
            if len(sa) == 2 and len(sb) == 2 and sa[1] == sb[0]:
                return execute(MATMUL, (a, b), _NO_TRANSPOSE)
    if transpose_a and adjoint_a:
        raise ValueError("matmul: Only one of transpose_a and adjoint_a can be True.")
    if transpose_b and adjoint_b:
        raise ValueError("matmul: Only one of transpose_b and adjoint_b can be True.")
    if type(a) is not Tensor or type(b) is not Tensor:
        a, b = _pair(a, b)
    _same_dtype("matmul", a, b)
    _check_dtype(MATMUL, a, "a")
    if output_type is not None and _dt.as_dtype(output_type) is not a.dtype:
        raise TypeError(
            f"matmul: output_type {_dt.as_dtype(output_type).name} differs from the inputs' dtype "
            f"{a.dtype.name}; leave it None or cast the result"
        )
    sa, sb = _shape(a), _shape(b)
    if len(sa) < 2 or len(sb) < 2:
        raise InvalidArgumentError(
            f"matmul: a and b must have rank >= 2, a is {sa} and b is {sb}; for a matrix times a "
            "vector use gt.linalg.matvec, for vectors gt.tensordot"
        )
    if adjoint_a:
        a, transpose_a = _conj(a), True
    if adjoint_b:
        b, transpose_b = _conj(b), True
    ta, tb = bool(transpose_a), bool(transpose_b)
    if _inner(sa, ta, True) != _inner(sb, tb, False):
        flags = "".join(f" with {n}=True" for n, f in (("transpose_a", ta), ("transpose_b", tb)) if f)
        raise InvalidArgumentError(
            f"matmul: inner dimensions differ, a is {sa} and b is {sb}{flags}{_matmul_hint(sa, sb, ta, tb)}",
            "matmul",
        )
    if len(sa) > 2 and len(sb) > 2 and sa[:-2] != sb[:-2]:
        _broadcast_batch("matmul", sa[:-2], sb[:-2], sa, sb)
    return execute(MATMUL, (a, b), {"transpose_a": ta, "transpose_b": tb})


def _broadcast_batch(fn: str, ba: tuple, bb: tuple, sa: tuple, sb: tuple) -> tuple:
    try:
        return np.broadcast_shapes(ba, bb)
    except ValueError:
        raise InvalidArgumentError(
            f"{fn}: batch dimensions {ba} and {bb} of shapes {sa} and {sb} do not broadcast "
            "(each dimension must be equal, or 1, aligned from the right)",
            fn,
        ) from None


def matvec(
    a: Any,
    b: Any,
    transpose_a: bool = False,
    adjoint_a: bool = False,
    a_is_sparse: bool = False,
    b_is_sparse: bool = False,
    name: str | None = None,
) -> Tensor:
    """Multiplies matrix ``a`` by vector ``b``, as ``tf.linalg.matvec``.

    Args:
      a: a tensor of rank >= 2, shape ``batch + [M, N]``.
      b: a tensor of rank >= 1, shape ``batch + [N]``, of ``a``'s dtype.
      transpose_a: use the transpose of ``a``.
      adjoint_a: use the conjugate transpose of ``a``.
      a_is_sparse: a hint, ignored.
      b_is_sparse: a hint, ignored.
      name: ignored (eager).

    Returns:
      A tensor of shape ``batch + [M]``.

    Raises:
      InvalidArgumentError: for bad ranks, dtypes or dimensions that differ.
    """
    if transpose_a and adjoint_a:
        raise ValueError("matvec: Only one of transpose_a and adjoint_a can be True.")
    a, b = _pair(a, b)
    _same_dtype("matvec", a, b)
    _check_dtype(MATMUL, a, "a")
    sa, sb = _shape(a), _shape(b)
    if len(sa) < 2 or len(sb) < 1:
        raise InvalidArgumentError(f"matvec: a must have rank >= 2 and b rank >= 1, got {sa} and {sb}")
    if adjoint_a:
        a, transpose_a = _conj(a), True
    n = sa[-2] if transpose_a else sa[-1]
    if n != sb[-1]:
        raise InvalidArgumentError(
            f"matvec: a is {sa}{' transposed' if transpose_a else ''} and b is {sb}; "
            f"b's last dimension must be {n}"
        )
    _broadcast_batch("matvec", sa[:-2], sb[:-1], sa, sb)
    term = "...ji" if transpose_a else "...ij"
    return execute(EINSUM, (a, b), {"equation": f"{term},...j->...i"})


def tensordot(a: Any, b: Any, axes: Any, name: str | None = None) -> Tensor:
    """Sums products of ``a`` and ``b`` over the given axes, as ``tf.tensordot``.

    Args:
      a: a tensor.
      b: a tensor of the same dtype.
      axes: an int N (the last N axes of ``a`` with the first N of ``b``), or a pair
        ``[a_axes, b_axes]`` of ints or equal-length lists of ints.
      name: ignored (eager).

    Returns:
      A tensor with the free axes of ``a`` followed by those of ``b``.

    Raises:
      InvalidArgumentError: for contracted axes of different sizes or out of range.
      ValueError: for a malformed ``axes``.

    >>> gt.tensordot([1.0, 2.0], [3.0, 4.0], axes=1).numpy()
    np.float32(11.0)
    """
    a, b = _pair(a, b)
    _same_dtype("tensordot", a, b)
    _check_dtype(MATMUL, a, "a")
    sa, sb = _shape(a), _shape(b)
    a_axes, b_axes = _tensordot_axes(axes, len(sa), len(sb))
    for i, j in zip(a_axes, b_axes):
        if sa[i] != sb[j]:
            raise InvalidArgumentError(
                f"tensordot: axis {i} of a (shape {sa}) has size {sa[i]} but axis {j} of b "
                f"(shape {sb}) has size {sb[j]}; contracted axes must have equal sizes"
            )
    la = _LETTERS[: len(sa)]
    lb = list(_LETTERS[len(sa) : len(sa) + len(sb)])
    for i, j in zip(a_axes, b_axes):
        lb[j] = la[i]
    out = [la[i] for i in range(len(sa)) if i not in a_axes]
    out += [lb[j] for j in range(len(sb)) if j not in b_axes]
    equation = f"{la},{''.join(lb)}->{''.join(out)}"
    return execute(EINSUM, (a, b), {"equation": equation})


def _tensordot_axes(axes: Any, ra: int, rb: int) -> tuple[list[int], list[int]]:
    if isinstance(axes, (Tensor, Variable, np.ndarray)):
        axes = np.asarray(axes).tolist()
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        n = int(axes)
        if n < 0 or n > ra or n > rb:
            raise InvalidArgumentError(
                f"tensordot: axes={n} must be between 0 and the ranks of a ({ra}) and b ({rb})"
            )
        return list(range(ra - n, ra)), list(range(n))
    if not isinstance(axes, (list, tuple)) or len(axes) != 2:
        raise ValueError(f"tensordot: axes must be an int or a pair [a_axes, b_axes], got {axes!r}")
    pair = [[x] if isinstance(x, (int, np.integer)) else list(x) for x in axes]
    if len(pair[0]) != len(pair[1]):
        raise ValueError(f"tensordot: a_axes {pair[0]} and b_axes {pair[1]} must have the same length")
    out = []
    for lst, rank, which in ((pair[0], ra, "a"), (pair[1], rb, "b")):
        norm_axes = []
        for ax in lst:
            ax = _int(ax, "tensordot", "an axis")
            if not -rank <= ax < rank:
                raise InvalidArgumentError(f"tensordot: axis {ax} is out of range for {which} of rank {rank}")
            norm_axes.append(ax % rank)
        out.append(norm_axes)
    return out[0], out[1]


def einsum(equation: str, *inputs: Any, **kwargs: Any) -> Tensor:
    """Tensor contraction over specified indices and outer product, as ``tf.einsum``.

    Args:
      equation: e.g. ``"ij,jk->ik"``; ``...`` stands for broadcast axes and an
        implicit output (no ``->``) lists the labels used once, sorted.
      *inputs: the operands, all of one dtype.
      **kwargs: ``name`` and ``optimize`` are accepted and ignored.

    Returns:
      The contracted tensor.

    Raises:
      InvalidArgumentError: when the number of operands, a term's rank or a
        label's sizes do not match the equation, or dtypes differ.

    >>> gt.einsum("ij,j->i", [[1.0, 2.0]], [3.0, 4.0]).numpy()
    array([11.], dtype=float32)
    """
    unknown = set(kwargs) - {"name", "optimize"}
    if unknown:
        raise TypeError(f"einsum: unexpected keyword arguments {sorted(unknown)}")
    if not isinstance(equation, str):
        raise TypeError(f"einsum: equation must be a string, got {equation!r}")
    ts = [_tensor(x) for x in inputs]
    if not ts:
        raise InvalidArgumentError("einsum: needs at least one input tensor")
    for i, t in enumerate(ts[1:], 1):
        _same_dtype("einsum", ts[0], t, ("input 0", f"input {i}"))
    if ts[0].dtype not in _PRODUCT_TYPES:
        raise InvalidArgumentError(
            f"einsum: inputs have dtype {ts[0].dtype.name}; allowed: float, complex, int32, int64. "
            f"Cast first, e.g. gt.cast(x, gt.float32)"
        )
    eq = equation.replace(" ", "")
    _check_einsum(eq, ts)
    return execute(EINSUM, tuple(ts), {"equation": eq})


def _check_einsum(eq: str, ts: list[Tensor]) -> None:
    lhs = eq.split("->")[0]
    terms = lhs.split(",")
    if eq.count("->") > 1 or len(terms) != len(ts):
        raise InvalidArgumentError(
            f"einsum: equation {eq!r} has {len(terms)} input terms but {len(ts)} inputs were given"
        )
    sizes: dict[str, tuple[int, int]] = {}
    for i, (term, t) in enumerate(zip(terms, ts)):
        shape = _shape(t)
        head, ell, tail = term.partition("...")
        labels = head + tail
        if not all(c in _LETTERS for c in labels) or "." in labels:
            raise InvalidArgumentError(f"einsum: term {term!r} of {eq!r} may hold only letters and one '...'")
        if (not ell and len(labels) != len(shape)) or (ell and len(labels) > len(shape)):
            raise InvalidArgumentError(
                f"einsum: term {term!r} of {eq!r} has {len(labels)} labels but input {i} has shape {shape}"
            )
        dims = list(shape[: len(head)]) + list(shape[len(shape) - len(tail) :])
        for c, d in zip(labels, dims):
            seen = sizes.setdefault(c, (d, i))
            if seen[0] != d:
                raise InvalidArgumentError(
                    f"einsum: label {c!r} has size {seen[0]} in input {seen[1]} and {d} in input {i} "
                    f"(equation {eq!r}, shapes {[_shape(x) for x in ts]})"
                )


# ----------------------------------------------------------------- structure
def matrix_transpose(a: Any, name: str = "matrix_transpose", conjugate: bool = False) -> Tensor:
    """Transposes the last two axes of ``a``, as ``tf.linalg.matrix_transpose``.

    Args:
      a: a tensor of rank >= 2.
      name: ignored (eager).
      conjugate: also conjugate (the adjoint), for complex tensors.

    Returns:
      A tensor of shape ``batch + [N, M]``.

    Raises:
      InvalidArgumentError: for rank below 2.
    """
    t = _tensor(a)
    rank = len(_shape(t))
    if rank < 2:
        raise InvalidArgumentError(f"matrix_transpose: a must have rank >= 2, got shape {_shape(t)}")
    return array_ops.transpose(t, list(range(rank - 2)) + [rank - 1, rank - 2], conjugate=bool(conjugate))


def adjoint(matrix: Any, name: str | None = None) -> Tensor:
    """The conjugate transpose of the last two axes, as ``tf.linalg.adjoint``."""
    return matrix_transpose(matrix, conjugate=True)


def _single_k(k: Any, fn: str) -> int:
    if isinstance(k, (list, tuple, np.ndarray, Tensor)) and np.asarray(k).size == 2:
        lo, hi = (int(v) for v in np.asarray(k).reshape(-1))
        if lo != hi:
            raise InvalidArgumentError(
                f"{fn}: k={list(np.asarray(k).reshape(-1))} asks for a band of diagonals; gputensor "
                f"takes one diagonal per call: use k={lo}, ..., k={hi} and gt.stack"
            )
        return lo
    return _int(k, fn, "k")


def diag(
    diagonal: Any,
    name: str = "diag",
    k: Any = 0,
    num_rows: Any = -1,
    num_cols: Any = -1,
    padding_value: Any = 0,
    align: str = "RIGHT_LEFT",
) -> Tensor:
    """A batch of matrices with ``diagonal`` on diagonal ``k``, as ``tf.linalg.diag``.

    Args:
      diagonal: a tensor of shape ``batch + [n]``.
      name: ignored (eager).
      k: the diagonal: 0 main, positive above, negative below.
      num_rows: rows of the output; -1 infers the smallest that fits.
      num_cols: columns of the output; -1 infers the smallest that fits.
      padding_value: the value off the diagonal.
      align: accepted for TF compatibility (it only matters for bands of diagonals).

    Returns:
      A tensor of shape ``batch + [num_rows, num_cols]``.

    Raises:
      InvalidArgumentError: for a scalar input or sizes that cannot hold the diagonal.
    """
    d = _tensor(diagonal)
    shape = _shape(d)
    if not shape:
        raise InvalidArgumentError("diag: diagonal must have rank >= 1, got a scalar")
    k = _single_k(k, "diag")
    rows, cols = _int(num_rows, "diag", "num_rows"), _int(num_cols, "diag", "num_cols")
    n = shape[-1]
    min_rows, min_cols = n + max(-k, 0), n + max(k, 0)
    if rows == -1 and cols == -1:
        rows = cols = max(min_rows, min_cols)
    elif rows == -1:
        rows = min_rows
    elif cols == -1:
        cols = min_cols
    if rows < min_rows or cols < min_cols or (rows != min_rows and cols != min_cols):
        raise InvalidArgumentError(
            f"diag: a diagonal of length {n} at k={k} needs num_rows={min_rows} or "
            f"num_cols={min_cols} (and at least that many), got num_rows={rows}, num_cols={cols}"
        )
    pad = np.asarray(padding_value, dtype=d.dtype.np_dtype).item()
    attrs = {"k": k, "num_rows": rows, "num_cols": cols, "padding_value": pad}
    return execute(MATRIX_DIAG, (d,), attrs)


def diag_part(
    input: Any, name: str = "diag_part", k: Any = 0, padding_value: Any = 0, align: str = "RIGHT_LEFT"
) -> Tensor:
    """Diagonal ``k`` of each matrix in a batch, as ``tf.linalg.diag_part``.

    Args:
      input: a tensor of rank >= 2.
      name: ignored (eager).
      k: the diagonal: 0 main, positive above, negative below.
      padding_value: accepted for TF compatibility (only bands need padding).
      align: accepted for TF compatibility.

    Returns:
      A tensor of shape ``batch + [length of diagonal k]``.

    Raises:
      InvalidArgumentError: for rank below 2 or a diagonal outside the matrix.
    """
    x = _tensor(input)
    shape = _shape(x)
    if len(shape) < 2:
        raise InvalidArgumentError(f"diag_part: input must have rank >= 2, got shape {shape}")
    k = _single_k(k, "diag_part")
    rows, cols = shape[-2:]
    if (rows or cols) and not -rows < k < cols:
        raise InvalidArgumentError(
            f"diag_part: diagonal k={k} is outside a {rows}x{cols} matrix; k must be in ({-rows}, {cols})"
        )
    return execute(MATRIX_DIAG_PART, (x,), {"k": k})


def trace(x: Any, name: str | None = None) -> Tensor:
    """The sum of the main diagonal of each matrix in a batch, as ``tf.linalg.trace``.

    Args:
      x: a tensor of rank >= 2.
      name: ignored (eager).

    Returns:
      A tensor of shape ``batch``.
    """
    t = _tensor(x)
    if len(_shape(t)) < 2:
        raise InvalidArgumentError(f"trace: x must have rank >= 2, got shape {_shape(t)}")
    return math_ops.reduce_sum(diag_part(t), axis=-1)


def band_part(input: Any, num_lower: Any, num_upper: Any, name: str | None = None) -> Tensor:
    """Zeroes everything outside a band of each matrix, as ``tf.linalg.band_part``.

    Args:
      input: a tensor of rank >= 2.
      num_lower: subdiagonals to keep; negative keeps the whole lower triangle.
      num_upper: superdiagonals to keep; negative keeps the whole upper triangle.
      name: ignored (eager).

    Returns:
      A tensor of the input's shape and dtype.

    Raises:
      InvalidArgumentError: for rank below 2 or bands larger than the matrix.
    """
    x = _tensor(input)
    shape = _shape(x)
    if len(shape) < 2:
        raise InvalidArgumentError(f"band_part: input must have rank >= 2, got shape {shape}")
    lower, upper = _int(num_lower, "band_part", "num_lower"), _int(num_upper, "band_part", "num_upper")
    if lower > shape[-2] or upper > shape[-1]:
        raise InvalidArgumentError(
            f"band_part: num_lower={lower} must be negative or at most the rows ({shape[-2]}) and "
            f"num_upper={upper} at most the columns ({shape[-1]})"
        )
    return execute(MATRIX_BAND_PART, (x,), {"num_lower": lower, "num_upper": upper})


# ----------------------------------------------------------------- decompositions
def inv(input: Any, adjoint: bool = False, name: str | None = None) -> Tensor:
    """The inverse of each square matrix, as ``tf.linalg.inv``.

    Args:
      input: a tensor of shape ``batch + [M, M]`` (float16, float32, float64, complex).
      adjoint: return the adjoint of the inverse.
      name: ignored (eager).

    Returns:
      A tensor of the input's shape and dtype.

    Raises:
      InvalidArgumentError: for non-square input, or a singular matrix.
    """
    x = _matrix(MATRIX_INVERSE, input, square=True)
    return execute(MATRIX_INVERSE, (x,), {"adjoint": bool(adjoint)})


def det(input: Any, name: str | None = None) -> Tensor:
    """The determinant of each square matrix, as ``tf.linalg.det``; shape ``batch``."""
    return execute(MATRIX_DETERMINANT, (_matrix(MATRIX_DETERMINANT, input, square=True),))


def slogdet(input: Any, name: str | None = None) -> tuple[Tensor, Tensor]:
    """Sign and log of the absolute determinant, as ``tf.linalg.slogdet``.

    Args:
      input: a tensor of shape ``batch + [M, M]``.
      name: ignored (eager).

    Returns:
      ``(sign, log_abs_determinant)``, each of shape ``batch`` and the input's dtype.
    """
    x = _matrix(LOG_MATRIX_DETERMINANT, input, square=True)
    return execute(LOG_MATRIX_DETERMINANT, (x,))


def logdet(matrix: Any, name: str | None = None) -> Tensor:
    """Log of the determinant of Hermitian positive definite matrices, as ``tf.linalg.logdet``.

    Computed as twice the sum of the logs of the Cholesky factor's diagonal.
    """
    chol = cholesky(matrix)
    return math_ops.multiply(math_ops.reduce_sum(math_ops.log(math_ops.real(diag_part(chol))), axis=-1), 2.0)


def cholesky(input: Any, name: str | None = None) -> Tensor:
    """The lower Cholesky factor of each Hermitian positive definite matrix.

    As ``tf.linalg.cholesky``.

    Args:
      input: a tensor of shape ``batch + [M, M]``.
      name: ignored (eager).

    Returns:
      The lower triangular ``L`` with ``L L^H = input``.

    Raises:
      InvalidArgumentError: for non-square input or a matrix that is not positive definite.
    """
    return execute(CHOLESKY, (_matrix(CHOLESKY, input, square=True),))


def qr(input: Any, full_matrices: bool = False, name: str | None = None) -> tuple[Tensor, Tensor]:
    """The QR decomposition of each matrix, as ``tf.linalg.qr``.

    Args:
      input: a tensor of shape ``batch + [M, N]``.
      full_matrices: Q of shape ``[M, M]`` and R ``[M, N]``; otherwise with
        ``P = min(M, N)``, Q is ``[M, P]`` and R ``[P, N]``.
      name: ignored (eager).

    Returns:
      ``(q, r)`` with orthonormal columns in q, upper triangular r and ``q @ r = input``.
    """
    x = _matrix(QR, input)
    return execute(QR, (x,), {"full_matrices": bool(full_matrices)})


def solve(matrix: Any, rhs: Any, adjoint: bool = False, name: str | None = None) -> Tensor:
    """Solves ``matrix @ x = rhs`` for ``x``, as ``tf.linalg.solve``.

    Args:
      matrix: a tensor of shape ``batch + [M, M]``.
      rhs: a tensor of shape ``batch + [M, K]`` of the same dtype.
      adjoint: solve with the adjoint of ``matrix`` instead.
      name: ignored (eager).

    Returns:
      ``x`` of shape ``batch + [M, K]``.

    Raises:
      InvalidArgumentError: for shapes that do not fit, or a singular matrix.
    """
    m, r = _pair(matrix, rhs)
    m = _matrix(MATRIX_SOLVE, m, "matrix", square=True)
    r = _matrix(MATRIX_SOLVE, r, "rhs")
    _same_dtype("solve", m, r, ("matrix", "rhs"))
    sm, sr = _shape(m), _shape(r)
    if sr[-2] != sm[-1]:
        raise InvalidArgumentError(
            f"solve: matrix is {sm} and rhs is {sr}; rhs needs {sm[-1]} rows (shape batch + [M, K])"
        )
    _broadcast_batch("solve", sm[:-2], sr[:-2], sm, sr)
    return execute(MATRIX_SOLVE, (m, r), {"adjoint": bool(adjoint)})


def svd(tensor: Any, full_matrices: bool = False, compute_uv: bool = True, name: str | None = None) -> Any:
    """The singular value decomposition of each matrix, as ``tf.linalg.svd``.

    ``tensor = u @ diag(s) @ adjoint(v)``.

    Args:
      tensor: a tensor of shape ``batch + [M, N]``.
      full_matrices: u of shape ``[M, M]`` and v ``[N, N]``; otherwise ``[M, P]``
        and ``[N, P]`` with ``P = min(M, N)``.
      compute_uv: also return u and v.
      name: ignored (eager).

    Returns:
      ``(s, u, v)`` if ``compute_uv``, else ``s``: singular values in decreasing
      order, of shape ``batch + [P]`` (real for complex input).

    >>> s = gt.linalg.svd([[3.0, 0.0], [0.0, -4.0]], compute_uv=False)
    >>> s.numpy()
    array([4., 3.], dtype=float32)
    """
    x = _matrix(SVD, tensor)
    s, u, v = execute(SVD, (x,), {"full_matrices": bool(full_matrices) and bool(compute_uv)})
    return (s, u, v) if compute_uv else s


def eigh(tensor: Any, name: str | None = None) -> tuple[Tensor, Tensor]:
    """Eigenvalues (ascending) and eigenvectors of self-adjoint matrices, as ``tf.linalg.eigh``.

    Only the lower triangle of each matrix is read.

    Returns:
      ``(e, v)``: e of shape ``batch + [M]``, v of shape ``batch + [M, M]`` with
      eigenvectors in its columns.
    """
    return execute(SELF_ADJOINT_EIG, (_matrix(SELF_ADJOINT_EIG, tensor, square=True),))


def eigvalsh(tensor: Any, name: str | None = None) -> Tensor:
    """Eigenvalues (ascending) of self-adjoint matrices, as ``tf.linalg.eigvalsh``."""
    return eigh(tensor)[0]


def triangular_solve(
    matrix: Any, rhs: Any, lower: bool = True, adjoint: bool = False, name: str | None = None
) -> Tensor:
    """Solves ``matrix @ x = rhs`` for triangular matrices, as ``tf.linalg.triangular_solve``.

    Only the lower (``lower=True``) or upper triangle of ``matrix`` is read.

    Args:
      matrix: a tensor of shape ``batch + [M, M]``.
      rhs: a tensor of shape ``batch + [M, K]``.
      lower: whether ``matrix`` is lower (True) or upper (False) triangular.
      adjoint: solve with the adjoint of ``matrix`` instead.
      name: ignored (eager).

    Returns:
      ``x`` of shape ``batch + [M, K]``.
    """
    m = _matrix(MATRIX_SOLVE, _tensor(matrix), "matrix", square=True)
    triangle = band_part(m, -1, 0) if lower else band_part(m, 0, -1)
    return solve(triangle, rhs, adjoint=adjoint)


def cholesky_solve(chol: Any, rhs: Any, name: str | None = None) -> Tensor:
    """Solves ``A x = rhs`` given the Cholesky factor of ``A``, as ``tf.linalg.cholesky_solve``.

    Args:
      chol: the lower triangular factor ``L`` of ``A = L L^H`` (from `cholesky`).
      rhs: a tensor of shape ``batch + [M, K]``.
      name: ignored (eager).

    Returns:
      ``x`` of shape ``batch + [M, K]``.
    """
    y = triangular_solve(chol, rhs, lower=True)
    return triangular_solve(chol, y, lower=True, adjoint=True)


def _default_tolerance(dtype: _dt.DType, shape: tuple, scale: float) -> float:
    return scale * max(shape[-2:]) * float(np.finfo(dtype.real_dtype.np_dtype).eps)


def pinv(a: Any, rcond: Any = None, validate_args: bool = False, name: str | None = None) -> Tensor:
    """The Moore-Penrose pseudo-inverse of each matrix, as ``tf.linalg.pinv``.

    Singular values at most ``rcond * max(s)`` count as zero.

    Args:
      a: a float or complex tensor of shape ``batch + [M, N]``.
      rcond: relative cutoff; default ``10 * max(M, N) * eps``.
      validate_args: ignored.
      name: ignored (eager).

    Returns:
      A tensor of shape ``batch + [N, M]``.
    """
    x = _matrix(SVD, a)
    s, u, v = svd(x)
    cutoff = _default_tolerance(x.dtype, _shape(x), 10.0) if rcond is None else rcond
    keep = math_ops.greater(s, math_ops.multiply(math_ops.reduce_max(s, axis=-1, keepdims=True), cutoff))
    # 1/s where kept, 0 elsewhere; the inner select keeps 1/0 (and its gradient) out.
    s_inv = math_ops.select(keep, math_ops.reciprocal(math_ops.select(keep, s, 1.0)), 0.0)
    if x.dtype.is_complex:
        s_inv = math_ops.cast(s_inv, x.dtype)
    return execute(EINSUM, (v, s_inv, _conj(u)), {"equation": "...ij,...j,...kj->...ik"})


def matrix_rank(a: Any, tol: Any = None, validate_args: bool = False, name: str | None = None) -> Tensor:
    """The number of singular values above ``tol``, as ``tf.linalg.matrix_rank``.

    Args:
      a: a float or complex tensor of shape ``batch + [M, N]``.
      tol: absolute threshold; default ``eps * max(M, N) * max(s)``.
      validate_args: ignored.
      name: ignored (eager).

    Returns:
      An int32 tensor of shape ``batch``.
    """
    x = _matrix(SVD, a)
    s = svd(x, compute_uv=False)
    if tol is None:
        tol = math_ops.multiply(
            math_ops.reduce_max(s, axis=-1, keepdims=True), _default_tolerance(x.dtype, _shape(x), 1.0)
        )
    return math_ops.reduce_sum(math_ops.cast(math_ops.greater(s, tol), _dt.int32), axis=-1)


def lstsq(
    matrix: Any, rhs: Any, l2_regularizer: float = 0.0, fast: bool = True, name: str | None = None
) -> Tensor:
    """Least-squares solutions of ``matrix @ x = rhs``, as ``tf.linalg.lstsq``.

    ``fast=True`` solves the (regularised) normal equations by Cholesky, as TF;
    ``fast=False`` uses the pseudo-inverse (the minimum-norm solution), which also
    handles rank-deficient matrices.

    Args:
      matrix: a tensor of shape ``batch + [M, N]``.
      rhs: a tensor of shape ``batch + [M, K]``.
      l2_regularizer: adds ``l2_regularizer * I`` to the normal equations (fast only).
      fast: choose the algorithm, as above.
      name: ignored (eager).

    Returns:
      ``x`` of shape ``batch + [N, K]``.

    Raises:
      InvalidArgumentError: for mismatched shapes, or ``fast=False`` with a regulariser.
    """
    a, b = _pair(matrix, rhs)
    a = _matrix(MATRIX_SOLVE, a, "matrix")
    b = _matrix(MATRIX_SOLVE, b, "rhs")
    _same_dtype("lstsq", a, b, ("matrix", "rhs"))
    sa, sb = _shape(a), _shape(b)
    if sa[-2] != sb[-2]:
        raise InvalidArgumentError(
            f"lstsq: matrix is {sa} and rhs is {sb}; they need the same number of rows"
        )
    if not fast:
        if l2_regularizer:
            raise InvalidArgumentError("lstsq: l2_regularizer must be 0 with fast=False, as in TensorFlow")
        return matmul(pinv(a), b)
    m, n = sa[-2:]
    gram = matmul(a, a, adjoint_a=True) if m >= n else matmul(a, a, adjoint_b=True)
    if l2_regularizer:
        gram = math_ops.add(gram, math_ops.multiply(eye(min(m, n), dtype=a.dtype), l2_regularizer))
    chol = cholesky(gram)
    if m >= n:
        return cholesky_solve(chol, matmul(a, b, adjoint_a=True))
    return matmul(a, cholesky_solve(chol, b), adjoint_a=True)


def set_diag(
    input: Any, diagonal: Any, name: str = "set_diag", k: Any = 0, align: str = "RIGHT_LEFT"
) -> Tensor:
    """Replaces diagonal ``k`` of each matrix with ``diagonal``, as ``tf.linalg.set_diag``.

    Args:
      input: a tensor of shape ``batch + [M, N]``.
      diagonal: a tensor of shape ``batch + [length of diagonal k]``.
      name: ignored (eager).
      k: the diagonal: 0 main, positive above, negative below.
      align: accepted for TF compatibility.

    Returns:
      A tensor of the input's shape and dtype.
    """
    x, d = _pair(input, diagonal)
    k = _single_k(k, "set_diag")
    old = diag_part(x, k=k)
    if _shape(d) != _shape(old):
        raise InvalidArgumentError(
            f"set_diag: diagonal has shape {_shape(d)} but diagonal k={k} of input {_shape(x)} has "
            f"shape {_shape(old)}"
        )
    rows, cols = _shape(x)[-2:]
    change = math_ops.subtract(d, old)
    return math_ops.add(x, diag(change, k=k, num_rows=rows, num_cols=cols))


def normalize(tensor: Any, ord: Any = "euclidean", axis: Any = None, name: str | None = None) -> tuple:
    """Divides ``tensor`` by its norm, as ``tf.linalg.normalize``.

    Args:
      tensor: a float or complex tensor.
      ord: as in `norm`.
      axis: as in `norm`.
      name: ignored (eager).

    Returns:
      ``(normalized, norm)``, with ``norm`` keeping the reduced axes.
    """
    x = _tensor(tensor)
    n = norm(x, ord=ord, axis=axis, keepdims=True)
    return math_ops.truediv(x, n), n


# ----------------------------------------------------------------- norms
_MATRIX_ORDS = ("euclidean", "fro", 1, 2, np.inf)
_VECTOR_ORDS = ("euclidean", 1, 2, np.inf)


def _is_ord(ord: Any, choices: tuple) -> bool:
    return not isinstance(ord, bool) and any(ord == c for c in choices)


def norm(
    tensor: Any,
    ord: Any = "euclidean",
    axis: Any = None,
    keepdims: bool | None = None,
    name: str | None = None,
) -> Tensor:
    """Vector and matrix norms, as ``tf.norm`` / ``tf.linalg.norm``.

    Args:
      tensor: a float or complex tensor.
      ord: 'euclidean' (default), 'fro', 1, 2, ``np.inf``, or any positive real p
        for vector norms. Matrix norms take 'euclidean'/'fro' (Frobenius), 1 (max
        column sum), 2 (largest singular value) and ``np.inf`` (max row sum).
      axis: None (the whole tensor as a vector), an int (vector norms along it), or
        a pair of ints (matrix norms over those axes: rows, columns).
      keepdims: keep the reduced axes with size 1.
      name: ignored (eager).

    Returns:
      The norms, of the tensor's dtype.

    Raises:
      ValueError: for an unsupported ``ord`` or malformed ``axis``, as TF.

    >>> float(gt.norm([3.0, 4.0]))
    5.0
    """
    is_matrix = isinstance(axis, (tuple, list)) and len(axis) == 2
    if is_matrix:
        if not all(isinstance(a, (int, np.integer)) for a in axis) or axis[0] == axis[1]:
            raise ValueError(
                f"norm: 'axis' must be None, an integer, or a tuple of 2 unique integers, got {axis}"
            )
        if not _is_ord(ord, _MATRIX_ORDS):
            raise ValueError(
                f"norm: 'ord' must be a supported matrix norm in {list(_MATRIX_ORDS)}, got {ord!r}"
            )
    else:
        if not (axis is None or isinstance(axis, (int, np.integer))):
            raise ValueError(
                f"norm: 'axis' must be None, an integer, or a tuple of 2 unique integers, got {axis}"
            )
        real_p = isinstance(ord, (int, float, np.number)) and not isinstance(ord, bool) and ord > 0
        if not (real_p or _is_ord(ord, _VECTOR_ORDS)):
            raise ValueError(
                f"norm: 'ord' must be a supported vector norm ('euclidean', 1, 2, np.inf or a positive "
                f"real number), got {ord!r}"
            )
    x = _tensor(tensor)
    if not (x.dtype.is_floating or x.dtype.is_complex):
        raise InvalidArgumentError(
            f"norm: tensor has dtype {x.dtype.name}; norms need a float or complex tensor. Cast "
            f"first, e.g. gt.cast(x, gt.float32)"
        )
    rank = len(_shape(x))
    axes = None if axis is None else math_ops.normalize_axes(list(axis) if is_matrix else axis, rank, "norm")
    if is_matrix:
        axes = tuple(int(a) % rank for a in axis)  # rows then columns, unsorted
    keep = bool(keepdims)
    if is_matrix and _is_ord(ord, (2,)):
        return _spectral_norm(x, axes, keep)
    if _is_ord(ord, ("euclidean", "fro", 2)):
        sq = math_ops.multiply(x, math_ops.conj(x)) if x.dtype.is_complex else math_ops.square(x)
        return math_ops.sqrt(math_ops.reduce_sum(sq, axes, keepdims=keep))
    mag = math_ops.abs(x)
    if _is_ord(ord, (1,)) and is_matrix:  # the largest column sum
        sums = math_ops.reduce_sum(mag, axes[0], keepdims=True)
        return _drop(math_ops.reduce_max(sums, axes[1], keepdims=True), axes, keep)
    if _is_ord(ord, (np.inf,)) and is_matrix:  # the largest row sum
        sums = math_ops.reduce_sum(mag, axes[1], keepdims=True)
        return _drop(math_ops.reduce_max(sums, axes[0], keepdims=True), axes, keep)
    if _is_ord(ord, (1,)):
        return math_ops.reduce_sum(mag, axes, keepdims=keep)
    if _is_ord(ord, (np.inf,)):
        return math_ops.reduce_max(mag, axes, keepdims=keep)
    p = float(ord)
    total = math_ops.reduce_sum(math_ops.pow(mag, p), axes, keepdims=keep)
    return math_ops.pow(total, 1.0 / p)


def _drop(t: Tensor, axes: tuple, keep: bool) -> Tensor:
    """Removes the size-1 ``axes`` of a keepdims result unless ``keep``."""
    return t if keep else array_ops.squeeze(t, list(axes))


def _spectral_norm(x: Tensor, axes: tuple, keep: bool) -> Tensor:
    rank = len(_shape(x))
    rest = [i for i in range(rank) if i not in axes]
    s = svd(array_ops.transpose(x, rest + list(axes)), compute_uv=False)
    top = math_ops.reduce_max(s, axis=-1)  # shape: the remaining axes in order
    if not keep:
        return top
    return array_ops.reshape(top, [1 if i in axes else d for i, d in enumerate(_shape(x))])


def global_norm(t_list: Sequence[Any], name: str | None = None) -> Tensor:
    """The global norm ``sqrt(sum(||t||^2 for t in t_list))``, as ``tf.linalg.global_norm``.

    Args:
      t_list: a list of tensors (None entries are ignored; IndexedSlices use their values).
      name: ignored (eager).

    Returns:
      A scalar tensor (float32 for an empty list).

    Raises:
      TypeError: if ``t_list`` is not a sequence.
    """
    if not isinstance(t_list, (list, tuple)):
        raise TypeError(f"global_norm: t_list should be a sequence of tensors, got {type(t_list).__name__}")
    ts = [_tensor(getattr(t, "values", t)) for t in t_list if t is not None]
    if not ts:
        return convert_to_tensor(np.float32(0.0))
    total = None
    for t in ts:
        part = math_ops.reduce_sum(math_ops.square(t))
        total = part if total is None else math_ops.add(total, part)
    return math_ops.sqrt(total)


math_ops.install_operators({"__matmul__": matmul, "__rmatmul__": lambda self, other: matmul(other, self)})
