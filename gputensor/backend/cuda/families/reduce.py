"""Reductions, arg-reductions and scans on the GPU (cuda_kernels/reduce.cuh).

Any set of reduced axes becomes one C-contiguous ``(outer, R, inner)`` problem on
the host: dimensions of length 1 are dropped, neighbouring dimensions that are
both reduced or both kept are merged, and if the reduced dimensions still do not
form one block, a permutation kernel gathers a copy with the kept dimensions
first and the reduced ones last (``(outer, R, 1)``). One kernel then computes
every output; ``launch_config.reduction_layout`` picks a block per row, a warp per
row, or 32-column tiles (see cuda_kernels/gt_reduce.cuh). A few long rows (a full
reduction is a single row) go in two stages so the whole GPU works on them: a block
per row segment stores its partial accumulator, a second launch combines each row's
partials (``launch_config.reduction_segments``); a few long columns are transposed
into rows first. Scans run a block per row or a thread per column; few long columns
are transposed (``launch_config.scan_transposes``) and few long rows split the same
way (stage 1: segment totals; stage 2: a block per segment, starting from the totals
before it). Only logsumexp (two passes over each row) keeps a block per row.

Accumulators: float16/bfloat16 and float32 sum in float, as TF's GPU kernels
(float32 in double would halve the speed of GPUs with slow FP64 for an accuracy
the tree reduction mostly gives anyway: its error grows with log2(n), not n);
float64 in double; integers in unsigned 64-bit arithmetic, whose wrap-around gives
the same bits as NumPy's arithmetic in the narrow type (and the CPU backend's
results). Integer means divide the signed total, truncating toward zero, as TF.
complex64/complex128 (sum, prod, mean, cumsum, cumprod) accumulate in their own
precision as (re, im) pairs.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.backend.cuda import launch_config
from gputensor.backend.cuda.compile import KernelSource
from gputensor.backend.cuda.ctypes_map import c_type
from gputensor.backend.cuda.families.common import checked_dtype

_FLOATS = ("float16", "bfloat16", "float32", "float64")
_INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
_REAL = _FLOATS + _INTS
# Complex buffers go to the kernels as arrays of their real type (two per element) and
# are read as gt::Complex<real> inside, so no complex type crosses the launch interface.
_COMPLEX = {
    "complex64": ("gt::Complex<float>", np.float32),
    "complex128": ("gt::Complex<double>", np.float64),
}
_COMPLEX_VIEW = {np.dtype(name): real for name, (_, real) in _COMPLEX.items()}
_NUMERIC = _REAL + tuple(_COMPLEX)
# argmax/argmin output types the public functions accept.
_INDEX_TYPES = ("int16", "int32", "int64", "uint8")

# op name -> (dtypes with a kernel, C++ program type for input type T)
_REDUCTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "reduce_sum": (_NUMERIC, "gt::Reduce<gt::SumR<T> >"),
    "reduce_prod": (_NUMERIC, "gt::Reduce<gt::ProdR<T> >"),
    "reduce_mean": (_NUMERIC, "gt::Reduce<gt::MeanR<T> >"),
    "reduce_max": (_REAL, "gt::Reduce<gt::ExtremumR<T, true> >"),
    "reduce_min": (_REAL, "gt::Reduce<gt::ExtremumR<T, false> >"),
    "reduce_any": (("bool",), "gt::Reduce<gt::LogicalR<true> >"),
    "reduce_all": (("bool",), "gt::Reduce<gt::LogicalR<false> >"),
    "reduce_logsumexp": (_FLOATS, "gt::LogSumExp<T>"),
}
_ARG = {"argmax": "true", "argmin": "false"}
_SCANS = {"cumsum": "gt::SumR<T>", "cumprod": "gt::ProdR<T>"}
_LAYOUTS = ("block", "warp", "cols")
_WORDS = {1: "unsigned char", 2: "unsigned short", 4: "unsigned int", 8: "unsigned long long"}


def _base(op: str, dtype: str, out: str | None = None) -> str:
    """Kernel names are ``<base>_<layout>``, e.g. gt_reduce_sum_float32_block, gt_argmax_int8_to_int64_cols."""
    return f"gt_{op}_{dtype}" if out is None else f"gt_{op}_{dtype}_to_{out}"


def _element_type(dtype: str) -> str:
    return _COMPLEX[dtype][0] if dtype in _COMPLEX else c_type(dtype)


def _pointer_type(dtype: str) -> str:
    """The element type of a kernel's pointer parameter (the real type for complex)."""
    return c_type(np.dtype(_COMPLEX[dtype][1]).name) if dtype in _COMPLEX else c_type(dtype)


def _kernel_view(a: Any) -> Any:
    """``a`` as the kernels' pointer type sees it: complex arrays as their real parts' type."""
    # reshape(-1) first: NumPy cannot change the item size of a 0-d array's view.
    real = _COMPLEX_VIEW.get(a.dtype)
    return a if real is None else a.reshape(-1).view(real)


# Pointers as the kernels use them: the element types of the program (T in, O out).
_CASTS = "const T* xs = reinterpret_cast<const T*>(x); O* ys = reinterpret_cast<O*>(y);"


def _program_init(program: str) -> str:
    # Reduce<F> holds the functor as its last member; the other programs have none.
    return "{xs, ys, R, F()}" if program.startswith("gt::Reduce<") else "{xs, ys, R}"


def _layouts(program: str) -> tuple[str, ...]:
    splits = program.startswith("gt::Reduce<")  # logsumexp reads its rows twice: no split
    return _LAYOUTS + (("segments", "partials") if splits else ())


def _reduce_wrappers(name: str, dtype: str, out: str, program: str) -> str:
    functor = program[len("gt::Reduce<") : -2] if program.startswith("gt::Reduce<") else ""
    c_in, c_out = _pointer_type(dtype), _pointer_type(out)
    typedefs = (
        f"typedef {_element_type(dtype)} T; typedef {_element_type(out)} O; typedef {program} P;"
        + (f" typedef {functor} F;" if functor else "")
        + f"\n  {_CASTS}"
    )
    calls = {
        "block": "gt::rows_block(p, outer);",
        "warp": "gt::rows_warp(p, outer);",
        "cols": "gt::cols(p, outer, inner);",
    }
    code = []
    if functor:  # two-stage kernels for few long rows (reduce.cuh: reduce_segments)
        code.append(
            f'extern "C" __global__ void {name}_segments(const {c_in}* __restrict__ x, '
            "unsigned char* __restrict__ partial, long long outer, long long R, long long seg, long long S) {\n"
            f"  {typedefs.replace(_CASTS, 'const T* xs = reinterpret_cast<const T*>(x);')}\n"
            "  gt::reduce_segments<F>(xs, partial, outer, R, seg, S);\n}\n"
            f'extern "C" __global__ void {name}_partials(const unsigned char* __restrict__ partial, '
            f"{c_out}* __restrict__ y, long long outer, long long S, long long R) {{\n"
            f"  {typedefs.replace(_CASTS, 'O* ys = reinterpret_cast<O*>(y);')}\n"
            "  gt::reduce_partials<F>(partial, ys, outer, S, R);\n}\n"
        )
    for layout in _LAYOUTS:
        code.append(
            f'extern "C" __global__ void {name}_{layout}(const {c_in}* __restrict__ x, '
            f"{c_out}* __restrict__ y, long long outer, long long R, long long inner) {{\n"
            f"  {typedefs}\n  const P p = {_program_init(program)};\n  {calls[layout]}\n}}\n"
        )
    return "".join(code)


@functools.cache
def source_for(op: str) -> KernelSource:
    """The unit holding every dtype/layout kernel of reduction, arg-reduction or scan ``op``."""
    code, names = ['#include "reduce.cuh"\n'], []
    if op in _REDUCTIONS:
        dtypes, program = _REDUCTIONS[op]
        for dt in dtypes:
            base = _base(op, dt)
            code.append(_reduce_wrappers(base, dt, dt, program.replace("<T>", f"<{_element_type(dt)}>")))
            names += [f"{base}_{lay}" for lay in _layouts(program)]
    elif op in _ARG:
        for dt in _REAL:
            for out in _INDEX_TYPES:
                base = _base(op, dt, out)
                program = f"gt::Reduce<gt::ArgR<{c_type(dt)}, {c_type(out)}, {_ARG[op]}> >"
                code.append(_reduce_wrappers(base, dt, out, program))
                names += [f"{base}_{lay}" for lay in _layouts(program)]
    elif op in _SCANS:
        for dt in _NUMERIC:
            functor = _SCANS[op].replace("<T>", f"<{_element_type(dt)}>")
            t = _pointer_type(dt)
            head = (
                f"(const {t}* __restrict__ x, {t}* __restrict__ y, long long outer, long long R, "
                "long long inner, bool exclusive, bool reverse) {\n"
                f"  typedef {_element_type(dt)} T; typedef T O; {_CASTS}\n"
            )
            split = (
                "long long outer, long long R, long long seg, long long S, bool exclusive, bool reverse) {\n"
                f"  typedef {_element_type(dt)} T; typedef T O; typedef {functor} F;\n"
                "  const T* xs = reinterpret_cast<const T*>(x);\n"
            )
            code.append(
                f'extern "C" __global__ void {_base(op, dt)}_rows{head}'
                f"  gt::scan_rows(xs, ys, outer, R, exclusive, reverse, {functor}());\n}}\n"
                f'extern "C" __global__ void {_base(op, dt)}_cols{head}'
                f"  gt::scan_cols(xs, ys, outer, R, inner, exclusive, reverse, {functor}());\n}}\n"
                f'extern "C" __global__ void {_base(op, dt)}_totals(const {t}* __restrict__ x, '
                f"unsigned char* __restrict__ partial, {split}"
                "  gt::reduce_segments<F>(xs, partial, outer, R, seg, S, reverse);\n}\n"
                f'extern "C" __global__ void {_base(op, dt)}_segments(const {t}* __restrict__ x, '
                f"{t}* __restrict__ y, const unsigned char* __restrict__ partial, {split}"
                "  gt::scan_segments<F>(xs, reinterpret_cast<O*>(y), partial, outer, R, seg, S, exclusive, reverse);\n}\n"
            )
            names += [f"{_base(op, dt)}_{lay}" for lay in ("rows", "cols", "totals", "segments")]
    elif op == "permute":
        for width, word in _WORDS.items():
            name = f"gt_permute_{width}B"
            code.append(
                f'extern "C" __global__ void {name}(const {word}* __restrict__ x, {word}* __restrict__ y, '
                f"const long long* __restrict__ meta, int ndim, long long n) {{\n"
                f"  gt::permute(x, y, meta, ndim, n);\n}}\n"
            )
            names.append(name)
    else:
        raise KeyError(op)
    key = op if op.startswith("reduce_") else f"reduce_{op}"
    return KernelSource("reduce", key, "".join(code), tuple(names))


_OPS = (*_REDUCTIONS, *_ARG, *_SCANS)


def sources(ops: list) -> list[KernelSource]:
    declared = {op.name for op in ops}
    units = [source_for(name) for name in _OPS if name in declared]
    return units + [source_for("permute")] if units else units


# ------------------------------------------------------------------- planning
@functools.lru_cache(maxsize=4096)  # a training step reduces the same few shapes every step
def plan(shape: tuple, axes: tuple) -> tuple[tuple | None, int, int, int]:
    """How to reduce axes ``axes`` of a C-contiguous array of shape ``shape``.

    Returns:
      ``(permutation, outer, R, inner)``: ``permutation`` is None when the input
      can be read as ``(outer, R, inner)`` directly, else ``(sizes, strides)`` of a
      gather (output dims: kept ones, then reduced ones; strides in elements of the
      input) after which it reads as ``(outer, R, 1)``.
    """
    kept_size = math.prod(d for i, d in enumerate(shape) if i not in axes)
    if 0 in shape:  # nothing to read: every output is the empty reduction
        return None, kept_size, 0, 1
    groups: list[list] = []  # [size, reduced] of runs of non-unit dims
    for i, d in enumerate(shape):
        if d == 1:
            continue
        red = i in axes
        if groups and groups[-1][1] == red:
            groups[-1][0] *= d
        else:
            groups.append([d, red])
    reduced = [k for k, (_, red) in enumerate(groups) if red]
    if not reduced:
        return None, kept_size, 1, 1
    if len(reduced) == 1:
        k = reduced[0]
        outer = math.prod(g[0] for g in groups[:k])
        r = groups[k][0]
        inner = math.prod(g[0] for g in groups[k + 1 :])
        if not launch_config.reduction_transposes(outer, r, inner):
            return None, outer, r, inner
    strides, acc = [0] * len(groups), 1
    for k in range(len(groups) - 1, -1, -1):
        strides[k] = acc
        acc *= groups[k][0]
    order = [k for k, (_, red) in enumerate(groups) if not red] + reduced
    sizes = tuple(groups[k][0] for k in order)
    r = math.prod(groups[k][0] for k in reduced)
    return (sizes, tuple(strides[k] for k in order)), acc // r, r, 1


def _permuted(backend: Any, x: Any, perm: tuple) -> Any:
    sizes, strides = perm
    width = np.dtype(x.dtype).itemsize
    if width == 16:  # complex128: two 8-byte words, the second one dimension further in
        out = _permuted(backend, x.view(np.uint64), (sizes + (2,), tuple(2 * s for s in strides) + (1,)))
        return out.view(x.dtype).reshape(sizes)
    # The gather moves raw words, so one kernel per width serves every dtype; views
    # (no copies) give the kernel the unsigned type it is declared with.
    word = np.dtype(f"u{width}")
    out = backend.empty(sizes, word)
    meta = backend.constant_array(np.asarray(sizes + strides, dtype=np.int64))
    backend.launch(
        source_for("permute"),
        f"gt_permute_{width}B",
        launch_config.elementwise(out.size),
        (x.view(word), out, meta, np.int32(len(sizes)), np.int64(out.size)),
    )
    return out.view(x.dtype)


def _extents(outer: int, r: int, inner: int) -> tuple:
    return np.int64(outer), np.int64(r), np.int64(inner)


def _reduced_shape(shape: tuple, axes: tuple, keepdims: bool) -> tuple:
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _run_reduction(
    backend: Any, op: str, kernel_base: str, x: Any, axes: tuple, out_shape: tuple, out_dtype: Any
) -> Any:
    out = backend.empty(out_shape, out_dtype)
    if out.size == 0:
        return out
    perm, outer, r, inner = plan(tuple(x.shape), axes)
    if perm is not None:
        x = _permuted(backend, x, perm)
    segments = launch_config.reduction_segments(outer, r, inner) if op != "reduce_logsumexp" else 1
    if segments > 1:
        seg = -(-r // segments)
        segments = -(-r // seg)
        partial = backend.empty((outer * segments * launch_config.PARTIAL_BYTES,), np.uint8)
        backend.launch(
            source_for(op),
            f"{kernel_base}_segments",
            launch_config.reduction("segments", outer * segments, seg, 1),
            (_kernel_view(x), partial, np.int64(outer), np.int64(r), np.int64(seg), np.int64(segments)),
        )
        backend.launch(
            source_for(op),
            f"{kernel_base}_partials",
            launch_config.reduction("block", outer, segments, 1),
            (partial, _kernel_view(out), np.int64(outer), np.int64(segments), np.int64(r)),
        )
        return out
    layout = launch_config.reduction_layout(r, inner)
    backend.launch(
        source_for(op),
        f"{kernel_base}_{layout}",
        launch_config.reduction(layout, outer, r, inner),
        (_kernel_view(x), _kernel_view(out), *_extents(outer, r, inner)),
    )
    return out


# ------------------------------------------------------------------------ glue
def _reduction_factory(op: str) -> Callable:
    allowed = _REDUCTIONS[op][0]

    def factory(backend: Any) -> Callable:
        def run(x: Any, axis: tuple | None, keepdims: bool) -> Any:
            x = backend.device_array(x)
            dtype = checked_dtype(x.dtype, allowed, op)
            axes = tuple(range(x.ndim)) if axis is None else tuple(axis)
            out_shape = _reduced_shape(tuple(x.shape), axes, keepdims)
            return _run_reduction(backend, op, _base(op, dtype), x, axes, out_shape, x.dtype)

        return run

    return factory


def _arg_factory(op: str) -> Callable:
    def factory(backend: Any) -> Callable:
        def run(x: Any, axis: int, output_type: Any) -> Any:
            x = backend.device_array(x)
            dtype = checked_dtype(x.dtype, _REAL, op)
            out = checked_dtype(output_type, _INDEX_TYPES, op)
            if x.shape[axis] == 0:
                raise ValueError(f"Reduction axis {axis} is empty in shape {tuple(x.shape)}")
            out_shape = _reduced_shape(tuple(x.shape), (axis,), False)
            return _run_reduction(
                backend, op, _base(op, dtype, out), x, (axis,), out_shape, np.dtype(output_type)
            )

        return run

    return factory


def _flags(exclusive: bool, reverse: bool) -> tuple:
    return np.bool_(exclusive), np.bool_(reverse)


def _scan_rows(
    backend: Any, op: str, base: str, x: Any, outer: int, r: int, exclusive: bool, reverse: bool
) -> Any:
    """Scans the rows of C-contiguous ``x`` (outer rows of r), in two stages if they are few and long."""
    out = backend.empty(x.shape, x.dtype)
    segments = launch_config.reduction_segments(outer, r, 1)
    if segments == 1:
        backend.launch(
            source_for(op),
            f"{base}_rows",
            launch_config.reduction("block", outer, r, 1),
            (_kernel_view(x), _kernel_view(out), *_extents(outer, r, 1), *_flags(exclusive, reverse)),
        )
        return out
    seg = -(-r // segments)
    segments = -(-r // seg)
    partial = backend.empty((outer * segments * launch_config.PARTIAL_BYTES,), np.uint8)
    extents = (np.int64(outer), np.int64(r), np.int64(seg), np.int64(segments))
    config = launch_config.reduction("segments", outer * segments, seg, 1)
    backend.launch(
        source_for(op),
        f"{base}_totals",
        config,
        (_kernel_view(x), partial, *extents, *_flags(exclusive, reverse)),
    )
    backend.launch(
        source_for(op),
        f"{base}_segments",
        config,
        (_kernel_view(x), _kernel_view(out), partial, *extents, *_flags(exclusive, reverse)),
    )
    return out


def _scan_factory(op: str) -> Callable:
    def factory(backend: Any) -> Callable:
        def run(x: Any, axis: int, exclusive: bool, reverse: bool) -> Any:
            x = backend.device_array(x)
            dtype = checked_dtype(x.dtype, _NUMERIC, op)
            if x.size == 0:
                return backend.empty(x.shape, x.dtype)
            outer = math.prod(x.shape[:axis])
            r = x.shape[axis]
            inner = math.prod(x.shape[axis + 1 :])
            base = _base(op, dtype)
            if launch_config.scan_transposes(outer, r, inner):
                # Scan (outer, inner, R) rows, then put the axis back where it was.
                rows = _permuted(backend, x, ((outer, inner, r), (r * inner, 1, inner)))
                scanned = _scan_rows(backend, op, base, rows, outer * inner, r, exclusive, reverse)
                return _permuted(backend, scanned, ((outer, r, inner), (inner * r, 1, r))).reshape(x.shape)
            if inner == 1:
                return _scan_rows(backend, op, base, x, outer, r, exclusive, reverse)
            out = backend.empty(x.shape, x.dtype)
            backend.launch(
                source_for(op),
                f"{base}_cols",
                launch_config.elementwise(outer * inner),
                (_kernel_view(x), _kernel_view(out), *_extents(outer, r, inner), *_flags(exclusive, reverse)),
            )
            return out

        return run

    return factory


# Ops whose kernels here take complex inputs (the backend runs other complex calls on the host).
COMPLEX_ON_DEVICE = frozenset(op for op, (dts, _) in _REDUCTIONS.items() if "complex64" in dts) | frozenset(
    _SCANS
)

KERNELS: dict[str, Callable] = {
    **{op: _reduction_factory(op) for op in _REDUCTIONS},
    **{op: _arg_factory(op) for op in _ARG},
    **{op: _scan_factory(op) for op in _SCANS},
}
