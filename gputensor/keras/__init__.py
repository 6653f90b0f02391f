"""gt.keras: Keras 3's layers, models, training loop, optimizers, losses, metrics and callbacks.

``import gputensor as gt`` then ``gt.keras.Sequential([...])``; also importable as
``gputensor.keras``. See docs/keras.md and docs/keras_layers.md.
"""

from gputensor.keras import (
    activations,
    callbacks,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    random,
    regularizers,
    utils,
)
from gputensor.keras.layers import Input
from gputensor.keras.models import Model, Sequential

__all__ = [
    "Input",
    "Model",
    "Sequential",
    "activations",
    "callbacks",
    "datasets",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "ops",
    "random",
    "regularizers",
    "utils",
]
