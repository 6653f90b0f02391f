"""GradientTape's rules, as TensorFlow's: watching, persistence, structures, jacobians, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gputensor as gt
from gputensor.framework import context

F64 = gt.float64


def c(value):
    return gt.constant(value, dtype=F64)


# ------------------------------------------------------------------- watching
def test_unwatched_constant_gives_none(device):
    x = c(3.0)
    with gt.GradientTape() as tape:
        y = x * x
    assert tape.gradient(y, x) is None


def test_watched_constant_gives_derivative(device):
    x = c([1.0, 2.0, 3.0])
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = gt.reduce_sum(x * x * x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 3 * np.array([1.0, 4.0, 9.0]))


def test_trainable_variable_is_watched_on_access(device):
    v = gt.Variable(c(2.0))
    with gt.GradientTape() as tape:
        y = v * v + 1.0
    assert tape.gradient(y, v).numpy() == pytest.approx(4.0)
    assert [w.name for w in tape.watched_variables()] == [v.name]


def test_non_trainable_variable_is_not_watched_unless_asked(device):
    v = gt.Variable(c(2.0), trainable=False)
    with gt.GradientTape(persistent=True) as tape:
        y = v * 3.0
    assert tape.gradient(y, v) is None
    assert tape.watched_variables() == ()
    with gt.GradientTape() as tape:
        tape.watch(v)
        y = v * 3.0
    assert tape.gradient(y, v).numpy() == pytest.approx(3.0)


def test_watch_accessed_variables_false_watches_only_what_is_watched(device):
    a, b = gt.Variable(c(1.0)), gt.Variable(c(2.0))
    with gt.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(a)
        y = a * b
    ga, gb = tape.gradient(y, [a, b])
    assert ga.numpy() == pytest.approx(2.0)
    assert gb is None
    assert tape.watched_variables() == (a,)


def test_watched_variables_are_in_first_access_order(device):
    a, b, d = gt.Variable(c(1.0), name="a"), gt.Variable(c(2.0), name="b"), gt.Variable(c(3.0), name="d")
    with gt.GradientTape() as tape:
        _ = d + b
        _ = a * d
    assert [v.name for v in tape.watched_variables()] == ["d:0", "b:0", "a:0"]


def test_variable_reads_before_and_after_assign_both_count(device):
    v = gt.Variable(c(1.0))
    with gt.GradientTape() as tape:
        y1 = v * 2.0
        v.assign(c(5.0))
        y2 = v * 3.0
        y = y1 + y2
    assert tape.gradient(y, v).numpy() == pytest.approx(5.0)


def test_integer_source_and_target_give_none(device):
    i = gt.constant([1, 2, 3])
    x = c([1.0, 2.0])
    with gt.GradientTape(persistent=True) as tape:
        with pytest.warns(UserWarning, match="must be floating"):
            tape.watch(i)
        tape.watch(x)
        yi = i * 2
        n = gt.cast(x, gt.int32)
    assert tape.gradient(yi, i) is None
    assert tape.gradient(n, x) is None


def test_watch_rejects_non_tensors():
    with gt.GradientTape() as tape:
        with pytest.raises(ValueError, match="not gt.Tensor or gt.Variable"):
            tape.watch(3.0)


def test_target_equal_to_source_gives_ones(device):
    x = c([1.0, 2.0])
    with gt.GradientTape() as tape:
        tape.watch(x)
    np.testing.assert_array_equal(tape.gradient(x, x).numpy(), [1.0, 1.0])


# ----------------------------------------------------------------- persistence
def test_non_persistent_tape_raises_on_second_gradient(device):
    x = c(2.0)
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent GradientTape can only be used"):
        tape.gradient(y, x)


def test_persistent_tape_allows_several_gradients(device):
    x = c(3.0)
    with gt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    assert tape.gradient(z, x).numpy() == pytest.approx(108.0)  # 4 x^3
    assert tape.gradient(y, x).numpy() == pytest.approx(6.0)
    assert tape.jacobian(y, x).numpy() == pytest.approx(6.0)


def test_reentering_a_recording_tape_raises():
    tape = gt.GradientTape()
    with tape:
        with pytest.raises(ValueError, match="still recording"):
            tape.__enter__()


def test_tape_can_be_entered_again_and_keeps_recording(device):
    x = c(2.0)
    tape = gt.GradientTape()
    with tape:
        tape.watch(x)
        y = x * x
    with tape:
        z = y * x
    assert tape.gradient(z, x).numpy() == pytest.approx(12.0)  # d(x^3)/dx


def test_gradient_inside_persistent_context_warns_and_records(device):
    x = c(2.0)
    with gt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x * x
        with pytest.warns(UserWarning, match="inside its context is significantly less efficient"):
            dy = tape.gradient(y, x)
    assert tape.gradient(dy, x).numpy() == pytest.approx(12.0)  # the gradient was recorded: 6x


def test_gradient_inside_non_persistent_context_stops_recording(device):
    x = c(2.0)
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert tape.gradient(y, x).numpy() == pytest.approx(4.0)
        assert tape not in context.state.tapes


def test_stop_recording_hides_ops_from_the_tape(device):
    x = c(2.0)
    with gt.GradientTape() as tape:
        tape.watch(x)
        with tape.stop_recording():
            y = x * x
        z = x * 3.0 + y
    assert tape.gradient(z, x).numpy() == pytest.approx(3.0)


def test_stop_recording_outside_the_context_raises():
    tape = gt.GradientTape()
    with pytest.raises(ValueError, match="must be recording"):
        with tape.stop_recording():
            pass


def test_reset_forgets_everything_recorded(device):
    x = c(2.0)
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        tape.reset()
        tape.watch(x)
        z = x * 5.0
    assert tape.gradient(z, x).numpy() == pytest.approx(5.0)
    assert gt.GradientTape().gradient  # a fresh tape object is unaffected
    del y


# ----------------------------------------------------------- nested structures
def test_sources_and_results_keep_nested_structure(device):
    a, b, d = c(1.0), c(2.0), c(3.0)
    with gt.GradientTape() as tape:
        tape.watch([a, b, d])
        y = a * b * d
    g = tape.gradient(y, {"first": a, "rest": [b, (d,)]})
    assert set(g) == {"first", "rest"}
    assert g["first"].numpy() == pytest.approx(6.0)
    assert g["rest"][0].numpy() == pytest.approx(3.0)
    assert isinstance(g["rest"][1], tuple) and g["rest"][1][0].numpy() == pytest.approx(2.0)


def test_several_targets_are_summed(device):
    x = c(2.0)
    with gt.GradientTape() as tape:
        tape.watch(x)
        y1, y2 = x * x, x * 3.0
    assert tape.gradient([y1, {"k": y2}], x).numpy() == pytest.approx(7.0)


def test_non_scalar_target_is_summed(device):
    x = c([1.0, 2.0])
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [2.0, 4.0])


def test_output_gradients_weight_the_target(device):
    x = c([1.0, 2.0])
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    np.testing.assert_allclose(tape.gradient(y, x, output_gradients=c([10.0, -1.0])).numpy(), [20.0, -4.0])


def test_output_gradients_of_wrong_shape_raise(device):
    x = c([1.0, 2.0])
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    with pytest.raises(ValueError, match="output gradient has shape"):
        tape.gradient(y, x, output_gradients=c([1.0, 2.0, 3.0]))


# --------------------------------------------------------- unconnected sources
@pytest.mark.parametrize("mode", [gt.UnconnectedGradients.ZERO, "zero"])
def test_unconnected_zero_gives_zeros_of_the_source_shape(device, mode):
    x, w = c(1.0), c([[1.0, 2.0]])
    with gt.GradientTape() as tape:
        tape.watch([x, w])
        y = x * 2.0
    g = tape.gradient(y, [x, w], unconnected_gradients=mode)
    np.testing.assert_array_equal(g[1].numpy(), np.zeros((1, 2)))


def test_unconnected_none_is_the_default(device):
    x, w = c(1.0), c(2.0)
    with gt.GradientTape() as tape:
        tape.watch([x, w])
        y = x * 2.0
    assert tape.gradient(y, [x, w])[1] is None


def test_unknown_unconnected_mode_raises(device):
    x = c(1.0)
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = x * 2.0
    with pytest.raises(ValueError, match="Unknown value for unconnected_gradients"):
        tape.gradient(y, x, unconnected_gradients="sometimes")


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("source", [3.0, "x", None, np.ones(2)])
def test_source_that_is_not_a_tensor_raises(device, source):
    x = c(1.0)
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = x * 2.0
    with pytest.raises(ValueError, match="not gt.Tensor or gt.Variable"):
        tape.gradient(y, source)


def test_target_that_is_not_a_tensor_raises(device):
    x = c(1.0)
    with gt.GradientTape() as tape:
        tape.watch(x)
    with pytest.raises(ValueError, match="target is of type float"):
        tape.gradient(3.0, x)


def test_sources_watched_by_another_tape_give_none(device):
    x = c(2.0)
    with gt.GradientTape() as outer:
        with gt.GradientTape() as inner:
            outer.watch(x)
            y = x * x
    assert inner.gradient(y, x) is None
    assert outer.gradient(y, x).numpy() == pytest.approx(4.0)


def test_op_without_registered_gradient_raises_lookup_error(device):
    class NoGradient:
        name, grad, differentiable, num_outputs = "mystery_op", None, True, 1

    x = c(2.0)
    with gt.GradientTape() as tape:
        tape.watch(x)
        w = x * 1.0
        out = gt.stop_gradient(w)  # a fresh tensor, recorded below as the op's output
        context.recorder(NoGradient(), (w,), {}, out)
    with pytest.raises(LookupError, match="No gradient defined for operation 'mystery_op'"):
        tape.gradient(out, x)


# ------------------------------------------------------------ higher order
def test_nested_tapes_give_second_derivative(device):
    x = c(1.5)
    with gt.GradientTape() as t2:
        t2.watch(x)
        with gt.GradientTape() as t1:
            t1.watch(x)
            y = x * x * x
        dy = t1.gradient(y, x)
    assert dy.numpy() == pytest.approx(3 * 1.5**2)
    assert t2.gradient(dy, x).numpy() == pytest.approx(6 * 1.5)


# ---------------------------------------------------------------- jacobians
def test_jacobian_of_elementwise_function_is_diagonal(device):
    x = c([1.0, 2.0, 3.0])
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    j = tape.jacobian(y, x)
    np.testing.assert_allclose(j.numpy(), np.diag([2.0, 4.0, 6.0]))


def test_jacobian_shape_is_target_shape_plus_source_shape(device, rng):
    w_value = rng.standard_normal((3, 2))
    x = c(rng.standard_normal((4, 3)))
    w = gt.Variable(c(w_value))
    with gt.GradientTape() as tape:
        y = gt.matmul(x, w)
    j = tape.jacobian(y, w)
    assert j.shape == (4, 2, 3, 2)
    expected = np.einsum("ik,jl->ijkl", x.numpy(), np.eye(2))
    np.testing.assert_allclose(j.numpy(), expected, atol=1e-12)


def test_jacobian_of_unconnected_source(device):
    x, z = c([1.0, 2.0]), c([5.0, 6.0, 7.0])
    with gt.GradientTape(persistent=True) as tape:
        tape.watch([x, z])
        y = x * 2.0
    assert tape.jacobian(y, z) is None
    j = tape.jacobian(y, z, unconnected_gradients=gt.UnconnectedGradients.ZERO)
    np.testing.assert_array_equal(j.numpy(), np.zeros((2, 3)))


def test_jacobian_on_used_non_persistent_tape_raises(device):
    x = c([1.0, 2.0])
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.jacobian(y, x)
    with pytest.raises(RuntimeError, match="non-persistent"):
        tape.jacobian(y, x)


def test_batch_jacobian_gives_per_example_jacobians(device, rng):
    w = rng.standard_normal((3, 2))
    x = c(rng.standard_normal((4, 3)))
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = gt.tanh(gt.matmul(x, c(w)))
    j = tape.batch_jacobian(y, x)
    assert j.shape == (4, 2, 3)
    d = 1 - np.tanh(x.numpy() @ w) ** 2  # (4, 2)
    np.testing.assert_allclose(j.numpy(), d[:, :, None] * w.T[None], atol=1e-12)


def test_batch_jacobian_with_different_batch_sizes_raises(device):
    x = c(np.ones((3, 2)))
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = gt.reduce_sum(x, axis=0)
    with pytest.raises(ValueError, match="first dimension"):
        tape.batch_jacobian(y, x)


# ------------------------------------------------------------------ devices
def test_gradient_lives_on_the_forward_device(device):
    x = c([1.0, 2.0])
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = gt.reduce_sum(gt.exp(x))
    g = tape.gradient(y, x)
    assert g.device == x.device == device.name


def test_gradient_runs_on_the_forward_device_even_inside_another_device_scope(device):
    x = c([1.0, 2.0])
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = gt.reduce_sum(gt.nn.relu(x) * 3.0)
    with gt.device("/CPU:0"):
        g = tape.gradient(y, x)
    assert g.device == device.name
    np.testing.assert_allclose(g.numpy(), [3.0, 3.0])


# --------------------------------------------------------------- hot path
def test_nothing_is_recorded_or_read_without_a_tape(monkeypatch):
    from gputensor.framework import variable

    calls = []
    monkeypatch.setattr(context, "recorder", lambda *args: calls.append(args))
    monkeypatch.setattr(variable, "variable_reader", lambda *args: calls.append(args))
    v = gt.Variable(1.0)
    _ = gt.exp(gt.constant([1.0])) * v + 1.0
    assert calls == []


def test_ops_on_unwatched_values_are_not_recorded(device):
    x, w = c([1.0, 2.0]), c([3.0, 4.0])
    with gt.GradientTape() as tape:
        _ = gt.exp(x) * 2.0 + gt.reduce_sum(x)
        tape.watch(w)
        _ = w * 2.0
    assert [record[0].name for record in tape._records] == ["multiply"]


def test_tapes_belong_to_their_thread():
    import threading

    x = c(2.0)
    results = {}

    def worker():
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = x * x
        results["gradient"] = float(tape.gradient(y, x))

    with gt.GradientTape() as main:
        main.watch(x)
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        z = x * 3.0
    assert results["gradient"] == 4.0
    assert [record[0].name for record in main._records] == ["multiply"]  # not the worker's op
    assert float(main.gradient(z, x)) == 3.0


def test_jacobian_of_a_variable_with_respect_to_itself_is_the_identity(device):
    v = gt.Variable(c([1.0, 2.0]))
    with gt.GradientTape() as tape:
        pass
    np.testing.assert_array_equal(tape.jacobian(v, v).numpy(), np.eye(2))
