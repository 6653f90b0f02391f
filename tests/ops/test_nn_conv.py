"""gt.nn convolution and pooling against plain nested-loop NumPy references.

The references below loop over output pixels and filter taps, so they share no
code (and no im2col trick) with the kernels. TF's SAME rule is written out again
here from TF's documentation. Backward primitives are checked against central
finite differences of the reference forward in float64.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import gputensor as gt
from gputensor.framework.op_table import OPS, execute


# ------------------------------------------------------------------ references
def same_pads(size, k, s, d):
    """TF's SAME padding for one dimension: output ceil(size / s), extra pad at the end."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return (total // 2, total - total // 2)


def resolve(padding, hw, k, s, d):
    if padding == "VALID":
        return ((0, 0), (0, 0))
    if padding == "SAME":
        return (same_pads(hw[0], k[0], s[0], d[0]), same_pads(hw[1], k[1], s[1], d[1]))
    return (tuple(padding[1]), tuple(padding[2]))


def padded(x, pads, value=0.0):
    return np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=value)


def out_size(size, k, s, d, pad):
    return (size + pad[0] + pad[1] - (k - 1) * d - 1) // s + 1


def ref_conv2d(x, w, s, pads, d):
    xp = padded(x.astype(np.float64), pads)
    kh, kw, _, o = w.shape
    ho = out_size(x.shape[1], kh, s[0], d[0], pads[0])
    wo = out_size(x.shape[2], kw, s[1], d[1], pads[1])
    out = np.zeros((x.shape[0], ho, wo, o))
    for i in range(ho):
        for j in range(wo):
            for a in range(kh):
                for b in range(kw):
                    out[:, i, j, :] += xp[:, i * s[0] + a * d[0], j * s[1] + b * d[1], :] @ w[a, b]
    return out


def ref_depthwise(x, w, s, pads, d):
    xp = padded(x.astype(np.float64), pads)
    kh, kw, c, m = w.shape
    ho = out_size(x.shape[1], kh, s[0], d[0], pads[0])
    wo = out_size(x.shape[2], kw, s[1], d[1], pads[1])
    out = np.zeros((x.shape[0], ho, wo, c, m))
    for i in range(ho):
        for j in range(wo):
            for a in range(kh):
                for b in range(kw):
                    pixel = xp[:, i * s[0] + a * d[0], j * s[1] + b * d[1], :]
                    out[:, i, j] += pixel[:, :, None] * w[a, b]
    return out.reshape(x.shape[0], ho, wo, c * m)


def ref_conv2d_transpose(y, w, out_shape, s, pads, d):
    """Each input pixel scatters ``w[a, b] @ y`` to the output pixel the forward conv read it from."""
    n, h, wd, c = out_shape
    (pt, pb), (pl, pr) = pads
    out = np.zeros((n, h + pt + pb, wd + pl + pr, c))
    for i in range(y.shape[1]):
        for j in range(y.shape[2]):
            for a in range(w.shape[0]):
                for b in range(w.shape[1]):
                    out[:, i * s[0] + a * d[0], j * s[1] + b * d[1], :] += y[:, i, j, :] @ w[a, b].T
    return out[:, pt : pt + h, pl : pl + wd, :]


def ref_pool(x, k, s, pads, reduce):
    """Pools over the window's non-padding inputs only (so padding never wins and never counts)."""
    n, h, w, c = x.shape
    ho, wo = out_size(h, k[0], s[0], 1, pads[0]), out_size(w, k[1], s[1], 1, pads[1])
    out = np.zeros((n, ho, wo, c))
    for i in range(ho):
        for j in range(wo):
            r0, c0 = i * s[0] - pads[0][0], j * s[1] - pads[1][0]
            window = x[:, max(r0, 0) : r0 + k[0], max(c0, 0) : c0 + k[1], :].astype(np.float64)
            out[:, i, j, :] = reduce(window, axis=(1, 2))
    return out


def directional_fd(f, x, v, eps):
    return (f(x + eps * v) - f(x - eps * v)) / (2 * eps)


def check_gradient(f, x, grad, rng, eps=1e-6, directions=3):
    """<grad, v> equals the central difference of scalar f along random directions v."""
    for _ in range(directions):
        v = rng.standard_normal(x.shape)
        np.testing.assert_allclose(np.sum(grad * v), directional_fd(f, x, v, eps), rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------- cases
# id, input NHWC shape, (kh, kw), out channels (conv2d) or multiplier (depthwise), strides, padding, dilations
CONV_CASES = [
    ("valid_3x3", (2, 5, 5, 3), (3, 3), 4, (1, 1), "VALID", (1, 1)),
    ("same_3x3", (2, 5, 5, 3), (3, 3), 4, (1, 1), "SAME", (1, 1)),
    ("same_stride2_odd_sizes", (1, 7, 6, 2), (3, 3), 3, (2, 2), "SAME", (1, 1)),
    ("valid_stride2_rect_kernel", (2, 8, 7, 2), (2, 3), 2, (2, 2), "VALID", (1, 1)),
    ("same_dilated", (1, 7, 7, 2), (3, 3), 2, (1, 1), "SAME", (2, 2)),
    ("valid_dilated_unequal", (2, 9, 8, 1), (2, 3), 3, (1, 1), "VALID", (2, 3)),
    ("same_even_kernel_unequal_strides", (1, 6, 7, 2), (4, 2), 2, (2, 3), "SAME", (1, 1)),
    ("explicit_padding", (1, 5, 4, 2), (3, 3), 2, (1, 2), [[0, 0], [1, 2], [0, 1], [0, 0]], (1, 1)),
    ("stride_and_dilation", (1, 9, 9, 2), (3, 3), 2, (2, 2), "SAME", (2, 2)),
    ("pointwise_1x1", (3, 4, 4, 5), (1, 1), 2, (1, 1), "VALID", (1, 1)),
    ("stride_larger_than_kernel", (1, 5, 5, 1), (1, 1), 1, (3, 3), "SAME", (1, 1)),
    # Four or more channels: the CPU's pixel-major column layout (fewer: tap-major).
    ("many_channels_strided_dilated", (2, 9, 8, 6), (3, 2), 4, (2, 1), "SAME", (2, 1)),
    # Stride 1, four or more channels, dy extended by at most 1.5x: the CPU's input gradient by
    # row ranges (nn._conv2d_backprop_input_by_rows).
    ("rows_valid_many_channels", (2, 12, 11, 4), (2, 2), 3, (1, 1), "VALID", (1, 1)),
    ("rows_explicit_padding", (2, 12, 12, 4), (3, 3), 2, (1, 1), [[0, 0], [1, 0], [0, 1], [0, 0]], (1, 1)),
    ("rows_dilated", (1, 12, 12, 5), (2, 2), 2, (1, 1), "VALID", (1, 2)),
]
CONV_IDS = [c[0] for c in CONV_CASES]


def conv_case(case, rng, depthwise=False, dtype=np.float64):
    _, xshape, k, out, s, padding, d = case
    x = rng.standard_normal(xshape).astype(dtype)
    w = rng.standard_normal((*k, xshape[3], out)).astype(dtype)
    pads = resolve(padding, xshape[1:3], k, s, d)
    return x, w, s, padding, d, pads


@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-5), (np.float64, 1e-12)], ids=["float32", "float64"])
def test_conv2d_matches_nested_loop_reference(device, rng, case, dtype, tol):
    x, w, s, padding, d, pads = conv_case(case, rng, dtype=dtype)
    got = gt.nn.conv2d(gt.constant(x), gt.constant(w), strides=list(s), padding=padding, dilations=list(d))
    assert got.dtype == gt.as_dtype(dtype)
    np.testing.assert_allclose(got.numpy(), ref_conv2d(x, w, s, pads, d), rtol=tol, atol=tol)


@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_depthwise_conv2d_matches_nested_loop_reference(device, rng, case):
    x, w, s, padding, d, pads = conv_case(case, rng)
    got = gt.nn.depthwise_conv2d(gt.constant(x), gt.constant(w), [1, *s, 1], padding, dilations=list(d))
    np.testing.assert_allclose(got.numpy(), ref_depthwise(x, w, s, pads, d), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [gt.float16, gt.bfloat16])
def test_conv2d_half_precision_is_close_to_float64(device, rng, dtype):
    x, w, s, padding, d, pads = conv_case(CONV_CASES[2], rng)
    xh, wh = gt.cast(gt.constant(x), dtype), gt.cast(gt.constant(w), dtype)
    got = gt.nn.conv2d(xh, wh, s, padding)
    assert got.dtype == dtype
    ref = ref_conv2d(gt.cast(xh, gt.float64).numpy(), gt.cast(wh, gt.float64).numpy(), s, pads, d)
    np.testing.assert_allclose(gt.cast(got, gt.float64).numpy(), ref, rtol=3e-2, atol=3e-2)


def test_separable_conv2d_is_depthwise_then_pointwise(device, rng):
    x = rng.standard_normal((2, 6, 5, 3))
    dw = rng.standard_normal((3, 3, 3, 2))
    pw = rng.standard_normal((1, 1, 6, 4))
    got = gt.nn.separable_conv2d(gt.constant(x), gt.constant(dw), gt.constant(pw), [1, 2, 2, 1], "SAME")
    pads = resolve("SAME", (6, 5), (3, 3), (2, 2), (1, 1))
    ref = ref_depthwise(x, dw, (2, 2), pads, (1, 1)) @ pw[0, 0]
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-12, atol=1e-12)


# conv2d_transpose: (id, output NHWC shape, (kh, kw), input channels, strides, padding, dilations)
TRANSPOSE_CASES = [
    ("same_stride2", (2, 8, 8, 3), (3, 3), 4, (2, 2), "SAME", (1, 1)),
    ("same_stride2_odd_output", (1, 7, 5, 2), (3, 3), 3, (2, 2), "SAME", (1, 1)),
    ("valid_stride1", (1, 6, 6, 2), (3, 3), 2, (1, 1), "VALID", (1, 1)),
    ("valid_stride3_rect", (2, 8, 9, 1), (2, 3), 2, (3, 3), "VALID", (1, 1)),
    ("same_dilated", (1, 7, 7, 2), (3, 3), 2, (1, 1), "SAME", (2, 2)),
    ("valid_stride2_last_row_unread", (1, 8, 8, 1), (3, 3), 2, (2, 2), "VALID", (1, 1)),
    ("explicit_padding", (1, 6, 5, 2), (3, 2), 2, (2, 1), [[0, 0], [1, 0], [2, 1], [0, 0]], (1, 1)),
]


@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=[c[0] for c in TRANSPOSE_CASES])
def test_conv2d_transpose_matches_scatter_reference(device, rng, case):
    _, oshape, k, cin, s, padding, d = case
    pads = resolve(padding, oshape[1:3], k, s, d)
    ishape = (oshape[0], out_size(oshape[1], k[0], s[0], d[0], pads[0]),
              out_size(oshape[2], k[1], s[1], d[1], pads[1]), cin)  # fmt: skip
    y = rng.standard_normal(ishape)
    w = rng.standard_normal((*k, oshape[3], cin))
    got = gt.nn.conv2d_transpose(gt.constant(y), gt.constant(w), list(oshape), s, padding, dilations=d)
    assert tuple(got.shape) == oshape
    np.testing.assert_allclose(
        got.numpy(), ref_conv2d_transpose(y, w, oshape, s, pads, d), rtol=1e-12, atol=1e-12
    )


def _conv_attrs(x, w, s, pads, d):
    return {"strides": tuple(s), "padding": pads, "dilations": tuple(d)}


@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
@pytest.mark.parametrize(
    "forward,prefix",
    [(ref_conv2d, "conv2d"), (ref_depthwise, "depthwise_conv2d")],
    ids=["conv2d", "depthwise"],
)
def test_conv_backprop_primitives_match_finite_differences(device, rng, case, forward, prefix):
    x, w, s, padding, d, pads = conv_case(case, rng)
    dy = rng.standard_normal(forward(x, w, s, pads, d).shape)
    attrs = _conv_attrs(x, w, s, pads, d)
    dx = execute(OPS[f"{prefix}_backprop_input"], (gt.constant(w), gt.constant(dy)),
                 {"input_sizes": x.shape, **attrs}).numpy()  # fmt: skip
    dw = execute(OPS[f"{prefix}_backprop_filter"], (gt.constant(x), gt.constant(dy)),
                 {"filter_sizes": w.shape, **attrs}).numpy()  # fmt: skip
    assert dx.shape == x.shape and dw.shape == w.shape
    check_gradient(lambda v: np.sum(forward(v, w, s, pads, d) * dy), x, dx, rng, eps=1.0)
    check_gradient(lambda v: np.sum(forward(x, v, s, pads, d) * dy), w, dw, rng, eps=1.0)


@pytest.mark.parametrize("case", [c for c in CONV_CASES if c[0].startswith("rows_")], ids=lambda c: c[0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cpu_input_gradient_by_rows_matches_the_per_tap_route(monkeypatch, rng, case, dtype):
    from gputensor.backend.cpu import blas
    from gputensor.backend.cpu import nn as cpu_nn

    x, w, s, padding, d, pads = conv_case(case, rng, dtype=dtype)
    dy = rng.standard_normal(ref_conv2d(x, w, s, pads, d).shape).astype(dtype)
    rows = cpu_nn._conv2d_backprop_input_by_rows(w, dy, x.shape, pads, tuple(d))
    if blas.gemm_function(dtype) is None:  # NumPy on another BLAS: the route must step aside
        assert rows is None
        return
    monkeypatch.setattr(blas, "_gemm", {})  # the per-tap products and strided adds
    per_tap = cpu_nn._conv2d_backprop_input(
        w, dy, input_sizes=x.shape, strides=tuple(s), padding=pads, dilations=tuple(d)
    )
    assert rows is not None and rows.shape == x.shape
    np.testing.assert_allclose(rows, per_tap, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


@pytest.mark.parametrize("op,layout", [("conv2d", "HWIO"), ("depthwise_conv2d", "HWCM")])
def test_backprop_primitives_keep_half_precision_dtype(device, rng, op, layout):
    x, w, s, padding, d, pads = conv_case(CONV_CASES[1], rng, dtype=np.float16)
    dy = rng.standard_normal(ref_conv2d(x, w, s, pads, d).shape if op == "conv2d" else
                             ref_depthwise(x, w, s, pads, d).shape).astype(np.float16)  # fmt: skip
    attrs = _conv_attrs(x, w, s, pads, d)
    dx = execute(
        OPS[f"{op}_backprop_input"], (gt.constant(w), gt.constant(dy)), {"input_sizes": x.shape, **attrs}
    )
    dw = execute(
        OPS[f"{op}_backprop_filter"], (gt.constant(x), gt.constant(dy)), {"filter_sizes": w.shape, **attrs}
    )
    assert dx.dtype == gt.float16 and dw.dtype == gt.float16
    assert np.all(np.isfinite(dx.numpy())) and np.all(np.isfinite(dw.numpy()))


# ---------------------------------------------------------------------- pooling
# id, input shape, ksize, strides, padding
POOL_CASES = [
    ("valid_2x2_stride2", (2, 6, 6, 3), (2, 2), (2, 2), "VALID"),
    ("same_3x3_stride2_odd", (1, 7, 5, 2), (3, 3), (2, 2), "SAME"),
    ("same_3x3_stride1_overlapping", (2, 5, 5, 1), (3, 3), (1, 1), "SAME"),
    ("valid_rect_unequal_strides", (1, 7, 8, 2), (2, 3), (1, 2), "VALID"),
    ("same_window_equal_to_stride", (1, 4, 4, 2), (3, 3), (3, 3), "SAME"),
    ("same_stride_larger_than_window", (1, 7, 8, 1), (2, 2), (3, 3), "SAME"),
    ("global", (2, 4, 3, 2), (4, 3), (1, 1), "VALID"),
    ("valid_tiles_crop_rows_and_columns", (2, 7, 8, 3), (2, 3), (2, 3), "VALID"),
]
POOL_IDS = [c[0] for c in POOL_CASES]


@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-6), (np.float64, 1e-12)], ids=["float32", "float64"])
def test_max_and_avg_pool2d_match_window_reference(device, rng, case, dtype, tol):
    _, shape, k, s, padding = case
    x = rng.standard_normal(shape).astype(dtype)
    pads = resolve(padding, shape[1:3], k, s, (1, 1))
    got_max = gt.nn.max_pool2d(gt.constant(x), list(k), list(s), padding)
    got_avg = gt.nn.avg_pool2d(gt.constant(x), [1, *k, 1], [1, *s, 1], padding)
    np.testing.assert_allclose(got_max.numpy(), ref_pool(x, k, s, pads, np.max), rtol=tol, atol=tol)
    np.testing.assert_allclose(got_avg.numpy(), ref_pool(x, k, s, pads, np.mean), rtol=tol, atol=tol)
    assert got_max.dtype == got_avg.dtype == gt.as_dtype(dtype)


def test_max_pool_with_explicit_padding_never_picks_the_padding(device):
    x = -np.arange(1, 17, dtype=np.float32).reshape(1, 4, 4, 1)  # all negative: zero padding would win
    got = gt.nn.max_pool2d(gt.constant(x), 2, 2, [[0, 0], [1, 1], [1, 1], [0, 0]])
    pads = ((1, 1), (1, 1))
    np.testing.assert_array_equal(got.numpy(), ref_pool(x, (2, 2), (2, 2), pads, np.max))


@pytest.mark.parametrize("dtype", [gt.int32, gt.uint8, gt.float16])
def test_max_pool2d_takes_integer_and_half_inputs(device, rng, dtype):
    x = rng.integers(0, 100, (1, 5, 5, 2))
    got = gt.nn.max_pool2d(gt.cast(gt.constant(x), dtype), 3, 2, "SAME")
    assert got.dtype == dtype
    np.testing.assert_array_equal(got.numpy(), ref_pool(x, (3, 3), (2, 2), ((1, 1), (1, 1)), np.max))


@pytest.mark.parametrize("dtype", [gt.float16, gt.bfloat16])
def test_avg_pool2d_half_precision_is_close_to_float64(device, rng, dtype):
    xh = gt.cast(gt.constant(rng.standard_normal((2, 7, 6, 3))), dtype)
    got = gt.nn.avg_pool2d(xh, 3, 2, "SAME")
    assert got.dtype == dtype
    ref = ref_pool(gt.cast(xh, gt.float64).numpy(), (3, 3), (2, 2), resolve("SAME", (7, 6), (3, 3), (2, 2), (1, 1)),
                   np.mean)  # fmt: skip
    np.testing.assert_allclose(gt.cast(got, gt.float64).numpy(), ref, rtol=2e-2, atol=2e-2)


def test_primitives_leave_their_inputs_unchanged(device, rng):
    x, w = rng.standard_normal((2, 5, 5, 3)), rng.standard_normal((3, 3, 3, 2))
    tx, tw = gt.constant(x), gt.constant(w)
    gt.nn.conv2d(tx, tw, 2, "SAME")
    gt.nn.depthwise_conv2d(tx, tw, 1, "VALID")
    gt.nn.max_pool2d(tx, 2, 1, "SAME")
    gt.nn.avg_pool2d(tx, 3, 2, "SAME")
    np.testing.assert_array_equal(tx.numpy(), x)
    np.testing.assert_array_equal(tw.numpy(), w)


def test_max_pool_and_avg_pool_are_the_2d_pools_for_rank_4(device, rng):
    x = gt.constant(rng.standard_normal((1, 4, 4, 2)))
    np.testing.assert_array_equal(
        gt.nn.max_pool(x, 2, 2, "VALID").numpy(), gt.nn.max_pool2d(x, 2, 2, "VALID").numpy()
    )
    np.testing.assert_array_equal(
        gt.nn.avg_pool(x, 2, 1, "SAME").numpy(), gt.nn.avg_pool2d(x, 2, 1, "SAME").numpy()
    )


@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
def test_pool_grad_primitives_match_finite_differences(device, rng, case):
    _, shape, k, s, padding = case
    x = rng.standard_normal(shape)
    pads = resolve(padding, shape[1:3], k, s, (1, 1))
    y = ref_pool(x, k, s, pads, np.max)
    dy = rng.standard_normal(y.shape)
    attrs = {"ksize": k, "strides": s, "padding": pads}
    dx_max = execute(OPS["max_pool2d_grad"], (gt.constant(x), gt.constant(y), gt.constant(dy)), attrs).numpy()
    dx_avg = execute(OPS["avg_pool2d_grad"], (gt.constant(dy),), {"orig_input_shape": shape, **attrs}).numpy()
    check_gradient(lambda v: np.sum(ref_pool(v, k, s, pads, np.max) * dy), x, dx_max, rng)
    check_gradient(lambda v: np.sum(ref_pool(v, k, s, pads, np.mean) * dy), x, dx_avg, rng, eps=1.0)


def test_max_pool2d_grad_sends_a_tied_window_gradient_to_its_first_maximum(device):
    x = np.ones((1, 2, 2, 1))
    attrs = {"ksize": (2, 2), "strides": (2, 2), "padding": ((0, 0), (0, 0))}
    dx = execute(OPS["max_pool2d_grad"], (gt.constant(x), gt.constant(np.ones((1, 1, 1, 1))),
                                          gt.constant(np.full((1, 1, 1, 1), 5.0))), attrs)  # fmt: skip
    np.testing.assert_array_equal(dx.numpy()[0, :, :, 0], [[5.0, 0.0], [0.0, 0.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tiled_max_pool2d_grad_takes_the_general_route_for_a_nan_and_a_tie(device, dtype):
    # One window's NaN maximum (no element equals it) and another's tie (two elements do)
    # leave as many hits as windows: the tiled route must still see that it cannot route.
    x = np.arange(16, dtype=dtype).reshape(1, 4, 4, 1)
    x[0, 0, 1, 0] = np.nan
    x[0, 3, 2, 0] = 15.0  # ties with x[0, 3, 3]
    y = ref_pool(x, (2, 2), (2, 2), ((0, 0), (0, 0)), np.max)
    dy = np.arange(1, 5, dtype=dtype).reshape(1, 2, 2, 1)
    attrs = {"ksize": (2, 2), "strides": (2, 2), "padding": ((0, 0), (0, 0))}
    dx = execute(OPS["max_pool2d_grad"], (gt.constant(x), gt.constant(y), gt.constant(dy)), attrs).numpy()
    np.testing.assert_array_equal(dx, ref_max_pool_grad(x, dy, (2, 2), (2, 2), ((0, 0), (0, 0))))


@pytest.mark.parametrize("k,s", [((2, 2), (2, 2)), ((3, 3), (1, 1))], ids=["tiled", "overlapping"])
def test_a_nan_or_infinite_pooled_gradient_goes_to_its_maximum_only(device, rng, k, s):
    x = rng.standard_normal((1, 6, 6, 2)).astype(np.float32)
    pads = ((0, 0), (0, 0))
    y = ref_pool(x, k, s, pads, np.max).astype(np.float32)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dy[0, 0, 0, 0], dy[0, 1, 1, 1] = np.nan, np.inf
    attrs = {"ksize": k, "strides": s, "padding": pads}
    dx = execute(OPS["max_pool2d_grad"], (gt.constant(x), gt.constant(y), gt.constant(dy)), attrs).numpy()
    expected = ref_max_pool_grad(x, dy, k, s, pads)
    np.testing.assert_array_equal(np.isnan(dx), np.isnan(expected))
    np.testing.assert_allclose(dx, expected, rtol=1e-6, atol=1e-6)


def ref_max_pool_grad(x, dy, k, s, pads):
    """Each window's gradient to its first maximum in row-major order (a NaN, if any, is the
    maximum), never to padding: TF's CPU MaxPoolGrad, window by window."""
    n, h, w, c = x.shape
    dx = np.zeros(x.shape)
    for b in range(n):
        for ch in range(c):
            for i in range(dy.shape[1]):
                for j in range(dy.shape[2]):
                    r0, c0 = i * s[0] - pads[0][0], j * s[1] - pads[1][0]
                    cells = [(r, q) for r in range(max(r0, 0), min(r0 + k[0], h))
                             for q in range(max(c0, 0), min(c0 + k[1], w))]  # fmt: skip
                    values = np.array([x[b, r, q, ch] for r, q in cells])
                    first = np.flatnonzero(np.isnan(values))
                    at = first[0] if first.size else int(np.argmax(values))
                    dx[b, cells[at][0], cells[at][1], ch] += dy[b, i, j, ch]
    return dx


@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
def test_max_pool2d_grad_routes_ties_and_nans_like_tf(device, rng, case):
    # Few distinct values (and the zeros a ReLU makes) tie inside and across windows; NaNs win.
    _, shape, k, s, padding = case
    x = rng.integers(-1, 2, shape).astype(np.float32)
    x.reshape(-1)[rng.choice(x.size, max(1, x.size // 15), replace=False)] = np.nan
    pads = resolve(padding, shape[1:3], k, s, (1, 1))
    y = ref_pool(x, k, s, pads, np.max).astype(np.float32)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    attrs = {"ksize": k, "strides": s, "padding": pads}
    dx = execute(OPS["max_pool2d_grad"], (gt.constant(x), gt.constant(y), gt.constant(dy)), attrs).numpy()
    np.testing.assert_allclose(dx, ref_max_pool_grad(x, dy, k, s, pads), rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- argument forms
@pytest.mark.parametrize(
    "strides,dilations",
    [(2, 1), ([2], [1]), ([2, 2], [1, 1]), ([1, 2, 2, 1], [1, 1, 1, 1]), ((2, 2), None)],
)
def test_conv2d_accepts_tf_forms_of_strides_and_dilations(device, rng, strides, dilations):
    x, w = rng.standard_normal((1, 5, 5, 2)), rng.standard_normal((3, 3, 2, 2))
    got = gt.nn.conv2d(gt.constant(x), gt.constant(w), strides, "SAME", dilations=dilations)
    pads = resolve("SAME", (5, 5), (3, 3), (2, 2), (1, 1))
    np.testing.assert_allclose(got.numpy(), ref_conv2d(x, w, (2, 2), pads, (1, 1)), rtol=1e-12, atol=1e-12)


def test_conv2d_accepts_lowercase_padding_and_variables(device, rng):
    x, w = rng.standard_normal((1, 4, 4, 1)), rng.standard_normal((2, 2, 1, 1))
    got = gt.nn.conv2d(gt.Variable(x), gt.Variable(w), 1, "same")
    pads = resolve("SAME", (4, 4), (2, 2), (1, 1), (1, 1))
    np.testing.assert_allclose(got.numpy(), ref_conv2d(x, w, (1, 1), pads, (1, 1)), rtol=1e-12)


def test_conv2d_and_pools_with_nchw_data_format_match_nhwc(device, rng):
    x, w = rng.standard_normal((2, 6, 5, 3)), rng.standard_normal((3, 3, 3, 4))
    nchw = gt.constant(x.transpose(0, 3, 1, 2))
    got = gt.nn.conv2d(nchw, gt.constant(w), [1, 1, 2, 2], "SAME", data_format="NCHW")
    pads = resolve("SAME", (6, 5), (3, 3), (2, 2), (1, 1))
    ref = ref_conv2d(x, w, (2, 2), pads, (1, 1)).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-12, atol=1e-12)
    pooled = gt.nn.max_pool2d(nchw, [1, 1, 2, 2], [1, 1, 2, 2], "VALID", data_format="NCHW")
    ref_pooled = ref_pool(x, (2, 2), (2, 2), ((0, 0), (0, 0)), np.max).transpose(0, 3, 1, 2)
    np.testing.assert_array_equal(pooled.numpy(), ref_pooled)


# ------------------------------------------------------------------------ errors
def _conv(x_shape, w_shape, **kw):
    args = {"strides": 1, "padding": "SAME", **kw}
    return lambda: gt.nn.conv2d(np.zeros(x_shape, np.float32), np.zeros(w_shape, np.float32), **args)


ERROR_CASES = [
    ("conv2d_input_rank_3", _conv((5, 5, 3), (3, 3, 3, 8)), gt.errors.InvalidArgumentError, "4-D NHWC"),
    (
        "conv2d_filter_rank_2",
        _conv((1, 5, 5, 3), (3, 8)),
        gt.errors.InvalidArgumentError,
        "filter must be 4-D",
    ),
    (
        "conv2d_channel_mismatch",
        _conv((1, 5, 5, 3), (3, 3, 4, 8)),
        gt.errors.InvalidArgumentError,
        r"conv2d: input has 3 channels but filter expects 4 \(filter shape \(3, 3, 4, 8\), HWIO\)",
    ),
    (
        "conv2d_bad_padding",
        _conv((1, 5, 5, 3), (3, 3, 3, 8), padding="FULL"),
        gt.errors.InvalidArgumentError,
        "padding must be 'SAME', 'VALID'",
    ),  # fmt: skip
    (
        "conv2d_bad_explicit_padding",
        _conv((1, 5, 5, 3), (3, 3, 3, 8), padding=[[1, 1], [1, 1]]),
        gt.errors.InvalidArgumentError,
        "explicit padding",
    ),  # fmt: skip
    (
        "conv2d_zero_stride",
        _conv((1, 5, 5, 3), (3, 3, 3, 8), strides=0),
        gt.errors.InvalidArgumentError,
        "strides must be positive",
    ),  # fmt: skip
    (
        "conv2d_batch_stride",
        _conv((1, 5, 5, 3), (3, 3, 3, 8), strides=[2, 1, 1, 1]),
        gt.errors.InvalidArgumentError,
        "batch and channel",
    ),  # fmt: skip
    (
        "conv2d_window_too_large",
        _conv((1, 2, 2, 3), (3, 3, 3, 8), padding="VALID"),
        gt.errors.InvalidArgumentError,
        "window spans 3 in height",
    ),  # fmt: skip
    (
        "conv2d_bad_data_format",
        _conv((1, 5, 5, 3), (3, 3, 3, 8), data_format="HWCN"),
        gt.errors.InvalidArgumentError,
        "data_format",
    ),  # fmt: skip
    (
        "conv2d_integer_input",
        lambda: gt.nn.conv2d(np.zeros((1, 3, 3, 1), np.int32), np.zeros((1, 1, 1, 1), np.int32), 1, "SAME"),
        gt.errors.InvalidArgumentError,
        "int32",
    ),
    (
        "conv2d_mixed_dtypes",
        lambda: gt.nn.conv2d(np.zeros((1, 3, 3, 1), np.float32), np.zeros((1, 1, 1, 1)), 1, "SAME"),
        gt.errors.InvalidArgumentError,
        "float32 but the filter has dtype float64",
    ),
    (
        "depthwise_channel_mismatch",
        lambda: gt.nn.depthwise_conv2d(
            np.zeros((1, 5, 5, 2), np.float32), np.zeros((3, 3, 3, 1), np.float32), 1, "SAME"
        ),  # fmt: skip
        gt.errors.InvalidArgumentError,
        "input has 2 channels but filter expects 3",
    ),
    (
        "separable_pointwise_wrong_channels",
        lambda: gt.nn.separable_conv2d(
            np.zeros((1, 5, 5, 2), np.float32),
            np.zeros((3, 3, 2, 2), np.float32),
            np.zeros((1, 1, 3, 4), np.float32),
            1,
            "SAME",
        ),  # fmt: skip
        gt.errors.InvalidArgumentError,
        r"pointwise_filter must have shape \[1, 1, 4, out_channels\]",
    ),
    (
        "conv2d_transpose_inconsistent_output_shape",
        lambda: gt.nn.conv2d_transpose(
            np.zeros((1, 4, 4, 2), np.float32), np.zeros((3, 3, 1, 2), np.float32), [1, 12, 12, 1], 2, "SAME"
        ),  # fmt: skip
        gt.errors.InvalidArgumentError,
        r"convolves .* to spatial size \(6, 6\), but input has spatial size \(4, 4\)",
    ),
    (
        "conv2d_transpose_channel_mismatch",
        lambda: gt.nn.conv2d_transpose(
            np.zeros((1, 4, 4, 2), np.float32), np.zeros((3, 3, 1, 3), np.float32), [1, 8, 8, 1], 2, "SAME"
        ),  # fmt: skip
        gt.errors.InvalidArgumentError,
        "disagree",
    ),
    (
        "max_pool2d_rank_3",
        lambda: gt.nn.max_pool2d(np.zeros((4, 4, 1), np.float32), 2, 2, "VALID"),
        gt.errors.InvalidArgumentError,
        "4-D NHWC",
    ),
    (
        "avg_pool2d_explicit_padding",
        lambda: gt.nn.avg_pool2d(np.zeros((1, 4, 4, 1), np.float32), 2, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]),
        gt.errors.InvalidArgumentError,
        "padding must be 'SAME' or 'VALID'",
    ),
    (
        "avg_pool2d_integer_input",
        lambda: gt.nn.avg_pool2d(np.zeros((1, 4, 4, 1), np.int32), 2, 2, "VALID"),
        gt.errors.InvalidArgumentError,
        "int32",
    ),
    (
        "max_pool_rank_5",
        lambda: gt.nn.max_pool(np.zeros((1, 2, 4, 4, 1), np.float32), 2, 2, "VALID"),
        gt.errors.InvalidArgumentError,
        "2-D images only",
    ),
]


@pytest.mark.parametrize("make,error,match", [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_bad_conv_and_pool_arguments_raise_tf_errors_naming_the_problem(device, make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_invalid_argument_error_is_a_value_error():
    assert issubclass(gt.errors.InvalidArgumentError, ValueError)


def test_depthwise_and_transpose_with_nchw_data_format_match_nhwc(device, rng):
    x, dw = rng.standard_normal((1, 5, 6, 2)), rng.standard_normal((3, 3, 2, 2))
    pads = resolve("SAME", (5, 6), (3, 3), (2, 2), (1, 1))
    got = gt.nn.depthwise_conv2d(gt.constant(x.transpose(0, 3, 1, 2)), gt.constant(dw), [1, 1, 2, 2], "SAME",
                                 data_format="NCHW")  # fmt: skip
    np.testing.assert_allclose(got.numpy(), ref_depthwise(x, dw, (2, 2), pads, (1, 1)).transpose(0, 3, 1, 2),
                               rtol=1e-12, atol=1e-12)  # fmt: skip
    y, w = rng.standard_normal((1, 3, 3, 4)), rng.standard_normal((3, 3, 2, 4))
    got_t = gt.nn.conv2d_transpose(gt.constant(y.transpose(0, 3, 1, 2)), gt.constant(w), [1, 2, 5, 6], 2, "SAME",
                                   data_format="NCHW")  # fmt: skip
    ref_t = ref_conv2d_transpose(y, w, (1, 5, 6, 2), (2, 2), pads, (1, 1)).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(got_t.numpy(), ref_t, rtol=1e-12, atol=1e-12)


def test_separable_conv2d_with_dilations(device, rng):
    x, dw, pw = (
        rng.standard_normal((1, 7, 7, 2)),
        rng.standard_normal((2, 2, 2, 3)),
        rng.standard_normal((1, 1, 6, 2)),
    )
    got = gt.nn.separable_conv2d(
        gt.constant(x), gt.constant(dw), gt.constant(pw), 1, "VALID", dilations=[3, 2]
    )
    ref = ref_depthwise(x, dw, (1, 1), ((0, 0), (0, 0)), (3, 2)) @ pw[0, 0]
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-12, atol=1e-12)


def test_conv2d_transpose_in_a_trace_with_an_unknown_batch():
    # The output_shape's batch is a symbolic scalar: the kernel takes the input's batch.
    rng = np.random.RandomState(0)
    w = rng.randn(3, 3, 2, 4).astype("float32")

    @gt.function(input_signature=[gt.TensorSpec([None, 5, 5, 4], gt.float32)])
    def up(x):
        out = [gt.shape(x)[0], 10, 10, 2]
        return gt.nn.conv2d_transpose(x, w, out, 2, "SAME")

    for n in (1, 3):
        x = rng.randn(n, 5, 5, 4).astype("float32")
        want = gt.nn.conv2d_transpose(x, w, [n, 10, 10, 2], 2, "SAME").numpy()
        np.testing.assert_allclose(up(x).numpy(), want, rtol=1e-5, atol=1e-6)
