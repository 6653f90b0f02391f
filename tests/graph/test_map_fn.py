"""gt.map_fn: NumPy references, eager vs traced, None leading dims, gradients, errors."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt


def test_the_api_docs_examples():
    np.testing.assert_array_equal(gt.map_fn(lambda t: t * t, gt.constant([1, 2, 3])).numpy(), [1, 4, 9])
    out = gt.map_fn(fn=lambda t: gt.range(t, t + 3), elems=gt.constant([3, 5, 2]))
    np.testing.assert_array_equal(out.numpy(), [[3, 4, 5], [5, 6, 7], [2, 3, 4]])
    a = gt.map_fn(lambda x: x[0] * x[1], (gt.constant([1, 2, 3]), gt.constant([-1, 1, -1])), dtype=gt.int32)
    np.testing.assert_array_equal(a.numpy(), [-1, 2, -3])
    pos, neg = gt.map_fn(lambda x: (x, -x), gt.constant([1, 2, 3]), fn_output_signature=(gt.int32, gt.int32))
    np.testing.assert_array_equal(pos.numpy(), [1, 2, 3])
    np.testing.assert_array_equal(neg.numpy(), [-1, -2, -3])


def _fn(r):
    return {"dot": gt.reduce_sum(r["a"] * r["b"][0]), "scaled": r["a"] * 2.0}


SIG = {"dot": gt.float32, "scaled": gt.TensorSpec([None], gt.float32)}


def _elems(x):
    return {"a": x, "b": (x + 1.0,)}


def _ref(x):
    return {"dot": (x * (x + 1.0)).sum(axis=1), "scaled": x * 2.0}


@pytest.mark.parametrize("rows", [1, 4])
def test_nested_elems_and_outputs_eager_and_traced_match_numpy(rows, device):
    x = np.random.default_rng(rows).standard_normal((rows, 3)).astype(np.float32)
    eager = gt.map_fn(_fn, _elems(gt.constant(x)), fn_output_signature=SIG)
    traced = gt.function(lambda x: gt.map_fn(_fn, _elems(x), fn_output_signature=SIG))(gt.constant(x))
    for got in (eager, traced):
        assert sorted(got) == ["dot", "scaled"]
        for k, want in _ref(x).items():
            np.testing.assert_allclose(got[k].numpy(), want, rtol=1e-6)
            assert got[k].shape == want.shape


def test_traced_map_fn_is_one_while_node_and_serves_a_none_leading_dim(device):
    @gt.function(input_signature=[gt.TensorSpec([None, 3])])
    def f(x):
        return gt.map_fn(lambda r: gt.reduce_max(r) - r, x)

    for rows in (0, 1, 5):
        x = np.arange(rows * 3, dtype=np.float32).reshape(rows, 3) ** 1.5
        np.testing.assert_allclose(f(x).numpy(), x.max(axis=1, keepdims=True) - x if rows else x, rtol=1e-6)
    assert f.experimental_get_tracing_count() == 1
    types = [op.type for op in f.get_concrete_function().graph.get_operations()]
    assert types.count("While") == 1


def test_fn_is_converted_by_autograph_when_traced():
    def fn(r):
        if gt.reduce_sum(r) > 0:  # a tensor condition: needs AutoGraph inside the loop body
            return r * 2.0
        return -r

    x = gt.constant([[1.0, 2.0], [-3.0, 1.0]])
    traced = gt.function(lambda x: gt.map_fn(fn, x))(x)
    np.testing.assert_array_equal(traced.numpy(), [[2, 4], [3, -1]])
    np.testing.assert_array_equal(gt.map_fn(fn, x).numpy(), [[2, 4], [3, -1]])


def test_gradients_eager_and_with_a_tape_around_and_inside_a_function(device):
    x = gt.constant(np.random.default_rng(7).standard_normal((4, 3)).astype(np.float32))
    w = gt.constant([0.5, -1.0, 2.0])

    def f(x):
        return gt.map_fn(lambda r: gt.reduce_sum(gt.sin(r) * w), x)

    want = np.cos(x.numpy()) * w.numpy()  # d/dx sum(sin(x) * w)
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = gt.reduce_sum(f(x))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), want, rtol=1e-5)
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = gt.reduce_sum(gt.function(f)(x))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), want, rtol=1e-5)

    @gt.function(input_signature=[gt.TensorSpec([None, 3])])
    def inside(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = gt.reduce_sum(f(x))
        return tape.gradient(y, x)

    np.testing.assert_allclose(inside(x).numpy(), want, rtol=1e-5)


def test_gradient_reaches_a_variable_fn_captures():
    v = gt.Variable([1.0, 2.0])
    x = gt.constant([[1.0, 1.0], [2.0, 3.0]])

    @gt.function
    def step(x):
        with gt.GradientTape() as tape:
            y = gt.reduce_sum(gt.map_fn(lambda r: r * v, x))
        return tape.gradient(y, v)

    np.testing.assert_allclose(step(x).numpy(), [3.0, 4.0])


def test_zero_rows_eagerly():
    out = gt.map_fn(lambda r: r * 2.0, gt.zeros([0, 3]))
    assert out.shape[0] == 0 and out.dtype == gt.float32


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="not scalars"):
        gt.map_fn(lambda r: r, gt.constant(1.0))
    with pytest.raises(ValueError, match="same first dimension size"):
        gt.map_fn(lambda r: r[0], (gt.zeros([2]), gt.zeros([3])))
    with pytest.raises(ValueError, match="must be a Tensor or"):
        gt.map_fn(lambda r: r, [])
    with pytest.raises(ValueError, match="fn_output_signature"):
        gt.map_fn(lambda r: (r, r), gt.constant([1.0, 2.0]))
    with pytest.raises(TypeError, match="dtype int32 but the output signature says float32"):
        gt.map_fn(lambda r: gt.cast(r, gt.int32), gt.constant([1.0, 2.0]))
    with pytest.raises(TypeError, match="dtype int32 but the output signature says float32"):
        gt.function(lambda x: gt.map_fn(lambda r: gt.cast(r, gt.int32), x))(gt.constant([1.0, 2.0]))


def test_a_traced_map_fn_saves_and_exports_to_onnx(tmp_path):
    sig = [gt.TensorSpec([None, 3])]
    m = gt.Module()
    m.f = gt.function(lambda x: gt.map_fn(lambda r: gt.reduce_sum(r * r), x), input_signature=sig)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    want = (x * x).sum(axis=1)
    np.testing.assert_allclose(m.f(x).numpy(), want)
    gt.saved_model.save(m, str(tmp_path / "m"))
    loaded = gt.saved_model.load(str(tmp_path / "m"))
    np.testing.assert_allclose(loaded.f(x).numpy(), want)
    np.testing.assert_allclose(loaded.f(x[:1]).numpy(), want[:1])
    ort = pytest.importorskip("onnxruntime")
    gt.onnx.export(m.f, str(tmp_path / "m.onnx"), sig)
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"))
    (got,) = sess.run(None, {sess.get_inputs()[0].name: x})
    np.testing.assert_allclose(got, want)
