"""GEMM with beta = 1 (``c += alpha * op(a) @ op(b)`` in c's own buffer), which NumPy lacks.

NumPy's ``matmul`` always writes a fresh product; accumulating into an existing buffer (a
variable's update, a convolution's input gradient summed tap by tap) then costs an extra
product-sized array and a pass to add it. This calls CBLAS ``gemm`` in the OpenBLAS NumPy
itself loads (its Linux wheels' scipy-openblas64 library, through ctypes). It must be that
one: a second OpenBLAS in the process (SciPy's) keeps its own thread pool, and two pools
spinning on two cores slowed the MLP step twentyfold when we tried it. Under another BLAS
(MKL, Accelerate) `gemm_function` is None and callers keep their NumPy route.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_gemm: dict | None = None
_ROW_MAJOR, _TRANSPOSE = 101, {False: 111, True: 112}  # CBLAS's enum values


def _numpy_openblas() -> Any:
    """NumPy's own OpenBLAS (the scipy-openblas64 library its Linux wheels load), or None."""
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


def _blas() -> dict:
    """The gemm per dtype, found on first use (empty under another BLAS)."""
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
                    # order, trans_a, trans_b; m, n, k; alpha, a, lda, b, ldb; beta, c, ldc
                    fn.argtypes = (
                        [ctypes.c_int] * 3
                        + [size] * 3
                        + [scalar]
                        + [pointer, size] * 2
                        + [scalar, pointer, size]
                    )
                    _gemm[np.dtype(dtype)] = fn
    return _gemm


def gemm_function(dtype: Any) -> Any:
    """The CBLAS gemm for ``dtype`` (float32, float64), or None."""
    return _blas().get(np.dtype(dtype))


def gemm_accumulate(
    c: np.ndarray, a: np.ndarray, b: np.ndarray, transpose_a: bool, transpose_b: bool, alpha: float
) -> bool:
    """``c += alpha * op(a) @ op(b)`` in c's buffer (CBLAS ``gemm``, row-major, beta = 1);
    False (c untouched) where it cannot: a c that is not a C-contiguous, writeable matrix of
    the dtype, mismatched or empty operands."""
    gemm = gemm_function(c.dtype)
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
