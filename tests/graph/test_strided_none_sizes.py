"""Strided convolutions and pools over heights and widths that are None while tracing.

A gt.function with the serving signature of an image model (``[None, None, None, C]``) runs
SAME padding with a stride over 1, whose padding depends on the size, and the input gradients
of strided convolutions and average pools, where several sizes give the same output size:
both are resolved at run time from the input, as TF 2.21 does. Each traced function is called
at several sizes (odd and even; sizes where SAME pads 0, and 1 on one side) and compared with
the nested-loop NumPy references of tests/ops/test_nn_conv.py (values) and with central
differences of them (gradients); the strided CNN step is compared with TF 2.21's numbers
(fixtures/strided_none_sizes_tf.npz, written by fixtures/make_strided_none_sizes_tf.py).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import gputensor as gt
from tests.ops.test_nn_conv import check_gradient, ref_conv2d, ref_depthwise, ref_pool, resolve

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "strided_none_sizes_tf.npz")


# ---------------------------------------------------------------------- cases
# id, op, window (kh, kw), strides, padding, sizes (h, w) the one trace is called at
CASES = [
    # k 3, s 2: SAME pads (1, 1) at 7 and 9, (0, 1) at 8 and 6
    ("conv_same_s2", "conv2d", (3, 3), (2, 2), "SAME", [(7, 8), (8, 9), (6, 5)]),
    # k 2, s 2: SAME pads 0 at even sizes and (0, 1) at odd ones
    ("conv_same_even_kernel", "conv2d", (2, 2), (2, 2), "SAME", [(8, 7), (5, 6), (4, 4)]),
    ("conv_same_unequal_strides", "conv2d", (3, 2), (2, 3), "SAME", [(7, 9), (8, 10), (3, 4)]),
    ("conv_valid_s2", "conv2d", (3, 3), (2, 2), "VALID", [(7, 8), (8, 9), (9, 6)]),
    ("conv_same_s3", "conv2d", (3, 3), (3, 3), "SAME", [(9, 8), (10, 7), (2, 3)]),
    ("depthwise_same_s2", "depthwise_conv2d", (3, 3), (2, 2), "SAME", [(7, 8), (8, 5), (6, 6)]),
    ("depthwise_valid_s2", "depthwise_conv2d", (2, 3), (2, 2), "VALID", [(7, 8), (8, 9)]),
    ("max_same_s2", "max_pool2d", (3, 3), (2, 2), "SAME", [(7, 8), (8, 9), (5, 4)]),
    ("max_same_k2", "max_pool2d", (2, 2), (2, 2), "SAME", [(8, 7), (5, 6), (1, 1)]),
    ("max_valid_s2", "max_pool2d", (3, 3), (2, 2), "VALID", [(7, 8), (8, 9)]),
    ("avg_same_s2", "avg_pool2d", (3, 3), (2, 2), "SAME", [(7, 8), (8, 9), (4, 5)]),
    ("avg_same_k2", "avg_pool2d", (2, 2), (2, 2), "SAME", [(8, 7), (5, 6), (1, 2)]),
    ("avg_valid_s2", "avg_pool2d", (2, 2), (2, 2), "VALID", [(8, 9), (9, 8)]),
    ("avg_same_unequal_strides", "avg_pool2d", (3, 2), (3, 2), "SAME", [(7, 8), (9, 5)]),
]
IDS = [c[0] for c in CASES]
CHANNELS = 2


def _filters(op, window, rng):
    if op == "conv2d":
        return rng.standard_normal((*window, CHANNELS, 3))
    if op == "depthwise_conv2d":
        return rng.standard_normal((*window, CHANNELS, 2))
    return None


def _apply(op, x, w, window, strides, padding):
    """The gputensor op on tensors (w: filters for the convolutions, else unused)."""
    if op == "conv2d":
        return gt.nn.conv2d(x, w, strides, padding)
    if op == "depthwise_conv2d":
        return gt.nn.depthwise_conv2d(x, w, [1, *strides, 1], padding)
    pool = gt.nn.max_pool2d if op == "max_pool2d" else gt.nn.avg_pool2d
    return pool(x, window, strides, padding)


def _reference(op, x, w, window, strides, padding):
    """The nested-loop NumPy reference, its padding resolved with TF's rule for x's size."""
    size = window if w is None else w.shape[:2]
    pads = resolve(padding, x.shape[1:3], size, strides, (1, 1))
    if op == "conv2d":
        return ref_conv2d(x, w, strides, pads, (1, 1))
    if op == "depthwise_conv2d":
        return ref_depthwise(x, w, strides, pads, (1, 1))
    return ref_pool(x, window, strides, pads, np.max if op == "max_pool2d" else np.mean)


SPEC = [gt.TensorSpec([None, None, None, CHANNELS], gt.float64)]


# -------------------------------------------------------------------- forward
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_one_trace_computes_the_op_at_every_size(device, rng, case):
    _, op, window, strides, padding, sizes = case
    w = _filters(op, window, rng)
    shapes = []

    @gt.function(input_signature=SPEC)
    def f(x):
        y = _apply(op, x, w, window, strides, padding)
        shapes.append(tuple(y.shape))
        return y

    for h, wd in sizes:
        x = rng.standard_normal((2, h, wd, CHANNELS))
        got = f(gt.constant(x))
        want = _reference(op, x, w, window, strides, padding)
        assert got.shape == want.shape
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)
    assert f.experimental_get_tracing_count() == 1
    # The output's height and width depend on the run-time size: None while tracing, as TF.
    assert shapes[0][:3] == (None, None, None)


def test_a_known_size_keeps_its_static_output_size_and_padding(rng):
    # Only the None axis is resolved at run time: the known width keeps TF's static result.
    @gt.function(input_signature=[gt.TensorSpec([1, None, 9, 1], gt.float32)])
    def f(x):
        y = gt.nn.conv2d(x, gt.ones([3, 3, 1, 1]), 2, "SAME")
        assert tuple(y.shape) == (1, None, 5, 1)
        return y

    x = rng.standard_normal((1, 8, 9, 1)).astype(np.float32)
    want = ref_conv2d(x, np.ones((3, 3, 1, 1)), (2, 2), ((0, 1), (1, 1)), (1, 1))
    np.testing.assert_allclose(f(gt.constant(x)).numpy(), want, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ gradients
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_input_and_filter_gradients_match_finite_differences(device, rng, case):
    # loss = sum(y^2) / 2; its gradient is the op's adjoint applied to y, checked along random
    # directions against central differences of the reference. Several input sizes give the
    # same output size here, so the gradient kernels read the size of the input at run time.
    _, op, window, strides, padding, sizes = case
    w = _filters(op, window, rng)

    @gt.function(input_signature=SPEC)
    def grads(x):
        wt = None if w is None else gt.constant(w)
        with gt.GradientTape(persistent=True) as tape:
            tape.watch(x)
            if wt is not None:
                tape.watch(wt)
            y = _apply(op, x, wt, window, strides, padding)
            loss = gt.reduce_sum(y * y) / 2.0
        return tape.gradient(loss, x), (None if wt is None else tape.gradient(loss, wt))

    for h, wd in sizes:
        x = rng.standard_normal((2, h, wd, CHANNELS))
        dx, dw = grads(gt.constant(x))
        assert dx.shape == x.shape

        def loss_of_x(xv):
            return 0.5 * np.sum(_reference(op, xv, w, window, strides, padding) ** 2)

        check_gradient(loss_of_x, x, dx.numpy(), rng)
        if w is not None:

            def loss_of_w(wv):
                return 0.5 * np.sum(_reference(op, x, wv, window, strides, padding) ** 2)

            check_gradient(loss_of_w, w, dw.numpy(), rng)
    assert grads.experimental_get_tracing_count() == 1


def test_the_gradient_of_a_strided_gradient_is_built_too(device, rng):
    # conv2d_backprop_input and avg_pool2d_grad take the forward input for its size only:
    # their own gradients (a gradient penalty) go to the filters and dy, none to that input.
    w = rng.standard_normal((3, 3, CHANNELS, 2))

    @gt.function(input_signature=SPEC)
    def penalty(x):
        wt = gt.constant(w)
        with gt.GradientTape() as outer:
            outer.watch(wt)
            with gt.GradientTape() as inner:
                inner.watch(x)
                y = gt.nn.avg_pool2d(gt.nn.conv2d(x, wt, 2, "SAME"), 2, 2, "SAME")
                loss = gt.reduce_sum(y * y)
            dx = inner.gradient(loss, x)
            norm = gt.reduce_sum(dx * dx)
        return outer.gradient(norm, wt)

    for h, wd in [(7, 8), (8, 5)]:
        x = rng.standard_normal((1, h, wd, CHANNELS))

        def norm_of_w(wv):
            # dx of sum(y^2) by central differences is too coarse; the adjoint in closed form:
            # y = A(x) linear in x, dx = 2 A^T A x, and A^T by the reference's own linearity.
            pads = resolve("SAME", (h, wd), (3, 3), (2, 2), (1, 1))

            def forward(xv):
                z = ref_conv2d(xv, wv, (2, 2), pads, (1, 1))
                zp = resolve("SAME", z.shape[1:3], (2, 2), (2, 2), (1, 1))
                return ref_pool(z, (2, 2), (2, 2), zp, np.mean)

            y = forward(x)
            basis = np.eye(x.size).reshape(x.size, *x.shape)
            jac = np.stack([forward(b).ravel() for b in basis], axis=1)  # A as a matrix
            dx = 2 * jac.T @ y.ravel()
            return np.sum(dx * dx)

        check_gradient(norm_of_w, w, penalty(gt.constant(x)).numpy(), rng, eps=1e-5, directions=2)


# ------------------------------------------------------- a strided CNN, as TF
CNN_SIZES = [(7, 9), (8, 8), (5, 6), (12, 11)]  # the fixture's image sizes


def _weights():
    def ramp(shape, lo, hi):
        return np.linspace(lo, hi, int(np.prod(shape)), dtype=np.float32).reshape(shape)

    return {
        "w1": ramp((3, 3, 3, 4), -0.5, 0.6),
        "dw": ramp((3, 3, 4, 2), 0.2, -0.3),
        "w2": ramp((2, 2, 8, 5), -0.4, 0.3),
        "dense": ramp((5, 3), -1.0, 0.8),
    }


def _images(h, w):
    n = 2 * h * w * 3
    return np.sin(np.arange(n, dtype=np.float32) * 0.37 + h - w).reshape(2, h, w, 3)


def _loss(x, w1, dw, w2, dense):
    y = gt.nn.relu(gt.nn.conv2d(x, w1, 2, "SAME"))
    y = gt.nn.max_pool2d(y, 3, 2, "SAME")
    y = gt.nn.depthwise_conv2d(y, dw, [1, 2, 2, 1], "SAME")
    y = gt.nn.avg_pool2d(y, 2, 2, "SAME")
    y = gt.nn.conv2d(y, w2, 1, "SAME")
    logits = gt.matmul(gt.reduce_mean(y, axis=[1, 2]), dense)
    labels = gt.constant([0, 2])
    return gt.reduce_mean(gt.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))


def test_a_strided_cnn_training_step_matches_tf(device):
    tf_numbers = np.load(FIXTURE)
    start = _weights()
    ws = {k: gt.Variable(v) for k, v in start.items()}
    lr = 0.1

    @gt.function(input_signature=[gt.TensorSpec([None, None, None, 3], gt.float32)])
    def train(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            loss = _loss(x, **ws)
        grads = tape.gradient(loss, [x, *ws.values()])
        for v, g in zip(ws.values(), grads[1:]):
            v.assign_sub(lr * g)
        return loss, grads

    for h, w in CNN_SIZES:
        for k, v in start.items():  # TF's numbers are for the starting weights at each size
            ws[k].assign(v)
        loss, grads = train(gt.constant(_images(h, w)))
        np.testing.assert_allclose(float(loss), tf_numbers[f"loss_{h}x{w}"], rtol=1e-5)
        for name, g in zip(["x", *ws], grads):
            want = tf_numbers[f"grad_{name}_{h}x{w}"]
            assert g.shape == want.shape
            np.testing.assert_allclose(g.numpy(), want, rtol=2e-4, atol=2e-6, err_msg=f"{name} at {h}x{w}")
        for k, v in ws.items():
            want = start[k] - lr * tf_numbers[f"grad_{k}_{h}x{w}"]
            np.testing.assert_allclose(v.numpy(), want, rtol=1e-4, atol=1e-6)
    assert train.experimental_get_tracing_count() == 1


# ---------------------------------------------------------------- saved model
class _Server(gt.Module):
    def __init__(self, w):
        super().__init__()
        self.w = gt.Variable(w)

    @gt.function(input_signature=[gt.TensorSpec([None, None, None, CHANNELS], gt.float64)])
    def __call__(self, x):
        y = gt.nn.conv2d(x, self.w, 2, "SAME")
        return {"pooled": gt.nn.avg_pool2d(gt.nn.max_pool2d(y, 3, 2, "SAME"), 2, 2, "SAME"), "conv": y}


def test_a_saved_serving_signature_reloads_and_runs_at_two_sizes(tmp_path, rng):
    w = rng.standard_normal((3, 3, CHANNELS, 3))
    path = str(tmp_path / "server")
    gt.saved_model.save(_Server(w), path)
    loaded = gt.saved_model.load(path)
    for h, wd in [(9, 8), (16, 13)]:
        x = rng.standard_normal((1, h, wd, CHANNELS))
        got = loaded(gt.constant(x))
        conv = _reference("conv2d", x, w, (3, 3), (2, 2), "SAME")
        pooled = _reference("max_pool2d", conv, None, (3, 3), (2, 2), "SAME")
        pooled = _reference("avg_pool2d", pooled, None, (2, 2), (2, 2), "SAME")
        np.testing.assert_allclose(got["conv"].numpy(), conv, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(got["pooled"].numpy(), pooled, rtol=1e-10, atol=1e-12)
        # A tape around the loaded call differentiates it, the strided gradients included.
        xt = gt.constant(x)
        with gt.GradientTape() as tape:
            tape.watch(xt)
            loss = gt.reduce_sum(loaded(xt)["pooled"])
        dx = tape.gradient(loss, xt).numpy()

        def total(xv):
            c = _reference("conv2d", xv, w, (3, 3), (2, 2), "SAME")
            p = _reference("max_pool2d", c, None, (3, 3), (2, 2), "SAME")
            return np.sum(_reference("avg_pool2d", p, None, (2, 2), (2, 2), "SAME"))

        check_gradient(total, x, dx, rng)


# ----------------------------------------------------------------------- ONNX
def test_onnx_exports_run_time_same_padding_as_auto_pad(tmp_path, rng):
    import onnxruntime

    w = rng.standard_normal((3, 3, CHANNELS, 3)).astype(np.float32)

    def serve(x):
        y = gt.nn.conv2d(x, w, 2, "SAME")
        return gt.nn.avg_pool2d(gt.nn.max_pool2d(y, 3, 2, "SAME"), 2, 2, "SAME")

    path = str(tmp_path / "serve.onnx")
    gt.onnx.export(serve, path, [gt.TensorSpec([None, None, None, CHANNELS], gt.float32)])
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    for h, wd in [(9, 8), (16, 13)]:
        x = rng.standard_normal((1, h, wd, CHANNELS)).astype(np.float32)
        (got,) = session.run(None, {session.get_inputs()[0].name: x})
        want = _reference("conv2d", x, w, (3, 3), (2, 2), "SAME")
        want = _reference("max_pool2d", want, None, (3, 3), (2, 2), "SAME")
        want = _reference("avg_pool2d", want, None, (2, 2), (2, 2), "SAME")
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_onnx_refuses_the_forms_that_need_the_size_by_name(tmp_path):
    def serve(x):
        return gt.nn.depthwise_conv2d(x, gt.ones([3, 3, CHANNELS, 1]), [1, 2, 2, 1], "SAME")

    spec = [gt.TensorSpec([None, None, None, CHANNELS], gt.float32)]
    with pytest.raises(
        gt.errors.UnimplementedError, match="depthwise_conv2d with padding='SAME'.*give the height"
    ):
        gt.onnx.export(serve, str(tmp_path / "m.onnx"), spec)


# ------------------------------------------------------------ what is refused
def test_labels_against_a_none_batch_are_checked_at_run_time(device):
    # Known labels (2,) against logits of a None batch trace, as TF merges the shapes (the CNN
    # step above); a batch of another size at run time raises TF's error, on every device.
    @gt.function(input_signature=[gt.TensorSpec([None, None, None, 3], gt.float32)])
    def loss(x):
        logits = gt.reduce_mean(x, axis=[1, 2])
        return gt.nn.sparse_softmax_cross_entropy_with_logits(gt.constant([0, 2]), logits)

    np.testing.assert_allclose(loss(gt.zeros([2, 5, 4, 3])).numpy(), [np.log(3.0)] * 2, rtol=1e-6)
    with pytest.raises(
        gt.errors.InvalidArgumentError, match=r"logits shape \(3, 3\) and labels shape \(2,\)"
    ):
        loss(gt.zeros([3, 5, 4, 3]))


def test_the_second_derivative_of_a_run_time_same_max_pool_is_refused_by_name():
    @gt.function(input_signature=SPEC)
    def curvature(x):
        with gt.GradientTape() as outer:
            outer.watch(x)
            with gt.GradientTape() as inner:
                inner.watch(x)
                y = gt.reduce_sum(gt.nn.max_pool2d(x, 3, 2, "SAME") ** 2)
            g = inner.gradient(y, x)
            norm = gt.reduce_sum(g * g)
        return outer.gradient(norm, x)

    with pytest.raises(gt.errors.UnimplementedError, match="second derivative of max_pool2d.*give it"):
        curvature(gt.ones([1, 5, 5, CHANNELS], gt.float64))
