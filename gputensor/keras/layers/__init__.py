"""``gt.keras.layers``: Keras 3 layers built on ``gt.Module``."""

from gputensor.keras.layers.base import InputSpec, Layer
from gputensor.keras.layers.convolutional import (
    AveragePooling2D,
    Conv2D,
    Conv2DTranspose,
    DepthwiseConv2D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPooling2D,
    SeparableConv2D,
)
from gputensor.keras.layers.core import (
    Activation,
    Add,
    Concatenate,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    InputLayer,
    ReLU,
    Rescaling,
    Reshape,
    ZeroPadding2D,
)
from gputensor.keras.layers.normalization import BatchNormalization, LayerNormalization


def Input(*args, **kwargs):  # noqa: N802 - Keras's name
    """``keras.layers.Input``: the same as ``gputensor.keras.models.Input``."""
    from gputensor.keras import models

    return models.Input(*args, **kwargs)


# Keras's aliases.
Convolution2D = Conv2D
Conv2DTranspose = Conv2DTranspose
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D

__all__ = [
    "Layer",
    "InputSpec",
    "Input",
    "InputLayer",
    "Dense",
    "Conv2D",
    "DepthwiseConv2D",
    "SeparableConv2D",
    "Conv2DTranspose",
    "BatchNormalization",
    "LayerNormalization",
    "Dropout",
    "Flatten",
    "Reshape",
    "MaxPooling2D",
    "AveragePooling2D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling2D",
    "Embedding",
    "Activation",
    "ReLU",
    "Add",
    "Concatenate",
    "Rescaling",
    "ZeroPadding2D",
    "Convolution2D",
    "MaxPool2D",
    "AvgPool2D",
    "GlobalAvgPool2D",
    "GlobalMaxPool2D",
]
