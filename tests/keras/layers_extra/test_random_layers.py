"""The random layers (GaussianNoise, GaussianDropout, AlphaDropout, SpatialDropout1D/2D):
identity outside training, the distributions Keras's formulas give, the same draws traced and
eager, new draws per call and per ``fit`` step inside ``gt.function``, and Keras's errors."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from gputensor.keras import layers, models

RNG = np.random.default_rng(11)
ALPHA_P = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946

RANDOM = [
    (lambda: layers.GaussianNoise(0.5, seed=1), (4, 6)),
    (lambda: layers.GaussianDropout(0.3, seed=1), (4, 6)),
    (lambda: layers.AlphaDropout(0.2, seed=1), (4, 6)),
    (lambda: layers.SpatialDropout1D(0.5, seed=1), (4, 3, 6)),
    (lambda: layers.SpatialDropout2D(0.5, seed=1), (4, 2, 3, 6)),
]


@pytest.mark.parametrize("make,shape", RANDOM)
def test_identity_outside_training_and_random_in_training(make, shape):
    layer = make()
    x = RNG.standard_normal(shape).astype(np.float32)
    for training in (None, False):
        np.testing.assert_array_equal(np.asarray(layer(x, training=training)), x)
    a, b = np.asarray(layer(x, training=True)), np.asarray(layer(x, training=True))
    assert not np.array_equal(a, x) and not np.array_equal(a, b)  # a new draw per call
    assert layer.compute_output_shape(shape) == shape if hasattr(layer, "compute_output_shape") else True


@pytest.mark.parametrize("make,shape", RANDOM)
def test_traced_draws_equal_eager_draws_and_change_per_call(make, shape):
    x = gt.constant(RNG.standard_normal(shape).astype(np.float32))
    eager_layer, traced_layer = make(), make()  # the same seed: the same draw sequence
    eager = [np.asarray(eager_layer(x, training=True)) for _ in range(2)]
    step = gt.function(lambda t: traced_layer(t, training=True))
    traced = [np.asarray(step(x)) for _ in range(2)]
    np.testing.assert_allclose(traced[0], eager[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(traced[1], eager[1], rtol=1e-6, atol=1e-6)
    assert not np.array_equal(traced[0], traced[1])


def test_gaussian_noise_statistics():
    y = np.asarray(layers.GaussianNoise(0.5)(np.zeros((400, 500), np.float32), training=True))
    assert abs(y.mean()) < 0.005 and abs(y.std() - 0.5) < 0.005
    assert abs(np.mean(np.abs(y) < 0.5) - 0.6827) < 0.005  # normal, not uniform
    assert abs(np.mean(np.abs(y) < 1.0) - 0.9545) < 0.005


def test_gaussian_dropout_statistics():
    y = np.asarray(layers.GaussianDropout(0.3)(np.full((400, 500), 2.0, np.float32), training=True))
    assert abs(y.mean() - 2.0) < 0.01
    assert abs(y.var() - 4.0 * 0.3 / 0.7) < 0.02


def test_alpha_dropout_keeps_selu_statistics_and_uses_keras_constants():
    rate = 0.2
    x = RNG.standard_normal((400, 500)).astype(np.float32)
    y = np.asarray(layers.AlphaDropout(rate)(x, training=True))
    a = ((1 - rate) * (1 + rate * ALPHA_P**2)) ** -0.5
    b = -a * ALPHA_P * rate
    dropped = np.isclose(y, a * ALPHA_P + b, atol=1e-6)
    assert abs(dropped.mean() - rate) < 0.005
    np.testing.assert_allclose(y[~dropped], a * x[~dropped] + b, rtol=1e-5, atol=1e-5)
    assert abs(y.mean()) < 0.01 and abs(y.var() - 1.0) < 0.02  # zero mean, unit variance kept


def test_alpha_dropout_noise_shape_shares_draws():
    y = np.asarray(
        layers.AlphaDropout(0.5, noise_shape=(None, 1, 8))(np.ones((50, 4, 8), np.float32), training=True)
    )
    assert np.all(y == y[:, :1, :])


@pytest.mark.parametrize(
    "make,shape,axes",
    [
        (lambda: layers.SpatialDropout1D(0.4), (300, 5, 40), (1,)),
        (lambda: layers.SpatialDropout2D(0.4), (300, 3, 4, 40), (1, 2)),
        (lambda: layers.SpatialDropout2D(0.4, data_format="channels_first"), (300, 40, 3, 4), (2, 3)),
    ],
)
def test_spatial_dropout_drops_whole_channels(make, shape, axes):
    y = np.asarray(make()(np.ones(shape, np.float32), training=True))
    first = y[(slice(None),) + tuple(slice(0, 1) if i in axes else slice(None) for i in range(1, len(shape)))]
    assert np.all(y == first)  # constant over the spatial axes
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.6], rtol=1e-6)
    assert abs((first == 0).mean() - 0.4) < 0.02


def test_fit_draws_new_noise_every_step():
    gt.random.set_seed(3)
    noise = layers.GaussianNoise(0.2)
    drop = layers.SpatialDropout1D(0.3)
    inp = models.Input((5, 3))
    x = drop(noise(inp))
    out = layers.Dense(1)(layers.Flatten()(layers.AlphaDropout(0.1)(x)))
    model = models.Model(inp, out)
    model.compile(optimizer="sgd", loss="mse")
    xs, ys = (
        RNG.standard_normal((32, 5, 3)).astype(np.float32),
        RNG.standard_normal((32, 1)).astype(np.float32),
    )
    hist = model.fit(xs, ys, batch_size=8, epochs=2, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()
    # One draw per training step (4 batches x 2 epochs), none for inference.
    assert int(noise._seed_state.numpy()) == 8 and int(drop._seed_state.numpy()) == 8
    before = int(noise._seed_state.numpy())
    np.testing.assert_allclose(model.predict(xs, verbose=0), np.asarray(model(xs)), rtol=1e-5, atol=1e-6)
    assert int(noise._seed_state.numpy()) == before


def test_random_layer_errors():
    with pytest.raises(ValueError, match="stddev"):
        layers.GaussianNoise(1.5)
    with pytest.raises(ValueError, match="rate"):
        layers.GaussianDropout(-0.1)
    with pytest.raises(ValueError, match="rate"):
        layers.AlphaDropout(2)
    with pytest.raises(ValueError, match="expected ndim=3"):
        layers.SpatialDropout1D(0.2)(np.ones((2, 3, 4, 5), np.float32), training=True)
    with pytest.raises(ValueError, match="expected ndim=4"):
        layers.SpatialDropout2D(0.2)(np.ones((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="data_format"):
        layers.SpatialDropout2D(0.2, data_format="nhwc")
