"""``gt.tile`` and ``gt.split`` into equal parts along dims unknown while tracing (None in an
input_signature): each call's result equals the eager op's, gradients included."""

import numpy as np
import pytest

import gputensor as gt


def _tiled(x):
    return gt.tile(x, [2, 1, 3]), gt.tile(x, [1, 0, 1])


def test_tile_along_none_dims_matches_eager(device, rng):
    f = gt.function(_tiled, input_signature=[gt.TensorSpec([None, 2, None], gt.float32)])
    graph = f.get_concrete_function(gt.TensorSpec([None, 2, None], gt.float32)).graph
    assert [tuple(s.shape) for s in graph.outputs] == [(None, 2, None), (None, 0, None)]
    for shape in ((3, 2, 4), (1, 2, 1), (0, 2, 5)):
        xv = rng.standard_normal(shape).astype(np.float32)
        got = f(gt.constant(xv))
        for g, w in zip(got, _tiled(gt.constant(xv))):
            np.testing.assert_array_equal(g.numpy(), w.numpy())
        np.testing.assert_array_equal(got[0].numpy(), np.tile(xv, [2, 1, 3]))
    assert f.experimental_get_tracing_count() == 1


def test_tile_gradient_along_a_none_dim_matches_eager(device, rng):
    w = rng.standard_normal((1, 6)).astype(np.float32)

    def loss(x):
        return gt.reduce_sum(gt.sin(gt.tile(x, [2, 3])) * gt.constant(w))

    @gt.function(input_signature=[gt.TensorSpec([None, 2], gt.float32)])
    def grad(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = loss(x)
        return tape.gradient(y, x)

    for n in (1, 3):
        xv = rng.standard_normal((n, 2)).astype(np.float32)
        x = gt.constant(xv)
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = loss(x)
        got = grad(x).numpy()
        np.testing.assert_allclose(got, tape.gradient(y, x).numpy(), rtol=1e-5, atol=1e-6)
        # each element has 2 * 3 copies: 2 row blocks, columns j, j + 2, j + 4
        want = np.cos(xv) * 2.0 * w.reshape(3, 2).sum(axis=0)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_split_into_equal_parts_along_a_none_dim_matches_eager(device, rng):
    def parts(x):
        a, b, c = gt.split(x, 3, axis=1)
        d, e = gt.split(x, 2, axis=-1)
        return a, b, c, d, e

    spec = gt.TensorSpec([None, None, 4], gt.float32)
    f = gt.function(parts, input_signature=[spec])
    outs = f.get_concrete_function(spec).graph.outputs
    assert [tuple(s.shape) for s in outs] == [(None, None, 4)] * 3 + [(None, None, 2)] * 2
    for shape in ((2, 6, 4), (1, 3, 4), (0, 9, 4)):
        xv = rng.standard_normal(shape).astype(np.float32)
        got = f(gt.constant(xv))
        want = np.split(xv, 3, axis=1) + np.split(xv, 2, axis=-1)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w)
    with pytest.raises(gt.errors.InvalidArgumentError, match=r"split_dim 1 \(size = 4\) and num_split 3"):
        f(gt.zeros([2, 4, 4]))
    with pytest.raises(gt.errors.InvalidArgumentError, match="should be positive"):
        gt.function(lambda x: gt.split(x, 0), input_signature=[spec])(gt.zeros([2, 3, 4]))


def test_split_gradient_along_a_none_dim_matches_eager(device, rng):
    def loss(x):
        a, b = gt.split(x, 2)
        return gt.reduce_sum(a * a * 3.0 + gt.sin(b))

    @gt.function(input_signature=[gt.TensorSpec([None, 3], gt.float32)])
    def grad(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = loss(x)
        return y, tape.gradient(y, x)

    for n in (2, 6):
        xv = rng.standard_normal((n, 3)).astype(np.float32)
        y, g = grad(gt.constant(xv))
        half = n // 2
        want = np.concatenate([6.0 * xv[:half], np.cos(xv[half:])])
        np.testing.assert_allclose(g.numpy(), want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(y.numpy(), loss(gt.constant(xv)).numpy(), rtol=1e-5)


def test_tile_and_split_along_none_dims_save_and_load(tmp_path, rng):
    class M(gt.Module):
        @gt.function(input_signature=[gt.TensorSpec([None, 2], gt.float32)])
        def __call__(self, x):
            a, b = gt.split(gt.tile(x, [2, 1]), 2)
            return a - b + gt.tile(x, [1, 2])[:, :2]

    m = M()
    xv = rng.standard_normal((3, 2)).astype(np.float32)
    m(gt.constant(xv))
    gt.saved_model.save(m, str(tmp_path / "m"))
    loaded = gt.saved_model.load(str(tmp_path / "m"))
    for n in (3, 5):
        xv = rng.standard_normal((n, 2)).astype(np.float32)
        np.testing.assert_allclose(loaded(gt.constant(xv)).numpy(), xv, rtol=1e-6)


def test_tile_and_split_along_none_dims_export_to_onnx(tmp_path, rng):
    ort = pytest.importorskip("onnxruntime")

    def f(x):
        a, b, c = gt.split(gt.tile(x, [3, 2]), 3)
        return a + 2.0 * b - c

    path = str(tmp_path / "ts.onnx")
    gt.onnx.export(gt.function(f), path, [gt.TensorSpec([None, 2], gt.float32)])
    session = ort.InferenceSession(path)
    for n in (1, 4):
        xv = rng.standard_normal((n, 2)).astype(np.float32)
        (got,) = session.run(None, {session.get_inputs()[0].name: xv})
        np.testing.assert_allclose(got, np.tile(2.0 * xv, [1, 2]), rtol=1e-6)
