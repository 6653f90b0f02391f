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


# ------------------------------------------ tensorflow.org/guide/advanced_autodiff
def test_stop_recording_reset_and_stop_gradient():
    x, y = gt.Variable(2.0), gt.Variable(3.0)
    with gt.GradientTape() as t:
        x_sq = x * x
        with t.stop_recording():
            y_sq = y * y
        z = x_sq + y_sq
    grad = t.gradient(z, {"x": x, "y": y})
    assert grad["x"].numpy() == 4.0 and grad["y"] is None
    with gt.GradientTape() as t:
        y_sq = y * y
        t.reset()
        z = x * x + y_sq
    grad = t.gradient(z, {"x": x, "y": y})
    assert grad["x"].numpy() == 4.0 and grad["y"] is None
    with gt.GradientTape() as t:
        y_sq = y**2
        z = x**2 + gt.stop_gradient(y_sq)
    grad = t.gradient(z, {"x": x, "y": y})
    assert grad["x"].numpy() == 4.0 and grad["y"] is None


def test_custom_gradient_clipping():
    @gt.custom_gradient
    def clip_gradients(y):
        def backward(dy):
            return gt.clip_by_norm(dy, 0.5)

        return y, backward

    v = gt.Variable(2.0)
    with gt.GradientTape() as t:
        output = clip_gradients(v * v)
    assert t.gradient(output, v).numpy() == 2.0


def test_multiple_tapes():
    x0, x1 = gt.constant(0.0), gt.constant(0.0)
    with gt.GradientTape() as tape0, gt.GradientTape() as tape1:
        tape0.watch(x0)
        tape1.watch(x1)
        y = gt.math.sin(x0) + gt.nn.sigmoid(x1)
        ys = gt.reduce_sum(y)
    assert tape0.gradient(ys, x0).numpy() == 1.0
    assert tape1.gradient(ys, x1).numpy() == 0.25


def test_higher_order_of_a_variable():
    x = gt.Variable(1.0)
    with gt.GradientTape() as t2:
        with gt.GradientTape() as t1:
            y = x * x * x
        dy_dx = t1.gradient(y, x)
    assert dy_dx.numpy() == 3.0
    assert t2.gradient(dy_dx, x).numpy() == 6.0


def test_jacobians_of_a_dense_layer():
    x = gt.linspace(-10.0, 10.0, 200 + 1)
    delta = gt.Variable(0.0)
    with gt.GradientTape() as tape:
        y = gt.nn.sigmoid(x + delta)
    assert tape.jacobian(y, delta).shape == (201,)

    gt.random.set_seed(1)
    x = gt.random.normal([7, 5])
    kernel = gt.Variable(gt.random.normal([5, 10]))
    with gt.GradientTape(persistent=True) as tape:
        y = gt.nn.relu(x @ kernel)
    j = tape.jacobian(y, kernel)
    assert j.shape == (7, 10, 5, 10)
    g = tape.gradient(y, kernel)
    assert gt.reduce_max(abs(g - gt.reduce_sum(j, axis=[0, 1]))).numpy() < 1e-3


def test_batch_jacobian_of_two_layers():
    gt.random.set_seed(2)
    x = gt.random.normal([7, 5])
    w1, w2 = gt.random.normal([5, 8]), gt.random.normal([8, 6])
    with gt.GradientTape(persistent=True, watch_accessed_variables=False) as tape:
        tape.watch(x)
        y = gt.nn.elu(gt.nn.elu(x @ w1) @ w2)
    j = tape.jacobian(y, x)
    jb = tape.batch_jacobian(y, x)
    assert j.shape == (7, 6, 7, 5) and jb.shape == (7, 6, 5)
    diagonal = np.stack([j.numpy()[i, :, i, :] for i in range(7)])
    np.testing.assert_allclose(jb.numpy(), diagonal, rtol=1e-6)
