"""gt.onnx.export of the gradient ops a CNN training step needs (pooling and slice gradients)
and of cumprod: onnxruntime runs the exported model and gives what gputensor gives."""

from __future__ import annotations

import numpy as np
import onnxruntime
import pytest

import gputensor as gt

RNG = np.random.default_rng(11)


def _session(fn, specs, path):
    model = gt.onnx.export(fn, str(path), specs)
    return model, onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _run(session, values):
    return session.run(None, {i.name: v for i, v in zip(session.get_inputs(), values)})


def _compare(got, want, rtol=1e-5, atol=1e-6):
    want = want if isinstance(want, (list, tuple)) else [want]
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        w = w.numpy()
        assert g.dtype == w.dtype and g.shape == w.shape, (
            f"output {k}: {g.dtype}{g.shape} vs {w.dtype}{w.shape}"
        )
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"output {k}")


# ------------------------------------------------------------------ pooling gradients
def _pool_step(pool, ksize, strides, padding):
    def step(x, dy):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = pool(x, ksize, strides, padding)
        return y, tape.gradient(y, x, output_gradients=dy)

    return step


EXPLICIT = [[0, 0], [1, 0], [0, 2], [0, 0]]
POOLS = [
    (2, 2, "VALID"),  # windows tile the input
    (3, 2, "SAME"),  # overlapping windows (stride < ksize) add; SAME pads one side more
    (3, 1, "SAME"),
    ((2, 3), (1, 2), "VALID"),
    (2, 3, "SAME"),  # stride > ksize: inputs no window covers get nothing
    (3, 3, "SAME"),
    (1, 1, "VALID"),
]
# TF's avg_pool takes only "SAME"/"VALID"; max_pool also explicit pairs.
POOL_CASES = [(p, *c) for p in (gt.nn.max_pool2d, gt.nn.avg_pool2d) for c in POOLS]
POOL_CASES.append((gt.nn.max_pool2d, 3, 2, EXPLICIT))


@pytest.mark.parametrize(
    "pool, ksize, strides, padding",
    POOL_CASES,
    ids=[
        f"{c[0].__name__}-{c[1]}-{c[2]}-{c[3] if isinstance(c[3], str) else 'explicit'}" for c in POOL_CASES
    ],
)
def test_pooling_gradients_export(pool, ksize, strides, padding, tmp_path):
    shape = (2, 7, 6, 3)
    # Rounded values: windows with several equal maxima, where only the first may take the gradient.
    x = np.round(RNG.standard_normal(shape) * 1.5).astype(np.float32)
    step = _pool_step(pool, ksize, strides, padding)
    y_shape = pool(gt.constant(x), ksize, strides, padding).shape
    dy = RNG.standard_normal(y_shape).astype(np.float32)
    specs = [gt.TensorSpec(shape, gt.float32), gt.TensorSpec(y_shape, gt.float32)]
    model, session = _session(step, specs, tmp_path / "pool.onnx")
    grad_op = "max_pool2d_grad" if pool is gt.nn.max_pool2d else "avg_pool2d_grad"
    assert grad_op in {n.type for n in gt.function(step).get_concrete_function(*specs).graph.operations}
    got = _run(session, [x, dy])
    _compare(got, step(gt.constant(x), gt.constant(dy)))
    if pool is gt.nn.max_pool2d:
        want = _numpy_max_pool_grad(x, dy, ksize, strides, padding)
        np.testing.assert_array_equal(got[1] != 0, want != 0)  # the same inputs take gradient
        np.testing.assert_allclose(got[1], want, rtol=1e-6, atol=1e-7)


def _pairs(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _numpy_max_pool_grad(x, dy, ksize, strides, padding):
    """Each window's gradient to its first maximum in row-major order (never to padding)."""
    (kh, kw), (sh, sw) = _pairs(ksize), _pairs(strides)
    n, h, w, c = x.shape
    ho, wo = dy.shape[1:3]
    if isinstance(padding, list):
        top, left = padding[1][0], padding[2][0]
    elif padding == "SAME":
        top = max((ho - 1) * sh + kh - h, 0) // 2
        left = max((wo - 1) * sw + kw - w, 0) // 2
    else:
        top = left = 0
    out = np.zeros(x.shape, np.float64)
    for b in range(n):
        for ch in range(c):
            for p in range(ho):
                for q in range(wo):
                    best, at = -np.inf, None
                    for i in range(kh):
                        for j in range(kw):
                            r, s = p * sh + i - top, q * sw + j - left
                            if 0 <= r < h and 0 <= s < w and (at is None or x[b, r, s, ch] > best):
                                best, at = x[b, r, s, ch], (r, s)
                    out[b, at[0], at[1], ch] += dy[b, p, q, ch]
    return out.astype(x.dtype)


def test_max_pool_gradient_with_nan_windows_and_a_none_batch(tmp_path):
    # A window holding NaN has maximum NaN (the exported MaxPool too) and routes its gradient
    # to its first NaN; the batch dim is symbolic in the model.
    padding = [[0, 0], [1, 0], [0, 2], [0, 0]]
    step = _pool_step(gt.nn.max_pool2d, 3, 2, padding)
    specs = [gt.TensorSpec((None, 6, 5, 2), gt.float64), gt.TensorSpec((None, 3, 3, 2), gt.float64)]
    _, session = _session(step, specs, tmp_path / "nan.onnx")
    for n in (1, 3):
        x = np.round(RNG.standard_normal((n, 6, 5, 2)))
        x[0, 1, 1, 0] = np.nan
        x[-1, 2:4, 0:3, 1] = np.nan
        dy = RNG.standard_normal((n, 3, 3, 2))
        got = _run(session, [x, dy])
        want = step(gt.constant(x), gt.constant(dy))
        assert np.isnan(got[0]).any()
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w.numpy())


def test_pooling_gradients_with_none_spatial_dims_are_refused_by_name(tmp_path):
    # The public pools do not trace with None H/W yet; the gradient ops, run directly, do.
    from gputensor.framework.op_table import OPS, execute

    window = {"ksize": (2, 2), "strides": (2, 2), "padding": ((0, 0), (0, 0))}

    def avg(dy):
        return execute(OPS["avg_pool2d_grad"], (dy,), {"orig_input_shape": (1, None, None, 2), **window})

    def max_(x, y, dy):
        return execute(OPS["max_pool2d_grad"], (x, y, dy), window)

    path = str(tmp_path / "m.onnx")
    with pytest.raises(gt.errors.UnimplementedError, match=r"'avg_pool2d_grad' with None spatial dims"):
        gt.onnx.export(avg, path, [gt.TensorSpec((1, None, None, 2), gt.float32)])
    specs = [gt.TensorSpec(s, gt.float32) for s in [(1, None, 4, 2), (1, None, 2, 2), (1, None, 2, 2)]]
    with pytest.raises(
        gt.errors.UnimplementedError, match=r"'max_pool2d_grad' with None spatial dims.*give H and W"
    ):
        gt.onnx.export(max_, path, specs)
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ slice gradients
SLICES = [
    lambda x: x[:, 1::2],
    lambda x: x[1:-1, ::-2],
    lambda x: x[..., 2],
    lambda x: x[:, None, 1:3],
    lambda x: x[-1, :4:3],
    lambda x: x[::-1, -2:],
    lambda x: x[3:, 1:100],  # bounds past the end clamp; empty on a short run
]


@pytest.mark.parametrize("index", range(len(SLICES)))
@pytest.mark.parametrize("spec", [(None, 5), (None, None), (4, 5)], ids=["none_rows", "none_both", "static"])
def test_slice_gradients_export(index, spec, tmp_path):
    def step(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            loss = gt.reduce_sum(gt.sin(SLICES[index](x)))
        return tape.gradient(loss, x)

    _, session = _session(step, [gt.TensorSpec(spec, gt.float32)], tmp_path / "slice.onnx")
    ops = {
        n.type
        for n in gt.function(step).get_concrete_function(gt.TensorSpec(spec, gt.float32)).graph.operations
    }
    assert ("dynamic_strided_slice_grad" in ops) == (None in spec)
    shapes = [(4, 5)] if None not in spec else [(4, 5), (2, 5), (7, 5)] if spec[1] == 5 else [(4, 5), (3, 9)]
    for shape in shapes:
        x = RNG.standard_normal(shape).astype(np.float32)
        _compare(_run(session, [x]), step(gt.constant(x)))


# ------------------------------------------------------------------ cumprod
@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_cumprod_exports_exactly(axis, exclusive, reverse, tmp_path):
    def fn(x):
        return gt.math.cumprod(x, axis=axis, exclusive=exclusive, reverse=reverse)

    x = RNG.standard_normal((3, 4, 5)).astype(np.float32)
    x[0, 1, 2] = 0.0  # exp(cumsum(log x)) fails at zeros and negatives; the Scan does not
    model, session = _session(fn, [gt.TensorSpec(x.shape, gt.float32)], tmp_path / "cumprod.onnx")
    assert not {"Exp", "Log"} & {n.op_type for n in model.graph.node}
    got = _run(session, [x])[0]
    want = np.cumprod(np.flip(x, axis) if reverse else x, axis=axis)
    if exclusive:
        want = np.concatenate([np.ones_like(np.take(want, [0], axis)), np.delete(want, -1, axis)], axis)
    want = np.flip(want, axis) if reverse else want
    np.testing.assert_array_equal(got, fn(gt.constant(x)).numpy())
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_cumprod_integers_specials_and_empty_inputs(tmp_path):
    f = lambda t: gt.math.cumprod(t, exclusive=True, reverse=True)  # noqa: E731
    _, session = _session(f, [gt.TensorSpec((6,), gt.int32)], tmp_path / "i.onnx")
    x = np.array([3, -2, 7, 1, 5, 4], np.int32)
    got = _run(session, [x])[0]
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, [-280, 140, 20, 20, 4, 1])

    g = lambda t: gt.math.cumprod(t, axis=1)  # noqa: E731
    _, session = _session(g, [gt.TensorSpec((None, None), gt.float64)], tmp_path / "f.onnx")
    for x in (
        np.array([[2.0, np.inf, 0.0, np.nan, -1.0], [0.5, -3.0, 1e300, 1e10, 2.0]]),
        np.zeros((2, 0)),  # onnxruntime's Scan crashes on empty inputs: the form passes them by
        np.zeros((0, 3)),
    ):
        got = _run(session, [x])[0]
        assert got.shape == x.shape
        with np.errstate(over="ignore", invalid="ignore"):  # inf * 0 and 1e300 * 1e10, on purpose
            np.testing.assert_array_equal(got, g(gt.constant(x)).numpy())
            np.testing.assert_array_equal(got, np.cumprod(x, axis=1))


# ------------------------------------------------------------------ a CNN training step
CK = gt.Variable(RNG.standard_normal((3, 3, 2, 4)).astype(np.float32) * 0.4)
CB = gt.Variable(RNG.standard_normal(4).astype(np.float32) * 0.1)
DW = gt.Variable(RNG.standard_normal((2 * 2 * 4, 5)).astype(np.float32) * 0.3)
DB = gt.Variable(np.zeros(5, np.float32))


def cnn_train_step(x, labels):
    # Conv2D -> MaxPooling2D -> AveragePooling2D -> Dense, the loss and every gradient.
    with gt.GradientTape() as tape:
        h = gt.nn.relu(gt.nn.conv2d(x, CK, strides=1, padding="SAME") + CB)  # 10x9
        h = gt.nn.max_pool2d(h, 2, 2, "VALID")  # 5x4
        h = gt.nn.avg_pool2d(h, 3, 2, "SAME")  # 3x2: border windows average fewer inputs
        logits = gt.matmul(gt.reshape(h, [x.shape[0], -1])[:, :16], DW) + DB
        loss = gt.reduce_mean(gt.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
    return [loss, *tape.gradient(loss, [CK, CB, DW, DB])]


def test_a_cnn_training_step_with_pooling_exports(tmp_path):
    x = RNG.standard_normal((3, 10, 9, 2)).astype(np.float32)
    labels = RNG.integers(0, 5, 3).astype(np.int32)
    specs = [gt.TensorSpec(x.shape, gt.float32), gt.TensorSpec(labels.shape, gt.int32)]
    model, session = _session(cnn_train_step, specs, tmp_path / "step.onnx")
    ops = {n.type for n in gt.function(cnn_train_step).get_concrete_function(*specs).graph.operations}
    assert {"max_pool2d_grad", "avg_pool2d_grad", "conv2d_backprop_filter"} <= ops
    for _ in range(2):
        got = _run(session, [x, labels])
        _compare(got, gt.function(cnn_train_step)(gt.constant(x), gt.constant(labels)), rtol=1e-5, atol=1e-6)
        x = RNG.standard_normal(x.shape).astype(np.float32)


def test_reduce_prod_and_cumprod_gradients_export(tmp_path):
    # reduce_prod's gradient is two exclusive cumprods (the products left and right of each
    # element); cumprod's is a cumsum over x, as TF (NaN where x is 0, in both).
    def step(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            cum = gt.math.cumprod(x, axis=0, exclusive=True)
            loss = gt.reduce_sum(gt.math.reduce_prod(x, axis=1)) + gt.reduce_sum(cum * x)
        return loss, tape.gradient(loss, x)

    x = RNG.standard_normal((3, 4)).astype(np.float32)
    _, session = _session(step, [gt.TensorSpec(x.shape, gt.float32)], tmp_path / "prod.onnx")
    for zero in (False, True):
        if zero:
            x[1, 2] = 0.0
        with np.errstate(invalid="ignore", divide="ignore"):
            want = step(gt.constant(x))
        _compare(_run(session, [x]), want)
