"""Writes the golden Keras fixtures of tests/keras: weight files saved by real Keras 3 and the
outputs Keras computes with them, so gputensor's layers and weight readers are checked against
Keras itself. Needs tensorflow-cpu (Keras 3); the tests only read the files.

    python scripts/make_keras_fixtures.py      # (re)writes tests/keras/fixtures/
"""

from __future__ import annotations

import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "keras", "fixtures")


def models(keras):
    layers = keras.layers
    return {
        "mlp": (
            keras.Sequential([keras.Input((6,)), layers.Dense(5, activation="relu"), layers.Dense(3)]),
            lambda rng: rng.standard_normal((4, 6)).astype(np.float32),
        ),
        "cnn": (
            keras.Sequential([
                keras.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"), layers.BatchNormalization(),
                layers.MaxPooling2D(), layers.Flatten(), layers.Dense(5, activation="relu"), layers.Dense(3),
            ]),
            lambda rng: rng.standard_normal((2, 8, 8, 1)).astype(np.float32),
        ),
        "convs": (
            keras.Sequential([
                keras.Input((9, 9, 3)), layers.DepthwiseConv2D(3), layers.SeparableConv2D(4, 3, padding="same"),
                layers.Conv2DTranspose(2, 3, strides=2), layers.AveragePooling2D(2), layers.ZeroPadding2D(1),
                layers.GlobalAveragePooling2D(), layers.Dense(2),
            ]),
            lambda rng: rng.standard_normal((2, 9, 9, 3)).astype(np.float32),
        ),
        "embed": (
            keras.Sequential([
                keras.Input((5,), dtype="int32"), layers.Embedding(10, 4), layers.LayerNormalization(),
                layers.Flatten(), layers.Dense(2, activation="tanh"),
            ]),
            lambda rng: rng.integers(0, 10, (3, 5)).astype(np.int32),
        ),
    }  # fmt: skip


def _random(rng: np.random.Generator, w) -> np.ndarray:
    value = rng.standard_normal(tuple(w.shape)).astype(np.float32) * 0.5
    return np.abs(value) + 0.5 if "variance" in w.path else value  # variances stay positive


def main() -> None:
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    os.makedirs(OUT, exist_ok=True)
    for name, (model, make_x) in models(keras).items():
        # Random values everywhere (BatchNormalization's moving statistics too), so a weight
        # landing in the wrong place changes the output.
        model.set_weights([_random(rng, w) for w in model.weights])
        x = make_x(rng)
        y = np.asarray(model(x, training=False))
        model.save_weights(os.path.join(OUT, f"{name}.weights.h5"))
        if name == "mlp":
            model.save(os.path.join(OUT, f"{name}_legacy.h5"))  # a legacy whole-model file
        np.savez(os.path.join(OUT, f"{name}_io.npz"), x=x, y=y, keras_version=keras.__version__)
        print(name, x.shape, "->", y.shape)
    archive(keras)


def archive(keras) -> None:
    """A whole-model ``.keras`` archive as Keras writes it after training a little (config with
    DTypePolicy dicts, initializer configs, the compile config, the optimizer's variables),
    with its predictions and optimizer variables for the test to compare."""
    rng = np.random.default_rng(1)
    model, make_x = models(keras)["cnn"]
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    x = rng.standard_normal((16, 8, 8, 1)).astype(np.float32)
    model.fit(x, rng.integers(0, 3, 16), epochs=2, batch_size=8, shuffle=False, verbose=0)
    model.save(os.path.join(OUT, "cnn.keras"))
    optimizer = {f"opt{i}": np.asarray(v.numpy()) for i, v in enumerate(model.optimizer.variables)}
    np.savez(
        os.path.join(OUT, "cnn_keras_io.npz"), x=x, y=np.asarray(model.predict(x, verbose=0)), **optimizer
    )
    print("cnn.keras", len(optimizer), "optimizer variables")


if __name__ == "__main__":
    main()
