"""gt.custom_gradient, gt.recompute_grad, gt.stop_gradient and gt.IndexedSlices."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt

F64 = gt.float64


def c(value):
    return gt.constant(value, dtype=F64)


# ------------------------------------------------------------- stop_gradient
def test_stop_gradient_blocks_the_gradient(device):
    x = c(3.0)
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = x * gt.stop_gradient(x * x)
    assert tape.gradient(y, x).numpy() == pytest.approx(9.0)


def test_stop_gradient_keeps_the_value_and_accepts_variables(device):
    v = gt.Variable(c([1.0, 2.0]))
    s = gt.stop_gradient(v)
    np.testing.assert_array_equal(s.numpy(), [1.0, 2.0])
    with gt.GradientTape() as tape:
        y = gt.stop_gradient(v) * 2.0
    assert tape.gradient(y, v) is None


# ------------------------------------------------------------ custom_gradient
@gt.custom_gradient
def log1pexp(x):
    e = gt.exp(x)

    def grad(upstream):
        return upstream * (1 - 1 / (1 + e))

    return gt.math.log(1 + e), grad


def test_custom_gradient_replaces_the_gradient(device):
    x = c(100.0)
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = log1pexp(x)
    assert tape.gradient(y, x).numpy() == pytest.approx(1.0)  # the naive gradient would be nan


def test_custom_gradient_without_a_tape_returns_the_value(device):
    np.testing.assert_allclose(log1pexp(c(0.0)).numpy(), np.log(2.0))


def test_custom_gradient_of_several_arguments_and_none(device):
    @gt.custom_gradient
    def mul(a, b):
        def grad(dy):
            return dy * b * 10.0, None

        return a * b, grad

    a, b = c(2.0), c(3.0)
    with gt.GradientTape() as tape:
        tape.watch([a, b])
        y = mul(a, b)
    ga, gb = tape.gradient(y, [a, b])
    assert ga.numpy() == pytest.approx(30.0)
    assert gb is None


def test_custom_gradient_with_variables_returns_their_gradients(device):
    v = gt.Variable(c(2.0))

    @gt.custom_gradient
    def scaled(x):
        def grad(dy, variables=None):
            return dy * v * 1.0, [dy * x * 100.0]

        return x * v, grad

    x = c(5.0)
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = scaled(x)
    gx, gv = tape.gradient(y, [x, v])
    assert gx.numpy() == pytest.approx(2.0)
    assert gv.numpy() == pytest.approx(500.0)


def test_custom_gradient_reading_variables_needs_variables_argument(device):
    v = gt.Variable(c(2.0))

    @gt.custom_gradient
    def scaled(x):
        return x * v, lambda dy: dy

    with gt.GradientTape() as tape:
        x = c(1.0)
        tape.watch(x)
        with pytest.raises(TypeError, match="must accept a keyword argument 'variables'"):
            scaled(x)


def test_custom_gradient_returning_wrong_number_of_gradients_raises(device):
    @gt.custom_gradient
    def f(a, b):
        return a + b, lambda dy: dy

    a, b = c(1.0), c(2.0)
    with gt.GradientTape() as tape:
        tape.watch([a, b])
        y = f(a, b)
    with pytest.raises(ValueError, match="returned 1 gradients but the function has 2"):
        tape.gradient(y, [a, b])


def test_custom_gradient_second_order_through_the_grad_function(device):
    @gt.custom_gradient
    def cube(x):
        def grad(dy):
            return dy * 3.0 * x * x

        return x * x * x, grad

    x = c(2.0)
    with gt.GradientTape() as outer:
        outer.watch(x)
        with gt.GradientTape() as inner:
            inner.watch(x)
            y = cube(x)
        dy = inner.gradient(y, x)
    assert dy.numpy() == pytest.approx(12.0)
    assert outer.gradient(dy, x).numpy() == pytest.approx(12.0)  # 6x


def test_custom_gradient_with_nested_outputs(device):
    @gt.custom_gradient
    def pair(x):
        def grad(d1, d2):
            return d1 * 2.0 + d2 * 3.0

        return (x * 2.0, x * 3.0), grad

    x = c(1.0)
    with gt.GradientTape() as tape:
        tape.watch(x)
        a, b = pair(x)
        y = a + b * 10.0
    assert tape.gradient(y, x).numpy() == pytest.approx(32.0)


# -------------------------------------------------------------- recompute_grad
def test_recompute_grad_gives_the_same_gradient_and_records_less(device, rng):
    w = gt.Variable(c(rng.standard_normal((3, 3))))

    def block(x):
        return gt.tanh(gt.matmul(gt.tanh(gt.matmul(x, w)), w))

    x = c(rng.standard_normal((2, 3)))
    with gt.GradientTape() as plain:
        plain.watch(x)
        y = gt.reduce_sum(block(x))
    n_plain = len(plain._records)
    expected = plain.gradient(y, [x, w])
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = gt.reduce_sum(gt.recompute_grad(block)(x))
    assert len(tape._records) < n_plain
    got = tape.gradient(y, [x, w])
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-12)


# --------------------------------------------------------------- IndexedSlices
def test_gather_gradient_is_indexed_slices_convertible_to_dense(device):
    params = gt.Variable(c(np.arange(12.0).reshape(4, 3)))
    with gt.GradientTape() as tape:
        rows = gt.gather(params, [2, 0, 2])
        y = gt.reduce_sum(rows * c([[1.0], [2.0], [3.0]]))
    g = tape.gradient(y, params)
    assert isinstance(g, gt.IndexedSlices)
    expected = np.zeros((4, 3))
    expected[2] = 1.0 + 3.0
    expected[0] = 2.0
    np.testing.assert_allclose(gt.convert_to_tensor(g).numpy(), expected)
    assert g.dense_shape.numpy().tolist() == [4, 3]


def test_embedding_lookup_gradients_of_two_lookups_aggregate(device):
    table = gt.Variable(c(np.ones((5, 2))))
    with gt.GradientTape() as tape:
        a = gt.nn.embedding_lookup(table, gt.constant([1, 3]))
        b = gt.nn.embedding_lookup(table, gt.constant([3]))
        y = gt.reduce_sum(a) + gt.reduce_sum(b) * 2.0
    g = tape.gradient(y, table)
    expected = np.zeros((5, 2))
    expected[1] = 1.0
    expected[3] = 3.0
    np.testing.assert_allclose(gt.convert_to_tensor(g).numpy(), expected)


def test_indexed_slices_mixed_with_dense_gradient_becomes_dense(device):
    params = gt.Variable(c(np.ones((3, 2))))
    with gt.GradientTape() as tape:
        y = gt.reduce_sum(gt.gather(params, [0])) + gt.reduce_sum(params * 2.0)
    g = tape.gradient(y, params)
    np.testing.assert_allclose(gt.convert_to_tensor(g).numpy(), [[3.0, 3.0], [2.0, 2.0], [2.0, 2.0]])


def test_indexed_slices_properties(device):
    s = gt.IndexedSlices(c([[1.0, 2.0], [3.0, 4.0]]), gt.constant([2, 2]), [3, 2])
    assert s.shape == (3, 2)
    assert s.dtype == F64
    np.testing.assert_allclose(gt.convert_to_tensor(s).numpy(), [[0, 0], [0, 0], [4, 6]])
    np.testing.assert_allclose(gt.convert_to_tensor(-s).numpy(), [[0, 0], [0, 0], [-4, -6]])
    with pytest.raises(TypeError, match="indices must be integers"):
        gt.IndexedSlices(c([1.0]), c([0.0]))


def test_indexed_slices_prints_as_tf_does():
    s = gt.IndexedSlices(gt.constant([[2.0, 2.0]]), gt.constant([1]), [2, 2])
    # TF 2.21 prints (with tf. for gt.): its parts' str() and the dense shape as a tensor.
    assert str(s) == (
        "IndexedSlices(indices=gt.Tensor([1], shape=(1,), dtype=int32), values=gt.Tensor([[2. 2.]], "
        "shape=(1, 2), dtype=float32), dense_shape=gt.Tensor([2 2], shape=(2,), dtype=int32))"
    )
    assert str(gt.IndexedSlices(gt.constant([1.0]), gt.constant([0]))) == (
        "IndexedSlices(indices=gt.Tensor([0], shape=(1,), dtype=int32), values=gt.Tensor([1.], "
        "shape=(1,), dtype=float32))"
    )
    assert repr(s).startswith("<gputensor.autodiff.indexed_slices.IndexedSlices object at 0x")  # as TF's


def test_indexed_slices_in_arithmetic_and_add_n_are_dense(device):
    s = gt.IndexedSlices(c([[1.0, 2.0]]), gt.constant([1]), [2, 2])
    dense = np.array([[0.0, 0.0], [1.0, 2.0]])
    np.testing.assert_allclose((0.5 * s).numpy(), dense * 0.5)
    np.testing.assert_allclose((s - c(np.ones((2, 2)))).numpy(), dense - 1)
    np.testing.assert_allclose(gt.add_n([s, c(np.ones((2, 2)))]).numpy(), dense + 1)


def test_hand_written_sgd_applies_a_sparse_gradient(device):
    table = gt.Variable(c(np.ones((3, 2))))
    with gt.GradientTape() as tape:
        loss = gt.reduce_sum(gt.gather(table, [2]))
    g = tape.gradient(loss, table)
    table.assign_sub(0.5 * g)
    np.testing.assert_allclose(table.numpy(), [[1.0, 1.0], [1.0, 1.0], [0.5, 0.5]])


def test_indexed_slices_without_dense_shape_cannot_become_dense(device):
    s = gt.IndexedSlices(c([[1.0, 2.0]]), gt.constant([0]))
    assert s.shape.as_list() == [None, 2]
    assert s.dense_shape is None
    with pytest.raises(ValueError, match="without dense_shape"):
        gt.convert_to_tensor(s)


def test_recompute_grad_with_variables_gives_their_gradients(device):
    w = gt.Variable(c(3.0))

    @gt.recompute_grad
    def scaled_square(x):
        return gt.square(x) * w

    x = c(2.0)
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = scaled_square(x)
    gx, gw = tape.gradient(y, [x, w])
    assert gx.numpy() == pytest.approx(12.0)  # 2 x w
    assert gw.numpy() == pytest.approx(4.0)  # x^2


def test_recompute_grad_without_a_tape_just_computes(device):
    f = gt.recompute_grad(lambda x: x * 2.0)
    assert f(c(1.5)).numpy() == 3.0
