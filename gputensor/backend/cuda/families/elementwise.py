"""Elementwise kernels generated from the op table's CUDA expressions.

One compilation unit per op; in it, one kernel per input dtype and layout:
``_flat`` (all operands the output's shape), ``_bcast`` (NumPy broadcasting via a
shape/stride table), ``_sr``/``_sl`` (right/left operand a by-value scalar), and
``_vflat``/``_vsr``/``_vsl``, the same with four elements per aligned vector load
(gt_common.cuh, Vec4) for outputs of at least VEC_MIN elements.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.backend.cuda import launch_config
from gputensor.backend.cuda.compile import KernelSource
from gputensor.backend.cuda.ctypes_map import C_TYPE, GPU_DTYPES, c_compute, c_type, compute_np

_ARITY = {"unary": 1, "binary": 2, "ternary": 3}
# Outputs at least this long use the vectorised kernels (when aligned): below it, the
# launch dominates and the alignment check is not worth its host time.
VEC_MIN = 1024
_ATTR_C = {"alpha": "double", "approximate": "bool"}
_VARS = "abc"


def _dtype_names(op: Any) -> list[str]:
    names = GPU_DTYPES if op.dtypes is None else sorted({d.name for d in op.dtypes})
    return [n for n in names if n in C_TYPE]


def _out_name(op: Any, dtype: str) -> str:
    return op.out_dtype.name if op.out_dtype is not None else dtype


def _attr_params(op: Any) -> list[str]:
    return [f"{_ATTR_C[a]} {a}" for a in op.attrs if a != "dtype"]


def kernel_name(op: Any, dtype: str, layout: str, out: str | None = None) -> str:
    suffix = f"_to_{out}" if out is not None else ""
    return f"gt_{op.name}_{dtype}{suffix}_{layout}"


def _kernels_for(op: Any, dtype: str, out: str, name_out: str | None) -> tuple[list[str], list[str]]:
    n_in = _ARITY[op.kind]
    s, o = c_type(dtype), c_type(out)
    if op.kind == "ternary":  # select(c, a, b): c is bool, a/b of dtype
        in_types = ["bool", s, s]
        var_order = ["c", "a", "b"]
    else:
        in_types = [s] * n_in
        var_order = list(_VARS[:n_in])
    attrs = _attr_params(op)
    tail = "".join(f", {p}" for p in attrs)
    ptrs = ", ".join(f"const {t}* __restrict__ x{k}" for k, t in enumerate(in_types))
    codes, names = [], []

    def emit(layout: str, params: str, loads: list[str], prologue: str = "") -> None:
        name = kernel_name(op, dtype, layout, name_out)
        body = _body_ordered(op, dtype, out, var_order, loads)
        codes.append(
            f'extern "C" __global__ void {name}({params}, {o}* __restrict__ out, long long n{tail}) {{\n'
            f"  {prologue}GT_GRID_STRIDE(i, n) {{ {body} }}\n}}\n"
        )
        names.append(name)

    emit("flat", ptrs, [f"x{k}[i]" for k in range(n_in)])
    if n_in >= 2:
        params = f"{ptrs}, const long long* __restrict__ meta, int ndim"
        loads = [f"x{k}[off[{k}]]" for k in range(n_in)]
        emit("bcast", params, loads, prologue=f"long long off[{n_in}]; ")
        codes[-1] = codes[-1].replace(
            "GT_GRID_STRIDE(i, n) { ",
            f"GT_GRID_STRIDE(i, n) {{ gt::bcast_offsets<{n_in}>(i, ndim, meta, off); ",
        )
    if op.kind == "binary":
        cs = c_compute(dtype)
        emit("sr", f"const {s}* __restrict__ x0, {cs} s1", ["x0[i]", "s1"])
        emit("sl", f"{cs} s0, const {s}* __restrict__ x1", ["s0", "x1[i]"])

    def emit_vec(layout: str, params: str, arrays: list[int], scalars: dict[int, str]) -> None:
        # The vectorised twin of a layout: whole Vec4s, then the scalar tail.
        name = kernel_name(op, dtype, layout, name_out)
        vec_loads = [scalars.get(k, f"l{k}.v[k]") for k in range(n_in)]
        tail_loads = [scalars.get(k, f"x{k}[i]") for k in range(n_in)]
        vec_body = _body_ordered(op, dtype, out, var_order, vec_loads).replace("out[i] =", "r.v[k] =")
        loads = " ".join(
            f"const gt::Vec4<{s}> l{k} = *reinterpret_cast<const gt::Vec4<{s}>*>(x{k} + 4 * q);"
            for k in arrays
        )
        codes.append(
            f'extern "C" __global__ void {name}({params}, {o}* __restrict__ out, long long n{tail}) {{\n'
            f"  GT_VEC4_STRIDE(q, n) {{\n    {loads}\n    gt::Vec4<{o}> r;\n#pragma unroll\n"
            f"    for (int k = 0; k < 4; ++k) {{ {vec_body} }}\n"
            f"    *reinterpret_cast<gt::Vec4<{o}>*>(out + 4 * q) = r;\n  }}\n"
            f"  GT_VEC4_TAIL(i, n) {{ {_body_ordered(op, dtype, out, var_order, tail_loads)} }}\n}}\n"
        )
        names.append(name)

    if op.kind != "ternary":
        emit_vec("vflat", ptrs, list(range(n_in)), {})
    if op.kind == "binary":
        emit_vec("vsr", f"const {s}* __restrict__ x0, {cs} s1", [0], {1: "s1"})
        emit_vec("vsl", f"{cs} s0, const {s}* __restrict__ x1", [1], {0: "s0"})
    return codes, names


def _body_ordered(op: Any, dtype: str, out: str, var_order: list[str], loads: list[str]) -> str:
    lines = [f"typedef {c_compute(dtype)} T;", f"typedef {c_type(out)} Out;"]
    for v, src in zip(var_order, loads):
        if v == "c":
            lines.append(f"const bool c = {src};")
        else:
            lines.append(f"const T {v} = gt::to_c({src});")
    lines.append(f"out[i] = gt::from_c<Out>({op.cuda});")
    return " ".join(lines)


def source_for(op: Any) -> KernelSource:
    """The compilation unit holding every dtype/layout kernel of elementwise op ``op``."""
    codes, names = ['#include "elementwise.cuh"\n'], []
    for dtype in _dtype_names(op):
        if op.name == "cast":
            for out in GPU_DTYPES:
                c, n = _kernels_for(op, dtype, out, out)
                codes += c
                names += n
        else:
            c, n = _kernels_for(op, dtype, _out_name(op, dtype), None)
            codes += c
            names += n
    return KernelSource("elementwise", f"ew_{op.name}", "\n".join(codes), tuple(names))


def sources(ops: list) -> list[KernelSource]:
    return [source_for(op) for op in ops if op.cuda is not None and op.kind in _ARITY]


# ---------------------------------------------------------------------- glue
def _bcast_meta(out_shape: tuple, shapes: list[tuple], itemsizes: list[int] | None = None) -> np.ndarray:
    ndim = len(out_shape)
    rows = [list(out_shape)]
    for shp in shapes:
        padded = (1,) * (ndim - len(shp)) + tuple(shp)
        strides, acc = [0] * ndim, 1
        for d in range(ndim - 1, -1, -1):
            strides[d] = 0 if padded[d] == 1 else acc
            acc *= padded[d]
        rows.append(strides)
    return np.asarray(rows, dtype=np.int64).reshape(-1)


class _Plan:
    """What a launch needs for one (input dtype, output dtype) pair, worked out once."""

    __slots__ = ("names", "out_dtype", "scalar_type", "vec_align")

    def __init__(self, op: Any, in_dtype: np.dtype, out_dtype: np.dtype, name_out: str | None) -> None:
        dname = in_dtype.name
        layouts = ("flat", "bcast", "sr", "sl", "vflat", "vsr", "vsl")
        self.names = {lay: kernel_name(op, dname, lay, name_out) for lay in layouts}
        # Bytes every pointer must be aligned to for the vectorised kernels.
        self.vec_align = 4 * max(in_dtype.itemsize, out_dtype.itemsize)
        self.out_dtype = out_dtype
        self.scalar_type = compute_np(dname).type


def make(op: Any, backend: Any) -> Callable:
    """Builds the kernel function ``fn(*arrays, **attrs)`` for elementwise op ``op``."""
    src = source_for(op)
    n_in = _ARITY[op.kind]
    attr_names = [a for a in op.attrs if a != "dtype"]
    plans: dict[Any, _Plan] = {}
    vectorised = op.kind != "ternary"
    launch, empty, device_array = backend.launch, backend.empty, backend.device_array
    config = launch_config.elementwise

    def attr_args(attrs: dict) -> tuple:
        out = []
        for a in attr_names:
            v = attrs[a]
            out.append(np.bool_(v) if _ATTR_C[a] == "bool" else np.float64(v))
        return tuple(out)

    def plan_for(in_dtype: Any, attrs: dict) -> _Plan:
        key = (in_dtype, attrs["dtype"]) if op.name == "cast" else in_dtype
        p = plans.get(key)
        if p is None:
            in_dtype = np.dtype(in_dtype)
            if op.name == "cast":
                out_dtype = np.dtype(attrs["dtype"])
                p = _Plan(op, in_dtype, out_dtype, out_dtype.name)
            else:
                out_dtype = np.dtype(op.out_dtype.np_dtype if op.out_dtype is not None else in_dtype)
                p = _Plan(op, in_dtype, out_dtype, None)
            plans[key] = p
        return p

    def run_layout(p: _Plan, layout: str, pointers: tuple, args: tuple, size: int) -> None:
        # Its vectorised twin ("v" + layout) when the output is long and every pointer aligned.
        if vectorised and size >= VEC_MIN and backend.aligned(pointers, p.vec_align):
            launch(src, p.names["v" + layout], config(-(-size // 4)), args)
        else:
            launch(src, p.names[layout], config(size), args)

    def run(*arrays: Any, **attrs: Any) -> Any:
        p = plan_for(arrays[-1].dtype if op.name != "cast" else arrays[0].dtype, attrs)
        extra = attr_args(attrs) if attr_names else ()
        if n_in == 2:
            x0, x1 = arrays
            if isinstance(x1, np.generic) and not isinstance(x0, np.generic):
                a = backend.contiguous(x0)
                out = empty(a.shape, p.out_dtype)
                size = out.size
                run_layout(p, "sr", (a, out), (a, p.scalar_type(x1), out, np.int64(size)) + extra, size)
                return out
            if isinstance(x0, np.generic) and not isinstance(x1, np.generic):
                b = backend.contiguous(x1)
                out = empty(b.shape, p.out_dtype)
                size = out.size
                run_layout(p, "sl", (b, out), (p.scalar_type(x0), b, out, np.int64(size)) + extra, size)
                return out
        ins = [device_array(x) for x in arrays]
        out_shape = ins[0].shape
        same = all(x.shape == out_shape for x in ins)
        if not same:
            out_shape = np.broadcast_shapes(*(x.shape for x in ins))
        out = empty(out_shape, p.out_dtype)
        size = out.size
        if size == 0:
            return out
        if same:
            run_layout(p, "flat", (*ins, out), (*ins, out, np.int64(size)) + extra, size)
        else:
            meta = backend.constant_array(_bcast_meta(out_shape, [tuple(x.shape) for x in ins]))
            args = (*ins, meta, np.int32(len(out_shape)), out, np.int64(size)) + extra
            launch(src, p.names["bcast"], config(size), args)
        return out

    return run


KERNELS: dict[str, Callable] = {}
