"""CPU kernels for the lowering rules of graph/lowering.py (each does the work of several nodes).

- conv columns: `nn.conv2d_keeping_columns` returns the im2col matrix with the convolution,
  `nn.filter_gradient_from_columns` takes it, so the filter gradient copies no receptive field.
- accumulating GEMM: ``c += alpha * op(a) @ op(b)`` in c's own buffer through BLAS's
  ``gemm`` with beta = 1, called in the OpenBLAS NumPy itself loads (`_numpy_openblas`; NumPy
  has no gemm with beta, and where its BLAS is another the rule does not apply).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.backend.cpu import nn

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_gemm: dict | None = None
_ROW_MAJOR, _TRANSPOSE = 101, {False: 111, True: 112}  # CBLAS's enum values


def conv_columns_apply(dtype: Any) -> bool:
    """Whether convolutions of ``dtype`` share columns (the kernels compute in their own dtype)."""
    return np.dtype(dtype) in _FLOATS


def conv2d_keeping_columns(attrs: dict, bias: bool) -> Callable:
    """``(x, filters[, bias]) -> (y, columns)`` for a conv2d node's attrs."""
    strides, padding, dilations = attrs["strides"], attrs["padding"], attrs["dilations"]
    if bias:
        return lambda x, filters, b: nn.conv2d_keeping_columns(x, filters, strides, padding, dilations, b)
    return lambda x, filters: nn.conv2d_keeping_columns(x, filters, strides, padding, dilations)


def filter_gradient_from_columns(filter_sizes: tuple, ones: bool, bias_gradient: bool) -> Callable:
    """``(x, dy, columns) -> filter gradient`` (and the bias gradient with ``bias_gradient``);
    ``ones``: the columns carry a ones column. x is the traced node's input; the columns hold it."""
    sizes = tuple(filter_sizes)
    if ones and not bias_gradient:
        return lambda x, dy, cols: nn.filter_gradient_from_columns(cols, dy, sizes)[0]
    return lambda x, dy, cols: nn.filter_gradient_from_columns(cols, dy, sizes)


def _numpy_openblas() -> Any:
    """NumPy's own OpenBLAS (the scipy-openblas64 library its Linux wheels load), or None.

    The GEMM must come from the BLAS NumPy already runs: a second OpenBLAS in the process
    (SciPy's) keeps its own thread pool, and two pools spinning on two cores slowed the MLP
    step twentyfold when we tried it. Other builds (MKL, Accelerate) leave the rule off.
    """
    import ctypes
    import glob
    import os

    config = getattr(np, "__config__", None)
    blas = getattr(config, "CONFIG", {}).get("Build Dependencies", {}).get("blas", {})
    if blas.get("name") != "scipy-openblas" or "USE64BITINT" not in blas.get("openblas configuration", ""):
        return None
    libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for path in sorted(glob.glob(os.path.join(libs, "libscipy_openblas64_*.so"))):
        try:
            return ctypes.CDLL(path)  # already loaded by NumPy: the same instance
        except OSError:
            continue
    return None


def _blas() -> dict | None:
    global _gemm
    if _gemm is None:
        import ctypes

        _gemm = {}
        lib = _numpy_openblas()
        if lib is not None:
            size, pointer = ctypes.c_int64, ctypes.c_void_p
            for dtype, symbol, scalar in (
                (np.float32, "scipy_cblas_sgemm64_", ctypes.c_float),
                (np.float64, "scipy_cblas_dgemm64_", ctypes.c_double),
            ):
                fn = getattr(lib, symbol, None)
                if fn is not None:
                    fn.restype = None
                    fn.argtypes = [ctypes.c_int] * 3 + [size] * 3 + [scalar, pointer, size, pointer, size]
                    fn.argtypes += [scalar, pointer, size]
                    _gemm[np.dtype(dtype)] = fn
    return _gemm or None


def accumulate_applies(*dtypes: Any) -> bool:
    """Whether BLAS accumulates products of these (variable, a, b[, scale]) dtypes: one float dtype."""
    known = [np.dtype(d) for d in dtypes if d is not None]
    return _blas() is not None and known[0] in _FLOATS and all(d == known[0] for d in known)


def gemm_accumulate(
    c: np.ndarray, a: np.ndarray, b: np.ndarray, transpose_a: bool, transpose_b: bool, alpha: float
) -> bool:
    """``c += alpha * op(a) @ op(b)`` in c's buffer (CBLAS ``gemm``, row-major, beta = 1);
    False (c untouched) where it cannot: a c that is not a C-contiguous, writeable matrix of
    the dtype, mismatched or empty operands."""
    gemm = (_blas() or {}).get(c.dtype)
    if (
        gemm is None
        or c.ndim != 2
        or a.ndim != 2
        or b.ndim != 2
        or 0 in a.shape
        or 0 in b.shape
        or not (c.flags.c_contiguous and c.flags.writeable)
        or a.dtype != c.dtype
        or b.dtype != c.dtype
    ):
        return False
    rows, inner = (a.shape[1], a.shape[0]) if transpose_a else a.shape
    columns = b.shape[0] if transpose_b else b.shape[1]
    if c.shape != (rows, columns) or inner != (b.shape[1] if transpose_b else b.shape[0]):
        return False
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    gemm(
        _ROW_MAJOR, _TRANSPOSE[transpose_a], _TRANSPOSE[transpose_b], rows, columns, inner,
        alpha, a.ctypes.data, a.shape[1], b.ctypes.data, b.shape[1], 1.0, c.ctypes.data, columns,
    )  # fmt: skip
    return True
