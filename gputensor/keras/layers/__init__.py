"""``gt.keras.layers``: Keras 3 layers built on ``gt.Module``."""

from gputensor.keras.layers.activations_layers import ELU, PReLU
from gputensor.keras.layers.attention import AdditiveAttention, Attention, MultiHeadAttention, Softmax
from gputensor.keras.layers.base import InputSpec, Layer
from gputensor.keras.layers.bidirectional import Bidirectional
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
from gputensor.keras.layers.convolutional1d import (
    AveragePooling1D,
    Conv1D,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPooling1D,
    UpSampling1D,
)
from gputensor.keras.layers.core import (
    Activation,
    Add,
    Average,
    Concatenate,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    InputLayer,
    LeakyReLU,
    Multiply,
    ReLU,
    Rescaling,
    Reshape,
    UpSampling2D,
    ZeroPadding2D,
    add,
    average,
    concatenate,
    multiply,
)
from gputensor.keras.layers.core_extra import Identity, Lambda, TimeDistributed
from gputensor.keras.layers.einsum_dense import EinsumDense
from gputensor.keras.layers.masking import Masking
from gputensor.keras.layers.merging import Dot, Maximum, Minimum, Subtract, dot, maximum, minimum, subtract
from gputensor.keras.layers.normalization import BatchNormalization, LayerNormalization
from gputensor.keras.layers.normalization_extra import GroupNormalization, UnitNormalization
from gputensor.keras.layers.preprocessing import CategoryEncoding, Discretization, Normalization
from gputensor.keras.layers.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from gputensor.keras.layers.regularization import (
    ActivityRegularization,
    AlphaDropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
)
from gputensor.keras.layers.reshaping import Cropping1D, Cropping2D, Permute, RepeatVector, ZeroPadding1D


def Input(*args, **kwargs):  # noqa: N802 - Keras's name
    """``keras.layers.Input``: the same as ``gputensor.keras.models.Input``."""
    from gputensor.keras import models

    return models.Input(*args, **kwargs)


def serialize(layer: Layer) -> dict:
    """``{"module", "class_name", "config", "registered_name"}`` for a layer or model, as Keras."""
    name = type(layer).__name__
    as_keras = getattr(layer, "_keras_registration", None)
    if as_keras is not None:  # written under Keras's own module and class name
        module, class_name = as_keras
        return {
            "module": module,
            "class_name": class_name,
            "config": layer.get_config(),
            "registered_name": class_name,
        }
    if name == "Functional":  # Keras 3 registers Functional under its source module only
        return {
            "module": "keras.src.models.functional",
            "class_name": name,
            "config": layer.get_config(),
            "registered_name": name,
        }
    return {
        "module": "keras.layers" if not hasattr(layer, "layers") else "keras",
        "class_name": name,
        "config": layer.get_config(),
        "registered_name": None,
    }


def deserialize(config: dict, custom_objects: dict | None = None) -> Layer:
    """A layer or model from `serialize`'s dict; ``custom_objects`` maps names to user classes.

    Raises:
      ValueError: for an unknown class name.
    """
    from gputensor.keras import models

    name = config["class_name"]
    table = {n: globals()[n] for n in __all__ if isinstance(globals().get(n), type)}
    table.update(
        {"Sequential": models.Sequential, "Functional": models.Functional, "Model": models.Functional}
    )
    from gputensor.keras.layers.masking import KERAS_OPS

    table.update(KERAS_OPS)  # the mask ops Keras's functional configs record
    table.update(custom_objects or {})
    if name not in table:
        raise ValueError(
            f"Unknown layer class {name!r}: pass it in custom_objects={{{name!r}: {name}}} if it is a user class"
        )
    cls = table[name]
    import inspect

    try:
        takes_custom = "custom_objects" in inspect.signature(cls.from_config).parameters
    except (TypeError, ValueError):
        takes_custom = False
    if takes_custom:  # wrappers (TimeDistributed, Lambda) resolve inner objects with them
        return cls.from_config(dict(config.get("config", {})), custom_objects=custom_objects)
    return cls.from_config(dict(config.get("config", {})))


# Keras's aliases.
Convolution2D = Conv2D
Conv2DTranspose = Conv2DTranspose
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
Convolution1D = Conv1D
MaxPool1D = MaxPooling1D
AvgPool1D = AveragePooling1D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalMaxPool1D = GlobalMaxPooling1D

__all__ = [
    "serialize",
    "deserialize",
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
    "Average",
    "Multiply",
    "LeakyReLU",
    "UpSampling2D",
    "add",
    "average",
    "multiply",
    "concatenate",
    "Convolution2D",
    "MaxPool2D",
    "AvgPool2D",
    "GlobalAvgPool2D",
    "GlobalMaxPool2D",
    "Conv1D",
    "MaxPooling1D",
    "AveragePooling1D",
    "GlobalMaxPooling1D",
    "GlobalAveragePooling1D",
    "UpSampling1D",
    "Convolution1D",
    "MaxPool1D",
    "AvgPool1D",
    "GlobalAvgPool1D",
    "GlobalMaxPool1D",
    "RNN",
    "SimpleRNN",
    "LSTM",
    "GRU",
    "SimpleRNNCell",
    "LSTMCell",
    "GRUCell",
    "Masking",
    "Bidirectional",
    "Lambda",
    "Identity",
    "TimeDistributed",
    "RepeatVector",
    "Permute",
    "Cropping1D",
    "Cropping2D",
    "ZeroPadding1D",
    "Subtract",
    "Maximum",
    "Minimum",
    "Dot",
    "subtract",
    "maximum",
    "minimum",
    "dot",
    "Softmax",
    "ELU",
    "PReLU",
    "ActivityRegularization",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "UnitNormalization",
    "GroupNormalization",
    "Normalization",
    "CategoryEncoding",
    "Discretization",
    "EinsumDense",
    "MultiHeadAttention",
    "Attention",
    "AdditiveAttention",
]
