"""gt.keras: Keras 3's layers, models, training loop, optimizers, losses, metrics and callbacks.

``import gputensor as gt`` then ``gt.keras.Sequential([...])``; also importable as
``gputensor.keras``. See docs/keras.md and docs/keras_layers.md.
"""

from gputensor.keras import (
    activations,
    callbacks,
    config,
    datasets,
    dtype_policies,
    initializers,
    layers,
    losses,
    metrics,
    mixed_precision,
    models,
    ops,
    optimizers,
    random,
    regularizers,
    utils,
)
from gputensor.keras.dtype_policies import DTypePolicy
from gputensor.keras.layers import Input
from gputensor.keras.models import Model, Sequential

__all__ = [
    "DTypePolicy",
    "Input",
    "Model",
    "Sequential",
    "activations",
    "callbacks",
    "config",
    "datasets",
    "dtype_policies",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "mixed_precision",
    "models",
    "optimizers",
    "ops",
    "random",
    "regularizers",
    "utils",
]
