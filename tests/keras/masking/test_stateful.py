"""stateful=True for the recurrent layers: states carried across calls and batches, reset_states,
the fixed batch size, and a Keras 3.15 fixture (scripts/make_keras_mask_fixtures.py)."""

from __future__ import annotations

import os

import numpy as np
import pytest

import gputensor as gt
from gputensor.keras import layers, models
from tests.keras.masking._models import FIXTURES


def stateful_model():
    return models.Sequential([
        models.Input((4, 3), batch_size=2), layers.LSTM(3, stateful=True, return_sequences=True),
        layers.GRU(2, stateful=True), layers.Dense(2),
    ])  # fmt: skip


def test_stateful_matches_keras():
    pytest.importorskip("h5py")
    with np.load(os.path.join(FIXTURES, "stateful_io.npz")) as data:
        xs, ys = data["x"], data["y"]
    model = stateful_model()
    model.load_weights(os.path.join(FIXTURES, "stateful.weights.h5"))
    # The state variables are not weights (Keras): the file holds the cells' weights only.
    assert len(model.weights) == 3 + 3 + 2
    for x, y in zip(xs, ys[:3]):
        np.testing.assert_allclose(model(x).numpy(), y, atol=1e-5)
    for layer in model.layers[:2]:
        layer.reset_states()
    np.testing.assert_allclose(model(xs[0]).numpy(), ys[3], atol=1e-5)


def test_stateful_equals_one_long_sequence():
    # Two calls on halves of a sequence = one call on the whole sequence, eagerly and traced.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 3)).astype(np.float32)
    whole = layers.SimpleRNN(4, return_sequences=True)
    want = whole(x).numpy()
    for traced in (False, True):
        layer = layers.SimpleRNN(4, return_sequences=True, stateful=True, batch_input_shape=(2, 6, 3))
        layer(x[:, :3])
        layer.set_weights(whole.get_weights())
        layer.reset_states()
        run = gt.function(lambda v: layer(v)) if traced else layer
        got = np.concatenate([run(gt.constant(x[:, :3])).numpy(), run(gt.constant(x[:, 3:])).numpy()], axis=1)
        np.testing.assert_allclose(got, want, atol=1e-6)
        np.testing.assert_allclose(layer.states[0].numpy(), want[:, -1], atol=1e-6)
        layer.reset_states()
        np.testing.assert_array_equal(layer.states[0].numpy(), 0.0)
        layer.reset_states([np.ones((2, 4), np.float32)])
        np.testing.assert_array_equal(layer.states[0].numpy(), 1.0)


def test_stateful_fit_keeps_states_and_builds_without_touching_them():
    model = stateful_model()
    for layer in model.layers[:2]:
        for v in layer.states:
            np.testing.assert_array_equal(v.numpy(), 0.0)  # building by a probe left them at zero
    assert all(not v.trainable for layer in model.layers[:2] for v in layer.states)
    x = np.random.default_rng(1).standard_normal((8, 4, 3)).astype(np.float32)
    y = np.random.default_rng(2).standard_normal((8, 2)).astype(np.float32)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0)
    assert np.abs(model.layers[0].states[0].numpy()).sum() > 0  # fit's traced steps carried them


def test_stateful_errors():
    with pytest.raises(ValueError, match="batch size must be static"):
        models.Sequential([models.Input((4, 3)), layers.LSTM(2, stateful=True)])
    layer = layers.GRU(2, stateful=True)
    layer(gt.ones([2, 4, 3]))
    with pytest.raises(ValueError, match="Expected batch size: 2"):
        layer(gt.ones([3, 4, 3]))
    with pytest.raises(AttributeError, match="must be stateful"):
        layers.GRU(2).reset_states()
    bi = layers.Bidirectional(layers.LSTM(2, stateful=True))
    bi(gt.ones([2, 4, 3]))
    assert len(bi.states) == 4
    bi.reset_states()
