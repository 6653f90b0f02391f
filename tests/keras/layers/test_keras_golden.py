"""Golden outputs from real Keras 3 (fixture written by scripts/keras_layers_fixture.py).

The same architectures built with gt.keras, given Keras's weights in ``model.weights``
order, must reproduce Keras's outputs: this pins the weight order and shapes, the
default arguments and the layer formulas (padding, BatchNormalization's training
statistics and momentum, exact GELU, ...).
"""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

from gputensor.keras import layers, models

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "keras_layers.npz"


@pytest.fixture(scope="module")
def data():
    return dict(np.load(FIXTURE))


def cnn(dropout_rate=0.5):
    inp = models.Input((9, 9, 3))
    x = layers.ZeroPadding2D(1)(inp)
    x = layers.Conv2D(4, 3, strides=2, activation="relu")(x)
    x = layers.BatchNormalization()(x)
    a = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(x)
    b = layers.SeparableConv2D(8, 3, padding="same")(x)
    x = layers.Add()([a, b])
    x = layers.MaxPooling2D()(x)
    t = layers.Conv2DTranspose(3, 3, strides=2, padding="same")(x)
    t = layers.AveragePooling2D(pool_size=2)(t)
    g1 = layers.GlobalAveragePooling2D()(x)
    g2 = layers.GlobalMaxPooling2D()(t)
    x = layers.Concatenate()([g1, g2, layers.Flatten()(x)])
    x = layers.Dropout(dropout_rate)(x)
    x = layers.Dense(5, activation="gelu")(x)
    x = layers.LayerNormalization()(x)
    return models.Model(inp, layers.Dense(3, activation="softmax")(x))


def weights(data, prefix):
    return [data[f"{prefix}_w{i}"] for i in range(int(data[f"{prefix}_n_weights"]))]


def test_cnn_matches_keras_in_inference_and_training(data):
    model = cnn()
    ws = weights(data, "cnn")
    assert [tuple(w.shape.as_list()) for w in model.weights] == [w.shape for w in ws]
    model.set_weights(ws)
    np.testing.assert_allclose(model(data["cnn_x"]).numpy(), data["cnn_infer"], rtol=1e-5, atol=1e-5)
    total, trainable = data["cnn_params"]
    assert model.count_params() == total
    assert sum(int(np.prod(w.shape.as_list())) for w in model.trainable_weights) == trainable

    train_model = cnn(dropout_rate=0.0)
    train_model.set_weights(ws)
    out = train_model(data["cnn_x"], training=True).numpy()
    np.testing.assert_allclose(out, data["cnn_train"], rtol=1e-5, atol=1e-5)
    bn = next(layer for layer in train_model.layers if isinstance(layer, layers.BatchNormalization))
    np.testing.assert_allclose(bn.moving_mean.numpy(), data["cnn_moving_mean"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), data["cnn_moving_variance"], rtol=1e-5, atol=1e-6)


def test_embedding_sequence_model_matches_keras(data):
    model = models.Sequential(
        [
            models.Input((6,), dtype="int32"),
            layers.Embedding(12, 4),
            layers.Reshape((3, 8)),
            layers.Dense(5, activation="elu"),
            layers.Flatten(),
            layers.Rescaling(0.5, offset=0.1),
            layers.Dense(2, activation="sigmoid"),
        ]
    )
    model.set_weights(weights(data, "seq"))
    np.testing.assert_allclose(model(data["seq_x"]).numpy(), data["seq_out"], rtol=1e-5, atol=1e-6)
