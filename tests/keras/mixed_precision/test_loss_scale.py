"""LossScaleOptimizer (gputensor/keras/optimizers/loss_scale_optimizer.py): Keras 3's dynamic
loss scaling rules step by step against a hand-computed sequence, eagerly and traced; its
variables and config; compile's automatic wrapping and fit under mixed_float16."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from gputensor.keras import layers, mixed_precision, models, optimizers

NAN, INF = float("nan"), float("inf")

# (gradient fed, then: variable, scale, counter, inner iterations) with SGD(0.5), initial scale
# 8 and dynamic_growth_steps 2, from v = [1, 2]. A finite step applies grad / scale and counts;
# the second finite step in a row doubles the scale and resets the counter; a step with a NaN
# or inf changes nothing but halves the scale and resets the counter. (Real Keras 3.15 gives
# the same sequence.)
SEQUENCE = [
    ([8.0, 8.0], [0.5, 1.5], 8.0, 1, 1),  # 8 / 8 = 1 -> v -= 0.5
    ([NAN, 1.0], [0.5, 1.5], 4.0, 0, 1),  # skipped, halved
    ([4.0, 4.0], [0.0, 1.0], 4.0, 1, 2),  # 4 / 4 = 1
    ([4.0, INF], [0.0, 1.0], 2.0, 0, 2),  # skipped, halved
    ([2.0, 2.0], [-0.5, 0.5], 2.0, 1, 3),  # 2 / 2 = 1
    ([2.0, 2.0], [-1.0, 0.0], 4.0, 0, 4),  # second finite step in a row: doubled
    ([4.0, 4.0], [-1.5, -0.5], 4.0, 1, 5),  # 4 / 4 = 1 with the new scale
]


@pytest.mark.parametrize("traced", [False, True])
def test_dynamic_scaling_rules_step_by_step(traced):
    v = gt.Variable([1.0, 2.0])
    opt = optimizers.LossScaleOptimizer(optimizers.SGD(0.5), initial_scale=8.0, dynamic_growth_steps=2)
    opt.build([v])

    def step(g):
        opt.apply([g], [v])

    run = gt.function(step) if traced else step
    for grad, value, scale, counter, iterations in SEQUENCE:
        run(gt.constant(grad))
        np.testing.assert_array_equal(v.numpy(), value)
        assert float(opt.dynamic_scale.numpy()) == scale
        assert int(opt.step_counter.numpy()) == counter
        assert int(opt.iterations.numpy()) == iterations


def test_a_skipped_step_leaves_the_inner_slots_alone():
    v = gt.Variable([1.0, -1.0])
    opt = optimizers.LossScaleOptimizer(optimizers.Adam(0.1), initial_scale=4.0)
    opt.apply_gradients([(gt.constant([4.0, 2.0]), v)])
    inner = [x.numpy().copy() for x in opt.inner_optimizer.variables]
    before = v.numpy().copy()
    opt.apply_gradients([(gt.constant([NAN, 2.0]), v)])
    np.testing.assert_array_equal(v.numpy(), before)
    for x, old in zip(opt.inner_optimizer.variables, inner):
        np.testing.assert_array_equal(x.numpy(), old)
    assert float(opt.dynamic_scale.numpy()) == 2.0
    # The applied step is Adam's first step on the unscaled gradient [1, 0.5]: -lr * sign.
    np.testing.assert_allclose(before, [0.9, -1.1], rtol=1e-5)


def test_scale_loss_and_the_wrapped_learning_rate():
    opt = optimizers.LossScaleOptimizer(optimizers.SGD(0.25))
    assert float(opt.scale_loss(gt.constant(3.0)).numpy()) == 3.0 * 2**15  # before build
    v = gt.Variable([0.0])
    opt.build([v])
    opt.dynamic_scale.assign(16.0)
    assert float(opt.scale_loss(gt.constant(3.0)).numpy()) == 48.0
    assert float(np.asarray(opt.learning_rate)) == 0.25
    opt.learning_rate = 0.5
    assert float(np.asarray(opt.inner_optimizer.learning_rate)) == 0.5
    assert opt.iterations is opt.inner_optimizer.iterations
    assert optimizers.SGD().scale_loss(5.0) == 5.0  # plain optimizers leave the loss alone


def test_variables_config_and_errors():
    inner = optimizers.SGD(0.1, momentum=0.9)
    opt = optimizers.LossScaleOptimizer(inner, initial_scale=128.0, dynamic_growth_steps=10)
    v = gt.Variable([1.0, 2.0], name="w")
    opt.build([v])
    names = [x.name for x in opt.variables]
    assert names[:4] == ["iteration", "learning_rate", "step_counter", "dynamic_scale"]
    assert opt.name.startswith("loss_scale_optimizer")  # Keras 3's auto name, made unique
    assert [x.path for x in opt.variables[:4]] == [f"{opt.name}/{n}" for n in names[:4]]
    assert opt.variables[4:] == inner.variables
    assert opt.step_counter.dtype == gt.int64 and opt.dynamic_scale.dtype == gt.float32
    config = opt.get_config()
    assert config["initial_scale"] == 128.0 and config["dynamic_growth_steps"] == 10
    assert config["inner_optimizer"]["class_name"] == "SGD"
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert isinstance(again, optimizers.LossScaleOptimizer)
    assert again.initial_scale == 128.0 and again.inner_optimizer.momentum == 0.9
    # Keras 3.15's own config of a wrapped SGD (Keras's base-optimizer entries at their off values).
    keras_config = {
        "name": "loss_scale_optimizer",
        "inner_optimizer": {
            "module": "keras.optimizers", "class_name": "SGD", "registered_name": None,
            "config": {"name": "sgd", "learning_rate": 0.5, "weight_decay": None, "clipnorm": None,
                       "global_clipnorm": None, "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                       "ema_overwrite_frequency": None, "loss_scale_factor": None,
                       "gradient_accumulation_steps": None, "momentum": 0.0, "nesterov": False},
        },
        "initial_scale": 8.0,
        "dynamic_growth_steps": 2,
    }  # fmt: skip
    loaded = optimizers.LossScaleOptimizer.from_config(keras_config)
    assert loaded.dynamic_growth_steps == 2 and float(np.asarray(loaded.learning_rate)) == 0.5
    with pytest.raises(ValueError, match="dynamic=False"):
        optimizers.LossScaleOptimizer(inner, dynamic=False)
    with pytest.raises(ValueError, match="set `clipnorm` on the `inner_optimizer`"):
        optimizers.LossScaleOptimizer(inner, clipnorm=1.0)
    with pytest.raises(TypeError, match="inner_optimizer"):
        optimizers.LossScaleOptimizer("sgd")


def _separable(n=512, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 10)).astype(np.float32)
    w = rng.standard_normal(10)
    return x, (x @ w > 0).astype(np.int32)


def _model():
    return models.Sequential(
        [
            models.Input((10,)),
            layers.Dense(32, activation="relu"),
            layers.Dense(2),
            layers.Activation("softmax", dtype="float32"),
        ]
    )


def test_compile_wraps_the_optimizer_under_mixed_float16_only():
    mixed_precision.set_global_policy("mixed_float16")
    model = _model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert isinstance(model.optimizer, optimizers.LossScaleOptimizer)
    assert isinstance(model.optimizer.inner_optimizer, optimizers.SGD)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", auto_scale_loss=False)
    assert isinstance(model.optimizer, optimizers.SGD)
    mixed_precision.set_global_policy("mixed_bfloat16")  # bfloat16 needs no loss scaling
    model = _model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert isinstance(model.optimizer, optimizers.SGD)


@pytest.mark.parametrize("run_eagerly", [False, True])
def test_fit_under_mixed_float16_reaches_target_accuracy(run_eagerly):
    mixed_precision.set_global_policy("mixed_float16")
    x, y = _separable()
    model = _model()
    model.compile(
        optimizer=optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        run_eagerly=run_eagerly,
    )
    history = model.fit(x, y, epochs=6, batch_size=32, verbose=0, shuffle=False)
    assert history.history["accuracy"][-1] >= 0.95
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.layers[0].kernel.dtype == gt.float32
    opt = model.optimizer
    steps = 6 * 16
    assert int(opt.iterations.numpy()) == steps  # every step finite: none skipped
    assert float(opt.dynamic_scale.numpy()) == 2.0**15 and int(opt.step_counter.numpy()) == steps
    assert model.predict(x[:4], verbose=0).dtype == np.float32


def test_the_logged_loss_is_unscaled_and_equals_the_float32_models():
    """One step from the same weights: the mixed model logs its float32 loss (not times the
    scale) and its update equals the float32 model's to float16 accuracy."""
    x, y = _separable(32, seed=3)
    mixed_precision.set_global_policy("float32")
    ref = _model()
    mixed_precision.set_global_policy("mixed_float16")
    mixed = _model()
    mixed.set_weights(ref.get_weights())
    for m in (ref, mixed):
        m.compile(optimizer=optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    loss_ref = ref.train_on_batch(x, y)
    loss_mixed = mixed.train_on_batch(x, y)
    np.testing.assert_allclose(loss_mixed, loss_ref, rtol=5e-3)
    for a, b in zip(mixed.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-2, atol=2e-3)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_a_nan_step_in_fit_is_skipped_and_halves_the_scale():
    mixed_precision.set_global_policy("mixed_float16")
    x, y = _separable(64, seed=4)
    model = _model()
    model.compile(optimizer=optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    model.train_on_batch(x[:32], y[:32])
    before = model.get_weights()
    bad = x[32:].copy()
    bad[0, 0] = np.inf  # inf input: inf/NaN gradients
    model.train_on_batch(bad, y[32:])
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert float(model.optimizer.dynamic_scale.numpy()) == 2.0**14
    assert int(model.optimizer.iterations.numpy()) == 1


def test_checkpoint_restores_the_loss_scale_state(tmp_path):
    v = gt.Variable([1.0, 2.0])
    opt = optimizers.LossScaleOptimizer(optimizers.SGD(0.5, momentum=0.5), initial_scale=8.0)
    opt.apply([gt.constant([NAN, 1.0])], [v])  # halves the scale
    opt.apply([gt.constant([4.0, 4.0])], [v])
    saved = [x.numpy().copy() for x in opt.variables]
    ckpt = gt.train.Checkpoint(optimizer=opt, v=v)
    path = ckpt.save(str(tmp_path / "ckpt"))
    opt.apply([gt.constant([INF, 4.0])], [v])
    opt.apply([gt.constant([4.0, 4.0])], [v])
    ckpt.restore(path)
    for x, old in zip(opt.variables, saved):
        np.testing.assert_array_equal(x.numpy(), old)
    assert float(opt.dynamic_scale.numpy()) == 4.0 and int(opt.step_counter.numpy()) == 1
