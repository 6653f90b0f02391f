"""Keras models trained by ``fit`` with backend lowering (graph/lowering.py) and without it reach
the same weights: the rules change how a training step runs (and the last bits of some sums),
never what it computes. Each model is chosen so that a rule fires in its step."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt

keras = gt.keras
layers = keras.layers


def mlp(activation="relu", use_bias=True):
    return keras.Sequential(
        [
            keras.Input((12,)),
            layers.Dense(16, activation=activation, use_bias=use_bias),
            layers.Dense(16, activation="relu"),
            layers.Dense(5),
        ]
    )


def cnn():
    return keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(5),
        ]
    )


MODELS = {
    "mlp_relu": (mlp, (12,)),
    "mlp_tanh_first": (lambda: mlp("tanh"), (12,)),
    "mlp_no_bias_first": (lambda: mlp(use_bias=False), (12,)),
    "cnn": (cnn, (8, 8, 2)),
}
OPTIMIZERS = {
    "sgd": lambda: keras.optimizers.SGD(0.1),
    "momentum": lambda: keras.optimizers.SGD(0.1, momentum=0.9),
}


def trained(monkeypatch, lowering, make, shape, optimizer, x, y):
    monkeypatch.setenv("GPUTENSOR_LOWERING", "1" if lowering else "0")
    keras.utils.set_random_seed(7)
    model = make()
    model.compile(
        optimizer=OPTIMIZERS[optimizer](),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    return model, history.history["loss"]


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("name", list(MODELS))
def test_fit_with_and_without_lowering_reaches_the_same_weights(monkeypatch, name, optimizer):
    make, shape = MODELS[name]
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, *shape)).astype(np.float32)
    y = rng.integers(0, 5, 64).astype(np.int32)
    with gt.device("/CPU:0"):
        lowered, lowered_loss = trained(monkeypatch, True, make, shape, optimizer, x, y)
        plain, plain_loss = trained(monkeypatch, False, make, shape, optimizer, x, y)
    np.testing.assert_allclose(lowered_loss, plain_loss, rtol=1e-5)
    assert lowered_loss[-1] < lowered_loss[0]
    for a, b in zip(lowered.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
