"""Linear algebra on the GPU through CuPy's libraries: cuBLAS and cuSOLVER.

No kernel of our own: GEMM is cuBLAS's job and factorisations are cuSOLVER's.
``matmul`` goes to ``backend.xp.matmul`` (transposes are views, which cuBLAS
takes as is; batch dimensions broadcast as in NumPy; the output is allocated
through ``backend.empty`` so an out-of-memory error is retried and reported like
every other op's). ``einsum`` goes to ``xp.einsum`` (cuTENSOR/cuBLAS contractions)
and the factorisations to ``xp.linalg`` (cuSOLVER's batched getrf/potrf/geqrf/
gesvdj/syevj): these are the library calls this backend makes besides ``xp.matmul``.
float16/bfloat16 inputs of the factorisations are computed in float32 and rounded
back, as on the CPU (cuSOLVER has no half types); a singular or non-positive-definite
input raises InvalidArgumentError with TF's message.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.backend.cuda import launch_config
from gputensor.backend.cuda.compile import KernelSource
from gputensor.backend.cuda.families.common import checked_dtype

_DTYPES = ("float16", "bfloat16", "float32", "float64", "complex64", "complex128", "int32", "int64")
_HALF = ("float16", "bfloat16")


_STRUCTURAL = ("matrix_band_part", "matrix_diag_part", "matrix_diag")
_KERNEL_OF = {"matrix_band_part": "band_part", "matrix_diag_part": "diag_part", "matrix_diag": "diag"}
_WORDS = {1: "unsigned char", 2: "unsigned short", 4: "unsigned int", 8: "unsigned long long"}
_LONGS = "long long n, int parts, long long len, long long rows, long long cols"
_PARAMS = {
    "band_part": ("const W* x, W* y, long long n, int parts, long long rows, long long cols, "
                  "long long num_lower, long long num_upper"),
    "diag_part": f"const W* x, W* y, {_LONGS}, long long row0, long long col0",
    "diag": f"const W* d, W* y, const W* pad, {_LONGS}, long long k, long long row0",
}  # fmt: skip


@functools.cache
def structural_source() -> KernelSource:
    """The unit of cuda_kernels/linalg.cuh: each structural op for every word width."""
    code, names = ['#include "linalg.cuh"\n'], []
    for op in _STRUCTURAL:
        kernel = _KERNEL_OF[op]
        params = _PARAMS[kernel]
        args = ", ".join(p.split()[-1] for p in params.split(","))
        for width, word in _WORDS.items():
            name = f"gt_{op}_{width}B"
            code.append(
                f'extern "C" __global__ void {name}({params.replace("W*", f"{word}* __restrict__")}) {{\n'
                f"  gt::{kernel}({args});\n}}\n"
            )
            names.append(name)
    return KernelSource("linalg", "linalg_structural", "".join(code), tuple(names))


def sources(ops: list) -> list[KernelSource]:
    declared = {op.name for op in ops}
    return [structural_source()] if declared & set(_STRUCTURAL) else []


def _words(dtype: Any) -> tuple[np.dtype, int]:
    """The unsigned word a kernel moves elements of ``dtype`` as, and words per element."""
    size = np.dtype(dtype).itemsize
    return (np.dtype(np.uint64), 2) if size == 16 else (np.dtype(f"u{size}"), 1)


def _structural_factory(op: str) -> Callable:
    def factory(backend: Any) -> Callable:
        def run(x: Any, **attrs: Any) -> Any:
            x = backend.device_array(x)
            word, parts = _words(x.dtype)
            if op == "matrix_band_part":
                rows, cols = x.shape[-2:]
                out = backend.empty(x.shape, x.dtype)
                arrays: tuple = (x.view(word), out.view(word))
                ints = (rows, cols, attrs["num_lower"], attrs["num_upper"])
            elif op == "matrix_diag_part":
                (rows, cols), k = x.shape[-2:], attrs["k"]
                length = max(0, min(rows + min(k, 0), cols - max(k, 0)))
                out = backend.empty(x.shape[:-2] + (length,), x.dtype)
                arrays = (x.view(word), out.view(word))
                ints = (length, rows, cols, max(-k, 0), max(k, 0))
            else:
                rows, cols, k = attrs["num_rows"], attrs["num_cols"], attrs["k"]
                out = backend.empty(x.shape[:-1] + (rows, cols), x.dtype)
                pad = np.asarray(attrs["padding_value"], dtype=x.dtype).reshape(1).view(word)
                arrays = (x.view(word), out.view(word), backend.device_array(pad))
                ints = (x.shape[-1], rows, cols, k, max(-k, 0))
            n = out.size * parts
            if n == 0:
                return out
            args = (*arrays, np.int64(n), np.int32(parts), *(np.int64(v) for v in ints))
            backend.launch(structural_source(), f"gt_{op}_{word.itemsize}B", launch_config.linalg(n), args)
            return out

        return run

    return factory


def _matmul_factory(backend: Any) -> Callable:
    xp = backend.xp

    def run(a: Any, b: Any, transpose_a: bool, transpose_b: bool) -> Any:
        a = backend.device_array(a)
        b = backend.device_array(b)
        dtype = checked_dtype(a.dtype, _DTYPES, "matmul")
        if transpose_a:
            a = xp.swapaxes(a, -1, -2)
        if transpose_b:
            b = xp.swapaxes(b, -1, -2)
        batch = np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
        out = backend.empty(batch + (a.shape[-2], b.shape[-1]), a.dtype)
        if xp is np and dtype in _HALF:
            # Only under the CPU emulation harness: NumPy would accumulate float16 in
            # float16, where cuBLAS (GemmEx, float compute) accumulates in float32.
            out[...] = np.matmul(a.astype(np.float32), b.astype(np.float32))
            return out
        xp.matmul(a, b, out=out)
        return out

    return run


def _einsum_factory(backend: Any) -> Callable:
    xp = backend.xp

    def run(*operands: Any, equation: str) -> Any:
        arrays = [backend.device_array(a) for a in operands]
        dtype = np.dtype(arrays[0].dtype)
        if xp is np and dtype.name in _HALF:  # emulation harness only: see matmul
            out = np.einsum(equation, *(a.astype(np.float32) for a in arrays), optimize=len(arrays) > 2)
            return _dense(np, out, dtype)
        out = xp.einsum(equation, *arrays)
        return _dense(xp, out, out.dtype)

    return run


def _dense(xp: Any, x: Any, dtype: Any) -> Any:
    """A C-contiguous device array of ``dtype`` (results may be strided views or 0-d scalars)."""
    a = xp.asarray(x, dtype=dtype)
    return a if a.flags.c_contiguous else xp.ascontiguousarray(a)


def _t(xp: Any, x: Any) -> Any:
    return xp.swapaxes(x, -1, -2)


def _adjoint(xp: Any, x: Any) -> Any:
    return xp.ascontiguousarray(xp.conj(_t(xp, x)))


def _svd(xp: Any, x: Any, full_matrices: bool) -> tuple:
    u, s, vh = xp.linalg.svd(x, full_matrices=full_matrices)
    return s, u, _adjoint(xp, vh)  # TF's order, and v rather than its adjoint


def _slogdet(xp: Any, x: Any) -> tuple:
    sign, logabs = xp.linalg.slogdet(x)
    return sign.astype(x.dtype), logabs.astype(x.dtype)  # TF: both of the input's dtype


# op -> (computation on xp arrays, TF's message when the factorisation fails)
_FACTORISATIONS: dict[str, tuple[Callable, str | None]] = {
    "matrix_inverse": (
        lambda xp, x, adjoint: _adjoint(xp, xp.linalg.inv(x)) if adjoint else xp.linalg.inv(x),
        "Input is not invertible.",
    ),
    "matrix_determinant": (lambda xp, x: xp.linalg.det(x), None),
    "log_matrix_determinant": (_slogdet, None),
    "cholesky": (
        lambda xp, x: xp.linalg.cholesky(x),
        "Cholesky decomposition was not successful. The input might not be valid.",
    ),
    "qr": (
        lambda xp, x, full_matrices: xp.linalg.qr(x, mode="complete" if full_matrices else "reduced"),
        None,
    ),
    "matrix_solve": (
        lambda xp, m, rhs, adjoint: _solve(xp, _adjoint(xp, m) if adjoint else m, rhs),
        "Input matrix is not invertible.",
    ),
    "svd": (_svd, "SVD did not converge."),
    "self_adjoint_eig": (
        lambda xp, x: xp.linalg.eigh(x),
        "Self-adjoint eigen decomposition was not successful.",
    ),
}


def _solve(xp: Any, m: Any, rhs: Any) -> Any:
    """Batched solve with broadcast batch dimensions (cupy.linalg.solve wants them equal)."""
    batch = np.broadcast_shapes(m.shape[:-2], rhs.shape[:-2])
    if m.shape[:-2] != batch:
        m = xp.ascontiguousarray(xp.broadcast_to(m, batch + m.shape[-2:]))
    if rhs.shape[:-2] != batch:
        rhs = xp.ascontiguousarray(xp.broadcast_to(rhs, batch + rhs.shape[-2:]))
    return xp.linalg.solve(m, rhs)


_FACTOR_DTYPES = ("float16", "float32", "float64", "complex64", "complex128")


def _raising(xp: Any) -> Any:
    """A context in which a failed factorisation raises LinAlgError (CuPy only checks when asked)."""
    if xp is np:
        return contextlib.nullcontext()
    import cupyx

    return cupyx.errstate(linalg="raise")


def _factorisation_factory(op: str) -> Callable:
    fn, message = _FACTORISATIONS[op]

    def factory(backend: Any) -> Callable:
        xp = backend.xp

        def run(*arrays: Any, **attrs: Any) -> Any:
            arrays = tuple(backend.device_array(a) for a in arrays)
            dtype = np.dtype(arrays[0].dtype)
            checked_dtype(dtype, _FACTOR_DTYPES, op)
            if dtype.name in _HALF:
                arrays = tuple(a.astype(np.float32) for a in arrays)
            try:
                with _raising(xp):
                    out = fn(xp, *arrays, **attrs)
            except np.linalg.LinAlgError as exc:
                if message is None:
                    raise
                raise ValueError(f"{message} ({exc})") from None
            outs = tuple(out) if isinstance(out, tuple) else (out,)
            outs = tuple(_dense(xp, o, dtype if dtype.name in _HALF else o.dtype) for o in outs)
            return outs if isinstance(out, tuple) else outs[0]

        return run

    return factory


KERNELS: dict[str, Callable] = {
    "matmul": _matmul_factory,
    "einsum": _einsum_factory,
    **{op: _factorisation_factory(op) for op in _FACTORISATIONS},
    **{op: _structural_factory(op) for op in _STRUCTURAL},
}
