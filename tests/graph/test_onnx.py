"""gt.onnx.export: onnxruntime runs the exported model and gives what gputensor gives."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
import pytest

import gputensor as gt

RNG = np.random.default_rng(7)
W1 = gt.Variable(RNG.standard_normal((8, 16)).astype(np.float32))
W2 = gt.Variable(RNG.standard_normal((4, 16)).astype(np.float32))
K = gt.Variable(RNG.standard_normal((3, 3, 2, 4)).astype(np.float32) * 0.3)


def mlp(x):
    h = gt.nn.relu(gt.matmul(x, W1) + 0.1)
    return gt.nn.softmax(gt.matmul(h, W2, transpose_b=True)), gt.reduce_mean(h, axis=1)


def cnn(x):
    y = gt.nn.conv2d(x, K, strides=2, padding="SAME")
    y = gt.nn.max_pool2d(gt.nn.relu(y), 2, 1, "VALID")
    z = gt.nn.avg_pool2d(x, 3, 2, "SAME")
    return gt.nn.log_softmax(gt.reshape(y, [2, -1])), z


def elementwise(x, p):
    return [
        gt.exp(x), gt.math.log1p(p), gt.math.expm1(x), gt.math.rsqrt(p), gt.square(x), gt.nn.relu6(x * 4.0),
        gt.nn.leaky_relu(x, 0.2), gt.nn.gelu(x), gt.nn.gelu(x, approximate=True), gt.nn.silu(x), gt.sigmoid(x),
        gt.tanh(x), gt.math.erf(x), gt.where(x > 0.0, x, p), gt.cast(x * 3.0, gt.int32), gt.abs(x),
        gt.math.squared_difference(x, p), gt.maximum(x, p), gt.minimum(x, 0.5), gt.floor(x * 2.0),
        gt.math.ceil(x), gt.round(x * 3.0), gt.math.is_finite(x / p), gt.cast(gt.not_equal(x, p), gt.float32),
        gt.math.reciprocal(p), gt.sqrt(p), gt.math.log(p), gt.sin(x) - gt.cos(x),
    ]  # fmt: skip


def arrays(x):
    return [
        gt.transpose(x, [1, 0]), gt.concat([x, x * 2.0], axis=0), x[::2, ::-1], x[1:, 1],
        gt.pad(x, [[1, 0], [0, 2]], constant_values=3.0), gt.pad(x, [[1, 1], [1, 0]], mode="REFLECT"),
        gt.gather(x, [2, 0], axis=1), gt.broadcast_to(x[:1], [3, 4]), gt.cumsum(x, axis=1, exclusive=True, reverse=True),
        gt.argmax(x, axis=1), gt.reduce_max(x, axis=0, keepdims=True), gt.reduce_logsumexp(x, axis=1),
        gt.reduce_sum(x), gt.math.reduce_prod(x, axis=0), gt.gather_nd(x, [[0, 1], [2, 3]]),
    ]  # fmt: skip


CASES = [
    ("mlp", mlp, [((5, 8), "normal")]),
    ("cnn", cnn, [((2, 8, 6, 2), "normal")]),  # SAME pads (0, 1) on both axes: order matters
    ("elementwise", elementwise, [((3, 5), "normal"), ((3, 5), "positive")]),
    ("arrays", arrays, [((3, 4), "normal")]),
]


def _value(shape, kind):
    x = RNG.standard_normal(shape).astype(np.float32)
    return np.abs(x) + 0.3 if kind == "positive" else x


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_onnxruntime_gives_what_gputensor_gives(case, tmp_path):
    _, fn, inputs = case
    values = [_value(shape, kind) for shape, kind in inputs]
    path = str(tmp_path / "model.onnx")
    model = gt.onnx.export(fn, path, [gt.TensorSpec(shape, gt.float32) for shape, _ in inputs])
    onnx.checker.check_model(onnx.load(path))
    assert model.opset_import[0].version == gt.onnx.OPSET
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = session.run(None, {i.name: v for i, v in zip(session.get_inputs(), values)})
    want = gt.function(fn)(*[gt.constant(v) for v in values])
    want = want if isinstance(want, (list, tuple)) else [want]
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.numpy().dtype, f"output {k}"
        np.testing.assert_allclose(g, w.numpy(), rtol=2e-5, atol=2e-6, err_msg=f"output {k}")


def test_what_cannot_be_exported_is_refused_clearly(tmp_path):
    path = str(tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="of known rank"):
        gt.onnx.export(mlp, path, [gt.TensorSpec(None, gt.float32)])
    v = gt.Variable(0.0)

    def stateful(x):
        v.assign_add(gt.reduce_sum(x))
        return x

    with pytest.raises(gt.errors.UnimplementedError, match="assigns a variable"):
        gt.onnx.export(stateful, path, [gt.TensorSpec([2], gt.float32)])
    with pytest.raises(gt.errors.UnimplementedError, match="'svd' has no ONNX form"):
        gt.onnx.export(lambda x: gt.linalg.svd(x)[0], path, [gt.TensorSpec([3, 3], gt.float32)])
    assert not (tmp_path / "m.onnx").exists() and not list(tmp_path.iterdir())


def branchy(x):
    def positive():
        return gt.cond(gt.reduce_max(x) > 1.0, lambda: gt.matmul(x, W1)[:, :4] * 2.0, lambda: x[:, :4] + 1.0)

    return gt.cond(gt.reduce_sum(x) > 0.0, positive, lambda: gt.exp(x[:, 4:]))


def loops(x):
    def body(i, s):
        grown = gt.cond(gt.reduce_sum(s) < 5.0, lambda: s * 1.5 + gt.abs(x), lambda: s + 0.25)
        return i + 1, grown

    i, s = gt.while_loop(lambda i, s: gt.reduce_sum(s) < 30.0, body, (0, gt.abs(x) + 0.1))
    j, t = gt.while_loop(lambda j, t: j < 100, lambda j, t: (j + 1, t * 0.5), (0, x), maximum_iterations=3)
    return i, s, j, t


def differentiated(x):
    with gt.GradientTape() as tape:
        tape.watch(x)
        _, s = gt.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s * x), (0, x))
        y = gt.cond(gt.reduce_sum(s) > 0.0, lambda: gt.reduce_sum(s * s), lambda: gt.reduce_sum(gt.sin(s)))
    return y, tape.gradient(y, x)


@pytest.mark.parametrize(
    "fn, shape",
    [(branchy, (2, 8)), (loops, (2, 3)), (differentiated, (3,))],
    ids=["cond_as_If", "while_as_Loop", "their_gradients"],
)
def test_control_flow_exports_as_onnx_if_and_loop(fn, shape, tmp_path):
    path = str(tmp_path / "cf.onnx")
    model = gt.onnx.export(fn, path, [gt.TensorSpec(shape, gt.float32)])
    types = {n.op_type for n in model.graph.node}
    assert types & {"If", "Loop"}
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    graph_fn = gt.function(fn)
    # signs and sizes that take every branch and run the loops for different counts
    for scale in (1.0, -1.0, 0.05, 3.0):
        x = (RNG.standard_normal(shape) * scale).astype(np.float32)
        got = session.run(None, {session.get_inputs()[0].name: x})
        want = graph_fn(gt.constant(x))
        want = want if isinstance(want, (list, tuple)) else [want]
        assert len(got) == len(want)
        for k, (g, w) in enumerate(zip(got, want)):
            assert g.dtype == w.numpy().dtype, f"output {k}"
            np.testing.assert_allclose(
                g, w.numpy(), rtol=2e-5, atol=2e-6, err_msg=f"output {k}, scale {scale}"
            )


def test_a_loop_gradient_exports_its_stacks_as_loop_scan_outputs(tmp_path):
    # The gradient's forward loop stacks each iteration's entry values: ONNX Loop scan outputs,
    # here for counts decided by the data (zero iterations included).
    def f(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            body = lambda i, s: (i + 1, s * 1.5 + x)  # noqa: E731
            _, s = gt.while_loop(lambda i, s: gt.reduce_sum(s) < 5.0, body, (0, x))
            y = gt.reduce_sum(s * s)
        return y, tape.gradient(y, x)

    path = str(tmp_path / "loop_grad.onnx")
    model = gt.onnx.export(f, path, [gt.TensorSpec((3,), gt.float32)])
    loops = [n for n in model.graph.node if n.op_type == "Loop"]
    # forward (i, s); stacking (i, s, then s's stack: the gradient does not read i); backward (k, ds, dx)
    assert sorted(len(n.output) for n in loops) == [2, 3, 3]
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    graph_fn = gt.function(f)
    for v in ([0.1, 0.2, 0.3], [3.0, 4.0, 5.0], [1.0, 1.0, 1.0]):
        x = np.array(v, np.float32)
        got = session.run(None, {session.get_inputs()[0].name: x})
        want = graph_fn(gt.constant(x))
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w.numpy(), rtol=2e-5, atol=2e-6)


DK = gt.Variable(RNG.standard_normal((3, 3, 4, 2)).astype(np.float32) * 0.3)


def more_math(x, p):
    m = x[:, :3] + gt.eye(3) * 3.0
    return [
        x // p, x % p, x % -p, (-x) % p, gt.math.atan2(x, p - 1.0), gt.math.atan2(x, -p),
        gt.reduce_all(x > -1.0, axis=1), gt.reduce_any(x > 1.0), gt.einsum("ij,kj->ik", x, p),
        gt.linalg.det(m), gt.linalg.band_part(m, 1, 0), gt.linalg.band_part(x, 0, -1),
        gt.linalg.diag(x[0]), gt.linalg.diag(x[0], padding_value=-2.0), gt.linalg.diag_part(x),
        gt.linalg.diag_part(gt.transpose(x)), gt.sort(x), gt.sort(x, direction="DESCENDING"),
        gt.argsort(gt.round(x)), gt.where(x > 0.0),
        gt.tensor_scatter_nd_max(x, [[0, 1], [2, 2]], [5.0, -5.0]),
        gt.tensor_scatter_nd_add(x, [[1], [0]], p[:2]),
        gt.tensor_scatter_nd_update(x, [[1]], p[2:]),
    ]  # fmt: skip


def int_math(i, j):
    u = gt.unique(gt.reshape(i % 4, [-1]))
    return [
        i // j, i % j, (-i) // j, i % -j, i & j, i | j, i ^ j, ~i, u.y, u.idx,
    ]  # fmt: skip


def train_step(x, labels, soft):
    # The gradients of a small CNN: conv2d's filter and input gradients (ConvTranspose and a
    # batch/channel-swapped Conv), depthwise ones, cross-entropy's backprop outputs.
    with gt.GradientTape() as tape:
        tape.watch(x)
        h = gt.nn.conv2d(x, K, strides=2, padding="SAME")
        h = gt.nn.depthwise_conv2d(gt.nn.relu(h), DK, strides=[1, 1, 1, 1], padding="VALID", dilations=[1, 1])
        logits = gt.reshape(h, [2, -1])[:, :5]
        loss = gt.reduce_mean(gt.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
        loss += gt.reduce_mean(gt.nn.softmax_cross_entropy_with_logits(soft, logits))
    return [loss, *tape.gradient(loss, [x, K, DK])]


def strided_grads(x):
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = gt.nn.conv2d(x, K, strides=[2, 3], padding="VALID", dilations=1)
        z = gt.nn.conv2d(x, K, strides=1, padding="SAME", dilations=2)
        loss = gt.reduce_sum(y * y) + gt.reduce_sum(gt.sin(z))
    return tape.gradient(loss, [x, K])


def _soft_labels(shape):
    e = np.exp(RNG.standard_normal(shape))
    return (e / e.sum(-1, keepdims=True)).astype(np.float32)


MORE_CASES = [
    ("more_math", more_math, [RNG.standard_normal((3, 4)), np.abs(RNG.standard_normal((3, 4))) + 0.3]),
    ("int_math", int_math, [RNG.integers(-20, 20, (3, 4)), RNG.integers(1, 6, (3, 4))]),
    (
        "train_step",
        train_step,
        [RNG.standard_normal((2, 9, 8, 2)), RNG.integers(0, 5, 2), _soft_labels((2, 5))],
    ),
    ("strided_grads", strided_grads, [RNG.standard_normal((2, 9, 11, 2))]),
]


@pytest.mark.parametrize("case", MORE_CASES, ids=[c[0] for c in MORE_CASES])
def test_composed_onnx_forms_match_gputensor(case, tmp_path):
    _, fn, raw = case
    values = [v.astype(np.float32) if v.dtype.kind == "f" else v.astype(np.int32) for v in raw]
    path = str(tmp_path / "model.onnx")
    gt.onnx.export(fn, path, [gt.TensorSpec(v.shape, gt.as_dtype(v.dtype)) for v in values])
    onnx.checker.check_model(onnx.load(path))
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = session.run(None, {i.name: v for i, v in zip(session.get_inputs(), values)})
    want = gt.function(fn)(*[gt.constant(v) for v in values])
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.numpy().dtype, f"output {k}: {g.dtype} vs {w.numpy().dtype}"
        np.testing.assert_allclose(g, w.numpy(), rtol=2e-5, atol=2e-5, err_msg=f"output {k}")


def test_forms_refuse_what_they_cannot_express(tmp_path):
    path = str(tmp_path / "m.onnx")
    with pytest.raises(gt.errors.UnimplementedError, match=r"'matrix_diag_part' with k=1"):
        gt.onnx.export(lambda x: gt.linalg.diag_part(x, k=1), path, [gt.TensorSpec([3, 3], gt.float32)])
    with pytest.raises(gt.errors.UnimplementedError, match=r"'matrix_diag' with num_rows=4"):
        gt.onnx.export(lambda x: gt.linalg.diag(x, num_rows=4), path, [gt.TensorSpec([3], gt.float32)])
    assert not list(tmp_path.iterdir())
