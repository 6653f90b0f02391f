"""Pooling kernels (cuda_kernels/pool.cu): max and average pooling and their gradients.

Op signatures match gputensor/backend/cpu/nn.py: NHWC, ``ksize``/``strides`` as
(height, width) pairs, ``padding`` as resolved ((top, bottom), (left, right)) pairs, or the
SAME marker along a size unknown while tracing, resolved here from the input
(backend/geometry.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.backend.cuda import launch_config
from gputensor.backend.cuda.compile import KernelSource
from gputensor.backend.cuda.ctypes_map import c_type, compute_np
from gputensor.backend.cuda.families.common import checked_dtype, family_file
from gputensor.backend.cuda.families.conv import FLOAT_DTYPES, Padding, Pair, geometry, output_size
from gputensor.backend.geometry import input_size, resolve_padding

# TF's MaxPool takes these integer types as well as the floats.
MAX_POOL_DTYPES = FLOAT_DTYPES + ("int8", "int16", "int32", "int64", "uint8", "uint16")
_NO_DILATION = (1, 1)


@functools.cache
def source() -> KernelSource:
    """The pool compilation unit: max pooling for MAX_POOL_DTYPES, average pooling for the floats."""
    lines, names = [family_file("pool.cu")], []
    for d in MAX_POOL_DTYPES:
        lines.append(f"GT_MAXPOOL_KERNELS({d}, {c_type(d)})")
        names += [f"gt_maxpool_{k}_{d}" for k in ("forward", "argmax", "backprop")]
    for d in FLOAT_DTYPES:
        lines.append(f"GT_AVGPOOL_KERNELS({d}, {c_type(d)})")
        names += [f"gt_avgpool_{k}_{d}" for k in ("forward", "backprop")]
    return KernelSource("pool", "pool", "\n".join(lines) + "\n", tuple(names))


def sources(ops: list) -> list[KernelSource]:
    return [source()]


def _launch(backend: Any, kernel: str, dtype: str, n: int, args: tuple) -> None:
    if n > 0:
        backend.launch(source(), f"gt_{kernel}_{dtype}", launch_config.pool(n), args)


def _lowest(dtype: str) -> np.generic:
    """What padding reads as in a max window, in the kernel's compute type."""
    acc = compute_np(dtype)
    return acc.type(np.iinfo(acc).min if acc.kind in "iu" else -np.inf)


def _setup(backend: Any, shape: tuple, ksize: Pair, strides: Pair, padding: Padding, out_hw=None):
    padding = resolve_padding(padding, tuple(shape[1:3]), ksize, strides)
    if out_hw is None:
        out_hw = tuple(
            output_size(s, k, st, p, 1) for s, k, st, p in zip(shape[1:3], ksize, strides, padding)
        )
    return out_hw, geometry(backend, tuple(shape), out_hw, ksize, strides, _NO_DILATION, padding)


def max_pool2d(backend: Any, x: Any, *, ksize: Pair, strides: Pair, padding: Padding) -> Any:
    x = backend.device_array(x)
    name = checked_dtype(x.dtype, MAX_POOL_DTYPES, "max_pool2d")
    out_hw, geom = _setup(backend, x.shape, ksize, strides, padding)
    y = backend.empty((x.shape[0], *out_hw, x.shape[3]), x.dtype)
    _launch(backend, "maxpool_forward", name, y.size, (x, y, geom, _lowest(name)))
    return y


def max_pool2d_grad(
    backend: Any, x: Any, y: Any, dy: Any, *, ksize: Pair, strides: Pair, padding: Padding
) -> Any:
    x, dy = backend.device_array(x), backend.device_array(dy)
    name = checked_dtype(x.dtype, MAX_POOL_DTYPES, "max_pool2d_grad")
    _, geom = _setup(backend, x.shape, ksize, strides, padding, tuple(dy.shape[1:3]))
    taps = backend.empty(dy.shape, np.int32)
    _launch(backend, "maxpool_argmax", name, taps.size, (x, taps, geom, _lowest(name)))
    dx = backend.empty(x.shape, dy.dtype)
    _launch(backend, "maxpool_backprop", name, dx.size, (taps, dy, dx, geom))
    return dx


def avg_pool2d(backend: Any, x: Any, *, ksize: Pair, strides: Pair, padding: Padding) -> Any:
    x = backend.device_array(x)
    name = checked_dtype(x.dtype, FLOAT_DTYPES, "avg_pool2d")
    out_hw, geom = _setup(backend, x.shape, ksize, strides, padding)
    y = backend.empty((x.shape[0], *out_hw, x.shape[3]), x.dtype)
    _launch(backend, "avgpool_forward", name, y.size, (x, y, geom))
    return y


def avg_pool2d_grad(
    backend: Any,
    dy: Any,
    x: Any = None,
    *,
    orig_input_shape: tuple,
    ksize: Pair,
    strides: Pair,
    padding: Padding,
) -> Any:
    dy = backend.device_array(dy)
    name = checked_dtype(dy.dtype, FLOAT_DTYPES, "avg_pool2d_grad")
    orig_input_shape, padding = input_size(orig_input_shape, dy.shape, ksize, strides, padding, x=x)
    _, geom = _setup(backend, tuple(orig_input_shape), ksize, strides, padding, tuple(dy.shape[1:3]))
    dx = backend.empty(tuple(orig_input_shape), dy.dtype)
    _launch(backend, "avgpool_backprop", name, dx.size, (dy, dx, geom))
    return dx


KERNELS: dict[str, Callable] = {
    fn.__name__: (lambda backend, fn=fn: functools.partial(fn, backend))
    for fn in (max_pool2d, max_pool2d_grad, avg_pool2d, avg_pool2d_grad)
}
