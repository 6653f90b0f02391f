"""Writes the golden fixture of the gt.keras 1-D layers (tests/keras/layers/test_layers_1d.py):
a small sequence model using Conv1D (causal + dilation, strided "same" with groups, valid),
MaxPooling1D, AveragePooling1D, UpSampling1D and both global 1-D pools, its weight file as
real Keras 3 saves it, and the outputs Keras computes with it. Needs tensorflow-cpu (Keras 3);
the tests only read the files.

    python scripts/make_keras_1d_fixtures.py   # writes tests/keras/fixtures/seq1d.*
"""

from __future__ import annotations

import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "keras", "fixtures")


def seq1d(keras):
    """The architecture; tests/keras/layers/test_layers_1d.py writes the same with gt.keras."""
    layers = keras.layers
    inp = keras.Input((13, 3))
    x = layers.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu")(inp)
    x = layers.Conv1D(6, 3, strides=2, padding="same", groups=2)(x)
    x = layers.MaxPooling1D(2, padding="same")(x)
    x = layers.UpSampling1D(2)(x)
    x = layers.AveragePooling1D(3, strides=1, padding="same")(x)
    x = layers.Conv1D(5, 2, activation="tanh")(x)
    x = layers.AveragePooling1D(2)(x)
    a = layers.GlobalMaxPooling1D()(x)
    b = layers.GlobalAveragePooling1D()(x)
    return keras.Model(inp, layers.Dense(2)(layers.Concatenate()([a, b])))


def main() -> None:
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    model = seq1d(keras)
    # Random biases too, so a weight landing in the wrong place changes the output.
    model.set_weights([rng.standard_normal(tuple(w.shape)).astype(np.float32) * 0.5 for w in model.weights])
    x = rng.standard_normal((3, 13, 3)).astype(np.float32)
    y = np.asarray(model(x, training=False))
    model.save_weights(os.path.join(OUT, "seq1d.weights.h5"))
    np.savez(
        os.path.join(OUT, "seq1d_io.npz"), x=x, y=y,
        shapes=np.array([str(tuple(layer.output.shape)) for layer in model.layers[1:]]),
        keras_version=keras.__version__,
    )  # fmt: skip
    print("seq1d", x.shape, "->", y.shape)


if __name__ == "__main__":
    main()
