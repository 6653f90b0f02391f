"""Convolution kernels (cuda_kernels/conv.cu): im2col + cuBLAS GEMM + col2im, direct depthwise.

Op signatures match gputensor/backend/cpu/nn.py: NHWC images, HWIO filters
(depthwise: HWCM), ``strides``/``dilations`` as (height, width) pairs, ``padding``
as resolved ((top, bottom), (left, right)) pairs, or the SAME marker along a size unknown
while tracing, resolved here from the input (backend/geometry.py). The column matrix of an ordinary
convolution holds kh*kw*C values per output pixel; the batch is processed in
chunks of images so that it stays under `COLUMN_BUDGET_BYTES`. Half and bfloat16
operands are widened to float32 for the GEMM and the result narrowed back, as TF
accumulates them in float.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from gputensor.backend.cuda import launch_config
from gputensor.backend.cuda.compile import KernelSource
from gputensor.backend.cuda.ctypes_map import c_type, compute_np
from gputensor.backend.cuda.families.common import checked_dtype, family_file
from gputensor.backend.geometry import input_size, resolve_padding

FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
HALF_DTYPES = ("float16", "bfloat16")
# At most this many bytes of im2col columns at a time (a 256 MiB scratch matrix keeps the
# GEMM large enough to saturate cuBLAS while leaving the pool room for activations).
COLUMN_BUDGET_BYTES = 256 << 20

Pair = tuple[int, int]
Padding = tuple[Pair, Pair]


@functools.cache
def source() -> KernelSource:
    """The conv compilation unit: every kernel of conv.cu for every floating dtype."""
    lines, names = [family_file("conv.cu")], []
    for d in FLOAT_DTYPES:
        lines.append(f"GT_CONV_KERNELS({d}, {c_type(d)})")
        names += [
            f"gt_{k}_{d}" for k in ("conv_im2col", "conv_col2im", "dwconv_forward", "dwconv_backprop_input")
        ]
        names.append(f"gt_dwconv_backprop_filter_{d}")
    for d in HALF_DTYPES:
        lines.append(f"GT_CONV_HALF_KERNELS({d}, {c_type(d)})")
        names += [f"gt_conv_widen_{d}", f"gt_conv_narrow_{d}"]
    for d in ("float32", "float64"):
        lines.append(f"GT_CONV_ACC_KERNELS({d}, {c_type(d)})")
        names.append(f"gt_conv_accumulate_{d}")
    return KernelSource("conv", "conv", "\n".join(lines) + "\n", tuple(names))


def sources(ops: list) -> list[KernelSource]:
    return [source()]


# ------------------------------------------------------------------ geometry
def output_size(size: int, k: int, stride: int, pad: Pair, dilation: int) -> int:
    """Output extent of one spatial axis: windows of span (k-1)*dilation+1 at the given stride."""
    span = (k - 1) * dilation + 1
    return max(0, (size + pad[0] + pad[1] - span) // stride + 1)


def geometry(
    backend: Any,
    input_shape: tuple,
    out_hw: Pair,
    ksize: Pair,
    strides: Pair,
    dilations: Pair,
    padding: Padding,
    multiplier: int = 1,
) -> Any:
    """The device table of gt::Window (cuda_kernels/window.cuh), in its field order."""
    n, h, w, c = input_shape
    table = (n, h, w, c, *out_hw, *ksize, *strides, *dilations, padding[0][0], padding[1][0], multiplier)
    return backend.constant_array(np.asarray(table, dtype=np.int64))


def _launch(backend: Any, kernel: str, dtype: str, n: int, args: tuple, per_block: bool = False) -> None:
    if n > 0:
        config = launch_config.conv(n, block_reduction=per_block)
        backend.launch(source(), f"gt_{kernel}_{dtype}", config, args)


def _wide(backend: Any, a: Any) -> Any:
    """``a`` as a contiguous array of its compute type (float32 for the 2-byte floats)."""
    a = backend.device_array(a)
    name = np.dtype(a.dtype).name
    if name not in HALF_DTYPES:
        return a
    out = backend.empty(a.shape, np.float32)
    _launch(backend, "conv_widen", name, a.size, (a, out, np.int64(a.size)))
    return out


def _narrow(backend: Any, a: Any, dtype: np.dtype) -> Any:
    if dtype.name not in HALF_DTYPES:
        return a
    out = backend.empty(a.shape, dtype)
    _launch(backend, "conv_narrow", dtype.name, a.size, (a, out, np.int64(a.size)))
    return out


def _chunks(batch: int, bytes_per_image: int) -> Iterator[tuple[int, int]]:
    """(first image, count) pairs covering the batch; one empty chunk for an empty batch."""
    step = max(1, COLUMN_BUDGET_BYTES // max(1, bytes_per_image))
    if batch == 0:
        yield 0, 0
    for n0 in range(0, batch, step):
        yield n0, min(step, batch - n0)


def is_pointwise(ksize: Pair, strides: Pair, padding: Padding) -> bool:
    """A 1x1 convolution at stride 1 without padding: its im2col matrix is the NHWC image."""
    return (
        tuple(ksize) == (1, 1) and tuple(strides) == (1, 1) and tuple(map(tuple, padding)) == ((0, 0), (0, 0))
    )


class _Im2col:
    """The column matrices of one convolution's input, chunk by chunk over the batch."""

    def __init__(
        self, backend: Any, op: str, x: Any, ksize: Pair, out_hw: Pair, strides, padding, dilations
    ) -> None:
        self.backend, self.x = backend, backend.device_array(x)
        self.dtype = checked_dtype(self.x.dtype, FLOAT_DTYPES, op)
        self.acc = compute_np(self.dtype)
        self.pixels = out_hw[0] * out_hw[1]
        self.k = ksize[0] * ksize[1] * self.x.shape[3]
        self.geom = geometry(backend, self.x.shape, out_hw, ksize, strides, dilations, padding)
        self.pointwise = is_pointwise(ksize, strides, padding)

    def chunks(self) -> Iterator[tuple[slice, Any]]:
        """(rows of the full column matrix, this chunk's columns) pairs."""
        if self.pointwise:  # the columns are the image itself: no copy, no chunks
            rows = self.x.shape[0] * self.pixels
            yield slice(0, rows), _wide(self.backend, self.x).reshape(rows, self.k)
            return
        for n0, nb in _chunks(self.x.shape[0], self.pixels * self.k * self.acc.itemsize):
            cols = self.backend.empty((nb * self.pixels, self.k), self.acc)
            args = (self.x, cols, self.geom, np.int64(n0), np.int64(nb))
            _launch(self.backend, "conv_im2col", self.dtype, cols.size, args)
            yield slice(n0 * self.pixels, (n0 + nb) * self.pixels), cols


# ------------------------------------------------------------------ ops
def conv2d(backend: Any, x: Any, filters: Any, *, strides: Pair, padding: Padding, dilations: Pair) -> Any:
    n, h, w, _ = x.shape
    kh, kw, _, o = filters.shape
    padding = resolve_padding(padding, (h, w), (kh, kw), strides, dilations)
    dtype = np.dtype(x.dtype)
    out_hw = tuple(
        output_size(s, k, st, p, d) for s, k, st, p, d in zip((h, w), (kh, kw), strides, padding, dilations)
    )
    im2col = _Im2col(backend, "conv2d", x, (kh, kw), out_hw, strides, padding, dilations)
    f2 = _wide(backend, filters).reshape(im2col.k, o)
    out = backend.empty((n * im2col.pixels, o), im2col.acc)
    for rows, cols in im2col.chunks():
        backend.xp.matmul(cols, f2, out=out[rows])
    return _narrow(backend, out, dtype).reshape(n, *out_hw, o)


def conv2d_backprop_input(
    backend: Any,
    filters: Any,
    dy: Any,
    x: Any = None,
    *,
    input_sizes: tuple,
    strides: Pair,
    padding: Padding,
    dilations: Pair,
) -> Any:
    dtype = np.dtype(dy.dtype)
    name = checked_dtype(dtype, FLOAT_DTYPES, "conv2d_backprop_input")
    kh, kw, c, o = filters.shape
    n, ho, wo, _ = dy.shape
    input_sizes, padding = input_size(input_sizes, dy.shape, (kh, kw), strides, padding, dilations, x)
    dy2 = _wide(backend, dy).reshape(n * ho * wo, o)
    f2 = _wide(backend, filters).reshape(kh * kw * c, o)
    if is_pointwise((kh, kw), strides, padding):  # col2im is the identity
        return _narrow(backend, backend.xp.matmul(dy2, f2.T), dtype).reshape(tuple(input_sizes))
    dx = backend.empty(tuple(input_sizes), dtype)
    geom = geometry(backend, tuple(input_sizes), (ho, wo), (kh, kw), strides, dilations, padding)
    image = input_sizes[1] * input_sizes[2] * c
    for n0, nb in _chunks(n, ho * wo * kh * kw * c * compute_np(name).itemsize):
        cols = backend.contiguous(backend.xp.matmul(dy2[n0 * ho * wo : (n0 + nb) * ho * wo], f2.T))
        _launch(backend, "conv_col2im", name, nb * image, (cols, dx, geom, np.int64(n0), np.int64(nb)))
    return dx


def conv2d_backprop_filter(
    backend: Any, x: Any, dy: Any, *, filter_sizes: tuple, strides: Pair, padding: Padding, dilations: Pair
) -> Any:
    dtype = np.dtype(x.dtype)
    kh, kw, _, o = filter_sizes
    padding = resolve_padding(padding, x.shape[1:3], (kh, kw), strides, dilations)
    im2col = _Im2col(
        backend, "conv2d_backprop_filter", x, (kh, kw), tuple(dy.shape[1:3]), strides, padding, dilations
    )
    dy2 = _wide(backend, dy).reshape(-1, o)
    grad = None
    for rows, cols in im2col.chunks():
        part = backend.contiguous(backend.xp.matmul(cols.T, dy2[rows]))
        if grad is None:
            grad = part
        else:
            _launch(backend, "conv_accumulate", im2col.acc.name, grad.size, (grad, part, np.int64(grad.size)))
    return _narrow(backend, grad, dtype).reshape(tuple(filter_sizes))


def depthwise_conv2d(
    backend: Any, x: Any, filters: Any, *, strides: Pair, padding: Padding, dilations: Pair
) -> Any:
    x, filters = backend.device_array(x), backend.device_array(filters)
    name = checked_dtype(x.dtype, FLOAT_DTYPES, "depthwise_conv2d")
    n, h, w, c = x.shape
    kh, kw, _, m = filters.shape
    padding = resolve_padding(padding, (h, w), (kh, kw), strides, dilations)
    out_hw = tuple(
        output_size(s, k, st, p, d) for s, k, st, p, d in zip((h, w), (kh, kw), strides, padding, dilations)
    )
    out = backend.empty((n, *out_hw, c * m), x.dtype)
    geom = geometry(backend, x.shape, out_hw, (kh, kw), strides, dilations, padding, m)
    _launch(backend, "dwconv_forward", name, out.size, (x, filters, out, geom))
    return out


def depthwise_conv2d_backprop_input(
    backend: Any,
    filters: Any,
    dy: Any,
    x: Any = None,
    *,
    input_sizes: tuple,
    strides: Pair,
    padding: Padding,
    dilations: Pair,
) -> Any:
    filters, dy = backend.device_array(filters), backend.device_array(dy)
    name = checked_dtype(dy.dtype, FLOAT_DTYPES, "depthwise_conv2d_backprop_input")
    kh, kw, _, m = filters.shape
    input_sizes, padding = input_size(input_sizes, dy.shape, (kh, kw), strides, padding, dilations, x)
    dx = backend.empty(tuple(input_sizes), dy.dtype)
    geom = geometry(
        backend, tuple(input_sizes), tuple(dy.shape[1:3]), (kh, kw), strides, dilations, padding, m
    )
    _launch(backend, "dwconv_backprop_input", name, dx.size, (filters, dy, dx, geom))
    return dx


def depthwise_conv2d_backprop_filter(
    backend: Any, x: Any, dy: Any, *, filter_sizes: tuple, strides: Pair, padding: Padding, dilations: Pair
) -> Any:
    x, dy = backend.device_array(x), backend.device_array(dy)
    name = checked_dtype(x.dtype, FLOAT_DTYPES, "depthwise_conv2d_backprop_filter")
    kh, kw, _, m = filter_sizes
    padding = resolve_padding(padding, x.shape[1:3], (kh, kw), strides, dilations)
    df = backend.empty(tuple(filter_sizes), x.dtype)
    geom = geometry(backend, x.shape, tuple(dy.shape[1:3]), (kh, kw), strides, dilations, padding, m)
    _launch(backend, "dwconv_backprop_filter", name, df.size, (x, dy, df, geom), per_block=True)
    return df


def _factory(fn: Callable) -> Callable:
    return lambda backend: functools.partial(fn, backend)


KERNELS: dict[str, Callable] = {
    fn.__name__: _factory(fn)
    for fn in (
        conv2d,
        conv2d_backprop_input,
        conv2d_backprop_filter,
        depthwise_conv2d,
        depthwise_conv2d_backprop_input,
        depthwise_conv2d_backprop_filter,
    )
}
