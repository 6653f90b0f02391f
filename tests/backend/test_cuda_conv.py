"""The CUDA conv and pool kernels, run on the emulated GPU, against the NumPy backend's kernels.

tests/ops/test_nn_conv.py checks the public ops on every device against nested-loop
references; this file drives the CUDA glue directly, for what those tests cannot
reach: batches split into several im2col chunks, every dtype the kernels take
(half types, integer max pooling), NaN in max pooling, and empty batches.
"""

from __future__ import annotations

import numpy as np
import pytest
from ml_dtypes import bfloat16

from gputensor.backend.cpu import nn as cpu_nn
from gputensor.backend.cuda.families import conv, pool
from tests.cuda_harness import emulated_device

DEVICE = emulated_device()
pytestmark = pytest.mark.skipif(DEVICE is None, reason="no emulated GPU (g++ missing)")

# (x shape NHWC, filter (kh, kw), out channels or multiplier, strides, padding, dilations)
CONV_CASES = [
    ((2, 7, 6, 3), (3, 3), 4, (1, 1), ((1, 1), (1, 1)), (1, 1)),
    ((1, 9, 8, 2), (3, 2), 5, (2, 3), ((0, 1), (2, 0)), (1, 1)),
    ((3, 10, 9, 2), (2, 3), 3, (1, 2), ((1, 2), (0, 1)), (2, 2)),
    ((2, 5, 5, 1), (5, 5), 2, (1, 1), ((0, 0), (0, 0)), (1, 1)),
    ((1, 4, 4, 3), (1, 1), 2, (3, 3), ((0, 0), (0, 0)), (1, 1)),
    ((2, 4, 5, 3), (1, 1), 4, (1, 1), ((0, 0), (0, 0)), (1, 1)),  # pointwise: no im2col/col2im
]
POOL_CASES = [
    ((2, 7, 6, 3), (3, 3), (2, 2), ((1, 1), (1, 1))),
    ((1, 8, 9, 2), (2, 3), (1, 2), ((0, 1), (1, 1))),
    ((3, 5, 5, 1), (5, 5), (1, 1), ((0, 0), (0, 0))),
    ((2, 6, 4, 2), (2, 2), (2, 2), ((0, 0), (0, 0))),
]
FLOATS = [np.float32, np.float64, np.float16, bfloat16]
TOLERANCE = {np.float32: 1e-5, np.float64: 1e-12, np.float16: 2e-2, bfloat16: 5e-2}


def kernel(module, name):
    return module.KERNELS[name](DEVICE.backend)


def assert_matches(got, want, dtype):
    assert got.dtype == want.dtype and got.shape == want.shape
    tol = TOLERANCE.get(dtype, 0)
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=tol, atol=tol)


def conv_operands(rng, case, dtype, depthwise):
    x_shape, (kh, kw), o, strides, padding, dilations = case
    x = rng.standard_normal(x_shape).astype(dtype)
    f = rng.standard_normal((kh, kw, x_shape[3], o)).astype(dtype)
    attrs = {"strides": strides, "padding": padding, "dilations": dilations}
    forward = cpu_nn.KERNELS["depthwise_conv2d" if depthwise else "conv2d"](x, f, **attrs)
    dy = rng.standard_normal(forward.shape).astype(dtype)
    return x, f, dy, attrs


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("depthwise", [False, True], ids=["conv2d", "depthwise"])
def test_convolution_and_its_gradients_match_the_numpy_backend(rng, case, dtype, depthwise):
    x, f, dy, attrs = conv_operands(rng, case, dtype, depthwise)
    prefix = "depthwise_conv2d" if depthwise else "conv2d"
    calls = [
        (prefix, (x, f), attrs),
        (f"{prefix}_backprop_input", (f, dy), {"input_sizes": x.shape, **attrs}),
        (f"{prefix}_backprop_filter", (x, dy), {"filter_sizes": f.shape, **attrs}),
    ]
    for name, args, kw in calls:
        assert_matches(kernel(conv, name)(*args, **kw), cpu_nn.KERNELS[name](*args, **kw), dtype)


@pytest.mark.parametrize("name", ["conv2d", "conv2d_backprop_input", "conv2d_backprop_filter"])
def test_batches_split_into_column_chunks_give_the_same_result(rng, monkeypatch, name):
    x, f, dy, attrs = conv_operands(
        rng, ((5, 6, 5, 2), (3, 3), 3, (1, 1), ((1, 1), (1, 1)), (1, 1)), np.float64, False
    )
    # Room for the columns of two images at a time: three chunks of 2, 2 and 1 images.
    monkeypatch.setattr(conv, "COLUMN_BUDGET_BYTES", 2 * 6 * 5 * 9 * 2 * 8)
    assert list(conv._chunks(5, 6 * 5 * 9 * 2 * 8)) == [(0, 2), (2, 2), (4, 1)]
    args, kw = {
        "conv2d": ((x, f), attrs),
        "conv2d_backprop_input": ((f, dy), {"input_sizes": x.shape, **attrs}),
        "conv2d_backprop_filter": ((x, dy), {"filter_sizes": f.shape, **attrs}),
    }[name]
    assert_matches(kernel(conv, name)(*args, **kw), cpu_nn.KERNELS[name](*args, **kw), np.float64)


@pytest.mark.parametrize("depthwise", [False, True], ids=["conv2d", "depthwise"])
def test_empty_batch_gives_empty_output_and_zero_filter_gradient(depthwise):
    prefix = "depthwise_conv2d" if depthwise else "conv2d"
    x = np.zeros((0, 5, 5, 2), np.float32)
    f = np.ones((3, 3, 2, 2), np.float32)
    attrs = {"strides": (1, 1), "padding": ((1, 1), (1, 1)), "dilations": (1, 1)}
    y = kernel(conv, prefix)(x, f, **attrs)
    assert y.shape == (0, 5, 5, 4 if depthwise else 2)
    df = kernel(conv, f"{prefix}_backprop_filter")(x, y, filter_sizes=f.shape, **attrs)
    np.testing.assert_array_equal(df, np.zeros_like(f))


def test_depthwise_filter_gradient_reduces_over_more_pixels_than_one_block(rng):
    # 2 * 30 * 30 = 1800 output pixels per filter element: several passes of a 256-thread block.
    x, f, dy, attrs = conv_operands(
        rng, ((2, 30, 30, 2), (3, 3), 2, (1, 1), ((1, 1), (1, 1)), (1, 1)), np.float64, True
    )
    kw = {"filter_sizes": f.shape, **attrs}
    want = cpu_nn.KERNELS["depthwise_conv2d_backprop_filter"](x, dy, **kw)
    assert_matches(kernel(conv, "depthwise_conv2d_backprop_filter")(x, dy, **kw), want, np.float64)


POOL_DTYPES = FLOATS + [np.int32, np.int8, np.uint8, np.int64]


def pool_input(rng, shape, dtype):
    if np.dtype(dtype).kind in "iu":
        # Few distinct values, so windows have ties and the first maximum must win.
        return rng.integers(0, 4, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", POOL_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", POOL_CASES)
def test_max_pool_and_its_gradient_match_the_numpy_backend(rng, case, dtype):
    shape, ksize, strides, padding = case
    x = pool_input(rng, shape, dtype)
    attrs = {"ksize": ksize, "strides": strides, "padding": padding}
    y = cpu_nn.KERNELS["max_pool2d"](x, **attrs)
    dy = pool_input(rng, y.shape, dtype)
    assert_matches(kernel(pool, "max_pool2d")(x, **attrs), y, dtype)
    want = cpu_nn.KERNELS["max_pool2d_grad"](x, y, dy, **attrs)
    assert_matches(kernel(pool, "max_pool2d_grad")(x, y, dy, **attrs), want, dtype)


def test_max_pool_propagates_nan_and_routes_its_gradient_to_the_first_nan(rng):
    x = rng.standard_normal((1, 4, 4, 1)).astype(np.float32)
    x[0, 1, 1, 0] = x[0, 1, 2, 0] = np.nan
    attrs = {"ksize": (2, 2), "strides": (1, 1), "padding": ((0, 0), (0, 0))}
    y = cpu_nn.KERNELS["max_pool2d"](x, **attrs)
    got = kernel(pool, "max_pool2d")(x, **attrs)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(y))
    assert np.isnan(got).sum() == 6
    dy = np.ones_like(y)
    want = cpu_nn.KERNELS["max_pool2d_grad"](x, y, dy, **attrs)
    np.testing.assert_array_equal(kernel(pool, "max_pool2d_grad")(x, y, dy, **attrs), want)


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", POOL_CASES)
def test_avg_pool_and_its_gradient_match_the_numpy_backend(rng, case, dtype):
    shape, ksize, strides, padding = case
    x = pool_input(rng, shape, dtype)
    attrs = {"ksize": ksize, "strides": strides, "padding": padding}
    y = cpu_nn.KERNELS["avg_pool2d"](x, **attrs)
    assert_matches(kernel(pool, "avg_pool2d")(x, **attrs), y, dtype)
    dy = pool_input(rng, y.shape, dtype)
    kw = {"orig_input_shape": shape, **attrs}
    assert_matches(
        kernel(pool, "avg_pool2d_grad")(dy, **kw), cpu_nn.KERNELS["avg_pool2d_grad"](dy, **kw), dtype
    )


def test_pool_rejects_a_dtype_without_kernel_naming_the_choices():
    from gputensor.errors import UnimplementedError

    with pytest.raises(UnimplementedError, match="avg_pool2d: no CUDA kernel for dtype int32"):
        kernel(pool, "avg_pool2d")(
            np.zeros((1, 2, 2, 1), np.int32), ksize=(1, 1), strides=(1, 1), padding=((0, 0),) * 2
        )
