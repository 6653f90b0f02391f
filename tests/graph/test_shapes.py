"""gt.function with None dims: input_signature, reduce_retracing, get_concrete_function(TensorSpec).

One trace serves every size a None dim accepts; each test calls it with several sizes and compares
with the same Python run eagerly (NumPy for plain math), and counts the traces.
"""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from gputensor.autodiff import nest

SIZES = (5, 1, 8)


def _f32(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def _check_against_eager(fn, specs, make_args, sizes=SIZES, rtol=1e-5):
    """Traces ``fn`` for ``specs`` and checks it against ``fn`` run eagerly at each size."""
    traced = gt.function(fn, input_signature=specs)
    for n in sizes:
        args = [gt.constant(a) for a in make_args(n)]
        got, want = traced(*args), fn(*args)
        for g, w in zip(nest.flatten(got), nest.flatten(want)):
            if w is None:  # a gradient of an unwatched tensor
                assert g is None
                continue
            assert g.shape == w.shape
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=rtol, atol=1e-6)
    assert traced.experimental_get_tracing_count() == 1
    return traced


def test_none_dims_trace_once_with_none_in_the_graph(rng):
    seen = []

    @gt.function(input_signature=[gt.TensorSpec([None, 3], gt.float32)])
    def f(x):
        seen.append(x.shape)
        return gt.tanh(x) * 2.0 + 1.0

    for n in SIZES:
        a = _f32(rng, n, 3)
        np.testing.assert_allclose(f(gt.constant(a)).numpy(), np.tanh(a) * 2.0 + 1.0, rtol=1e-6)
    assert f.experimental_get_tracing_count() == 1
    assert seen == [gt.TensorShape([None, 3])]
    text = f.get_concrete_function().graph.as_text()
    assert "x:0: float32[None, 3] = Placeholder()" in text


def test_mlp_forward_reductions_and_softmax(rng):
    w1, b1, w2 = _f32(rng, 4, 6), _f32(rng, 6), _f32(rng, 6, 3)

    def mlp(x):
        h = gt.nn.relu(gt.matmul(x, w1) + b1)
        logits = gt.matmul(h, w2)
        return (
            gt.nn.softmax(logits),
            gt.reduce_mean(logits, axis=0),
            gt.reduce_sum(h, axis=1, keepdims=True),
            gt.reduce_max(logits),
            gt.argmax(logits, axis=1),
        )

    _check_against_eager(mlp, [gt.TensorSpec([None, 4])], lambda n: [_f32(rng, n, 4)])


def test_reshape_concat_broadcast_and_expand(rng):
    def f(x, y):
        flat = gt.reshape(x, [-1])
        pairs = gt.reshape(x, [-1, 2])
        joined = gt.concat([x, y], axis=0)
        side = gt.concat([x, x * 2.0], axis=1)
        stacked = gt.stack([x, x + 1.0], axis=1)
        return flat, pairs, joined, side, stacked, gt.expand_dims(x, 1), gt.squeeze(gt.expand_dims(x, 0), 0)

    _check_against_eager(
        f,
        [gt.TensorSpec([None, 4]), gt.TensorSpec([None, 4])],
        lambda n: [_f32(rng, n, 4), _f32(rng, n + 2, 4)],
    )


def test_gt_shape_is_a_graph_node_that_gives_each_calls_shape(rng):
    def f(x):
        s = gt.shape(x)
        return (
            s,
            gt.size(x),
            gt.zeros(gt.shape(x)),
            gt.ones_like(x),
            gt.broadcast_to(gt.constant([1.0, 2.0, 3.0]), gt.shape(x)),
            gt.reshape(x, [s[0] * 3]),
            gt.fill([s[0], 2], 7.0),
        )

    traced = _check_against_eager(f, [gt.TensorSpec([None, 3])], lambda n: [_f32(rng, n, 3)])
    graph = traced.get_concrete_function().graph
    # Not folded to a constant: the optimised program still computes it from the argument.
    program_types = [step[0].type for step in traced.get_concrete_function()._program.steps]
    assert "shape" in [op.type for op in graph.get_operations()] and "shape" in program_types


def test_shape_of_known_dims_stays_a_constant():
    @gt.function(input_signature=[gt.TensorSpec([None, 3])])
    def f(x):
        return gt.shape(x)[1] + 0  # dim 1 is known: no run-time shape needed for it

    assert f(gt.zeros([2, 3])).numpy() == 3
    assert f(gt.zeros([7, 3])).numpy() == 3


def test_train_step_with_a_tape_inside_the_function(rng):
    w1 = gt.Variable(_f32(rng, 4, 8) * 0.3)
    b1 = gt.Variable(np.zeros(8, np.float32))
    w2 = gt.Variable(_f32(rng, 8, 3) * 0.3)
    b2 = gt.Variable(np.zeros(3, np.float32))
    variables = [w1, b1, w2, b2]

    def grads(x, labels):
        with gt.GradientTape() as tape:
            logits = gt.matmul(gt.nn.relu(gt.matmul(x, w1) + b1), w2) + b2
            xent = gt.nn.softmax_cross_entropy_with_logits(labels, logits)
            loss = gt.reduce_mean(xent) + gt.reduce_mean(gt.square(logits - labels))
        return loss, tape.gradient(loss, variables + [x])

    def make(n):
        return [_f32(rng, n, 4), np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]]

    _check_against_eager(grads, [gt.TensorSpec([None, 4]), gt.TensorSpec([None, 3])], make, rtol=1e-4)

    @gt.function(input_signature=[gt.TensorSpec([None, 4]), gt.TensorSpec([None, 3])])
    def train_step(x, labels):
        loss, gs = grads(x, labels)
        for v, g in zip(variables, gs):
            v.assign_sub(0.1 * g)
        return loss

    losses = [float(train_step(*[gt.constant(a) for a in make(n)])) for n in (16, 3, 16, 9, 16)]
    assert train_step.experimental_get_tracing_count() == 1 and all(np.isfinite(losses))


def test_gradients_through_broadcasts_decided_at_run_time(rng):
    # Both (None, 3): which one broadcasts is known only at run time (TF's BroadcastGradientArgs).
    def f(a, b):
        with gt.GradientTape() as tape:
            tape.watch([a, b])
            y = gt.reduce_sum(a * b + gt.reduce_mean(gt.reshape(a, [-1])))
        return tape.gradient(y, [a, b])

    traced = gt.function(f, input_signature=[gt.TensorSpec([None, 3]), gt.TensorSpec([None, 3])])
    for n, m in [(4, 4), (1, 4), (4, 1)]:
        a, b = gt.constant(_f32(rng, n, 3)), gt.constant(_f32(rng, m, 3))
        for g, w in zip(traced(a, b), f(a, b)):
            assert g.shape == w.shape
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-5)
    assert traced.experimental_get_tracing_count() == 1


def test_buffer_reuse_checks_shapes_at_run_time(rng):
    # Buffer reuse is the CPU executor's (NumPy out=); fusion leaves None-dim chains alone.
    with gt.device("/CPU:0"):
        _buffer_reuse_checks_shapes(rng)


def _buffer_reuse_checks_shapes(rng):
    # exp(a) * 2 dies into the add; with b broadcast against it the buffer must not take the result.
    @gt.function(input_signature=[gt.TensorSpec([None, 3]), gt.TensorSpec([None, 3])])
    def f(a, b):
        return (gt.exp(a) * 2.0 + b) * 3.0

    for n, m in [(4, 4), (1, 4), (4, 1)]:
        a, b = _f32(rng, n, 3), _f32(rng, m, 3)
        np.testing.assert_allclose(
            f(gt.constant(a), gt.constant(b)).numpy(), (np.exp(a) * 2 + b) * 3, rtol=1e-6
        )
    source = f.get_concrete_function()._program.compiled.source
    assert ".shape == " in source


def test_reduce_retracing_relaxes_the_dims_that_differ(rng):
    shapes = []

    @gt.function(reduce_retracing=True)
    def f(x):
        shapes.append(x.shape)
        return x * 2.0

    for n in (2, 3, 4, 5):
        a = _f32(rng, n, 6)
        np.testing.assert_allclose(f(gt.constant(a)).numpy(), a * 2.0)
    # The first call traces its shape; the second one the common supertype; the rest reuse it.
    assert f.experimental_get_tracing_count() == 2
    assert shapes == [gt.TensorShape([2, 6]), gt.TensorShape([None, 6])]
    f(gt.constant(_f32(rng, 2, 6)))  # the exact first trace is still the most specific one
    f(gt.constant(_f32(rng, 3, 7)))  # a second dim differs: both relax
    assert shapes[-1] == gt.TensorShape([None, None]) and f.experimental_get_tracing_count() == 3
    f(gt.constant(_f32(rng, 3)))  # another rank: an unknown rank, as TF
    assert shapes[-1] == gt.TensorShape(None) and f.experimental_get_tracing_count() == 4


def test_without_reduce_retracing_each_size_traces():
    @gt.function
    def f(x):
        return x + 1.0

    for n in (2, 3, 4):
        f(gt.zeros([n]))
    assert f.experimental_get_tracing_count() == 3


def test_get_concrete_function_with_none_dims(rng):
    @gt.function
    def f(x):
        return gt.reduce_sum(x * x, axis=1)

    concrete = f.get_concrete_function(gt.TensorSpec([None, 3], gt.float32, name="points"))
    assert concrete.structured_input_signature[0][0].shape == gt.TensorShape([None, 3])
    for n in SIZES:
        a = _f32(rng, n, 3)
        np.testing.assert_allclose(concrete(gt.constant(a)).numpy(), (a * a).sum(1), rtol=1e-5)
    # Calls of the gt.function run the traced graph that accepts them: no new trace.
    f(gt.constant(_f32(rng, 4, 3)))
    assert f.experimental_get_tracing_count() == 1
    with pytest.raises(ValueError, match=r"'points'.*shape \(4, 2\).*TensorSpec\(shape=\(None, 3\)"):
        concrete(gt.zeros([4, 2]))
    with pytest.raises(ValueError, match="dtype int32"):
        concrete(gt.zeros([4, 3], gt.int32))


def test_input_signature_refuses_incompatible_shapes():
    @gt.function(input_signature=[gt.TensorSpec([None, 3])])
    def f(x):
        return x

    with pytest.raises(TypeError, match=r"argument 0 \(float32\[2, 4\]\).*TensorSpec\(shape=\(None, 3\)"):
        f(gt.zeros([2, 4]))


def test_bad_sizes_at_run_time_raise_invalid_argument():
    @gt.function(input_signature=[gt.TensorSpec([None])])
    def f(x):
        return gt.reshape(x, [-1, 4])

    assert f(gt.zeros([8])).shape == (2, 4)
    with pytest.raises(gt.errors.InvalidArgumentError, match=r"reshape: .*6 values"):
        f(gt.zeros([6]))


def _slices(x):
    return [
        x[0],
        x[-1, 1:],
        x[1:],
        x[::2],
        x[::-2, 0],
        x[1:-1, ::2],
        x[..., None, 1],
        x[:, 0],
        x[None, -2:],
        gt.strided_slice(x, [1], [3]),
    ]


def test_slicing_and_indexing_along_a_none_dim_resolve_at_each_call(rng, device):
    def f(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            parts = _slices(x)
            y = sum(gt.reduce_sum(p * (k + 1.0)) for k, p in enumerate(parts))
        return parts, tape.gradient(y, x)

    traced = gt.function(f, input_signature=[gt.TensorSpec([None, 3], gt.float64)])
    shapes = [o.shape for o in traced.get_concrete_function().graph.outputs]
    assert shapes[:4] == [(3,), (2,), (None, 3), (None, 3)]
    for n in (2, 5, 8):
        xv = rng.standard_normal((n, 3))
        parts, grad = traced(gt.constant(xv))
        want = [xv[0], xv[-1, 1:], xv[1:], xv[::2], xv[::-2, 0], xv[1:-1, ::2], xv[..., None, 1], xv[:, 0]]
        want += [xv[None, -2:], xv[1:3]]
        for k, (p, w) in enumerate(zip(parts, want)):
            assert p.shape == w.shape, k
            np.testing.assert_array_equal(p.numpy(), w)
        np.testing.assert_allclose(grad.numpy(), f(gt.constant(xv))[1].numpy(), rtol=1e-12)
    assert traced.experimental_get_tracing_count() == 1


def test_split_unstack_and_slice_along_a_none_dim(rng, device):
    def f(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            parts = [*gt.split(x, [1, -1, 2], axis=0), *gt.split(x, 2, axis=1), gt.slice(x, [1, 1], [2, -1])]
            parts += gt.unstack(x, axis=1) + gt.unstack(x[:3], num=3)
            y = sum(gt.reduce_sum(gt.sin(p) * (k + 1.0)) for k, p in enumerate(parts))
        return parts, tape.gradient(y, x)

    traced = gt.function(f, input_signature=[gt.TensorSpec([None, 4], gt.float64)])
    shapes = [o.shape for o in traced.get_concrete_function().graph.outputs]
    # sizes the run-time checks guarantee are known; the rest of a split is not
    assert shapes[:6] == [(1, 4), (None, 4), (2, 4), (None, 2), (None, 2), (2, 3)]
    for n in (3, 6):
        xv = rng.standard_normal((n, 4))
        parts, grad = traced(gt.constant(xv))
        want = [xv[:1], xv[1:-2], xv[-2:], xv[:, :2], xv[:, 2:], xv[1:3, 1:]]
        want += [xv[:, i] for i in range(4)] + [xv[i] for i in range(3)]
        assert len(parts) == len(want)
        for k, (p, w) in enumerate(zip(parts, want)):
            np.testing.assert_array_equal(p.numpy(), w, err_msg=str(k))
        np.testing.assert_allclose(grad.numpy(), f(gt.constant(xv))[1].numpy(), rtol=1e-12)


def test_slices_of_none_dims_check_sizes_at_run_time():
    spec = [gt.TensorSpec([None, 3])]
    cases = [
        (lambda x: x[3], 3, r"Tensor indexing: slice index 3 of dimension 0 out of bounds \(size 3\)"),
        (
            lambda x: gt.unstack(x, num=3),
            4,
            r"unstack: dimension 0 of the input \(shape \(4, 3\)\) must be 3",
        ),
        (lambda x: gt.split(x, [1, 2]), 4, r"split: dimension 0 .* must be 3"),
        (lambda x: gt.split(x, [2, -1, 2]), 3, r"split: dimension 0 .* must be at least 4"),
        (lambda x: gt.slice(x, [2, 0], [2, 1]), 3, r"slice: dimension 0 .* must be at least 4"),
        (lambda x: gt.split(x, 2), 3, r"split: .* evenly divide .* split_dim 0 \(size = 3\) and num_split 2"),
    ]
    for fn, n, message in cases:
        with pytest.raises(gt.errors.InvalidArgumentError, match=message):
            gt.function(fn, input_signature=spec)(gt.zeros([n, 3]))
    # what cannot be traced without the size: refused at trace time, naming the fix
    with pytest.raises(gt.errors.InvalidArgumentError, match="pass num="):
        gt.function(lambda x: gt.unstack(x), input_signature=spec)(gt.zeros([2, 3]))


def test_slices_of_none_dims_export_to_onnx_and_save(tmp_path, rng):
    ort = pytest.importorskip("onnxruntime")

    def f(x):
        return _slices(x)

    path = str(tmp_path / "slices.onnx")
    gt.onnx.export(f, path, [gt.TensorSpec([None, 3], name="x")])
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])

    class Sliced(gt.Module):
        @gt.function(input_signature=[gt.TensorSpec([None, 3])])
        def __call__(self, x):
            with gt.GradientTape() as tape:
                tape.watch(x)
                y = gt.reduce_sum(x[1::2] ** 2) + gt.reduce_sum(gt.split(x, [-1, 1])[1])
            return tape.gradient(y, x)

    module = Sliced()
    module.__call__.get_concrete_function()
    gt.saved_model.save(module, str(tmp_path / "sliced"))
    loaded = gt.saved_model.load(str(tmp_path / "sliced"))
    for n in (2, 5):
        xv = _f32(rng, n, 3)
        for got, want in zip(session.run(None, {"x": xv}), f(gt.constant(xv))):
            np.testing.assert_array_equal(got, want.numpy())
        grad = np.zeros_like(xv)
        grad[1::2] = 2 * xv[1::2]
        grad[-1] += 1.0
        np.testing.assert_allclose(loaded(gt.constant(xv)).numpy(), grad, rtol=1e-6)


def test_onnx_export_with_symbolic_dims(tmp_path, rng):
    ort = pytest.importorskip("onnxruntime")
    w = _f32(rng, 4, 3)

    def f(x):
        return gt.nn.softmax(gt.matmul(gt.reshape(x, [-1, 4]), w)), gt.zeros(gt.shape(x)) + 1.0

    path = str(tmp_path / "m.onnx")
    model = gt.onnx.export(f, path, [gt.TensorSpec([None, 4], name="x")])
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "x_dim0" and dims[1].dim_value == 4
    session = ort.InferenceSession(path)
    for n in (1, 6):
        a = _f32(rng, n, 4)
        got = session.run(None, {"x": a})
        for g, want in zip(got, f(gt.constant(a))):
            np.testing.assert_allclose(g, want.numpy(), rtol=1e-5, atol=1e-6)


def test_saved_model_of_a_none_dim_function(tmp_path, rng):
    w = _f32(rng, 3, 2)

    @gt.function(input_signature=[gt.TensorSpec([None, 3])])
    def f(x):
        return gt.reshape(gt.matmul(x, w), [-1]) + gt.reduce_sum(gt.zeros(gt.shape(x)))

    f.get_concrete_function()
    gt.saved_model.save(f, str(tmp_path / "m"))
    loaded = gt.saved_model.load(str(tmp_path / "m"))
    for n in (1, 4):
        a = _f32(rng, n, 3)
        np.testing.assert_allclose(loaded(gt.constant(a)).numpy(), (a @ w).reshape(-1), rtol=1e-5)
    with pytest.raises(ValueError, match="no saved signature matches"):
        loaded(gt.zeros([2, 4]))


def test_gather_gradient_along_an_unknown_leading_dim(rng):
    # The rows' gradient is added into zeros of the params' run-time shape (IndexedSlices
    # need a known dense shape); repeated indices add up.
    w = _f32(rng, 3, 2)

    @gt.function(input_signature=[gt.TensorSpec([None, 2])])
    def f(a):
        with gt.GradientTape() as tape:
            tape.watch(a)
            y = gt.reduce_sum(gt.gather(a, [0, 2, 0]) * w)
        return tape.gradient(y, a)

    for n in (3, 5):
        want = np.zeros((n, 2), np.float32)
        np.add.at(want, [0, 2, 0], w)
        got = f(gt.constant(_f32(rng, n, 2)))
        assert got.shape == (n, 2)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    assert f.experimental_get_tracing_count() == 1


# ------------------------------------------- convolution and pooling over None heights/widths
def _fully_convolutional(x):
    w1 = gt.constant(np.linspace(-1, 1, 3 * 3 * 3 * 4, dtype=np.float32).reshape(3, 3, 3, 4))
    w2 = gt.constant(np.linspace(-1, 1, 2 * 2 * 4 * 2, dtype=np.float32).reshape(2, 2, 4, 2))
    dw = gt.constant(np.linspace(0.5, 1.5, 3 * 3 * 2, dtype=np.float32).reshape(3, 3, 2, 1))
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = gt.nn.relu(gt.nn.conv2d(x, w1, 1, "SAME"))
        y = gt.nn.max_pool2d(y, 2, 2, "VALID")  # its gradient routes by x itself: any stride
        y = gt.nn.avg_pool2d(y, 3, 1, "SAME")
        y = gt.nn.conv2d(y, w2, 1, "VALID", dilations=[1, 1])
        y = gt.nn.depthwise_conv2d(y, dw, [1, 1, 1, 1], "SAME")
        loss = gt.reduce_sum(y * y)
    return loss, tape.gradient(loss, x)


@pytest.mark.parametrize("hw", [(9, 11), (12, 8), (6, 6)])
def test_convolutions_and_pools_trace_with_none_heights_and_widths(rng, hw):
    spec = [gt.TensorSpec([None, None, None, 3], gt.float32)]
    _check_against_eager(
        _fully_convolutional, spec, lambda n: [_f32(rng, n, *hw, 3)], sizes=(2, 1), rtol=1e-4
    )


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: gt.nn.max_pool2d(x, 2, 2, "SAME"),
        lambda x: gt.nn.conv2d(x, gt.ones([3, 3, 3, 2]), 2, "SAME"),
    ],
    ids=["pool", "conv"],
)
def test_same_padding_with_a_stride_over_a_none_size_is_resolved_at_run_time(rng, fn):
    # The padding depends on the size (8 pads 0 or 1 at the end, 9 pads 1 or 2 around): the
    # kernel resolves it, as TF; tests/graph/test_strided_none_sizes.py checks the values.
    _check_against_eager(
        fn,
        [gt.TensorSpec([1, None, None, 3], gt.float32)],
        lambda n: [_f32(rng, 1, 7 + n, 9, 3)],
        sizes=(1, 2),
    )


@pytest.mark.parametrize(
    "layer",
    [
        lambda x: gt.nn.conv2d(x, gt.ones([2, 2, 3, 2]), 2, "VALID"),
        lambda x: gt.nn.avg_pool2d(x, 2, 2, "VALID"),
    ],
    ids=["conv2d", "avg_pool2d"],
)
def test_a_strided_gradient_over_a_none_size_reads_the_size_at_run_time(rng, layer):
    # Several input sizes (8 or 9) give the same output size: the gradient reads x's size.
    def step(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            loss = gt.reduce_sum(layer(x))
        return tape.gradient(loss, x)

    _check_against_eager(
        step,
        [gt.TensorSpec([1, None, 8, 3], gt.float32)],
        lambda n: [_f32(rng, 1, 7 + n, 8, 3)],
        sizes=(1, 2),
    )


def test_a_keras_model_on_images_of_any_size_trains_and_predicts(rng):
    keras = gt.keras
    model = keras.Sequential(
        [
            keras.Input((None, None, 3)),
            keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(2),
        ]
    )
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    for h, w in [(8, 10), (12, 6)]:
        x = _f32(rng, 4, h, w, 3)
        history = model.fit(x, np.array([0, 1, 0, 1]), batch_size=4, epochs=2, verbose=0)
        assert np.all(np.isfinite(history.history["loss"]))
        np.testing.assert_allclose(model.predict(x, verbose=0), model(x).numpy(), rtol=1e-5, atol=1e-6)
