"""gt.custom_gradient inside a gt.function: the CustomGradient node keeps grad_fn, so a tape around
the call (and around a loaded SavedModel's call) differentiates with it, as the same function run
eagerly does; higher order, a tape inside another function, None gradients, ONNX export."""

from __future__ import annotations

import numpy as np
import onnxruntime
import pytest

import gputensor as gt


@gt.custom_gradient
def clip_gradients(y):
    def backward(dy):
        return gt.clip_by_norm(dy, 0.5)

    return y, backward


@gt.custom_gradient
def log1pexp(x):
    e = gt.exp(x)

    def grad(upstream):
        return upstream * (1 - 1 / (1 + e))  # stable where exp(x) overflows

    return gt.math.log(1 + e), grad


def _softplus_twice(x):
    return log1pexp(x) * 2.0


def _first_and_second(fn, x):
    with gt.GradientTape() as t2:
        t2.watch(x)
        with gt.GradientTape() as t1:
            t1.watch(x)
            y = fn(x)
        g = t1.gradient(y, x)
    return y, g, t2.gradient(g, x)


def test_a_tape_around_the_call_uses_grad_fn_as_eagerly():
    f = gt.function(lambda x: clip_gradients(x))
    v = gt.Variable(2.0)
    with gt.GradientTape() as tape:
        out = f(v * v)
    assert float(out) == 4.0
    assert float(tape.gradient(out, v)) == pytest.approx(2.0)  # dy = 1 clipped to 0.5, times 2 v
    graph = f.get_concrete_function(gt.TensorSpec([], gt.float32)).graph
    assert [op.type for op in graph.get_operations()].count("CustomGradient") == 1


@pytest.mark.filterwarnings("ignore:overflow encountered")  # exp(100) in float32, on purpose
@pytest.mark.filterwarnings("ignore:invalid value encountered")  # and its inf/inf second order
def test_grad_fn_reading_forward_values_and_second_order_match_eager():
    x = gt.constant([0.0, 1.5, 100.0])
    want = _first_and_second(_softplus_twice, x)
    got = _first_and_second(gt.function(_softplus_twice), x)
    for w, g in zip(want, got):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-6)
    xs = x.numpy().astype(np.float64)
    np.testing.assert_allclose(got[1].numpy()[:2], 2 / (1 + np.exp(-xs[:2])), rtol=1e-6)
    assert got[1].numpy()[2] == pytest.approx(2.0)  # the custom gradient: no inf/inf


def test_several_outputs_and_a_none_gradient():
    @gt.custom_gradient
    def pair(a, b):
        def grad(da, db):
            return da * 10.0 + db, None

        return (a * b, a + b), grad

    def fn(a, b):
        p, s = pair(a, b)
        return p * 2.0 + s * 3.0

    a, b = gt.constant([1.0, 2.0]), gt.constant([3.0, 4.0])
    results = []
    for f in (fn, gt.function(fn)):
        with gt.GradientTape() as tape:
            tape.watch([a, b])
            y = f(a, b)
        results.append(tape.gradient(y, [a, b]))
    (ea, eb), (ga, gb) = results
    np.testing.assert_allclose(ga.numpy(), [23.0, 23.0])  # 2 * 10 + 3
    np.testing.assert_allclose(ga.numpy(), ea.numpy())
    assert gb is None and eb is None


@pytest.mark.filterwarnings("ignore:overflow encountered")  # exp(100) in float32, on purpose
def test_a_tape_inside_another_function_around_the_call():
    inner = gt.function(_softplus_twice)

    @gt.function
    def outer(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = inner(x)
        return tape.gradient(y, x)

    x = gt.constant([0.0, 100.0])
    np.testing.assert_allclose(outer(x).numpy(), [1.0, 2.0], rtol=1e-6)


def test_saved_and_loaded_it_still_differentiates_with_grad_fn(tmp_path):
    class M(gt.Module):
        @gt.function(input_signature=[gt.TensorSpec(None)])
        def call_custom_grad(self, x):
            return clip_gradients(x)

    path = str(tmp_path / "m")
    gt.saved_model.save(M(), path)  # traced for its input_signature by save
    loaded = gt.saved_model.load(path)
    v = gt.Variable(2.0)
    with gt.GradientTape() as tape:
        out = loaded.call_custom_grad(v * v)
    assert float(out) == 4.0
    assert float(tape.gradient(out, v)) == pytest.approx(2.0)
    assert float(loaded.call_custom_grad(gt.constant(3.0))) == 3.0


def test_onnx_export_keeps_the_forward(tmp_path):
    path = str(tmp_path / "m.onnx")
    gt.onnx.export(gt.function(_softplus_twice), path, [gt.TensorSpec([3], gt.float32)])
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    x = np.array([0.0, 1.0, -2.0], np.float32)
    (got,) = session.run(None, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(got, 2 * np.log1p(np.exp(x)), rtol=1e-6)


def test_inside_a_cond_branch_around_inside_and_loaded(tmp_path):
    def body(x):
        return gt.cond(x > 0.0, lambda: clip_gradients(x * x) * 3.0, lambda: x * 2.0)

    @gt.function
    def inside(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = body(x)
        return tape.gradient(y, x)

    # upstream 3 clipped to 0.5, times d(x^2)/dx = 4 at x = 2; the other branch's 2.
    assert float(inside(gt.constant(2.0))) == pytest.approx(2.0)
    assert float(inside(gt.constant(-2.0))) == pytest.approx(2.0)
    assert float(inside(gt.constant(0.1))) == pytest.approx(0.5 * 0.2)  # 3 clipped, times 2 x

    class M(gt.Module):
        @gt.function(input_signature=[gt.TensorSpec([])])
        def f(self, x):
            return body(x)

    m = M()
    path = str(tmp_path / "m")
    gt.saved_model.save(m, path)
    v = gt.Variable(2.0)
    for fn in (m.f, gt.saved_model.load(path).f):
        with gt.GradientTape() as tape:
            y = fn(v)
        assert float(y) == 12.0
        assert float(tape.gradient(y, v)) == pytest.approx(2.0)


def test_a_grad_fn_with_variables_gives_their_gradients_as_eagerly(tmp_path):
    class Scaled(gt.Module):
        def __init__(self):
            super().__init__()
            self.w = gt.Variable(3.0)

            @gt.custom_gradient
            def scaled(x):
                def grad(dy, variables=None):
                    assert variables == [self.w]
                    return dy * 100.0, [dy * 7.0]

                return x * self.w, grad

            self.scaled = scaled

        @gt.function(input_signature=[gt.TensorSpec([])])
        def __call__(self, x):
            return self.scaled(x) + 1.0

    m = Scaled()
    x = gt.constant(2.0)
    path = str(tmp_path / "scaled")
    gt.saved_model.save(m, path)
    loaded = gt.saved_model.load(path)
    for fn, w in ((m.scaled, m.w), (m, m.w), (loaded, loaded.trainable_variables[0])):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        dx, dw = tape.gradient(y, [x, w])
        assert (float(dx), float(dw)) == (100.0, 7.0)

    @gt.custom_gradient
    def no_variables_argument(x):
        return x * m.w, lambda dy: dy

    with pytest.raises(TypeError, match="grad_fn must accept a keyword argument 'variables'"):
        gt.function(no_variables_argument)(x)
