"""The examples of TensorFlow's autodiff guide (tensorflow.org/guide/autodiff), with tf -> gt."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt


def test_gradient_of_a_variable_square():
    x = gt.Variable(3.0)
    with gt.GradientTape() as tape:
        y = x**2
    assert tape.gradient(y, x).numpy() == 6.0


def test_gradients_with_respect_to_a_dict_of_variables():
    w = gt.Variable(gt.random.normal((3, 2)), name="w")
    b = gt.Variable(gt.zeros(2, dtype=gt.float32), name="b")
    x = [[1.0, 2.0, 3.0]]
    with gt.GradientTape(persistent=True) as tape:
        y = x @ w + b
        loss = gt.reduce_mean(y**2)
    dl_dw, dl_db = tape.gradient(loss, [w, b])
    assert dl_dw.shape == w.shape
    grad = tape.gradient(loss, {"w": w, "b": b})
    np.testing.assert_allclose(grad["b"].numpy(), dl_db.numpy())
    np.testing.assert_allclose(dl_db.numpy(), (x @ w + b).numpy()[0], rtol=1e-6)  # d mean(y^2)/db = y


def test_controlling_what_the_tape_watches():
    x0 = gt.Variable(3.0, name="x0")
    x1 = gt.Variable(3.0, name="x1", trainable=False)
    x2 = gt.Variable(2.0, name="x2") + 1.0
    x3 = gt.constant(3.0, name="x3")
    with gt.GradientTape() as tape:
        y = (x0**2) + (x1**2) + (x2**2)
    grad = tape.gradient(y, [x0, x1, x2, x3])
    assert grad[0].numpy() == 6.0
    assert grad[1:] == [None, None, None]
    assert [var.name for var in tape.watched_variables()] == ["x0:0"]


def test_watch_accessed_variables_false():
    x0, x1 = gt.Variable(0.0), gt.Variable(10.0)
    with gt.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x1)
        y = gt.math.sin(x0) + gt.nn.softplus(x1)
        ys = gt.reduce_sum(y)
    grad = tape.gradient(ys, {"x0": x0, "x1": x1})
    assert grad["x0"] is None
    assert grad["x1"].numpy() == pytest.approx(0.9999546, rel=1e-6)


def test_intermediate_results_and_persistent_tape():
    x = gt.constant(3.0)
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    assert tape.gradient(z, y).numpy() == 18.0
    x = gt.constant([1, 3.0])
    with gt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    np.testing.assert_array_equal(tape.gradient(z, x).numpy(), [4.0, 108.0])
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [2.0, 6.0])


def test_non_scalar_and_several_targets():
    x = gt.Variable(2.0)
    with gt.GradientTape() as tape:
        y0 = x**2
        y1 = 1 / x
    assert tape.gradient({"y0": y0, "y1": y1}, x).numpy() == 3.75
    with gt.GradientTape() as tape:
        y = x * [3.0, 4.0]
    assert tape.gradient(y, x).numpy() == 7.0


def test_control_flow_and_a_variable_as_target():
    x = gt.constant(1.0)
    v0, v1 = gt.Variable(2.0), gt.Variable(2.0)
    with gt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        result = v0 if x > 0.0 else v1**2
    dv0, dv1 = tape.gradient(result, [v0, v1])
    assert dv0.numpy() == 1.0
    assert dv1 is None
    assert tape.gradient(result, x) is None


def test_cases_where_gradient_returns_none():
    x = gt.Variable(2.0)
    for epoch in range(2):
        with gt.GradientTape() as tape:
            y = x + 1
        g = tape.gradient(y, x)
        assert (g is not None) == (epoch == 0)
        x = x + 1  # a tensor now, not a variable: the guide's mistake
    x = gt.Variable([[1.0, 2.0], [3.0, 4.0]], dtype=gt.float32)
    with gt.GradientTape() as tape:
        x2 = x**2
        y = np.mean(x2, axis=0)
        y = gt.reduce_mean(y, axis=0)
    assert tape.gradient(y, x) is None
    x0, x1 = gt.Variable(3.0), gt.Variable(0.0)
    with gt.GradientTape() as tape:
        x1.assign_add(x0)
        y = x1**2
    assert tape.gradient(y, x0) is None


def test_zeros_instead_of_none():
    x, y = gt.Variable([2.0, 2.0]), gt.Variable(3.0)
    with gt.GradientTape() as tape:
        z = y**2
    g = tape.gradient(z, x, unconnected_gradients=gt.UnconnectedGradients.ZERO)
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0])
