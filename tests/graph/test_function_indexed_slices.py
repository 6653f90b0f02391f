"""gt.IndexedSlices through gt.function: returned (a gather's or an embedding's gradient),
nested among dense results, saved and loaded, and passed in as an argument, as TF 2.21's
tf.function (which returns them as eager IndexedSlices). References: NumPy (np.add.at for
the dense form) and TF outputs captured as literals."""

import numpy as np
import pytest

import gputensor as gt
from gputensor.autodiff import nest

PARAMS = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], np.float32)
WEIGHTS = np.array([[1.0, 2.0]], np.float32)  # scales the gathered rows: values differ per column


def _dense(values, indices, dense_shape):
    out = np.zeros(dense_shape, np.float32)
    np.add.at(out, np.asarray(indices), np.asarray(values))
    return out


def _gather_grad_fn(v, **kwargs):
    @gt.function(**kwargs)
    def f(i):
        with gt.GradientTape() as tape:
            y = gt.reduce_sum(gt.gather(v, i) * gt.constant(WEIGHTS))
        return tape.gradient(y, v)

    return f


def _check(g, indices, dense_shape=(3, 2)):
    """``g`` is an eager IndexedSlices of the gradient of sum(gather(v, indices) * WEIGHTS)."""
    assert type(g) is gt.IndexedSlices
    for part in (g.values, g.indices, g.dense_shape):
        assert isinstance(part, gt.Tensor)
        assert not hasattr(part._data, "node")  # an eager value, not a graph's symbol
    values = np.repeat(WEIGHTS, len(indices), axis=0)
    np.testing.assert_array_equal(g.values.numpy(), values)
    np.testing.assert_array_equal(g.indices.numpy(), indices)
    assert g.indices.dtype == gt.int32
    np.testing.assert_array_equal(g.dense_shape.numpy(), dense_shape)
    dense = gt.convert_to_tensor(g)
    np.testing.assert_allclose(dense.numpy(), _dense(values, indices, dense_shape))
    return dense


def test_a_returned_gather_gradient_is_an_eager_indexed_slices():
    v = gt.Variable(PARAMS)
    f = _gather_grad_fn(v)
    dense = _check(f(gt.constant([0, 2, 0])), [0, 2, 0])
    # TF: [[2. 4.] [0. 0.] [1. 2.]]
    np.testing.assert_array_equal(dense.numpy(), [[2.0, 4.0], [0.0, 0.0], [1.0, 2.0]])
    _check(f(gt.constant([0, 2, 0])), [0, 2, 0])  # the traced graph's call, as the first
    assert f.experimental_get_tracing_count() == 1
    g = f(gt.constant([1, 1, 2]))
    assert str(g).startswith("IndexedSlices(indices=gt.Tensor([1 1 2], shape=(3,), dtype=int32), values=")
    assert repr(g).startswith("<gputensor.autodiff.indexed_slices.IndexedSlices object at 0x")  # as TF's
    np.testing.assert_array_equal(np.asarray(g), [[0.0, 0.0], [2.0, 4.0], [1.0, 2.0]])


def test_a_returned_gradient_works_in_ops_and_eagerly_as_a_fresh_one():
    v = gt.Variable(PARAMS)
    g = _gather_grad_fn(v)(gt.constant([2, 0]))
    eager = gt.IndexedSlices(gt.constant(np.repeat(WEIGHTS, 2, 0)), gt.constant([2, 0]), [3, 2])
    np.testing.assert_array_equal((g * 2.0).numpy(), (eager * 2.0).numpy())
    np.testing.assert_array_equal(
        gt.add(g, 1.0).numpy(), _dense(np.repeat(WEIGHTS, 2, 0), [2, 0], (3, 2)) + 1
    )
    np.testing.assert_array_equal((-g).values.numpy(), -np.repeat(WEIGHTS, 2, 0))
    assert g.shape.as_list() == [3, 2] and g.dtype == gt.float32


def test_nested_results_mix_indexed_slices_and_dense_tensors():
    v = gt.Variable(PARAMS)
    w = gt.Variable([1.0, 2.0])

    @gt.function
    def h(i):
        with gt.GradientTape() as tape:
            y = gt.reduce_sum(gt.gather(v, i)) * gt.reduce_sum(w * w)
        return {"grads": tape.gradient(y, [v, w]), "n": gt.size(i), "tag": "step"}

    out = h(gt.constant([1, 1]))
    assert sorted(out) == ["grads", "n", "tag"] and out["tag"] == "step"
    g_v, g_w = out["grads"]
    assert type(g_v) is gt.IndexedSlices and type(g_w) is gt.Tensor
    # TF: values [[5, 5], [5, 5]] at [1, 1]; the dense gradient of w [28, 56]; n 2.
    np.testing.assert_array_equal(g_v.values.numpy(), [[5.0, 5.0], [5.0, 5.0]])
    np.testing.assert_array_equal(g_v.indices.numpy(), [1, 1])
    np.testing.assert_array_equal(gt.convert_to_tensor(g_v).numpy(), [[0, 0], [10, 10], [0, 0]])
    np.testing.assert_array_equal(g_w.numpy(), [28.0, 56.0])
    assert int(out["n"]) == 2


def test_input_signature_with_a_none_dim_traces_once_and_returns_indexed_slices():
    v = gt.Variable(PARAMS)
    k = _gather_grad_fn(v, input_signature=[gt.TensorSpec([None], gt.int32)])
    _check(k(gt.constant([2])), [2])
    _check(k(gt.constant([0, 1, 2, 2])), [0, 1, 2, 2])
    assert k.experimental_get_tracing_count() == 1


def test_get_concrete_function_outputs_and_calls():
    v = gt.Variable(PARAMS)
    k = _gather_grad_fn(v, input_signature=[gt.TensorSpec([None], gt.int32)])
    cf = k.get_concrete_function()
    sym = cf.structured_outputs
    assert type(sym) is gt.IndexedSlices
    assert sym.values.shape.as_list() == [None, 2] and sym.indices.shape.as_list() == [None]
    assert sym.dense_shape.numpy().tolist() == [3, 2]
    _check(cf(gt.constant([1, 0])), [1, 0])
    # TF's printout names it an IndexedSlicesSpec (dense shape, dtype, indices dtype,
    # dense shape dtype, indices shape).
    assert cf.pretty_printed_signature().splitlines()[3] == (
        "  IndexedSlicesSpec(TensorShape([3, 2]), gt.float32, gt.int32, gt.int32, TensorShape([None]))"
    )


def test_called_under_a_tape_it_returns_the_same_indexed_slices():
    v = gt.Variable(PARAMS)
    f = _gather_grad_fn(v)
    x = gt.constant(3.0)
    with gt.GradientTape() as tape:
        tape.watch(x)
        g = f(gt.constant([0, 0]))
        y = gt.reduce_sum(g.values) * x
    _check(g, [0, 0])
    assert float(tape.gradient(y, x)) == 6.0  # sum of the values: the graph's results were recorded


def test_run_functions_eagerly_returns_the_same():
    v = gt.Variable(PARAMS)
    f = _gather_grad_fn(v)
    gt.config.run_functions_eagerly(True)
    try:
        _check(f(gt.constant([2, 2, 1])), [2, 2, 1])
    finally:
        gt.config.run_functions_eagerly(False)
    _check(f(gt.constant([2, 2, 1])), [2, 2, 1])


def test_an_embedding_models_gradients_match_tf():
    emb = gt.keras.layers.Embedding(4, 2)
    dense = gt.keras.layers.Dense(1)
    model = gt.keras.Sequential(
        [gt.keras.Input((3,), dtype="int32"), emb, gt.keras.layers.GlobalAveragePooling1D(), dense]
    )
    emb.embeddings.assign(np.arange(8, dtype=np.float32).reshape(4, 2) / 10)
    dense.kernel.assign([[0.5], [-1.0]])
    dense.bias.assign([0.0])

    @gt.function
    def step(x, y):
        with gt.GradientTape() as tape:
            loss = gt.reduce_mean((model(x) - y) ** 2)
        return loss, tape.gradient(loss, model.trainable_variables)

    loss, grads = step(gt.constant([[0, 1, 1], [3, 2, 0]]), gt.constant([[1.0], [0.0]]))
    assert [type(g).__name__ for g in grads] == ["IndexedSlices", "Tensor", "Tensor"]  # TF's kinds
    np.testing.assert_allclose(float(loss), 0.7161111831665039, rtol=1e-6)
    a, b = [-0.1944444626569748, 0.3888889253139496], [-0.044444452971220016, 0.08888890594244003]
    np.testing.assert_allclose(grads[0].values.numpy(), [a, a, a, b, b, b], rtol=1e-6)
    np.testing.assert_array_equal(grads[0].indices.numpy(), [0, 1, 1, 3, 2, 0])
    np.testing.assert_array_equal(grads[0].dense_shape.numpy(), [4, 2])
    np.testing.assert_allclose(grads[1].numpy(), [[-0.24444448947906494], [-0.38777783513069153]], rtol=1e-6)
    np.testing.assert_allclose(grads[2].numpy(), [-1.433333396911621], rtol=1e-6)

    before = emb.embeddings.numpy()
    gt.keras.optimizers.SGD(0.1).apply_gradients(zip(grads, model.trainable_variables))
    expected = before - 0.1 * _dense(grads[0].values.numpy(), [0, 1, 1, 3, 2, 0], (4, 2))
    np.testing.assert_allclose(emb.embeddings.numpy(), expected, rtol=1e-6)


def test_sgd_applies_a_returned_gradient_eagerly():
    v = gt.Variable(PARAMS)
    g = _gather_grad_fn(v)(gt.constant([0, 2, 0]))
    gt.keras.optimizers.SGD(0.1).apply_gradients([(g, v)])
    # TF: [[0.8 1.6] [3. 4.] [4.9 5.8]]
    np.testing.assert_allclose(v.numpy(), [[0.8, 1.6], [3.0, 4.0], [4.9, 5.8]], rtol=1e-6)


class _Sparse(gt.Module):
    def __init__(self):
        self.v = gt.Variable(PARAMS)

    @gt.function(input_signature=[gt.TensorSpec([None], gt.int32)])
    def grad(self, i):
        with gt.GradientTape() as tape:
            y = gt.reduce_sum(gt.gather(self.v, i) * gt.constant(WEIGHTS))
        return tape.gradient(y, self.v)

    @gt.function(input_signature=[gt.TensorSpec([None], gt.int32)])
    def both(self, i):
        with gt.GradientTape() as tape:
            y = gt.reduce_sum(gt.gather(self.v, i)) * 2.0
        return {"g": tape.gradient(y, self.v), "y": y}


def test_saved_and_loaded_functions_return_indexed_slices(tmp_path):
    path = str(tmp_path / "sparse")
    gt.saved_model.save(_Sparse(), path)
    loaded = gt.saved_model.load(path)
    _check(loaded.grad(gt.constant([0, 2, 0])), [0, 2, 0])
    _check(loaded.grad(gt.constant([1])), [1])
    out = loaded.both(gt.constant([1]))
    # TF: {'g': IndexedSlices (values [[2. 2.]] at [1]), 'y': 14.0}
    assert type(out["g"]) is gt.IndexedSlices and float(out["y"]) == 14.0
    np.testing.assert_array_equal(out["g"].values.numpy(), [[2.0, 2.0]])
    np.testing.assert_array_equal(out["g"].indices.numpy(), [1])
    np.testing.assert_array_equal(gt.convert_to_tensor(out["g"]).numpy(), [[0, 0], [2, 2], [0, 0]])


# ------------------------------------------------------------------ arguments
def _slices(rows, indices, dense_shape=(3, 2)):
    return gt.IndexedSlices(gt.constant(np.asarray(rows, np.float32)), gt.constant(indices), dense_shape)


def test_an_indexed_slices_argument_arrives_whole():
    @gt.function
    def q(s):
        return s.values * 2.0, s.indices, s.dense_shape, gt.convert_to_tensor(s)

    values, indices, shape, dense = q(_slices([[1.0, 2.0]], [1]))
    # TF: [[2. 4.]], [1], [3 2], [[0 0] [1 2] [0 0]]
    np.testing.assert_array_equal(values.numpy(), [[2.0, 4.0]])
    np.testing.assert_array_equal(indices.numpy(), [1])
    np.testing.assert_array_equal(shape.numpy(), [3, 2])
    np.testing.assert_array_equal(dense.numpy(), [[0.0, 0.0], [1.0, 2.0], [0.0, 0.0]])


def test_an_indexed_slices_argument_retraces_as_tf():
    @gt.function
    def q(s):
        return gt.convert_to_tensor(s)

    rows = [[1.0, 2.0], [3.0, 4.0]]
    q(_slices([[1.0, 2.0]], [1]))
    q(_slices([[5.0, 6.0]], [0]))  # same shapes: the same graph, as TF
    assert q.experimental_get_tracing_count() == 1
    out = q(_slices(rows, [1, 1]))  # more rows: traced again, as TF
    assert q.experimental_get_tracing_count() == 2
    np.testing.assert_array_equal(out.numpy(), _dense(rows, [1, 1], (3, 2)))
    # The dense shape is part of the signature here: another one traces again.
    out = q(_slices(rows, [3, 0], (4, 2)))
    assert q.experimental_get_tracing_count() == 3
    np.testing.assert_array_equal(out.numpy(), _dense(rows, [3, 0], (4, 2)))
    assert q.pretty_printed_concrete_signatures().splitlines()[1] == (
        "  s (POSITIONAL_OR_KEYWORD): IndexedSlicesSpec(TensorShape([3, 2]), gt.float32, gt.int32, "
        "gt.int32, TensorShape([1]))"
    )


def test_an_indexed_slices_argument_without_a_dense_shape():
    @gt.function
    def q3(s):
        return s.values + 1.0, s.dense_shape is None

    values, unknown = q3(gt.IndexedSlices(gt.constant([[1.0, 2.0]]), gt.constant([1])))
    np.testing.assert_array_equal(values.numpy(), [[2.0, 3.0]])  # TF: [[2. 3.]]
    assert unknown is True
    text = q3.pretty_printed_concrete_signatures().splitlines()[1]
    assert text.endswith(
        "IndexedSlicesSpec(TensorShape([None, 2]), gt.float32, gt.int32, None, TensorShape([1]))"
    )


def test_an_indexed_slices_argument_returned_as_it_came():
    @gt.function
    def echo(pair):
        return {"s": pair[0], "scaled": pair[1] * 3.0}

    s = _slices([[1.0, 2.0], [3.0, 4.0]], [2, 0])
    out = echo((s, gt.constant(1.0)))
    assert type(out["s"]) is gt.IndexedSlices and out["s"] is not s
    np.testing.assert_array_equal(out["s"].values.numpy(), [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(out["s"].indices.numpy(), [2, 0])
    np.testing.assert_array_equal(out["s"].dense_shape.numpy(), [3, 2])
    assert float(out["scaled"]) == 3.0


def test_concrete_function_takes_indexed_slices():
    @gt.function
    def q(s, scale):
        return gt.convert_to_tensor(s) * scale

    cf = q.get_concrete_function(_slices([[1.0, 2.0]], [0]), gt.TensorSpec([], gt.float32))
    out = cf(_slices([[3.0, 4.0]], [2]), gt.constant(2.0))
    np.testing.assert_array_equal(out.numpy(), [[0.0, 0.0], [0.0, 0.0], [6.0, 8.0]])
    with pytest.raises(gt.errors.InvalidArgumentError, match="does not match"):
        cf(_slices([[3.0, 4.0], [1.0, 1.0]], [2, 1]), gt.constant(2.0))


# ------------------------------------------------------------------ nest
def test_nest_keeps_indexed_slices_whole_unless_composites_expand():
    s = _slices([[1.0, 2.0]], [1])
    assert nest.flatten([s, 1.0]) == [s, 1.0]  # the tape's view, as tf.nest.flatten
    values, indices, one = nest.flatten([s, 1.0], expand_composites=True)
    assert values is s.values and indices is s.indices and one == 1.0
    rebuilt = nest.pack_sequence_as([s, 1.0], [values * 2.0, indices, 5.0], expand_composites=True)
    assert type(rebuilt[0]) is gt.IndexedSlices and rebuilt[1] == 5.0
    np.testing.assert_array_equal(rebuilt[0].values.numpy(), [[2.0, 4.0]])
    np.testing.assert_array_equal(rebuilt[0].dense_shape.numpy(), [3, 2])


def test_the_tape_still_takes_indexed_slices_sources_whole():
    x = gt.constant([[1.0, 2.0]])
    s = gt.IndexedSlices(x, gt.constant([0]), [2, 2])
    with gt.GradientTape() as tape:
        tape.watch(s)
        y = gt.reduce_sum(s.values * s.values)
    np.testing.assert_array_equal(tape.gradient(y, s).numpy(), [[2.0, 4.0]])


class _TakesSlices(gt.Module):
    @gt.function
    def dense(self, s):
        return gt.convert_to_tensor(s) * 2.0


def test_a_saved_function_traced_for_an_indexed_slices_argument(tmp_path):
    m = _TakesSlices()
    np.testing.assert_array_equal(m.dense(_slices([[1.0, 2.0]], [1])).numpy(), [[0, 0], [2, 4], [0, 0]])
    path = str(tmp_path / "takes")
    gt.saved_model.save(m, path)
    loaded = gt.saved_model.load(path)
    out = loaded.dense(_slices([[3.0, 4.0]], [0]))
    np.testing.assert_array_equal(out.numpy(), _dense([[6.0, 8.0]], [0], (3, 2)))
    # The dense shape was traced as a Python value: another one has no saved graph.
    with pytest.raises(ValueError, match="no saved signature matches"):
        loaded.dense(_slices([[3.0, 4.0]], [0], (4, 2)))


def test_params_with_a_none_dim_give_the_dense_gradient():
    # TF returns IndexedSlices with a run-time dense_shape here; gt's dense shape is known at
    # trace time, so the rows are added into zeros of the params' run-time shape (docs/graphs.md).
    @gt.function(input_signature=[gt.TensorSpec([None, 2]), gt.TensorSpec([None], gt.int32)])
    def p(x, i):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = gt.reduce_sum(gt.gather(x, i) * gt.constant(WEIGHTS))
        return tape.gradient(y, x)

    g = p(gt.ones([4, 2]), gt.constant([3, 3, 0]))
    assert type(g) is gt.Tensor
    np.testing.assert_array_equal(g.numpy(), _dense(np.repeat(WEIGHTS, 3, 0), [3, 3, 0], (4, 2)))
