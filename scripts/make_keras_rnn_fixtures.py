"""Writes the golden fixtures of tests/keras/layers/test_recurrent.py: weight files saved by real
Keras 3 for two recurrent models, a whole-model archive, and the outputs Keras computes with them. Needs tensorflow-cpu
(Keras 3); the tests only read the files.

    /work/peers/bin/python scripts/make_keras_rnn_fixtures.py   # writes tests/keras/fixtures/rnn*
"""

from __future__ import annotations

import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "keras", "fixtures")


def models(keras):
    layers = keras.layers
    return {
        # Keras 3's defaults: LSTM (unit_forget_bias), GRU reset_after=True.
        "rnn": (
            keras.Sequential([
                keras.Input((5, 3)), layers.LSTM(4, return_sequences=True), layers.GRU(3), layers.Dense(2),
            ]),
            (4, 5, 3),
        ),
        # SimpleRNN, go_backwards, and GRU's reset_after=False form.
        "rnn2": (
            keras.Sequential([
                keras.Input((6, 2)),
                layers.SimpleRNN(3, return_sequences=True, go_backwards=True),
                layers.GRU(4, reset_after=False, return_sequences=True),
                layers.LSTM(2, go_backwards=True),
            ]),
            (3, 6, 2),
        ),
    }  # fmt: skip


def main() -> None:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    for name, (model, x_shape) in models(keras).items():
        # Random weights everywhere (biases included), so every weight's layout matters.
        model.set_weights(
            [0.5 * rng.standard_normal(w.shape).astype(np.float32) for w in model.get_weights()]
        )
        x = rng.standard_normal(x_shape).astype(np.float32)
        y = np.asarray(model(x, training=False))
        model.save_weights(os.path.join(OUT, f"{name}.weights.h5"))
        np.savez(os.path.join(OUT, f"{name}_io.npz"), x=x, y=y)
        print(name, [w.path for w in model.weights], y.shape)
    # A whole-model archive of the three layers, compiled without metrics (config null), trained once.
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((5, 3)), layers.LSTM(4, return_sequences=True),
        layers.GRU(3, go_backwards=True, return_sequences=True), layers.SimpleRNN(2), layers.Dense(2),
    ])  # fmt: skip
    x = rng.standard_normal((4, 5, 3)).astype(np.float32)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, rng.standard_normal((4, 2)).astype(np.float32), epochs=1, verbose=0)
    model.save(os.path.join(OUT, "rnn3.keras"))
    np.savez(os.path.join(OUT, "rnn3_io.npz"), x=x, y=np.asarray(model(x, training=False)))


if __name__ == "__main__":
    main()
