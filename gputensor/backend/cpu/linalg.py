"""CPU kernels of the linalg family: NumPy's batched matmul, einsum and LAPACK routines.

Matrices are the last two axes; leading axes are batch axes. float16/bfloat16
inputs are computed in float32 and rounded back, as TF accumulates half
precision products in float32 (and LAPACK has no half types).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

_F32 = np.dtype(np.float32)


def _is_half(dtype: np.dtype) -> bool:
    return dtype.char in "eE"  # float16, bfloat16 (dtype.name costs microseconds)


def _in_float32(fn: Callable) -> Callable:
    """Runs ``fn`` on float32 copies of half-precision inputs and casts its outputs back."""

    def kernel(*arrays: Any, **attrs: Any) -> Any:
        dtype = arrays[0].dtype
        if not _is_half(dtype):
            return fn(*arrays, **attrs)
        out = fn(*(a.astype(_F32) for a in arrays), **attrs)
        if isinstance(out, tuple):
            return tuple(o.astype(dtype) for o in out)
        return out.astype(dtype)

    kernel.__name__ = fn.__name__
    return kernel


def _dense(x: Any) -> Any:
    """A C-contiguous array (einsum and diagonal may return strided views); keeps rank 0."""
    return np.asarray(x, order="C")


def _t(x: Any) -> Any:
    return x.swapaxes(-1, -2)  # the method: np.swapaxes adds a microsecond of dispatch


def _matmul(a: Any, b: Any, transpose_a: bool, transpose_b: bool) -> Any:
    if transpose_a:
        a = _t(a)
    if transpose_b:
        b = _t(b)
    if a.ndim == 2 and b.ndim == 2:
        return np.dot(a, b)  # the same product for matrices, without matmul's gufunc dispatch
    return np.matmul(a, b)


_half_matmul = _in_float32(_matmul)


def matmul(a: Any, b: Any, transpose_a: bool, transpose_b: bool) -> Any:
    # One frame for the common dtypes: this kernel runs twice per dense layer per step.
    if a.dtype.char in "eE":
        return _half_matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b)
    return _matmul(a, b, transpose_a, transpose_b)


@_in_float32
def einsum(*operands: Any, equation: str) -> Any:
    return _dense(np.einsum(equation, *operands, optimize=len(operands) > 2))


def _linalg(message: str) -> Callable:
    """Turns LAPACK's LinAlgError into TF's message (op_error makes it InvalidArgumentError)."""

    def wrap(fn: Callable) -> Callable:
        def kernel(*arrays: Any, **attrs: Any) -> Any:
            try:
                return fn(*arrays, **attrs)
            except np.linalg.LinAlgError as exc:
                raise ValueError(f"{message} ({exc})") from None

        kernel.__name__ = fn.__name__
        return _in_float32(kernel)

    return wrap


@_linalg("Input is not invertible.")
def matrix_inverse(x: Any, adjoint: bool) -> Any:
    inv = np.linalg.inv(x)
    return _dense(np.conj(_t(inv))) if adjoint else inv


@_in_float32
def matrix_determinant(x: Any) -> Any:
    return np.linalg.det(x)


@_in_float32
def log_matrix_determinant(x: Any) -> tuple:
    sign, logabs = np.linalg.slogdet(x)
    return sign.astype(x.dtype), logabs.astype(x.dtype)  # TF: both of the input's dtype


@_linalg("Cholesky decomposition was not successful. The input might not be valid.")
def cholesky(x: Any) -> Any:
    return np.linalg.cholesky(x)


@_in_float32
def qr(x: Any, full_matrices: bool) -> tuple:
    q, r = np.linalg.qr(x, mode="complete" if full_matrices else "reduced")
    return q, r


@_linalg("Input matrix is not invertible.")
def matrix_solve(matrix: Any, rhs: Any, adjoint: bool) -> Any:
    if adjoint:
        matrix = np.conj(_t(matrix))
    return np.linalg.solve(matrix, rhs)


@_linalg("SVD did not converge.")
def svd(x: Any, full_matrices: bool) -> tuple:
    """(s, u, v) in TF's order, with ``v`` (not its adjoint)."""
    u, s, vh = np.linalg.svd(x, full_matrices=full_matrices)
    return s, u, _dense(np.conj(_t(vh)))


@_linalg("Self-adjoint eigen decomposition was not successful.")
def self_adjoint_eig(x: Any) -> tuple:
    w, v = np.linalg.eigh(x)
    return w, v


def matrix_diag(diagonal: Any, k: int, num_rows: int, num_cols: int, padding_value: Any) -> Any:
    n = diagonal.shape[-1]
    out = np.full(diagonal.shape[:-1] + (num_rows, num_cols), padding_value, dtype=diagonal.dtype)
    i = np.arange(n)
    out[..., i + max(-k, 0), i + max(k, 0)] = diagonal
    return out


def matrix_diag_part(x: Any, k: int) -> Any:
    return _dense(np.diagonal(x, offset=k, axis1=-2, axis2=-1))


def matrix_band_part(x: Any, num_lower: int, num_upper: int) -> Any:
    rows, cols = x.shape[-2:]
    below = np.arange(rows)[:, None] - np.arange(cols)[None, :]  # i - j
    keep = np.ones((rows, cols), dtype=bool)
    if num_lower >= 0:
        keep &= below <= num_lower
    if num_upper >= 0:
        keep &= -below <= num_upper
    return np.where(keep, x, x.dtype.type(0))


KERNELS = {
    "matmul": matmul,
    "einsum": einsum,
    "matrix_inverse": matrix_inverse,
    "matrix_determinant": matrix_determinant,
    "log_matrix_determinant": log_matrix_determinant,
    "cholesky": cholesky,
    "qr": qr,
    "matrix_solve": matrix_solve,
    "svd": svd,
    "self_adjoint_eig": self_adjoint_eig,
    "matrix_diag": matrix_diag,
    "matrix_diag_part": matrix_diag_part,
    "matrix_band_part": matrix_band_part,
}
