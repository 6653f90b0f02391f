"""The golden mixed-precision model, written once for Keras (scripts/make_keras_mixed_fixtures.py)
and gt.keras (test_mixed_golden.py): pass either ``keras`` module."""

from __future__ import annotations

from typing import Any


def mixed_cnn(keras: Any) -> Any:
    """A small CNN whose softmax output stays float32 (the mixed-precision guide's advice)."""
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((6, 6, 2)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.Flatten(),
            layers.Dense(8, activation="tanh"),
            layers.Dense(3),
            layers.Activation("softmax", dtype="float32"),
        ]
    )
