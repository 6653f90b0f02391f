"""Writes tests/keras/layers/fixtures/keras_layers.npz from real Keras 3 (tensorflow-cpu).

Run with the peers' interpreter: /work/peers/bin/python scripts/keras_layers_fixture.py
The fixture holds, for one functional CNN and one sequence model, the input, Keras's weights
in `model.weights` order (with their shapes), the inference output, the output of one
training=True call and the BatchNormalization moving statistics after it. gputensor's tests
rebuild the same architecture, load the weights with set_weights and compare (no TF import).
"""

from __future__ import annotations

import pathlib

import keras
import numpy as np
from keras import layers

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests/keras/layers/fixtures/keras_layers.npz"


def cnn() -> keras.Model:
    inp = keras.Input((9, 9, 3))
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
    x = layers.Dropout(0.5)(x)
    x = layers.Dense(5, activation="gelu")(x)
    x = layers.LayerNormalization()(x)
    return keras.Model(inp, layers.Dense(3, activation="softmax")(x))


def seq() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((6,), dtype="int32"),
            layers.Embedding(12, 4),
            layers.Reshape((3, 8)),
            layers.Dense(5, activation="elu"),
            layers.Flatten(),
            layers.Rescaling(0.5, offset=0.1),
            layers.Dense(2, activation="sigmoid"),
        ]
    )


def main() -> None:
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    out = {}
    model = cnn()
    for w in model.weights:
        # Non-default statistics so inference differs from training.
        if "moving_variance" in w.path or "gamma" in w.path:
            w.assign(rng.uniform(0.5, 1.5, w.shape).astype("float32"))
        elif "moving_mean" in w.path or "beta" in w.path:
            w.assign(rng.normal(0, 0.3, w.shape).astype("float32"))
    x = rng.normal(size=(2, 9, 9, 3)).astype("float32")
    out["cnn_x"] = x
    out["cnn_n_weights"] = np.array(len(model.weights))
    for i, w in enumerate(model.weights):
        out[f"cnn_w{i}"] = np.asarray(w.numpy())
    out["cnn_infer"] = np.asarray(model(x, training=False))
    out["cnn_params"] = np.array(
        [model.count_params(), sum(int(np.prod(w.shape)) for w in model.trainable_weights)]
    )
    no_dropout = keras.Model(model.inputs, model.outputs)
    for layer in no_dropout.layers:
        if isinstance(layer, layers.Dropout):
            layer.rate = 0.0
    out["cnn_train"] = np.asarray(no_dropout(x, training=True))
    bn = [layer for layer in model.layers if isinstance(layer, layers.BatchNormalization)][0]
    out["cnn_moving_mean"] = np.asarray(bn.moving_mean.numpy())
    out["cnn_moving_variance"] = np.asarray(bn.moving_variance.numpy())

    model = seq()
    ids = rng.integers(0, 12, size=(3, 6)).astype("int32")
    out["seq_x"] = ids
    out["seq_n_weights"] = np.array(len(model.weights))
    for i, w in enumerate(model.weights):
        out[f"seq_w{i}"] = np.asarray(w.numpy())
    out["seq_out"] = np.asarray(model(ids))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
