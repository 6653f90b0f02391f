"""gt.keras.optimizers against NumPy transcriptions of Keras 3's update formulas."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from gputensor.keras import optimizers as O

S = O.schedules
RNG = np.random.default_rng(3)
W0 = RNG.normal(size=(4, 3)).astype(np.float64)
GRADS = [RNG.normal(size=(4, 3)) * 3.0 for _ in range(5)]


# ------------------------------------------------------------------ NumPy references
# The learning rate lives in a float32 variable (as in Keras), so the references round it.
def f32(a):
    return float(np.float32(a))


def np_sgd(w, grads, lr, momentum=0.0, nesterov=False, lr_at=None):
    w, m = w.copy(), np.zeros_like(w)
    for t, g in enumerate(grads):
        a = f32(lr_at(t) if lr_at else lr)
        if momentum == 0:
            w = w - a * g
            continue
        m = momentum * m - a * g
        w = w + (momentum * m - a * g if nesterov else m)
    return w


def np_adam(w, grads, lr, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, wd=None, lr_at=None):
    w, m, v, vh = w.copy(), np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads):
        a = f32(lr_at(t) if lr_at else lr)
        if wd is not None:
            w = w - w * wd * a
        step = t + 1
        alpha = a * np.sqrt(1 - b2**step) / (1 - b1**step)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        if amsgrad:
            vh = np.maximum(vh, v)
            w = w - m * alpha / (np.sqrt(vh) + eps)
        else:
            w = w - m * alpha / (np.sqrt(v) + eps)
    return w


def np_rmsprop(w, grads, lr, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    w, v, mo, ag = w.copy(), np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    lr = f32(lr)
    for g in grads:
        v = rho * v + (1 - rho) * g * g
        if centered:
            ag = rho * ag + (1 - rho) * g
            den = v - ag * ag + eps
        else:
            den = v + eps
        inc = lr * g / np.sqrt(den)
        if momentum > 0:
            mo = momentum * mo + inc
            w = w - mo
        else:
            w = w - inc
    return w


def np_adagrad(w, grads, lr, init=0.1, eps=1e-7):
    w, acc, lr = w.copy(), np.full_like(w, init), f32(lr)
    for g in grads:
        acc = acc + g * g
        w = w - lr * g / np.sqrt(acc + eps)
    return w


CASES = {
    "sgd": (lambda: O.SGD(0.05), lambda: np_sgd(W0, GRADS, 0.05)),
    "sgd_momentum": (lambda: O.SGD(0.05, momentum=0.9), lambda: np_sgd(W0, GRADS, 0.05, 0.9)),
    "sgd_nesterov": (
        lambda: O.SGD(0.05, momentum=0.7, nesterov=True),
        lambda: np_sgd(W0, GRADS, 0.05, 0.7, nesterov=True),
    ),
    "adam": (lambda: O.Adam(0.01), lambda: np_adam(W0, GRADS, 0.01)),
    "adam_amsgrad": (
        lambda: O.Adam(0.01, beta_1=0.5, beta_2=0.9, epsilon=1e-3, amsgrad=True),
        lambda: np_adam(W0, GRADS, 0.01, 0.5, 0.9, 1e-3, amsgrad=True),
    ),
    "adamw": (lambda: O.AdamW(0.01, weight_decay=0.2), lambda: np_adam(W0, GRADS, 0.01, wd=0.2)),
    "rmsprop": (lambda: O.RMSprop(0.01), lambda: np_rmsprop(W0, GRADS, 0.01)),
    "rmsprop_momentum": (
        lambda: O.RMSprop(0.01, momentum=0.9),
        lambda: np_rmsprop(W0, GRADS, 0.01, momentum=0.9),
    ),
    "rmsprop_centered": (
        lambda: O.RMSprop(0.01, rho=0.8, centered=True),
        lambda: np_rmsprop(W0, GRADS, 0.01, rho=0.8, centered=True),
    ),
    "adagrad": (
        lambda: O.Adagrad(0.1, initial_accumulator_value=0.5),
        lambda: np_adagrad(W0, GRADS, 0.1, init=0.5),
    ),
    "adam_schedule": (
        lambda: O.Adam(S.ExponentialDecay(0.02, 2, 0.5)),
        lambda: np_adam(W0, GRADS, None, lr_at=lambda t: 0.02 * 0.5 ** (t / 2)),
    ),
    "sgd_schedule": (
        lambda: O.SGD(S.InverseTimeDecay(0.1, 1, 1.0), momentum=0.5),
        lambda: np_sgd(W0, GRADS, None, 0.5, lr_at=lambda t: 0.1 / (1 + t)),
    ),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("key", sorted(CASES))
def test_optimizer_matches_numpy_formula(key, dtype):
    make, reference = CASES[key]
    opt = make()
    w = gt.Variable(W0.astype(dtype))
    for g in GRADS:
        opt.apply_gradients([(gt.constant(g.astype(dtype)), w)])
    # float64: the schedules compute the rate in float32, so allow its last bit.
    tol = 1e-4 if dtype == np.float32 else 1e-7
    np.testing.assert_allclose(w.numpy(), reference(), rtol=tol, atol=tol)
    assert w.dtype == gt.as_dtype(dtype)


def _clipped_sgd(clip, grads):
    w = W0.copy()
    for g in grads:
        w = w - f32(0.1) * clip(g)
    return w


def test_clipnorm_clips_each_gradient_to_its_norm():
    opt, w = O.SGD(0.1, clipnorm=1.0), gt.Variable(W0)
    for g in GRADS:
        opt.apply([gt.constant(g)], [w])
    ref = _clipped_sgd(lambda g: g * 1.0 / max(np.linalg.norm(g), 1.0), GRADS)
    np.testing.assert_allclose(w.numpy(), ref, rtol=1e-10)


def test_clipvalue_clips_elements():
    opt, w = O.SGD(0.1, clipvalue=0.5), gt.Variable(W0)
    for g in GRADS:
        opt.apply([gt.constant(g)], [w])
    np.testing.assert_allclose(w.numpy(), _clipped_sgd(lambda g: np.clip(g, -0.5, 0.5), GRADS), rtol=1e-10)


def test_global_clipnorm_scales_all_gradients_together():
    opt = O.SGD(0.1, global_clipnorm=2.0)
    a, b = gt.Variable(W0), gt.Variable(W0[0])
    ga, gb = GRADS[0], GRADS[1][0]
    opt.apply([gt.constant(ga), gt.constant(gb)], [a, b])
    norm = np.sqrt((ga**2).sum() + (gb**2).sum())
    scale = 2.0 / max(norm, 2.0)
    np.testing.assert_allclose(a.numpy(), W0 - f32(0.1) * ga * scale, rtol=1e-10)
    np.testing.assert_allclose(b.numpy(), W0[0] - f32(0.1) * gb * scale, rtol=1e-10)


def test_weight_decay_applies_before_the_update_and_respects_exclusions():
    opt = O.SGD(0.1, weight_decay=0.5)
    a, b = gt.Variable(W0, name="kernel"), gt.Variable(W0[0], name="bias")
    opt.exclude_from_weight_decay(var_names=["bias"])
    g = GRADS[0]
    opt.apply([gt.constant(g), gt.constant(g[0])], [a, b])
    np.testing.assert_allclose(a.numpy(), W0 - W0 * 0.5 * f32(0.1) - f32(0.1) * g, rtol=1e-10)
    np.testing.assert_allclose(b.numpy(), W0[0] - f32(0.1) * g[0], rtol=1e-10)


def test_only_one_clipping_argument_is_accepted():
    with pytest.raises(ValueError, match="only one of clipnorm, clipvalue and global_clipnorm"):
        O.Adam(clipnorm=1.0, clipvalue=1.0)


@pytest.mark.parametrize(
    "key", ["sgd_momentum", "adam_amsgrad", "rmsprop_centered", "adagrad", "adam_schedule"]
)
def test_gt_function_train_step_equals_the_eager_loop(key):
    make, _ = CASES[key]
    x = gt.constant(RNG.normal(size=(8, 4)).astype(np.float32))
    y = gt.constant(RNG.normal(size=(8, 3)).astype(np.float32))

    def run(compiled):
        w = gt.Variable(W0.astype(np.float32))
        b = gt.Variable(np.zeros(3, np.float32))
        opt = make()

        def step(x, y):
            with gt.GradientTape() as tape:
                loss = gt.reduce_mean(gt.square(gt.matmul(x, w) + b - y))
            grads = tape.gradient(loss, [w, b])
            opt.apply_gradients(zip(grads, [w, b]))
            return loss

        fn = gt.function(step) if compiled else step
        losses = [float(fn(x, y)) for _ in range(4)]
        if compiled:
            assert fn.experimental_get_tracing_count() == 1
        return w.numpy(), b.numpy(), losses, int(opt.iterations.numpy()), [v.numpy() for v in opt.variables]

    eager, graph = run(False), run(True)
    np.testing.assert_allclose(graph[0], eager[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(graph[1], eager[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(graph[2], eager[2], rtol=1e-5)
    assert graph[3] == eager[3] == 4
    assert len(graph[4]) == len(eager[4])
    for a, b in zip(graph[4], eager[4]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_setting_learning_rate_reaches_an_already_traced_step():
    w = gt.Variable([1.0, 2.0])
    opt = O.SGD(0.1)

    @gt.function
    def step():
        opt.apply_gradients([(gt.constant([1.0, 1.0]), w)])

    step()
    opt.learning_rate = 0.5
    step()
    np.testing.assert_allclose(w.numpy(), [1.0 - 0.1 - 0.5, 2.0 - 0.1 - 0.5], rtol=1e-6)
    assert float(opt.learning_rate) == 0.5
    assert step.experimental_get_tracing_count() == 1


def test_schedule_learning_rate_is_not_settable_and_follows_iterations():
    opt = O.SGD(S.PiecewiseConstantDecay([1], [1.0, 0.1]))
    w = gt.Variable([0.0])
    for _ in range(3):
        opt.apply_gradients([(gt.constant([1.0]), w)])
    np.testing.assert_allclose(w.numpy(), [-(1.0 + 1.0 + 0.1)], rtol=1e-6)
    assert float(opt.learning_rate) == pytest.approx(0.1)
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.3


def test_none_gradients_are_skipped_and_all_none_raises():
    a, b = gt.Variable([1.0]), gt.Variable([2.0])
    opt = O.Adam(0.1)
    opt.apply_gradients([(gt.constant([1.0]), a), (None, b)])
    assert b.numpy()[0] == 2.0 and a.numpy()[0] != 1.0
    with pytest.raises(ValueError, match="no gradients provided for any variable"):
        opt.apply_gradients([(None, a), (None, b)])


def test_indexed_slices_gradient_equals_the_dense_one():
    table = RNG.normal(size=(5, 2)).astype(np.float32)
    results = []
    for dense in (False, True):
        e = gt.Variable(table)
        opt = O.Adam(0.1)
        for _ in range(2):
            with gt.GradientTape() as tape:
                loss = gt.reduce_sum(gt.gather(e, [0, 0, 3]) * 2.0)
            g = tape.gradient(loss, e)
            assert isinstance(g, gt.IndexedSlices)
            opt.apply_gradients([(gt.convert_to_tensor(g) if dense else g, e)])
        results.append(e.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)
    np.testing.assert_array_equal(results[0][[1, 2, 4]], table[[1, 2, 4]])


def test_variables_are_iterations_learning_rate_then_slots_in_keras_order():
    k, b = gt.Variable(np.zeros((2, 2)), name="kernel"), gt.Variable(np.zeros(2), name="bias")
    opt = O.Adam(amsgrad=True)
    opt.build([k, b])
    # Keras 3 (TF 2.21): a plain tf.Variable's slot is named from its TF name, ':' as '_'.
    names = [v.name for v in opt.variables]
    assert names == [
        "iteration", "learning_rate",
        "kernel_0_momentum", "kernel_0_velocity", "bias_0_momentum", "bias_0_velocity",
        "kernel_0_velocity_hat", "bias_0_velocity_hat",
    ]  # fmt: skip
    assert [v.path for v in opt.variables] == [f"{opt.name}/{n}" for n in names]
    assert opt.iterations.dtype == gt.int64
    rms = O.RMSprop(momentum=0.5, centered=True)
    rms.build([k, b])
    assert [v.name for v in rms.variables[2:]] == [
        "kernel_0_velocity", "bias_0_velocity", "kernel_0_momentum", "bias_0_momentum",
        "kernel_0_average_gradient", "bias_0_average_gradient",
    ]  # fmt: skip
    assert len(O.SGD().variables) == 2 and len(O.SGD(momentum=0.5).variables) == 2


def test_weights_round_trip_restores_slots_and_step():
    w = gt.Variable(W0)
    opt = O.Adam(0.01)
    for g in GRADS[:3]:
        opt.apply([gt.constant(g)], [w])
    saved_w, saved_opt = w.numpy(), opt.get_weights()
    w2 = gt.Variable(saved_w)
    opt2 = O.Adam(0.01)
    opt2.build([w2])
    opt2.set_weights(saved_opt)
    for g in GRADS[3:]:
        opt.apply([gt.constant(g)], [w])
        opt2.apply([gt.constant(g)], [w2])
    np.testing.assert_allclose(w2.numpy(), w.numpy(), rtol=1e-12)
    assert int(opt2.iterations.numpy()) == 5


def test_a_new_variable_after_build_gets_slots():
    a, b = gt.Variable([1.0]), gt.Variable([2.0])
    opt = O.SGD(0.1, momentum=0.9)
    opt.apply([gt.constant([1.0])], [a])
    opt.apply([gt.constant([1.0]), gt.constant([1.0])], [a, b])
    np.testing.assert_allclose(b.numpy(), [2.0 - 0.1], rtol=1e-6)
    np.testing.assert_allclose(a.numpy(), [1.0 - 0.1 - (0.09 + 0.1)], rtol=1e-6)


def test_minimize_with_a_callable_loss():
    w = gt.Variable([3.0])
    opt = O.SGD(0.25)
    for _ in range(3):
        opt.minimize(lambda: gt.reduce_sum(w * w), [w])
    np.testing.assert_allclose(w.numpy(), [3.0 * 0.5**3], rtol=1e-6)


def test_get_and_config_round_trip():
    assert isinstance(O.get("adam"), O.Adam) and isinstance(O.get("SGD"), O.SGD)
    assert isinstance(O.get("rmsprop"), O.RMSprop) and isinstance(O.get("adamw"), O.AdamW)
    opt = O.Adam(S.CosineDecay(0.1, 10), beta_1=0.8, clipnorm=2.0)
    clone = O.deserialize(O.serialize(opt))
    assert clone.get_config() == opt.get_config()
    assert isinstance(clone._learning_rate, S.CosineDecay)
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'"):
        O.get("adamax")


def test_bad_inputs_raise_clear_errors():
    w = gt.Variable(np.zeros((2, 2), np.float32), name="w")
    with pytest.raises(
        ValueError, match=r"gradient of shape \(3,\) does not match variable 'w:0' of shape \(2, 2\)"
    ):
        O.SGD().apply([gt.constant([1.0, 2.0, 3.0])], [w])
    with pytest.raises(ValueError, match="got 2 gradients for 1 variables"):
        O.SGD().apply([gt.ones([2, 2]), gt.ones([2, 2])], [w])
    with pytest.raises(TypeError, match="can only update gt.Variable"):
        O.SGD().apply([gt.ones([2, 2])], [gt.ones([2, 2])])
    with pytest.raises(ValueError, match="momentum must be a float between 0 and 1"):
        O.SGD(momentum=-1.0)
    with pytest.raises(TypeError, match="learning_rate must be a float"):
        O.Adam(learning_rate="fast")


def test_save_and_load_own_variables_in_keras_store_layout():
    w = gt.Variable(W0, name="kernel")
    opt = O.RMSprop(0.01, momentum=0.5)
    for g in GRADS[:2]:
        opt.apply([gt.constant(g)], [w])
    store: dict = {}
    opt.save_own_variables(store)
    assert sorted(store, key=int) == [str(i) for i in range(len(opt.variables))]
    fresh = O.RMSprop(0.01, momentum=0.5)
    with pytest.raises(ValueError, match="not built yet"):
        fresh.load_own_variables(store)
    w2 = gt.Variable(w.numpy())
    fresh.build([w2])
    fresh.load_own_variables(store)
    for g in GRADS[2:]:
        opt.apply([gt.constant(g)], [w])
        fresh.apply([gt.constant(g)], [w2])
    np.testing.assert_allclose(w2.numpy(), w.numpy(), rtol=1e-12)
    other = O.RMSprop(0.01)
    other.build([gt.Variable(W0)])
    with pytest.raises(ValueError, match=r"saved optimizer has 4 variables, this one has 3"):
        other.load_own_variables(store)


def test_adamw_exclusion_by_variable():
    k, b = gt.Variable(W0), gt.Variable(W0[0])
    opt = O.AdamW(0.01, weight_decay=0.3)
    opt.exclude_from_weight_decay(var_list=[b])
    opt.apply([gt.constant(GRADS[0]), gt.constant(GRADS[0][0])], [k, b])
    np.testing.assert_allclose(k.numpy(), np_adam(W0, GRADS[:1], 0.01, wd=0.3), rtol=1e-7)
    np.testing.assert_allclose(b.numpy(), np_adam(W0[0], [GRADS[0][0]], 0.01), rtol=1e-7)
