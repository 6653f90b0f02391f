"""Fused softmax, log-softmax and softmax cross-entropy on the GPU (cuda_kernels/softmax.cuh).

Each row is handled by one block (long rows), one warp (rows up to
``launch_config.WARP_ROW_LIMIT``) or, for softmax over an inner axis, a 32-column
tile; the layouts and their launch shapes are shared with the reduce family.
Softmax and log-softmax of contiguous rows up to that limit use the register-resident
kernels (``softmax_rows_in_registers``): the row is read once instead of three times.

Sparse cross-entropy with a label outside ``[0, num_classes)`` writes NaN to that
row (as TF's GPU kernel) and sets a device flag; the glue reads the flag back (a
4-byte device-to-host copy, i.e. one synchronisation per call) and raises the same
InvalidArgumentError as the CPU backend, so a bad label never goes unnoticed.
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
_LABELS = ("int32", "int64")
_ROW_LAYOUTS = ("block", "warp")
_CALLS = {
    "block": "gt::rows_block(p, outer);",
    "warp": "gt::rows_warp(p, outer);",
    "cols": "gt::cols(p, outer, inner);",
}
_OPS = ("softmax", "log_softmax", "softmax_xent", "sparse_softmax_xent")
# (groups per lane, elements per group) of the register-resident row kernels: 32 * k * v
# elements a row, in powers of two up to WARP_ROW_LIMIT; v = 4 are the aligned Vec4 twins.
_REGISTER_SHAPES = ((1, 1), (2, 1), (4, 1), (8, 1), (16, 1), (32, 1), (1, 4), (2, 4), (4, 4), (8, 4))


def _wrapper(name: str, params: str, program: str, init: str, layout: str) -> str:
    return (
        f'extern "C" __global__ void {name}_{layout}({params}) {{\n'
        f"  typedef {program} P;\n  const P p = {init};\n  {_CALLS[layout]}\n}}\n"
    )


@functools.cache
def source_for(op: str) -> KernelSource:
    """The unit with every dtype/layout kernel of ``op`` (one of softmax, log_softmax, *_xent)."""
    code, names = ['#include "softmax.cuh"\n'], []
    extents = "long long outer, long long R, long long inner"
    for dt in _FLOATS:
        t = c_type(dt)
        if op in ("softmax", "log_softmax"):
            program = f"gt::Softmax<{t}, {'true' if op == 'log_softmax' else 'false'}>"
            params = f"const {t}* __restrict__ x, {t}* __restrict__ y, {extents}"
            for layout in (*_ROW_LAYOUTS, "cols"):
                code.append(_wrapper(f"gt_{op}_{dt}", params, program, "{x, y, R}", layout))
                names.append(f"gt_{op}_{dt}_{layout}")
            log = "true" if op == "log_softmax" else "false"
            for k, v in _REGISTER_SHAPES:
                name = f"gt_{op}_{dt}_regs{k}x{v}"
                code.append(
                    f'extern "C" __global__ void {name}(const {t}* __restrict__ x, {t}* __restrict__ y, '
                    f"long long rows, int R) {{\n"
                    f"  gt::softmax_rows_in_registers<{t}, {log}, {k}, {v}>(x, y, rows, R);\n}}\n"
                )
                names.append(name)
        elif op == "softmax_xent":
            params = (
                f"const {t}* __restrict__ labels, const {t}* __restrict__ x, {t}* __restrict__ loss, "
                f"{t}* __restrict__ backprop, {extents}"
            )
            for layout in _ROW_LAYOUTS:
                init = "{labels, x, loss, backprop, R}"
                code.append(_wrapper(f"gt_{op}_{dt}", params, f"gt::SoftmaxXent<{t}>", init, layout))
                names.append(f"gt_{op}_{dt}_{layout}")
        else:
            for lab in _LABELS:
                params = (
                    f"const {c_type(lab)}* __restrict__ labels, const {t}* __restrict__ x, "
                    f"{t}* __restrict__ loss, {t}* __restrict__ backprop, int* __restrict__ bad, {extents}"
                )
                program = f"gt::SparseSoftmaxXent<{t}, {c_type(lab)}>"
                for layout in _ROW_LAYOUTS:
                    init = "{labels, x, loss, backprop, bad, R}"
                    code.append(_wrapper(f"gt_{op}_{dt}_{lab}", params, program, init, layout))
                    names.append(f"gt_{op}_{dt}_{lab}_{layout}")
    return KernelSource("softmax", f"softmax_{op}", "".join(code), tuple(names))


def sources(ops: list) -> list[KernelSource]:
    declared = {op.name for op in ops}
    return [source_for(name) for name in _OPS if name in declared]


def register_shape(r: int, aligned: bool) -> tuple[int, int]:
    """(k, v) of the register-resident kernel for rows of ``r`` <= WARP_ROW_LIMIT elements:
    the fewest elements per lane, in Vec4 groups when rows stay aligned (r % 4 == 0) and a
    lane holds at least four."""
    per_lane = 1
    while 32 * per_lane < r:
        per_lane *= 2
    if per_lane >= 4 and r % 4 == 0 and aligned:
        return per_lane // 4, 4
    return per_lane, 1


def _extents(outer: int, r: int, inner: int) -> tuple:
    return np.int64(outer), np.int64(r), np.int64(inner)


# ------------------------------------------------------------------------ glue
# Launch plans kept per backend and op, keyed by (shape, dtype, axis): a training loop calls
# softmax on the same shapes every step, and on a GPU the host work per call is the cost of
# small shapes. Bounded: cleared when full.
_MAX_PLANS = 256


def _softmax_plan(op: str, shape: tuple, dtype: np.dtype, axis: int) -> tuple | None:
    """(kernel, fallback kernel, alignment bytes, config, extent args) for softmax over ``axis``,
    or None for an empty array. The fallback runs when the pointers miss the alignment."""
    name = checked_dtype(dtype, _FLOATS, op)
    if math.prod(shape) == 0:
        return None
    outer, r, inner = math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1 :])
    if inner == 1 and r <= launch_config.WARP_ROW_LIMIT:
        k, v = register_shape(r, True)
        kf, vf = register_shape(r, False)
        return (
            f"gt_{op}_{name}_regs{k}x{v}",
            f"gt_{op}_{name}_regs{kf}x{vf}",
            4 * dtype.itemsize if v == 4 else 0,
            launch_config.reduction("warp", outer, r, 1),
            (np.int64(outer), np.int32(r)),
        )
    layout = launch_config.reduction_layout(r, inner)
    kernel = f"gt_{op}_{name}_{layout}"
    return kernel, kernel, 0, launch_config.reduction(layout, outer, r, inner), _extents(outer, r, inner)


def _softmax_factory(op: str) -> Callable:
    def factory(backend: Any) -> Callable:
        plans: dict[tuple, tuple | None] = {}
        source = source_for(op)

        def run(logits: Any, axis: int) -> Any:
            x = backend.device_array(logits)
            key = (x.shape, x.dtype, axis)
            try:
                plan = plans[key]
            except KeyError:
                plan = _softmax_plan(op, tuple(x.shape), x.dtype, axis)
                if len(plans) >= _MAX_PLANS:
                    plans.clear()
                plans[key] = plan
            out = backend.empty(x.shape, x.dtype)
            if plan is None:
                return out
            name, fallback, align, config, extents = plan
            if align and not backend.aligned((x, out), align):
                name = fallback
            backend.launch(source, name, config, (x, out, *extents))
            return out

        return run

    return factory


def _xent_factory(backend: Any) -> Callable:
    op = "softmax_xent"

    def run(labels: Any, logits: Any) -> tuple:
        x = backend.device_array(logits)
        y = backend.device_array(labels)
        dtype = checked_dtype(x.dtype, _FLOATS, op)
        rows, k = math.prod(x.shape[:-1]), x.shape[-1]
        loss = backend.empty(x.shape[:-1], x.dtype)
        backprop = backend.empty(x.shape, x.dtype)
        if rows == 0:
            return loss, backprop
        layout = launch_config.reduction_layout(k, 1)
        backend.launch(
            source_for(op),
            f"gt_{op}_{dtype}_{layout}",
            launch_config.reduction(layout, rows, k, 1),
            (y, x, loss, backprop, *_extents(rows, k, 1)),
        )
        return loss, backprop

    return run


def _sparse_xent_factory(backend: Any) -> Callable:
    op = "sparse_softmax_xent"

    def run(labels: Any, logits: Any) -> tuple:
        x = backend.device_array(logits)
        y = backend.device_array(labels)
        dtype = checked_dtype(x.dtype, _FLOATS, op)
        label_type = checked_dtype(y.dtype, _LABELS, op)
        from gputensor.backend.cpu.nn import check_label_shape

        check_label_shape(y.shape, x.shape)  # else the kernel reads labels past their end
        rows, k = math.prod(x.shape[:-1]), x.shape[-1]
        loss = backend.empty(x.shape[:-1], x.dtype)
        backprop = backend.empty(x.shape, x.dtype)
        if rows == 0:
            return loss, backprop
        bad = backend.device_array(np.zeros(1, np.int32))
        layout = launch_config.reduction_layout(k, 1)
        backend.launch(
            source_for(op),
            f"gt_{op}_{dtype}_{label_type}_{layout}",
            launch_config.reduction(layout, rows, k, 1),
            (y, x, loss, backprop, bad, *_extents(rows, k, 1)),
        )
        if int(np.asarray(backend.to_host(bad))[0]):
            # The CPU kernel words the error (first bad value, the labels, the valid range).
            from gputensor.backend.cpu import nn as cpu_nn

            cpu_nn.KERNELS[op](np.asarray(backend.to_host(y)), np.asarray(backend.to_host(x)))
        return loss, backprop

    return run


KERNELS: dict[str, Callable] = {
    "softmax": _softmax_factory("softmax"),
    "log_softmax": _softmax_factory("log_softmax"),
    "softmax_xent": _xent_factory,
    "sparse_softmax_xent": _sparse_xent_factory,
}
