"""``gt.keras.activations``: activation functions by name, as Keras 3."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gputensor as gt

__all__ = [
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "gelu",
    "elu",
    "selu",
    "softplus",
    "softsign",
    "swish",
    "silu",
    "linear",
    "leaky_relu",
    "relu6",
    "exponential",
    "get",
    "serialize",
]


def relu(
    x: Any, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0
) -> gt.Tensor:
    """``max(x, 0)``, with Keras's optional slope below ``threshold`` and cap ``max_value``."""
    x = gt.convert_to_tensor(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return gt.nn.relu(x)
    below = x < threshold
    y = gt.where(below, negative_slope * (x - threshold), x)
    if max_value is not None:
        y = gt.minimum(y, gt.cast(max_value, x.dtype))
    return y


def leaky_relu(x: Any, negative_slope: float = 0.2) -> gt.Tensor:
    """``x`` if positive, else ``negative_slope * x`` (Keras default 0.2)."""
    return gt.nn.leaky_relu(x, alpha=negative_slope)


def relu6(x: Any) -> gt.Tensor:
    """``min(max(x, 0), 6)``."""
    return gt.nn.relu6(x)


def sigmoid(x: Any) -> gt.Tensor:
    """``1 / (1 + exp(-x))``."""
    return gt.nn.sigmoid(x)


def tanh(x: Any) -> gt.Tensor:
    """Hyperbolic tangent."""
    return gt.nn.tanh(x)


def softmax(x: Any, axis: int = -1) -> gt.Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``."""
    return gt.nn.softmax(x, axis=axis)


def gelu(x: Any, approximate: bool = False) -> gt.Tensor:
    """Gaussian error linear unit (exact by default, as Keras 3)."""
    return gt.nn.gelu(x, approximate=approximate)


def elu(x: Any, alpha: float = 1.0) -> gt.Tensor:
    """``x`` if positive, else ``alpha * (exp(x) - 1)``."""
    y = gt.nn.elu(x)
    return y if alpha == 1.0 else gt.where(gt.convert_to_tensor(x) > 0, y, alpha * y)


def selu(x: Any) -> gt.Tensor:
    """Scaled ELU with Klambauer et al.'s constants."""
    return gt.nn.selu(x)


def softplus(x: Any) -> gt.Tensor:
    """``log(exp(x) + 1)``."""
    return gt.nn.softplus(x)


def softsign(x: Any) -> gt.Tensor:
    """``x / (|x| + 1)``."""
    return gt.nn.softsign(x)


def silu(x: Any) -> gt.Tensor:
    """``x * sigmoid(x)`` (also named swish)."""
    return gt.nn.silu(x)


swish = silu


def exponential(x: Any) -> gt.Tensor:
    """``exp(x)``."""
    return gt.exp(x)


def linear(x: Any) -> Any:
    """The identity (Keras's ``activation=None``)."""
    return x


_BY_NAME: dict[str, Callable] = {
    "relu": relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softmax": softmax,
    "gelu": gelu,
    "elu": elu,
    "selu": selu,
    "softplus": softplus,
    "softsign": softsign,
    "swish": swish,
    "silu": silu,
    "linear": linear,
    "leaky_relu": leaky_relu,
    "relu6": relu6,
    "exponential": exponential,
}


def get(identifier: Any) -> Callable:
    """The activation for a name, a callable or None (None is ``linear``).

    Raises:
      ValueError: for an unknown name or a value that is not callable.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(
                f"Unknown activation function {identifier!r}; known names: {', '.join(sorted(_BY_NAME))}"
            )
        return _BY_NAME[identifier]
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier {identifier!r}")


def serialize(activation: Callable) -> str:
    """The name of a built-in activation (or the callable's ``__name__``)."""
    for name, fn in _BY_NAME.items():
        if fn is activation:
            return name
    return getattr(activation, "__name__", repr(activation))
